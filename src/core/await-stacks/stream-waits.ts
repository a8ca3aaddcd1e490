import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import streamPromises from 'node:stream/promises';
import type { AwaitedThing, StreamState, StreamWaitVia } from '../model';

/**
 * Waits on Node's streams, which Node's own code turns into promises: `stream/promises`'
 * `finished` and `pipeline`, and `for await` over a readable. Their promises and listeners are
 * Node's, so nothing of the user's holds them: a stream only the test holds, that nobody ends,
 * is garbage together with the test's suspended function, and a report could name neither.
 * Recording the wait keeps both, and says which stream the flow waits on.
 */
export class HangwatchStreamWait {
  constructor(
    readonly via: StreamWaitVia,
    /** The promise `finished`/`pipeline` returned; for iteration, the iterator the stream returned. */
    readonly waited: unknown,
    /** The streams, in order; for a pipeline, undefined for a stage that is not a stream (a function). */
    readonly stages: readonly (object | undefined)[],
    readonly at: number,
    /**
     * Per stage, the async iterator that feeds it (a user's async generator): the one a
     * `Readable.from` stream reads, or, in a pipeline, the stage before it.
     */
    readonly sources: readonly (object | undefined)[] = stages.map(sourceOf),
    /**
     * Per stage, the async function or generator that reads it: what the pipeline's function
     * stage after it returned when the pipeline called it (a generator, or an async function's
     * promise).
     */
    readonly readers: readonly (object | undefined)[] = [],
  ) {}
}

/**
 * The async iterator each `Readable.from` stream reads: when the stream never ends, its source is
 * stopped at an await of its own, which a report names. Keyed weakly: kept as long as the stream.
 */
const sources = new WeakMap<object, object>();

function sourceOf(stream: object | undefined): object | undefined {
  return stream === undefined ? undefined : sources.get(stream);
}

/**
 * Per pipeline stage, what feeds it: its `Readable.from` source, or the async iterator before it
 * (given as a stage, or returned by the function stage before it).
 */
function pipelineSources(stages: unknown[], made: unknown[]): (object | undefined)[] {
  return stages.map((stage, index) => {
    if (!isStream(stage)) return undefined;
    const before = made[index - 1] ?? stages[index - 1];
    return sourceOf(stage) ?? (isAsyncIterator(before) ? before : undefined);
  });
}

/** Per pipeline stage, what reads it: the result of the function stage after it, if any. */
function pipelineReaders(stages: unknown[], made: unknown[]): (object | undefined)[] {
  return stages.map((stage, index) => {
    const after = made[index + 1];
    return isStream(stage) && typeof after === 'object' && after !== null ? after : undefined;
  });
}

/**
 * The pipeline's arguments with each function stage replaced by one that keeps what the stage
 * returns when the pipeline calls it (Node calls them before `pipeline` returns), in `made`.
 */
function keepingWhatStagesMake(args: unknown[], made: unknown[]): unknown[] {
  const stages = pipelineStages(args);
  const given = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  const replaced = given.map((stage, index) => {
    if (typeof stage !== 'function' || index >= stages.length) return stage;
    const fn = stage as (...stageArgs: unknown[]) => unknown;
    return function (this: unknown, ...stageArgs: unknown[]) {
      const result = Reflect.apply(fn, this, stageArgs);
      made[index] = result;
      return result;
    };
  });
  return Array.isArray(args[0]) ? [replaced, ...args.slice(1)] : replaced;
}

function isAsyncIterator(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { next?: unknown }).next === 'function' &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

type RecordWait = (wait: HangwatchStreamWait) => void;

/**
 * Wraps the three entry points once per process (Node's modules are shared by every test file),
 * recording a wait while `isRecording()` says a session records. `stream.promises` is the same
 * object as `stream/promises`, so both spellings are covered.
 */
export function wrapStreamWaits(
  record: RecordWait,
  isRecording: () => boolean,
  now: () => number,
): void {
  const { finished, pipeline } = streamPromises;
  const finishedWrapper = function finished_(this: unknown, ...args: unknown[]) {
    const promise = Reflect.apply(finished, this, args) as unknown;
    if (isRecording() && isStream(args[0])) {
      record(new HangwatchStreamWait('finished', promise, [args[0]], now()));
    }
    return promise;
  };
  const pipelineWrapper = function pipeline_(this: unknown, ...args: unknown[]) {
    if (!isRecording()) return Reflect.apply(pipeline, this, args) as unknown;
    const made: unknown[] = [];
    const promise = Reflect.apply(pipeline, this, keepingWhatStagesMake(args, made)) as unknown;
    const given = pipelineStages(args);
    const stages = given.map((stage) => (isStream(stage) ? stage : undefined));
    if (stages.some((stage) => stage !== undefined)) {
      record(
        new HangwatchStreamWait(
          'pipeline',
          promise,
          stages,
          now(),
          pipelineSources(given, made),
          pipelineReaders(given, made),
        ),
      );
    }
    return promise;
  };
  Object.defineProperty(finishedWrapper, 'name', { value: 'finished' });
  Object.defineProperty(pipelineWrapper, 'name', { value: 'pipeline' });
  const promisesModule = streamPromises as unknown as { [name: string]: unknown };
  promisesModule.finished = finishedWrapper;
  promisesModule.pipeline = pipelineWrapper;

  const iterate = Readable.prototype[Symbol.asyncIterator];
  const iterateWrapper = function (this: Readable) {
    const iterator = Reflect.apply(iterate, this, []) as unknown;
    if (isRecording()) record(new HangwatchStreamWait('iteration', iterator, [this], now()));
    return iterator;
  };
  Object.defineProperty(iterateWrapper, 'name', { value: '[Symbol.asyncIterator]' });
  (Readable.prototype as unknown as { [key: symbol]: unknown })[Symbol.asyncIterator] =
    iterateWrapper;

  // Static: a subclass without a `from` of its own calls it with itself as `this` (Duplex has one).
  const from = Readable.from;
  const fromWrapper = function (this: unknown, ...args: unknown[]) {
    const stream = Reflect.apply(from, this, args) as unknown;
    if (isRecording() && isAsyncIterator(args[0]) && isStream(stream)) {
      sources.set(stream, args[0]);
    }
    return stream;
  };
  Object.defineProperty(fromWrapper, 'name', { value: 'from' });
  Object.defineProperty(fromWrapper, 'length', { value: from.length });
  Readable.from = fromWrapper as typeof Readable.from;
}

/** `pipeline(a, b, c[, options])` or `pipeline([a, b, c][, options])`: the stages, in order. */
export function pipelineStages(args: unknown[]): unknown[] {
  const stages = Array.isArray(args[0]) ? [...(args[0] as unknown[])] : [...args];
  const last = stages[stages.length - 1];
  const isOptions =
    typeof last === 'object' &&
    last !== null &&
    !isStream(last) &&
    typeof (last as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function' &&
    typeof (last as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function';
  return isOptions ? stages.slice(0, -1) : stages;
}

function isStream(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    ('_readableState' in value || '_writableState' in value)
  );
}

interface NodeStreamLike {
  constructor?: { name?: string };
  destroyed?: boolean;
  readableEnded?: boolean;
  readableLength?: number;
  readableFlowing?: boolean | null;
  readableObjectMode?: boolean;
  writableEnded?: boolean;
  writableFinished?: boolean;
  writableLength?: number;
  writableObjectMode?: boolean;
  _readableState?: { ended?: boolean } | null;
  _writableState?: object | null;
}

/** What a live stream has and has not done yet, read from Node's public getters. */
export function streamState(stream: object): StreamState {
  const s = stream as NodeStreamLike;
  const state: StreamState = {
    stream: s.constructor?.name || 'Stream',
    destroyed: s.destroyed === true,
  };
  if (s._readableState) {
    state.readable = {
      ended: s.readableEnded === true,
      endPushed: s._readableState.ended === true,
      buffered: s.readableLength ?? 0,
      flowing: s.readableFlowing ?? null,
      objectMode: s.readableObjectMode === true,
    };
  }
  if (s._writableState) {
    state.writable = {
      endCalled: s.writableEnded === true,
      finished: s.writableFinished === true,
      buffered: s.writableLength ?? 0,
      objectMode: s.writableObjectMode === true,
    };
  }
  if (stream instanceof Socket) state.socket = socketOf(stream);
  return state;
}

/** Whether it is a pipe or a TCP connection, and its peer: what must end it. */
function socketOf(socket: Socket): NonNullable<StreamState['socket']> {
  const handle = (socket as unknown as { _handle?: { constructor?: { name?: string } } | null })
    ._handle;
  const handleName = handle?.constructor?.name;
  const { remoteAddress, remotePort } = socket;
  // Closed, a socket has no handle: one with no peer address was a pipe.
  const pipe = handleName === 'Pipe' || (handleName === undefined && remoteAddress === undefined);
  if (pipe || remoteAddress === undefined) return { pipe };
  const host = remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress;
  return { pipe, peer: `${host}:${remotePort ?? '?'}` };
}

/**
 * The stream a readline interface (`readline` or `readline/promises`) reads, while it has not
 * ended: its 'line' events and its 'close' come only from that stream.
 */
export function unendedInputOf(emitter: object): StreamState | undefined {
  const readline = emitter as { getPrompt?: unknown; input?: { _readableState?: unknown } };
  if (typeof readline.getPrompt !== 'function' || !readline.input?._readableState) return undefined;
  const state = streamState(readline.input);
  return state.destroyed || state.readable?.ended !== false ? undefined : state;
}

/** Whether a stream has done what `finished` waits for: its readable side ended, its writable side finished. */
export function isSettled(state: StreamState): boolean {
  if (state.destroyed) return true;
  if (state.readable && !state.readable.ended) return false;
  if (state.writable && !state.writable.finished) return false;
  return true;
}

/** The stream the flow waits on, as it is now: a pipeline's first stream that has not finished. */
export function streamWaitOf(wait: HangwatchStreamWait, now: number): AwaitedThing | undefined {
  const states = wait.stages.map((stage) => (stage === undefined ? undefined : streamState(stage)));
  let stuck = states.findIndex((state) => state !== undefined && !isSettled(state));
  if (stuck === -1) stuck = states.findIndex((state) => state !== undefined);
  const state = states[stuck];
  if (state === undefined) return undefined;
  return {
    kind: 'stream',
    via: wait.via,
    state,
    ...(wait.via === 'pipeline'
      ? { pipeline: { position: stuck + 1, length: states.length } }
      : {}),
    waitingMs: Math.round(now - wait.at),
  };
}
