import util from 'node:util';

/**
 * Calls of functions made promise-returning by `util.promisify`. The promise is Node's, and only
 * the callback Node passes holds its resolve: a callback-style function that drops it (never
 * calls back) leaves the promise, and the test's suspended function with it, to the garbage
 * collector, and a report could name no line. Recording the call keeps both, and says which
 * function never called back.
 */
export class HangwatchCallbackWait {
  constructor(
    readonly promise: unknown,
    /** The callback-style function that was promisified. */
    readonly fn: unknown,
    readonly at: number,
  ) {}
}

type RecordWait = (wait: HangwatchCallbackWait) => void;
type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Wraps `util.promisify` once per process (Node's modules are shared by every test file): what it
 * returns records each call while `isRecording()` says a session records. The result is what
 * Node's would be (same name, length, prototype and own properties, `util.promisify.custom`
 * pointing at itself, so promisifying it again returns it); functions with a custom promisified
 * form (`setTimeout`, `exec`, ...) are passed through, since a handle already stands behind them.
 */
export function wrapPromisify(
  record: RecordWait,
  isRecording: () => boolean,
  now: () => number,
): void {
  const nodePromisify = util.promisify;
  const custom = nodePromisify.custom;
  const promisifyRecording = function (original: unknown) {
    const promised = Reflect.apply(nodePromisify, util, [original]) as AnyFunction;
    if ((original as { [custom]?: unknown })[custom] !== undefined) return promised;
    const recorded = function (this: unknown, ...args: unknown[]) {
      const promise = Reflect.apply(promised, this, args);
      if (isRecording()) record(new HangwatchCallbackWait(promise, original, now()));
      return promise;
    };
    Object.setPrototypeOf(recorded, Object.getPrototypeOf(promised) as object | null);
    Object.defineProperties(recorded, Object.getOwnPropertyDescriptors(promised));
    Object.defineProperty(recorded, custom, {
      value: recorded,
      enumerable: false,
      writable: false,
      configurable: true,
    });
    return recorded;
  };
  Object.defineProperty(promisifyRecording, 'name', { value: 'promisify' });
  promisifyRecording.custom = custom;
  (util as unknown as { promisify: unknown }).promisify = promisifyRecording;
}
