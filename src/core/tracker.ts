import {
  AsyncResource,
  createHook,
  executionAsyncId,
  executionAsyncResource,
  type AsyncHook,
} from 'node:async_hooks';
import { currentAsyncContext, originOfCallRunning, type AsyncContext } from './async-context';
import { disableHook, enableHook } from './light-hooks';
import { countCallbacksWhenAsked, enterCallback, leaveCallback } from './callback-depth';
import { captureStack, DEEP_STACK_DEPTH, DEFAULT_STACK_DEPTH, type LazyStack } from './stack';
import { realNow } from './real-timers';
import { ownerObject } from './handle-owner';
import { isLeftOver, type LeftOver } from './left-over';

/**
 * Where a piece of async work came from: its owner, its creation stack, and the oldest work in
 * its trigger chain. Records and tick links both are one, so a chain survives the destruction of
 * the work in between (a socket closed before the reconnect timer its `close` handler armed).
 */
export interface Ancestry<Owner> {
  owner: Owner | undefined;
  /** Without an owner: the work an earlier test file left running that created it. */
  leftOver?: LeftOver;
  /** The user's call that this work was created on behalf of (see `origins`). */
  origin: LazyStack | undefined;
  stack: LazyStack;
  /**
   * The oldest recorded work in its trigger chain. A timer a library re-arms from its own
   * callback (a client's reconnect timer, jsdom's setInterval) has no user frame; its root does.
   * Only the root is kept, one reference, so a chain of re-armed timers costs nothing extra and
   * is resolved to a user line only when a report is built.
   */
  root: Ancestry<Owner> | undefined;
}

/**
 * One live async resource. The resource object itself is held strongly: every non-promise type
 * emits `destroy` when it closes, which is when the record is dropped, so nothing outlives its
 * resource. Promises are recorded without their object, so the collector can still reclaim them.
 */
export interface ResourceRecord<Owner> extends Ancestry<Owner> {
  asyncId: number;
  type: string;
  triggerAsyncId: number;
  resource: object | undefined;
  createdAt: number;
}

/**
 * Timers an owner set one after another for its work to count as a loop (a poll, a retry): more
 * than a wait, fewer than a flood. See `timersSetBy`.
 */
export const LOOP_MIN_TIMERS = 5;

/**
 * Work that always runs on its own on the current turn: never the reason anything hangs. Ticks
 * still pass their ancestry on (see `passAncestryOn`): libraries open sockets from
 * `process.nextTick`.
 */
const ALWAYS_SETTLES = new Set(['TickObject', 'Microtask']);
/**
 * Never a reason to wait: process-wide singletons (the DNS channel), writes, which end with their
 * socket, and the end-of-stream watcher Node 22+ attaches to a stream given an AbortSignal (an
 * AsyncResource destroyed only when collected: the stream it watches is what is pending).
 * Skipping them keeps the per-write cost at one Set lookup.
 */
const IGNORED = new Set(['DNSCHANNEL', 'WRITEWRAP', 'SHUTDOWNWRAP', 'STREAM_END_OF_STREAM']);
/**
 * Created by Node for a resource the user already holds (a request's parser, an incoming message,
 * a connect request): recorded for the report's details, but their stack would only show Node.
 */
const NO_STACK = new Set([
  'HTTPPARSER',
  'HTTPINCOMINGMESSAGE',
  'HTTPCLIENTREQUEST',
  'TCPCONNECTWRAP',
  'PIPECONNECTWRAP',
]);
const EMPTY_STACK: LazyStack = Object.freeze({});
/**
 * A connection a server accepted: Node creates its socket from the server handle's own native
 * callback, with no JavaScript below it, so its stack would show nothing (118 of the 678 stacks
 * of a koa run). It belongs to its server, whose record has the user's stack.
 */
const ACCEPTED_BY = new Map([
  ['TCPWRAP', 'TCPSERVERWRAP'],
  ['PIPEWRAP', 'PIPESERVERWRAP'],
]);

/**
 * A handle a wrapped call (`listen`, `connect`) creates before it returns: the stack that call
 * took as it began is this handle's stack less Node's frames, so none is taken again (on koa's
 * suite, the server and client socket of each request: 236 of a run's 559 stacks).
 */
function stackOfCallRunning(
  type: string,
  context: AsyncContext | undefined,
): LazyStack | undefined {
  if (!type.endsWith('WRAP')) return undefined;
  const origin = context?.origin;
  return origin !== undefined && origin === originOfCallRunning() ? origin : undefined;
}

/**
 * A library's own `AsyncResource` (on-finished's listener in every Koa response,
 * `AsyncResource.bind`, an `EventEmitterAsyncResource`, a limiter's queued task) only carries its
 * creator's async context to a callback run later, and Node destroys most of them only when they
 * are collected. Recorded, one was held until its file ended, read as pending work in a later
 * test's report, and as something that could still wake a test waiting on nothing. Node's own
 * resources are not `AsyncResource`s, except the microtasks and stream watchers skipped above.
 */
function isContextCarrier(resource: object): boolean {
  return resource instanceof AsyncResource;
}

function isAcceptedConnection(type: string, trigger: { type: string } | undefined): boolean {
  const server = ACCEPTED_BY.get(type);
  return server !== undefined && trigger?.type === server;
}

/**
 * Node wraps a pooled keep-alive socket handed to a new request in this object, reported with
 * the handle's own type (`TCPWRAP`, `PIPEWRAP`, `TLSWRAP`): only those types are looked at.
 */
interface ReusedHandle {
  type: string;
  handle: object;
}

/** What Node gives an HTTP client's response parser as its resource: the request it reads for. */
interface ResponseParserResource {
  req?: { socket?: { _handle?: { getAsyncId?: () => number } | null } | null };
}

function unwrapReused(type: string, resource: object): object {
  if (!type.endsWith('WRAP')) return resource;
  const reused = resource as Partial<ReusedHandle>;
  return resource.constructor?.name === 'ReusedHandle' && reused.handle ? reused.handle : resource;
}

/**
 * Resources Node reports destroyed later than they are done (some only when the collector takes
 * them): until then they looked pending, were blamed as what a hung test waits on, and kept it
 * from failing early.
 * - A crypto job (`randomBytes`, `pbkdf2`, `scrypt`, key generation, `crypto.subtle`...) run
 *   synchronously (`randomBytes(16)`, `pbkdf2Sync`) is done when its call returns. An
 *   asynchronous job is given its `ondone` callback right after it is made, in the same turn; a
 *   synchronous one never is.
 * - A timer is done once it fired or was cleared (see `isFinishedTimer`).
 * - A zlib handle is done once closed (`gzipSync` closes its own at once; a stream's `close()`,
 *   its end or an error close it): its stream then lets go of it (`_handle` is null).
 */
function isDoneBeforeDestroy(record: ResourceRecord<unknown>): boolean {
  // An immediate is marked the same way once it ran or was cleared.
  if (record.type === 'Timeout' || record.type === 'Immediate') {
    return isFinishedTimer(record.resource);
  }
  if (record.type === 'ZLIB') return isClosedZlibHandle(record.resource);
  if (!record.type.endsWith('REQUEST') || record.type === 'HTTPCLIENTREQUEST') return false;
  const job = record.resource as { ondone?: unknown; run?: unknown } | undefined;
  return typeof job?.run === 'function' && typeof job.ondone !== 'function';
}

/**
 * A timer that fired (and does not repeat) or was cleared: Node marks it at once, and delivers
 * its destruction a moment later. In between, an interval made of timeouts (jsdom's) had two
 * links alive, and a report listed the one that had fired.
 */
export function isFinishedTimer(timer: unknown): boolean {
  return (timer as { _destroyed?: unknown } | undefined)?._destroyed === true;
}

function isClosedZlibHandle(handle: object | undefined): boolean {
  const stream = ownerObject(handle);
  return stream !== undefined && stream._handle !== handle;
}

export interface TrackerOptions<Owner> {
  /**
   * Who is responsible for work started right now, given the owner stored in the async context
   * (any tracker's): the tracker's own owner, a fallback (e.g. "the file while loading"), or none.
   */
  ownerOf: (contextOwner: unknown) => Owner | undefined;
  /** Record promise creation sites too. Costly: a stack per promise. */
  promises: boolean;
  /** Frames kept per creation stack (see `DEFAULT_STACK_DEPTH`). */
  stackDepth?: number;
  /**
   * Timers never worth a record: the test runner's own, armed for every test and hook, which can
   * only end a test, never settle it (told apart at creation, so they cost no stack).
   */
  ignoresTimer?: (timer: object) => boolean;
}

const rootOf = <Owner>(parent: Ancestry<Owner> | undefined): Ancestry<Owner> | undefined =>
  parent ? (parent.root ?? parent) : undefined;

/**
 * Records every async resource created while enabled, with its creation stack and owner, and
 * forgets it once it is destroyed. Framework-agnostic: the owner is whatever the caller says.
 */
export class ResourceTracker<Owner> {
  private readonly records = new Map<number, ResourceRecord<Owner>>();
  /**
   * Where a tick keeps the ancestry it passes on: a property of the tick object itself, read back
   * through `executionAsyncResource()` while its callback runs. No map to fill and empty per tick,
   * and the collector drops it with the tick. One key per tracker: a tick left by an earlier
   * file's tracker carries nothing for this one.
   */
  private readonly linkKey = Symbol('hangwatch.ancestry');
  /** The ancestry each library carrier passes on (see `passAncestryOn`); emptied by `disable`. */
  private carrierLinks = new WeakMap<object, Ancestry<Owner>>();
  /**
   * Record where ticks are scheduled from (a stack each). Costly per tick, so only while a test
   * file's module scope or a `beforeAll` runs, where shared clients are made: a client
   * (`new Redis()`) opens its socket from a tick, whose stack is the only one with the user's line.
   */
  traceTicks = false;
  private readonly hook: AsyncHook;
  private readonly recordsPromises: boolean;
  /** Callback counting for lock flows, started when first wanted (see `callback-depth`). */
  private callbackHook: AsyncHook | undefined;
  private stopCountingCallbacks: (() => void) | undefined;
  /** Set while hangwatch runs its own code, so its resources never appear in a report. */
  private suspended = 0;
  private enabled = false;
  /** Records of work without an async resource of its own use negative ids. */
  private nextVirtualId = -1;
  private readonly ownerOf: (contextOwner: unknown) => Owner | undefined;
  private readonly stackDepth: number;
  /** Resources created and recorded ones destroyed so far, hangwatch's own aside. */
  private changes = 0;
  /** How many timers each owner has set (a poll or retry loop sets one after another). */
  private readonly timersSet = new WeakMap<object, number>();
  /** How many `setImmediate` callbacks each owner has scheduled (a loop that yields a turn). */
  private readonly immediatesSet = new WeakMap<object, number>();
  /** Callbacks for records whose closing someone waits to see (`onClose`); usually empty. */
  private readonly closeWatchers = new Map<number, (closedAt: number) => void>();

  constructor(options: TrackerOptions<Owner>) {
    this.ownerOf = options.ownerOf;
    const depth = options.stackDepth ?? DEFAULT_STACK_DEPTH;
    this.stackDepth = depth;
    const recordPromises = options.promises;
    this.recordsPromises = recordPromises;
    const ignoresTimer = options.ignoresTimer;
    const init = (asyncId: number, type: string, triggerAsyncId: number, resource: object) => {
      // First: Node 20 and 22 call it for every promise, wanted or not.
      const isPromise = type === 'PROMISE';
      if (isPromise && !recordPromises) return;
      if (this.suspended > 0) return;
      this.changes++;
      if (type === 'TickObject') return this.passAncestryOn(triggerAsyncId, resource, init, false);
      if (ALWAYS_SETTLES.has(type) || IGNORED.has(type)) return;
      if (isContextCarrier(resource)) {
        return this.passAncestryOn(triggerAsyncId, resource, init, true);
      }
      if (type === 'Timeout' && ignoresTimer?.(resource)) return;
      // Resources Node creates from a handle's own callback (a server accepting a connection)
      // run outside any async context: they belong to whoever created the handle.
      const context = currentAsyncContext();
      const contextOwner = options.ownerOf(context?.owner);
      const trigger =
        this.records.get(triggerAsyncId) ??
        this.socketRecordOfResponse(type, resource, contextOwner);
      const parent = this.parentOf(trigger);
      const owner = contextOwner ?? parent?.owner;
      const leftOver = owner === undefined ? leftOverIn(context, parent) : undefined;
      const setter = owner ?? leftOver;
      if (typeof setter === 'object' && setter !== null) {
        // A setImmediate loop (`await new Promise((r) => setImmediate(r))`) polls as timers do.
        const counts =
          type === 'Timeout' ? this.timersSet : type === 'Immediate' ? this.immediatesSet : null;
        counts?.set(setter, (counts.get(setter) ?? 0) + 1);
      }
      this.records.set(asyncId, {
        asyncId,
        type,
        triggerAsyncId,
        resource: isPromise ? undefined : unwrapReused(type, resource),
        owner,
        leftOver,
        origin: context?.origin ?? parent?.origin,
        root: rootOf(parent),
        createdAt: realNow(),
        stack:
          NO_STACK.has(type) || isAcceptedConnection(type, trigger)
            ? EMPTY_STACK
            : (stackOfCallRunning(type, context) ?? captureStack(init, depth)),
      });
    };
    const forget = (asyncId: number) => {
      const record = this.records.get(asyncId);
      if (!record) return;
      this.changes++;
      // A descendant may still hold it as its root: keep its stack, not the closed resource.
      record.resource = undefined;
      // One size check per destroy while nobody watches (the common case).
      if (this.closeWatchers.size > 0) this.notifyClosed(asyncId);
      this.records.delete(asyncId);
    };
    const callbacks = {
      init,
      destroy: forget,
      ...(options.promises ? { promiseResolve: forget } : {}),
      // Node with `trackPromises` (24.22 and 26 here, not 22.23): no promise hooks at all unless
      // promise sites are wanted. Older Node ignores it and calls `init` for promises, which
      // returns at once above (and `enable` keeps their destruction untracked).
      trackPromises: options.promises,
    };
    this.hook = createHook(callbacks);
  }

  /**
   * The socket an HTTP client's response parser reads from. Node makes the parser in a tick after
   * the socket is assigned, so its trigger is that tick, not the socket: without this, what the
   * response's callbacks create (socket.io's upgrade to a WebSocket after its polling handshake)
   * lost the chain back to the user's call that made the request. A pooled keep-alive socket an
   * earlier test made is no parent of a later test's request: its line is not this request's.
   */
  private socketRecordOfResponse(
    type: string,
    resource: object,
    requestOwner: Owner | undefined,
  ): ResourceRecord<Owner> | undefined {
    if (type !== 'HTTPCLIENTREQUEST') return undefined;
    const handle = (resource as ResponseParserResource).req?.socket?._handle;
    const socketId = typeof handle?.getAsyncId === 'function' ? handle.getAsyncId() : undefined;
    const socket = socketId === undefined ? undefined : this.records.get(socketId);
    // Work without an owner (an earlier file's) takes only a socket without one either.
    return socket && socket.owner === requestOwner ? socket : undefined;
  }

  /**
   * The recorded work that triggered a new resource, else the tick whose callback creates it
   * (the execution chain: libraries create from ticks, which are not recorded).
   */
  private parentOf(
    trigger: ResourceRecord<Owner> | undefined,
    known?: object,
  ): Ancestry<Owner> | undefined {
    if (trigger) return trigger;
    const running = known ?? (executionAsyncResource() as object | undefined);
    if (running === undefined || running === null) return undefined;
    return (
      (running as Record<symbol, Ancestry<Owner> | undefined>)[this.linkKey] ??
      this.carrierLinks.get(running)
    );
  }

  /**
   * A tick (or a context carrier) is never what anything waits on, but what its callback creates
   * may be: it passes its parent's ancestry on (the parent itself, no copy), and only when it has
   * a parent or ticks are traced; with neither, the left-over mark of the callback it is made in.
   */
  private passAncestryOn(
    triggerAsyncId: number,
    carrier: object,
    init: (...args: never[]) => unknown,
    fromLibrary: boolean,
  ): void {
    const trigger = this.records.get(triggerAsyncId);
    // Read once, and only when needed: this runs for every tick.
    const running = trigger ? undefined : (executionAsyncResource() as object | undefined);
    const parent = this.parentOf(trigger, running);
    const context = parent || !this.traceTicks ? undefined : currentAsyncContext();
    const link: Ancestry<Owner> | undefined =
      parent ??
      (this.traceTicks
        ? {
            owner: this.ownerOf(context?.owner),
            leftOver: leftOverIn(context, undefined),
            origin: context?.origin,
            stack: captureStack(init, this.stackDepth),
            root: undefined,
          }
        : undefined);
    if (link) {
      // A tick is Node's own short-lived object: the link rides on it. A library's carrier may
      // live long and be frozen: its link is the tracker's, dropped with it at the file's end.
      if (fromLibrary) this.carrierLinks.set(carrier, link);
      else (carrier as Record<symbol, Ancestry<Owner>>)[this.linkKey] = link;
    } else {
      // No link means no trigger record, so `running` was read above.
      const leftOver = leftOverOf(running);
      if (leftOver) leftOverMarks.set(carrier, leftOver);
    }
  }

  /**
   * At the end of a file, before `disable`: marks each live resource with the left-over work it
   * becomes (`leftOverOf` its owner, or the left-over it already belongs to), so what its
   * callbacks create in later files is known as that work (see `leftOverIn`).
   */
  markLeftOver(leftOverOfOwner: (owner: Owner) => LeftOver | undefined): void {
    for (const record of this.live()) {
      const leftOver = record.owner !== undefined ? leftOverOfOwner(record.owner) : record.leftOver;
      if (leftOver && record.resource) leftOverMarks.set(record.resource, leftOver);
    }
  }

  enable(): void {
    this.enabled = true;
    // Without `destroy` tracking for promises on Node 20 and 22 unless promises are recorded.
    if (this.recordsPromises) this.hook.enable();
    else enableHook(this.hook);
    this.stopCountingCallbacks ??= countCallbacksWhenAsked(() => this.countCallbacks());
  }

  disable(): void {
    this.enabled = false;
    disableHook(this.hook);
    if (this.callbackHook) disableHook(this.callbackHook);
    this.stopCountingCallbacks?.();
    this.stopCountingCallbacks = undefined;
    this.records.clear();
    this.carrierLinks = new WeakMap();
    this.closeWatchers.clear();
  }

  /**
   * Counts the callbacks of recorded resources (never promises) from now on, for `callback-depth`;
   * says whether the callback running now is one of them. Asked only while enabled: `disable`
   * withdraws the request.
   */
  private countCallbacks(): boolean {
    this.callbackHook ??= createHook({
      before: (asyncId: number) => {
        if (this.records.has(asyncId)) enterCallback();
      },
      after: (asyncId: number) => {
        if (this.records.has(asyncId)) leaveCallback();
      },
      // Never a promise's: where Node allows, no promise hooks for it at all (without this, on
      // Node 24 every promise went through before/after once a lock flow asked).
      trackPromises: false,
    } as Parameters<typeof createHook>[0]);
    enableHook(this.callbackHook);
    return this.records.has(executionAsyncId());
  }

  /**
   * Records work that has no async resource of its own (a request sent on a pooled socket), as
   * the current async context's work. Returns its id for `forget`.
   */
  addVirtual(type: string, resource: object): number | undefined {
    if (!this.enabled || this.suspended > 0) return undefined;
    const context = currentAsyncContext();
    const asyncId = this.nextVirtualId--;
    this.changes++;
    this.records.set(asyncId, {
      asyncId,
      type,
      triggerAsyncId: 0,
      resource,
      owner: this.ownerOf(context?.owner),
      leftOver: leftOverIn(context, undefined),
      origin: context?.origin,
      root: undefined,
      createdAt: realNow(),
      stack: captureStack(undefined, DEEP_STACK_DEPTH),
    });
    return asyncId;
  }

  forget(asyncId: number): void {
    if (this.closeWatchers.size > 0) this.notifyClosed(asyncId);
    if (this.records.delete(asyncId)) this.changes++;
  }

  /**
   * A count that moves whenever work outside hangwatch creates a resource or a recorded one
   * closes: unchanged over a wait, the process did nothing in it that could close anything.
   */
  get activity(): number {
    return this.changes;
  }

  /**
   * Calls `onClosed` with the time (hangwatch's clock, `realNow`) the live record `asyncId` is
   * destroyed or forgotten. Returns false when there is no such record (already closed).
   */
  onClose(asyncId: number, onClosed: (closedAt: number) => void): boolean {
    if (!this.records.has(asyncId)) return false;
    this.closeWatchers.set(asyncId, onClosed);
    return true;
  }

  private notifyClosed(asyncId: number): void {
    const watcher = this.closeWatchers.get(asyncId);
    if (!watcher) return;
    this.closeWatchers.delete(asyncId);
    watcher(realNow());
  }

  /** Runs hangwatch's own code without recording what it creates. */
  untracked<T>(fn: () => T): T {
    this.suspended++;
    try {
      return fn();
    } finally {
      this.suspended--;
    }
  }

  get(asyncId: number): ResourceRecord<Owner> | undefined {
    return this.records.get(asyncId);
  }

  /**
   * How many timers (`setTimeout`, `setInterval`) `owner`'s work has set so far (or, for work an
   * earlier file left running, since this file started).
   */
  timersSetBy(owner: Owner | LeftOver): number {
    return countFor(this.timersSet, owner);
  }

  /** How many `setImmediate` callbacks `owner`'s work has scheduled so far. */
  immediatesSetBy(owner: Owner | LeftOver): number {
    return countFor(this.immediatesSet, owner);
  }

  /** Live records, oldest first. */
  live(): ResourceRecord<Owner>[] {
    const live: ResourceRecord<Owner>[] = [];
    for (const record of this.records.values()) {
      if (isDoneBeforeDestroy(record)) this.records.delete(record.asyncId);
      else live.push(record);
    }
    return live;
  }

  get size(): number {
    return this.records.size;
  }
}

/** An owner's count in one of the tracker's per-owner counters (none for an owner that is no object). */
function countFor(counts: WeakMap<object, number>, owner: unknown): number {
  return typeof owner === 'object' && owner !== null ? (counts.get(owner) ?? 0) : 0;
}

/**
 * The left-over work an owner-less resource was created by: its context's, else its parent's,
 * else that of the resource whose callback runs (marked when its file ended, see `markLeftOver`).
 */
function leftOverIn(
  context: AsyncContext | undefined,
  parent: Ancestry<unknown> | undefined,
): LeftOver | undefined {
  const owner = context?.owner;
  return isLeftOver(owner) ? owner : (parent?.leftOver ?? leftOverOf(executionAsyncResource()));
}

/**
 * The left-over work each resource still open when its file ended became (see `markLeftOver`),
 * and each tick or carrier made from such a resource's callbacks. A file's module scope runs with
 * no async context of its own (the loading file owns what it creates), so there is none to
 * release for a client it made: a reconnect timer armed from that client's callbacks in the next
 * file is known as the earlier file's work only by the resource whose callback arms it. One per
 * process, weakly held, and only a `LeftOver`'s plain facts: it keeps nothing of a file alive.
 */
const leftOverMarks = new WeakMap<object, LeftOver>();

function leftOverOf(running: object | undefined): LeftOver | undefined {
  return running === undefined || running === null ? undefined : leftOverMarks.get(running);
}
