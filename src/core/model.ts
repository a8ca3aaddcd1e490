/**
 * The report model: plain, JSON-serialisable data. Everything hangwatch finds is described here
 * as facts (kinds, numbers, addresses, sites, relations, advice codes) and put into words later,
 * by the helpers in ./render, which every view (terminal text, markdown, GitHub annotations, the
 * CLI, Jest's failure messages) shares, so every view tells the same story.
 *
 * Two fields are words, not facts: a pending resource's `summary` and a finding's `notes`. They
 * are absent from findings as found, and filled from the facts (`describePending`, `adviceText`)
 * when the JSON report is written (`withWords`), for readers of the JSON that do not render.
 */

/**
 * 2: `nothingPending` means nothing at all is pending (in 1 it meant nothing of the hung unit's
 * own); `nothingOwnPending`, `unitSite`, `madeBy` and fake timers' `owner` added.
 */
export const REPORT_SCHEMA_VERSION = 2;

/** One stack frame, classified so views can keep the user's own frames. */
export interface Frame {
  file: string;
  line: number;
  column: number;
  functionName?: string;
  /** `user`: the project's own code; `dependency`: under node_modules; `internal`: Node, Jest or hangwatch. */
  origin: 'user' | 'dependency' | 'internal';
  /** npm package name for `dependency` frames. */
  packageName?: string;
}

/** Where something was created, trimmed to what helps: user frames first, packages collapsed. */
export interface CreationSite {
  /** The frame to point at: the first user frame, else the first dependency frame. */
  top?: Frame;
  /** Trimmed frames (user frames and one frame per dependency run), most recent first. */
  frames: Frame[];
  /** The source text of `top`'s line, trimmed, when the file could be read. */
  sourceLine?: string;
}

/** Who started a resource: a test, a hook, or the test file while it was loading. */
export interface OwnerRef {
  kind: 'test' | 'beforeAll' | 'beforeEach' | 'afterEach' | 'afterAll' | 'module';
  /** Full test name ("orders › refunds a payment"), or the hook's describe path. */
  name: string;
  /** For per-test hooks, the test they ran for. */
  testName?: string;
}

/**
 * How a pending resource relates to the hung test, in ranking order: what the test itself started
 * is the likeliest culprit; what its hooks started next; leftovers from earlier tests last.
 */
export type Relation = 'this-test' | 'hook' | 'earlier' | 'unknown';

/**
 * Work an earlier test file left running in this process, by the test or hook that started it:
 * Jest stops neither a test's timers nor its loops when the test times out or its file ends, and
 * what that work creates later runs among the next files' tests.
 */
export interface LeftBy {
  /** The file it was started in. */
  testPath: string;
  owner: OwnerRef;
  /** Its test or hook timed out (or was failed as hung), so Jest went on while it still ran. */
  timedOut: boolean;
}

export interface PendingResource {
  /** async_hooks type (`Timeout`, `TCPWRAP`, ...), or `FakeTimer` for jest fake timers. */
  type: string;
  /** Plain words: "timer", "TCP socket", "HTTP request", "child process". */
  kind: string;
  /**
   * One line that says what it is and what state it is in, rendered from the facts below by
   * `describePending`: present in a written report, absent from a finding as found.
   */
  summary?: string;
  /**
   * Facts that help, and that its one line is made of: delay and time left, addresses, bytes,
   * pid, command, whether a socket is still `connecting` or was `accepted` by a server...
   */
  details: Record<string, string | number | boolean>;
  ageMs: number;
  /** Whether it keeps the process alive (false for unref'd timers and handles). */
  keepsAlive: boolean;
  relation: Relation;
  owner?: OwnerRef;
  /** Created after its file ended, by work a test or hook of that file left running. */
  leftBy?: LeftBy;
  /**
   * Where it is attributed to: its own creation site, or, when no user code was on its stack,
   * the user call it was made for (found through its async ancestry, see `madeBy`).
   */
  site?: CreationSite;
  /**
   * The library frame that really created it, when `site` is inherited: a client's reconnect
   * timer made inside `ioredis` on behalf of the user's `new Redis()` line.
   */
  madeBy?: Frame;
}

export interface FakeTimerInfo {
  kind: 'timeout' | 'interval' | 'immediate' | 'nextTick' | 'animationFrame' | 'idleCallback';
  delayMs?: number;
  /** Fake milliseconds until it would fire if the clock were advanced. */
  dueInMs?: number;
  site?: CreationSite;
  /** Whether the hung test (or its hooks) created it. */
  relation: Relation;
  /** Who created it. */
  owner?: OwnerRef;
}

export interface FakeTimersState {
  /**
   * Jest's (`jest.useFakeTimers()`, modern or legacy), or `installed`: a clock the test installed
   * itself on its global object (@sinonjs/fake-timers' `install()`, `sinon.useFakeTimers()`), which
   * only that clock's own calls advance.
   */
  implementation: 'modern' | 'legacy' | 'installed';
  /**
   * The clock advances itself as real time passes (Jest's `advanceTimers`, @sinonjs/fake-timers'
   * `shouldAdvanceTime`): its timers fire without a call, about `dueInMs` real milliseconds on.
   */
  advancesWithRealTime?: boolean;
  pending: FakeTimerInfo[];
}

/** A test or hook that did not finish within its timeout. */
export interface HangFinding {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'hang';
  /**
   * The test's full name; for `beforeAll`/`afterAll` the describe block's path (empty for a hook
   * at the file's top level).
   */
  testName: string;
  testPath: string;
  /** What hung: the test function itself or one of its hooks. */
  phase: 'test' | 'beforeAll' | 'beforeEach' | 'afterEach' | 'afterAll';
  /**
   * Where the hung test or hook is declared (its `test(...)` or `afterAll(...)` line): the line to
   * point at when nothing of its own is pending.
   */
  unitSite?: CreationSite;
  /** The test a per-test hook was running for. */
  forTest?: string;
  /**
   * `timeout`: the runner's timeout expired. `idle`: found early, because nothing left in the
   * process (no timer, socket, request, child, worker, port, fake timer) could ever settle it.
   */
  trigger: 'timeout' | 'idle';
  elapsedMs: number;
  timeoutMs: number;
  /** The function declared a `done` parameter and never called it. */
  waitingForDone: boolean;
  /**
   * Errors thrown inside callbacks while it waited for `done` (a failed assertion in an event
   * handler): the likely reason `done()` was never reached.
   */
  thrownBeforeDone?: { message: string; site?: CreationSite }[];
  /**
   * 'error' events its own work emitted while it ran that a listener took, so nothing failed: a
   * refused connection a client library retries, a request that failed. One entry per message,
   * newest first.
   */
  handledErrors?: HandledError[];
  /** Retry attempt (0 for the first run) when `jest.retryTimes` is in use. */
  attempt: number;
  /** Ranked, capped list of what is still pending. */
  pending: PendingResource[];
  /** How many more pending resources the cap left out. */
  omittedCount: number;
  fakeTimers?: FakeTimersState;
  /** Promise creation sites (only with `promises: true`). */
  pendingPromises?: PendingResource[];
  /**
   * Nothing at all is pending: no resource, fake timer or recorded promise exists, of this unit or
   * any other, that could ever settle it.
   */
  nothingPending: boolean;
  /**
   * Nothing the hung unit (or, for a test, its hooks) started is pending: whatever `pending` lists
   * was started elsewhere (an earlier test, the file's module scope), and can settle it only if
   * it waits on that.
   */
  nothingOwnPending: boolean;
  /** What to do about it, or why something is missing (fake timers, `done`, caps), as codes. */
  advice?: HangAdvice[];
  /** `advice` in sentences (`adviceText`): present in a written report. */
  notes?: string[];
  /** Locks held or awaited when it hung (hangwatch/sync and instrumented async-mutex). */
  locks?: LockSection;
  /**
   * Its suspended async flows, each a chain of awaits, innermost first (read from the heap when
   * it hung; absent when that was not possible). Concurrent flows (`Promise.all`) are separate.
   */
  awaits?: AwaitFlow[];
  /**
   * For a unit that takes `done` and has not called it: its functions that would call `done`,
   * each with what it waits to be called by (a listener's event, a promise's callback and what
   * that promise waits on), innermost first; the function itself is the last step (none when
   * `done` itself is the listener or callback).
   */
  doneCallers?: AwaitFlow[];
  /** Flows of `awaits` that each wait for an event only the next one emits, after its own wait. */
  eventCycle?: EventCycleStep[];
}

/** An 'error' event a listener took, perhaps many times (see `HangFinding.handledErrors`). */
export interface HandledError {
  message: string;
  /** The error's `code` (`ECONNREFUSED`...). */
  code?: string;
  /** The classes of the emitters that emitted it, in order (a socket, then its client). */
  emitters: string[];
  /** How many times one emitter emitted it, at most. */
  count: number;
  /** How long before the report it was last emitted. */
  lastAgoMs: number;
}

/** One suspended async function: the `await` it is stopped at. */
export interface AwaitStep {
  /** The await's position (source-mapped); `functionName` is the async function's. */
  frame: Frame;
  sourceLine?: string;
}

/** What a flow's innermost await waits on, when hangwatch can tell. */
export type AwaitedThing =
  | {
      /** A `new Promise(executor)` whose resolve and reject have not been called. */
      kind: 'promise';
      /** The executor's position. */
      site?: CreationSite;
      ageMs?: number;
    }
  | {
      /** An event on an EventEmitter (`events.once`, or a listener that settles the promise). */
      kind: 'event';
      /** The emitter's class name. */
      emitter: string;
      event: string;
      /** Other events of that emitter whose listeners would settle it too (an 'error' rejecting it). */
      orEvents?: string[];
      /** Where the wait began. */
      site?: CreationSite;
      waitingMs?: number;
      /** The event had been emitted on that emitter before the wait began: it was missed. */
      missed?: { beforeMs: number; site?: CreationSite };
      /**
       * The stream a readline interface reads its lines from, when it has not ended: its 'line'
       * and 'close' events come only from that stream's data and end.
       */
      input?: StreamState;
    }
  | {
      /** A `jest.fn()` returned the promise, and it never settles. */
      kind: 'mock';
      /** Where the never-settling promise is made: the mockImplementation/mockReturnValue line. */
      site?: CreationSite;
    }
  | {
      /** A promise made inside a package (a limiter's queue, a pool's waiting list). */
      kind: 'library';
      packageName: string;
      /** The package the user's line called, when the wait is inside another one it uses. */
      calledPackage?: string;
      /** The user line that entered the package. */
      enteredAt?: Frame;
      enteredSourceLine?: string;
      /**
       * Who holds its slots, when that can be known: the jobs the package is running now (async
       * functions its own code awaits, as a limiter awaits each job), each at its current await.
       */
      holders?: SlotHolder[];
    }
  | {
      /** A function `util.promisify` made promise-returning that has not called its callback. */
      kind: 'callback';
      /** The callback-style function's name. */
      functionName?: string;
      /** Where that function is defined. */
      site?: CreationSite;
      waitingMs?: number;
    }
  | {
      /**
       * A Node stream that has not ended or finished: `stream/promises`' `finished` or `pipeline`,
       * or `for await` over a readable.
       */
      kind: 'stream';
      via: StreamWaitVia;
      /** The stream that holds the flow up: for a pipeline, the first that has not finished. */
      state: StreamState;
      /** For a pipeline: that stream's stage (1-based) and how many stages it has. */
      pipeline?: { position: number; length: number };
      waitingMs?: number;
      /**
       * The async generator (or other async iterator) that feeds that stream (`Readable.from`, or
       * the stage before it in a pipeline), when it is stopped at an await of its own: where,
       * innermost first, and what it waits on.
       */
      source?: StreamSource;
      /**
       * The pipeline's function stage that reads that stream (an async generator function, or an
       * async function as the last stage), when it is stopped at an await of its own rather than
       * waiting for that stream: where, innermost first, and what it waits on.
       */
      reader?: StreamReader;
    };

export interface StreamSource {
  /** The generator function's name ('' for an anonymous one). */
  generator: string;
  steps: AwaitStep[];
  awaiting?: AwaitedThing;
}

export interface StreamReader {
  /** The function's name ('' for an anonymous one). */
  function: string;
  /** An async generator function (a transform stage) or an async function (the last stage). */
  kind: 'async generator' | 'async function';
  steps: AwaitStep[];
  awaiting?: AwaitedThing;
}

/** How a flow waits on a stream: `finished`, `pipeline` (from `stream/promises`) or `for await`. */
export type StreamWaitVia = 'finished' | 'pipeline' | 'iteration';

/** What a stream has and has not done yet, when a report was made. */
export interface StreamState {
  /** Its class name. */
  stream: string;
  destroyed: boolean;
  /** Its readable side, if it has one. */
  readable?: {
    /** 'end' was emitted: every chunk was read. */
    ended: boolean;
    /** Its source pushed the end (`push(null)`), even if chunks are still unread. */
    endPushed: boolean;
    /** Chunks not read yet: bytes, or objects in object mode. */
    buffered: number;
    /** Node's `readableFlowing`: null while nothing has started reading it. */
    flowing: boolean | null;
    objectMode: boolean;
  };
  /** Its writable side, if it has one. */
  writable?: {
    /** `end()` was called. */
    endCalled: boolean;
    /** 'finish' was emitted: every write completed. */
    finished: boolean;
    /** Written but not yet handled: bytes, or objects in object mode. */
    buffered: number;
    objectMode: boolean;
  };
  /**
   * A socket's data ends only when its other end ends it: the peer of a connection, or the
   * process at the other end of a pipe (a child process's stdout ends when the child exits).
   */
  socket?: {
    /** A pipe (a child process's stdio, a Unix socket), not a TCP connection. */
    pipe: boolean;
    /** The TCP peer, `host:port`, when known. */
    peer?: string;
  };
}

/** A job a package is running now (so holding one of its slots), at its current await. */
export interface SlotHolder {
  frame: Frame;
  sourceLine?: string;
  /** The job is the waiting flow itself (or encloses it): it waits for a slot it holds. */
  sameFlow: boolean;
  /**
   * The job itself waits inside the same package (`await queue.add(...)` in a job of that
   * queue): when on the same instance, it holds a slot while it waits for one.
   */
  waitsOnPackage?: true;
}

export interface AwaitFlow {
  /** Innermost first: user code and packages (a package's run of steps kept as its outer step). */
  steps: AwaitStep[];
  awaiting?: AwaitedThing;
}

/**
 * Resources a test (with its beforeEach/afterEach hooks), or a file (its beforeAll/afterAll hooks
 * and its module scope), left open: still open and keeping the process alive at the end of the
 * file, after its afterAll hooks and a grace period for closing. What closed on its own after its
 * test ended is not a leak.
 */
export interface LeakFinding {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'leak';
  /** The test's full name; empty for a file-level leak. */
  testName: string;
  testPath: string;
  scope: 'test' | 'file';
  /** Whether the leak failed the test file, naming the test (`leaks: 'error'`), or was only reported. */
  severity: 'warning' | 'error';
  resources: PendingResource[];
  omittedCount: number;
}

/**
 * A confirmed leak, or the work of a timed-out test, that still held its process open after the
 * process's last test file: why Jest "did not exit" (in band) or a worker had to be force-exited.
 */
export interface KeptAliveResource {
  /** `in band` for Jest's own process, else `worker <JEST_WORKER_ID>`. */
  process: string;
  testPath: string;
  /** The test that created it; empty when the file did (while loading, in beforeAll/afterAll). */
  testName: string;
  /**
   * The test (or hook) that created it timed out or was failed as hung: not a leak it left but
   * work Jest did not stop, still running after its file.
   */
  timedOut?: boolean;
  /**
   * The test or hook that timed out, when it is not the one that created it: a hook of its test
   * whose hang report listed it (a test's connection its afterEach's `close()` waited on), or
   * the test a hook's work ran for.
   */
  timedOutUnit?: OwnerRef;
  resource: PendingResource;
}

/** Flows that can never go on because of locks (found at once, before any timeout). */
export interface DeadlockFinding {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'deadlock';
  /** The test (or hook's test) whose flow's wait was failed. */
  testName: string;
  testPath: string;
  deadlock: Deadlock;
  /**
   * Words: the deadlock as the DeadlockError's message reads. Absent when a finding is made; the
   * JSON report has it (`withWords`), for readers that do not render.
   */
  message?: string;
}

/** Two places took the same two locks in opposite orders: a deadlock waiting to happen. */
export interface LockOrderFinding {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'lock-order';
  testName: string;
  testPath: string;
  severity: 'warning' | 'error';
  inversion: LockOrderInversion;
  /**
   * When the two orders were seen by different test processes (so no single process could
   * report it): the test that took the locks in the first order. This finding's own test and
   * path are the opposite order's.
   */
  firstOrderSeenIn?: { testPath: string; testName: string };
  /** Words: the inversion as its warning reads (see `DeadlockFinding.message`). */
  message?: string;
}

/**
 * A test or hook that kept the event loop busy: for a while (`frozen: false`, it finished), or
 * past its timeout (`frozen: true`, the process had to be ended because nothing else could).
 */
export interface BlockedLoopFinding {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'blocked-loop';
  testName: string;
  testPath: string;
  /** The kind of unit it happened in. */
  phase: Exclude<OwnerRef['kind'], 'module'>;
  forTest?: string;
  blockedMs: number;
  timeoutMs: number;
  frozen: boolean;
  /** `warning` when the run goes on regardless (`blockedLoop: 'warn'`). */
  severity: 'warning' | 'error';
  /** Where the loop is: the innermost frame of the project's own code. */
  site?: CreationSite;
  /** The test thread's whole stack when the watchdog looked, most recent call first. */
  stack: Frame[];
  /**
   * The native call the thread was blocked in (where no pause lands): `stack` is its call site.
   * `childEnded`: the watchdog ended the call's child process, the call returned and the run went on.
   */
  nativeCall?: { api: string; args: string; childEnded?: boolean };
  /** What hangwatch did about it, and what to do, as codes. */
  advice?: LoopAdvice[];
  /** `advice` in sentences (`adviceText`): present in a written report. */
  notes?: string[];
}

/** Advice on a hang, with what its sentence needs. */
export type HangAdvice =
  | {
      /** Fake timers of its own are pending: advance the clock (in the implementation's calls). */
      code: 'advance-fake-timers';
      implementation: FakeTimersState['implementation'];
      timers: number;
      /** The clock advances with real time: the timers fire on their own, the next this much later. */
      advancesWithRealTime?: boolean;
      nextDueInMs?: number;
    }
  | {
      /** Nothing else can end it: only a call to `done`. */
      code: 'call-done';
    }
  | {
      /**
       * Set `promises: true` to record where the promises it awaits were created; `nothingPending`:
       * nothing at all is pending, so it awaits a promise or event nobody settles.
       */
      code: 'record-promises';
      nothingPending: boolean;
    }
  | {
      /** Await stacks were not read: the heap is over `awaitStacksMaxHeapMb`. */
      code: 'await-stacks-heap-limit';
      heapBytes: number;
      limitMb: number;
    }
  | {
      /** Await stacks were not read: the file's reports already spent this much CPU on them. */
      code: 'await-stacks-budget';
      spentMs: number;
    }
  | {
      /**
       * It set `timers` timers while it waited, and its pending one (of `delayMs`) is recent: a
       * poll or retry loop waits for something that has not happened. With `interval`, a
       * `setInterval` of its own (every `delayMs`) fired about `timers` times while it waited.
       * With `immediate`, they were `setImmediate` callbacks (a loop that yields a turn, no delay).
       */
      code: 'polling';
      timers: number;
      delayMs?: number;
      interval?: true;
      immediate?: true;
    };

/** Advice on a blocked or frozen event loop: what hangwatch did, what to do. */
export type LoopAdvice =
  | {
      /** `blockedLoop: 'warn'`: reported, not failed. */
      code: 'blocked-loop-warning';
      unit: 'test' | 'hook';
      blockThresholdMs: number;
    }
  | {
      /**
       * Judged frozen by the wall clock: past its timeout the thread was `asleep` outside any call
       * hangwatch records, or got only `cpuPercent` of a CPU; hangwatch waited `waitedMs` more.
       */
      code: 'starved-thread';
      asleep: boolean;
      cpuPercent: number;
      waitedMs: number;
    }
  | {
      /** hangwatch ended the child process the blocking call started; the run went on. */
      code: 'ended-child-process';
      unit: 'test' | 'hook';
      pid: number;
    }
  | {
      /**
       * hangwatch ended the process: `in-band` Jest's own (the run stops), `worker-rerun` a worker
       * whose file Jest runs again (the unit then fails at once), `worker-killed` a worker with
       * SIGKILL (the file is reported as crashed).
       */
      code: 'ended-process';
      unit: 'test' | 'hook';
      how: 'in-band' | 'worker-rerun' | 'worker-killed';
      exitCode: number;
    }
  | {
      /** The file ran again after its worker was ended, and the unit was failed without running. */
      code: 'rerun-after-freeze';
      unit: 'test' | 'hook';
      exitCode: number;
    }
  | {
      /**
       * hangwatch ended the worker for Jest to run the file again, and no rerun reported the unit
       * (the process ended another way, or the rerun never reached it): from the marker it left.
       */
      code: 'rerun-missing';
      unit: 'test' | 'hook';
      exitCode: number;
    };

export type Advice = HangAdvice | LoopAdvice;

export type Finding =
  HangFinding | LeakFinding | DeadlockFinding | LockOrderFinding | BlockedLoopFinding;

/** One lock-holding flow: a test, a `task(name, fn)`, a `runExclusive` scope or a bare acquire. */
export interface FlowRef {
  id: number;
  /** "task \"transfer\"", "runExclusive flow #3", "flow #4"... */
  name: string;
  /** The test or hook it runs for. */
  owner?: OwnerRef;
  /** Set when the flow can no longer release anything: "the end of test \"first\"". */
  endedAt?: string;
}

export interface LockHold {
  flow: FlowRef;
  weight: number;
  site?: CreationSite;
  /**
   * `site` is the lock's last recorded acquisition, not this holder's own: a busy lock records a
   * sample of its uncontended acquisitions (option `lockSites`).
   */
  siteSampled?: boolean;
  /** Its release function was garbage-collected without being called: nobody can release it. */
  releaseDropped?: boolean;
  heldMs: number;
}

export interface LockWait {
  flow: FlowRef;
  /** `acquire`: wants the lock; `unlock`: waitForUnlock; `event`: Event.wait. */
  mode: 'acquire' | 'unlock' | 'event';
  weight: number;
  site?: CreationSite;
  waitingMs: number;
}

export interface LockState {
  id: number;
  /** The user's name (`new Mutex('accounts')`), else the variable it was assigned to, else "Mutex#3". */
  name: string;
  kind: 'mutex' | 'semaphore' | 'rwlock' | 'event';
  capacity: number;
  site?: CreationSite;
  holders: LockHold[];
  waiters: LockWait[];
}

/** One flow in a deadlock: what it holds and the lock it waits for. */
export interface DeadlockStep {
  flow: FlowRef;
  holds: { lock: string; site?: CreationSite; siteSampled?: boolean }[];
  waitsFor: { lock: string; kind?: LockState['kind']; mode: LockWait['mode']; site?: CreationSite };
}

export interface Deadlock {
  /**
   * `self`: a flow waits for a lock it (or its enclosing runExclusive) holds; `cycle`: flows wait
   * on each other's locks; `abandoned`: the holder ended without releasing, or dropped its
   * release function uncalled; `blocked`: every flow
   * waits on a lock and nothing else is pending that could release one.
   */
  kind: 'self' | 'cycle' | 'abandoned' | 'blocked';
  steps: DeadlockStep[];
  /** Holders that are not waiting themselves (for `abandoned` and `blocked`). */
  holders: { lock: string; hold: LockHold }[];
}

/** Two places that took the same two locks in opposite orders (lockdep's "possible deadlock"). */
export interface LockOrderInversion {
  first: string;
  second: string;
  /** Where `first` then `second` was taken. */
  forward: { heldSite?: CreationSite; takenSite?: CreationSite; flow: string };
  /** Where `second` then `first` was taken: the acquisition that closed the cycle. */
  backward: { heldSite?: CreationSite; takenSite?: CreationSite; flow: string };
}

export interface LockSection {
  locks: LockState[];
  deadlock?: Deadlock;
  inversions: LockOrderInversion[];
}

export interface EventCycleStep {
  /** Index into `awaits`. */
  flow: number;
  /** The event this flow waits for, and the emitter's class. */
  event: string;
  emitter: string;
  /** The event it would emit after its wait: the one the next flow waits for. */
  emits: string;
  emitsAt?: { file: string; line: number; column: number };
  emitsSourceLine?: string;
}
