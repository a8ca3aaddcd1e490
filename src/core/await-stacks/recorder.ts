import { EventEmitter } from 'node:events';
import { callerFrames, captureStack, type LazyStack } from '../stack';
import { currentAsyncContext } from '../async-context';
import { realNow } from '../real-timers';
import { HangwatchCallbackWait, wrapPromisify } from './callback-waits';
import { HangwatchStreamWait, wrapStreamWaits } from './stream-waits';

/**
 * The pass path's share of await stacks: a few cheap records that keep a hung flow findable.
 * A suspended async function is reachable only from the promise it awaits; when nothing else
 * holds that promise (`await new Promise(() => {})`, a listener on an emitter only the test
 * holds), the garbage collector that runs before a heap snapshot would take the whole chain.
 * So the newest explicit promises, `events.once`/`events.on` waits, unheard emits, waits on
 * Node's streams (`stream-waits`) and promisified calls (`callback-waits`) are held here, in
 * fixed-size rings, with no stack captured for promises (the executor function is the site).
 * Two more rings serve other parts of a report: the emitters listeners were added to while a
 * `done`-style unit ran (`keepListeners`), and the `'error'` events a listener took.
 *
 * The rings live on objects whose class names are unique, so the heap walk finds them by name.
 */

const PROMISE_RING = 1024;
const WAIT_RING = 256;
const EMIT_RING = 256;
const STREAM_RING = 256;
const CALLBACK_RING = 256;
const LISTENER_RING = 256;
const HANDLED_ERROR_RING = 64;

/**
 * One `events.once(emitter, name)` call (`promise` is the promise it returned), or one
 * `events.on(emitter, name)` call (`promise` is the async iterator it returned, whose pending
 * `next()` promises it holds).
 */
export class HangwatchEventWait {
  constructor(
    readonly via: 'once' | 'on',
    readonly promise: unknown,
    readonly emitter: object,
    readonly event: string | symbol,
    readonly stack: LazyStack,
    readonly at: number,
  ) {}
}

/**
 * An `emit` nobody listened to, on an emitter whose class the user's code defines or uses
 * directly. Repeats of the same event on the same emitter only move `at` (no new stack).
 */
export class HangwatchUnheardEmit {
  constructor(
    readonly emitter: object,
    readonly event: string | symbol,
    readonly stack: LazyStack,
    public at: number,
  ) {}
}

/**
 * An 'error' event a listener took (a client library's refused connection, which it retries):
 * nothing fails, and a test waiting on that client waits on. Repeats of one message on one
 * emitter only count up. `count` is the failures first seen on this emitter: one failure is
 * re-emitted along a chain (socket, request, the client's wrapper), and each retry fails on new
 * objects, so the sum over a message's emitters is how many times it happened. `emits` is every
 * one this emitter saw: a long-lived client re-emitting its sockets' errors keeps the whole count
 * when the ring has let go of the sockets' records.
 */
export class HangwatchHandledError {
  emits = 1;
  constructor(
    public count: number,
    readonly emitter: object,
    readonly message: string,
    readonly code: string | undefined,
    /** The async context's owner when it was emitted: whose work failed. */
    readonly owner: unknown,
    public at: number,
  ) {}
}

/** Each emitter's handled errors by message, so a repeat costs a lookup. */
const handledByEmitter = new WeakMap<object, Map<string, HangwatchHandledError>>();

/** The record of each emitter's unheard events, so a repeat costs a lookup, not a stack. */
const unheard = new WeakMap<object, Map<string | symbol, HangwatchUnheardEmit>>();

type RecordRing = 'waits' | 'emits' | 'streamWaits' | 'callbackWaits';

/** The rings, found in a heap snapshot by this class name. */
export class HangwatchAwaitProbe {
  promises: unknown[] = new Array(PROMISE_RING);
  executors: unknown[] = new Array(PROMISE_RING);
  createdAt = new Float64Array(PROMISE_RING);
  nextPromise = 0;
  waits: (HangwatchEventWait | undefined)[] = new Array(WAIT_RING);
  emits: (HangwatchUnheardEmit | undefined)[] = new Array(EMIT_RING);
  streamWaits: (HangwatchStreamWait | undefined)[] = new Array(STREAM_RING);
  callbackWaits: (HangwatchCallbackWait | undefined)[] = new Array(CALLBACK_RING);
  /**
   * Emitters a listener was added to while a `done`-style test or hook ran (`keepListeners`): a
   * listener that would call `done` on an emitter nothing else holds stays findable.
   */
  listenedTo: unknown[] = new Array(LISTENER_RING);
  nextListenedTo = 0;
  handledErrors: (HangwatchHandledError | undefined)[] = new Array(HANDLED_ERROR_RING);
  nextHandledError = 0;
  /** Where each record ring is written next. */
  private readonly cursors: Record<RecordRing, number> = {
    waits: 0,
    emits: 0,
    streamWaits: 0,
    callbackWaits: 0,
  };
  /** Set only while a report is built: the hung units' own promises, to root their flows. */
  units: unknown[] = [];

  /** Keeps `record` in its ring, in place of the oldest once the ring is full. */
  keep<Ring extends RecordRing>(ring: Ring, record: NonNullable<this[Ring][number]>): void {
    const records = this[ring] as unknown[];
    const slot = this.cursors[ring];
    records[slot] = record;
    this.cursors[ring] = (slot + 1) % records.length;
  }

  clear(): void {
    this.promises.fill(undefined);
    this.executors.fill(undefined);
    this.waits.fill(undefined);
    this.emits.fill(undefined);
    this.streamWaits.fill(undefined);
    this.callbackWaits.fill(undefined);
    this.listenedTo.fill(undefined);
    this.handledErrors.fill(undefined);
    this.units = [];
  }
}

export const probe = new HangwatchAwaitProbe();

type PromiseConstructorLike = new (executor: (...args: never[]) => unknown) => unknown;

/** Statics that must keep their `this` (so `Promise.resolve(p) === p` still holds). */
const STATICS = ['resolve', 'reject', 'all', 'allSettled', 'any', 'race', 'withResolvers', 'try'];

/**
 * Replaces a test file's global `Promise` with a proxy whose only difference is that `new
 * Promise(executor)` records the promise and its executor. Async functions and `then` use the
 * context's intrinsic promise and are untouched. `recordsNow` can leave out promises made by
 * work no report will read: a poll loop a timed-out test left running makes one a millisecond,
 * and would push a hung test's own never-settling promise out of the ring, which is all that
 * keeps that promise (and the flow awaiting it) from being collected before the snapshot.
 */
export function recordExplicitPromises(
  global: Record<string, unknown>,
  recordsNow: () => boolean = () => true,
): void {
  const Original = global.Promise as PromiseConstructorLike & Record<string, unknown>;
  if (typeof Original !== 'function') return;
  const bound = new Map<PropertyKey, unknown>();
  for (const key of STATICS) {
    const value = Original[key];
    if (typeof value === 'function') bound.set(key, value.bind(Original));
  }
  global.Promise = new Proxy(Original, {
    construct(target, args, newTarget) {
      const promise = Reflect.construct(target, args, newTarget) as unknown;
      if (!recordsNow()) return promise as object;
      const slot = probe.nextPromise;
      probe.promises[slot] = promise;
      probe.executors[slot] = args[0];
      probe.createdAt[slot] = realNow();
      probe.nextPromise = (slot + 1) % PROMISE_RING;
      return promise as object;
    },
    // One lookup per read: code reads `Promise.resolve` on every call (koa-compose per middleware).
    get(target, key, receiver) {
      const own = bound.get(key);
      return own !== undefined ? own : Reflect.get(target, key, receiver);
    },
  });
}

/** Sessions recording now. */
let recording = 0;
/** `done`-style units running now, whose listeners' emitters are kept (`keepListeners`). */
const keepingListeners = new Set<object>();

/**
 * Keeps the emitters listeners are added to from now on, in a ring, until the returned function
 * is called: while a `done`-style test or hook runs, the listener that would call `done` may be
 * on an emitter only that listener's test held, which the snapshot's collection would take.
 */
export function keepListeners(): () => void {
  const token = {};
  keepingListeners.add(token);
  return () => {
    if (keepingListeners.delete(token) && keepingListeners.size === 0) forgetListenedTo();
  };
}

function forgetListenedTo(): void {
  probe.listenedTo.fill(undefined);
  probe.nextListenedTo = 0;
}

let wrapped = false;
/** Per emitter class: whether unheard emits on it come from user code (decided once per class). */
const userClasses = new WeakMap<object, boolean>();

/**
 * Wraps `events.once` and `events.on` (recording the wait and its caller),
 * `EventEmitter.prototype.emit` (recording an emit nobody heard, for the missed-event case),
 * Node's stream waits (`stream-waits`) and `util.promisify` (`callback-waits`). All are shared by every test file of a worker: wrapped the first time a
 * session records and left in place, passing calls on while no session records. Putting a
 * method of EventEmitter's prototype back and forth for each test file would make V8 check every
 * emitter class's prototype chain again.
 */
export function installEventRecording(): void {
  recording++;
  if (wrapped) return;
  wrapped = true;
  const once = EventEmitter.once;
  const on = EventEmitter.on;
  const emit = EventEmitter.prototype.emit;
  const recordWait = (
    via: 'once' | 'on',
    waited: unknown,
    args: unknown[],
    skipAbove: (...args: never[]) => unknown,
  ) => {
    const [emitter, event] = args as [object, string | symbol];
    const stack = captureStack(skipAbove, 12);
    probe.keep('waits', new HangwatchEventWait(via, waited, emitter, event, stack, realNow()));
  };
  /** `events[via]`, recording each call: what it returned, its emitter, event and caller. */
  const recordingCalls = <F extends (...args: never[]) => unknown>(
    via: 'once' | 'on',
    original: F,
  ) => {
    const wrapper = function (this: unknown, ...args: unknown[]) {
      const waited = Reflect.apply(original, this, args);
      if (recording > 0) recordWait(via, waited, args, wrapper);
      return waited;
    };
    Object.defineProperty(wrapper, 'name', { value: via });
    return wrapper as unknown as F;
  };
  EventEmitter.once = recordingCalls('once', once);
  EventEmitter.on = recordingCalls('on', on);
  const wrappedEmit = function emit_(this: EventEmitter, event: string | symbol) {
    // eslint-disable-next-line prefer-rest-params
    const heard = Reflect.apply(emit, this, arguments) as boolean;
    if (recording > 0) {
      if (!heard) noteUnheard(this, event, wrappedEmit);
      // eslint-disable-next-line prefer-rest-params
      else if (event === 'error') noteHandledError(this, arguments[1]);
    }
    return heard;
  };
  Object.defineProperty(wrappedEmit, 'name', { value: 'emit' });
  EventEmitter.prototype.emit = wrappedEmit as typeof emit;
  wrapAddListener();
  const isRecording = () => recording > 0;
  wrapStreamWaits((wait) => probe.keep('streamWaits', wait), isRecording, realNow);
  wrapPromisify((wait) => probe.keep('callbackWaits', wait), isRecording, realNow);
}

/** `on`/`addListener` (one function) and `prependListener`, keeping their emitter while asked. */
function wrapAddListener(): void {
  const proto = EventEmitter.prototype as unknown as Record<string, unknown>;
  const wrappers = new Map<unknown, unknown>();
  for (const name of ['on', 'addListener', 'prependListener']) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    if (typeof original !== 'function') continue;
    let wrapper = wrappers.get(original);
    if (!wrapper) {
      wrapper = function (this: object, ...args: unknown[]) {
        if (keepingListeners.size > 0) {
          const slot = probe.nextListenedTo;
          probe.listenedTo[slot] = this;
          probe.nextListenedTo = (slot + 1) % LISTENER_RING;
        }
        return Reflect.apply(original, this, args);
      };
      Object.defineProperty(wrapper, 'name', { value: original.name });
      Object.defineProperty(wrapper, 'length', { value: original.length });
      wrappers.set(original, wrapper);
    }
    proto[name] = wrapper;
  }
}

/** The session stops recording; the last one empties the rings. */
export function uninstallEventRecording(): void {
  if (recording === 0 || --recording > 0) return;
  // A unit that never ended (its file stopped) keeps nothing into the next file.
  keepingListeners.clear();
  probe.clear();
}

/** Error objects already counted: one failure re-emitted on another emitter is not another. */
const countedErrors = new WeakSet<object>();

function isFirstSighting(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  if (countedErrors.has(error)) return false;
  countedErrors.add(error);
  return true;
}

function noteHandledError(emitter: EventEmitter, error: unknown): void {
  let message: string;
  let code: string | undefined;
  try {
    const described = error as { message?: unknown; code?: unknown } | null | undefined;
    message =
      typeof described?.message === 'string' ? described.message.split('\n')[0] : String(error);
    code = typeof described?.code === 'string' ? described.code : undefined;
  } catch {
    return; // a getter or toString that throws: the emit it rides on must not
  }
  const firstSeen = isFirstSighting(error) ? 1 : 0;
  let byMessage = handledByEmitter.get(emitter);
  const known = byMessage?.get(message);
  if (known) {
    known.count += firstSeen;
    known.emits++;
    known.at = realNow();
    return;
  }
  const record = new HangwatchHandledError(
    firstSeen,
    emitter,
    message,
    code,
    currentAsyncContext()?.owner,
    realNow(),
  );
  if (!byMessage) handledByEmitter.set(emitter, (byMessage = new Map()));
  byMessage.set(message, record);
  const slot = probe.nextHandledError;
  probe.handledErrors[slot] = record;
  probe.nextHandledError = (slot + 1) % HANDLED_ERROR_RING;
}

function noteUnheard(
  emitter: EventEmitter,
  event: string | symbol,
  skipAbove: (...args: never[]) => unknown,
): void {
  const kind = (emitter as { constructor?: object }).constructor ?? EventEmitter;
  const verdict = userClasses.get(kind);
  if (verdict === false) return;
  const known = unheard.get(emitter)?.get(event);
  if (known) {
    known.at = realNow();
    return;
  }
  if (verdict === undefined && kind !== EventEmitter) {
    // Streams, sockets and clients emit unheard events all the time from their own code: one
    // look at the caller decides for the whole class (each test file loads its own copy of a
    // package's classes), from V8's call sites: formatting the stack would cost more than all
    // the records. Plain EventEmitters are all recorded.
    const caller = callerFrames(skipAbove, 10).find((frame) => frame.origin !== 'internal');
    const fromUser = caller?.origin === 'user';
    userClasses.set(kind, fromUser);
    if (!fromUser) return;
  }
  // Only formatted if a report reads it.
  const stack = captureStack(skipAbove, 10);
  const record = new HangwatchUnheardEmit(emitter, event, stack, realNow());
  let events = unheard.get(emitter);
  if (!events) unheard.set(emitter, (events = new Map()));
  events.set(event, record);
  probe.keep('emits', record);
}
