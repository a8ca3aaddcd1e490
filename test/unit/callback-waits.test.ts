import util from 'node:util';
import { HangwatchCallbackWait, wrapPromisify } from '../../src/core/await-stacks/callback-waits';

// util.promisify, wrapped to record each call, must still behave as Node's own does.

const nodePromisify = util.promisify;
const recorded: HangwatchCallbackWait[] = [];
let recording = true;

beforeAll(() => {
  wrapPromisify(
    (wait) => recorded.push(wait),
    () => recording,
    () => 42,
  );
});

afterAll(() => {
  (util as unknown as { promisify: unknown }).promisify = nodePromisify;
});

beforeEach(() => {
  recorded.length = 0;
  recording = true;
});

function add(
  this: { base: number } | undefined,
  a: number,
  callback: (e: unknown, v?: number) => void,
) {
  setImmediate(() => callback(null, (this?.base ?? 0) + a));
}
(add as unknown as { extra: string }).extra = 'kept';

describe('util.promisify, recording', () => {
  test('is still promisify: its name and custom symbol', () => {
    expect(util.promisify).not.toBe(nodePromisify);
    expect(util.promisify.name).toBe('promisify');
    expect(util.promisify.custom).toBe(nodePromisify.custom);
  });

  test('the result looks like Node’s: name, length, own properties, prototype', () => {
    const ours = util.promisify(add);
    const theirs = nodePromisify(add);
    expect(ours.name).toBe(theirs.name);
    expect(ours.length).toBe(theirs.length);
    expect((ours as unknown as { extra: string }).extra).toBe('kept');
    expect(Object.getPrototypeOf(ours)).toBe(Object.getPrototypeOf(theirs));
  });

  test('promisifying the result again returns it', () => {
    const ours = util.promisify(add);
    expect(util.promisify(ours)).toBe(ours);
    expect((ours as unknown as Record<symbol, unknown>)[util.promisify.custom]).toBe(ours);
  });

  test('a function with a custom promisified form is passed through unrecorded', () => {
    expect(util.promisify(setTimeout)).toBe(nodePromisify(setTimeout));
  });

  test('calls resolve, reject and keep `this`; each call is recorded while recording', async () => {
    const ours = util.promisify(add);
    await expect(ours.call({ base: 10 }, 1)).resolves.toBe(11);
    expect(recorded).toHaveLength(1);
    expect(recorded[0].fn).toBe(add);
    expect(recorded[0].at).toBe(42);
    const failing = util.promisify((callback: (error: Error) => void) =>
      callback(new Error('refused')),
    );
    await expect(failing()).rejects.toThrow('refused');
    recording = false;
    await ours(2);
    expect(recorded).toHaveLength(2);
  });

  test('a non-function is refused as Node refuses it', () => {
    expect(() => util.promisify(1 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});
