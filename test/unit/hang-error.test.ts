import * as path from 'node:path';
import * as vm from 'node:vm';
import { HangError, LeftOverError } from '../../src/core/hang-error';
import {
  buildHangFinding,
  collectPending,
  culpritFrame,
  type ResourceView,
} from '../../src/core/hang-report';
import type { HangFinding } from '../../src/core/model';
import { renderHangText } from '../../src/core/render-text';
import { ResourceTracker } from '../../src/core/tracker';

const ROOT = path.resolve(__dirname, '..', '..');
const noop = () => {};

const hungTest = { name: 'checkout › pays' };
const view: ResourceView<typeof hungTest> = {
  relationOf: (owner) => (owner === hungTest ? 'this-test' : undefined),
  describeOwner: (owner) => (owner ? { kind: 'test', name: owner.name } : undefined),
};

let finding: HangFinding;

beforeAll(() => {
  let current: typeof hungTest | undefined = hungTest;
  const tracker = new ResourceTracker({ ownerOf: () => current, promises: false });
  tracker.enable();
  const timer = setTimeout(noop, 30_000);
  current = undefined;
  try {
    finding = buildHangFinding(
      {
        testName: hungTest.name,
        testPath: __filename,
        phase: 'test',
        trigger: 'timeout',
        elapsedMs: 5_000,
        timeoutMs: 5_000,
        waitingForDone: false,
        attempt: 0,
      },
      collectPending(tracker, view, { maxListed: 10 }),
      { promisesTracked: false },
    );
  } finally {
    tracker.disable();
    clearTimeout(timer);
  }
});

const frameLines = (stack: string | undefined) =>
  (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));

describe('HangError', () => {
  test('its first stack frame is the culprit creation site', () => {
    const culprit = culpritFrame(finding);
    expect(culprit).toMatchObject({ file: __filename, origin: 'user' });
    const userFrames = finding.pending[0].site!.frames.filter((frame) => frame.origin === 'user');

    const error = new HangError(renderHangText(finding, { rootDir: ROOT }), finding, userFrames);

    const [first] = frameLines(error.stack);
    expect(first).toBe(
      `    at ${culprit!.functionName ?? '<anonymous>'} (${__filename}:${culprit!.line}:${culprit!.column})`,
    );
    expect(frameLines(error.stack)).toHaveLength(userFrames.length);
  });

  test('its message is the rendered report and the stack starts with name and message', () => {
    const message = renderHangText(finding, { rootDir: ROOT });
    const error = new HangError(message, finding, []);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('HangError');
    expect(error.message).toBe(message);
    expect(error.stack?.startsWith(`HangError: ${message}`)).toBe(true);
  });

  test('keeps the finding as data for reporters', () => {
    const error = new HangError('hung', finding, []);
    expect(error.finding).toBe(finding);
  });

  test('writes an anonymous frame as V8 does, without a name (Jest drops `at <anonymous>` lines)', () => {
    const error = new HangError('hung', finding, [
      { file: '/project/a.test.ts', line: 4, column: 9, origin: 'user' },
    ]);
    expect(frameLines(error.stack)).toEqual(['    at /project/a.test.ts:4:9']);
  });

  test('without frames, falls back to the frame lines of the given stack', () => {
    const fallback = [
      'Error: thrown by the runner',
      '    at callAsyncCircusFn (/project/node_modules/jest-circus/build/utils.js:1:1)',
      '    at Object.<anonymous> (/project/a.test.ts:2:3)',
    ].join('\n');
    const error = new HangError('hung', finding, [], fallback);
    expect(error.stack?.split('\n')).toEqual(['HangError: hung', ...fallback.split('\n').slice(1)]);
  });

  test('without frames or a fallback stack, the stack is just the name and message', () => {
    expect(new HangError('hung', finding, []).stack).toBe('HangError: hung');
  });
});

describe('LeftOverError', () => {
  test('keeps the thrown error’s name, message and frames, even from another realm', () => {
    const thrown = vm.runInNewContext(
      'function upload() { return new TypeError("upload failed"); } upload()',
    ) as Error;
    expect(thrown instanceof Error).toBe(false);
    const error = new LeftOverError(
      thrown,
      'hangwatch: thrown by work an earlier file left running',
    );
    expect(error.name).toBe('TypeError');
    expect(error.message).toBe(
      'upload failed\n\nhangwatch: thrown by work an earlier file left running',
    );
    expect(error.stack).toMatch(
      /^TypeError: upload failed\n\nhangwatch: thrown by work an earlier file left running\n\s+at upload /,
    );
    expect(error.thrown).toBe(thrown);
  });

  test('keeps what Jest prints besides: code, cause, an AggregateError’s errors', () => {
    const cause = new Error('ECONNREFUSED');
    const thrown = Object.assign(new AggregateError([cause], 'all uploads failed', { cause }), {
      code: 'E_UPLOAD',
    });
    const error = new LeftOverError(thrown, 'the note');
    expect(error.name).toBe('AggregateError');
    expect(error).toMatchObject({ code: 'E_UPLOAD', cause, errors: [cause] });
  });

  test('a thrown value that is no error is shown as circus shows one, whatever it is', () => {
    expect(new LeftOverError('a string', 'the note').message).toBe(
      "thrown: 'a string'\n\nthe note",
    );
    const bare = Object.assign(Object.create(null) as object, { reason: 'quota' });
    expect(new LeftOverError(bare, 'the note').message).toBe(
      "thrown: [Object: null prototype] { reason: 'quota' }\n\nthe note",
    );
  });
});
