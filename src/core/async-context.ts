import { AsyncLocalStorage } from 'node:async_hooks';
import type { LazyStack } from './stack';

/**
 * The one async context hangwatch keeps: who owns the work running now, and the user call it was
 * started for. One storage for the whole process, because on Node 20 and 22 every storage is
 * copied onto every new promise: a storage per test file would slow each promise a bit more.
 */
export interface AsyncContext {
  owner?: unknown;
  origin?: LazyStack;
  /** The lock-holding flow running now (see `core/locks/flows`), when locks are in use. */
  flow?: unknown;
}

const storage = new AsyncLocalStorage<AsyncContext>();

/**
 * Every store made since the last `releaseAsyncContexts` (units' aside, below), weakly. A store
 * stays on each resource created under it (on Node 20 and 22 on each promise too), and a few of
 * those outlive their test file in Node's process-wide objects: fetch's global dispatcher, a
 * kept-alive agent's timer, a socket the test left open. Through its owner (a test, its
 * function) or its origin (call sites hold their functions and receivers), each such store would
 * keep a finished test file's whole realm alive, several megabytes each: on koa's suite, two more
 * realms than plain Jest at any time.
 */
let issued: WeakRef<AsyncContext>[] = [];
const PRUNE_MIN = 1024;
/** When `issued` is next pruned of collected stores: the list stays proportional to live ones. */
let pruneAt = PRUNE_MIN;
/**
 * The stores of units (one per test and hook run), held strongly until the file's release: as
 * many as the file's units, which its test runner holds until then anyway, and a weak reference
 * costs more to make than such a store.
 */
let ownerStores: AsyncContext[] = [];

function issue(store: AsyncContext): AsyncContext {
  issued.push(new WeakRef(store));
  if (issued.length >= pruneAt) {
    issued = issued.filter((ref) => ref.deref() !== undefined);
    pruneAt = Math.max(PRUNE_MIN, issued.length * 2);
  }
  return store;
}

/**
 * Empties every store made so far, for when the test file that made them is over: what the store
 * named can be collected. Work that still runs under one later (a loop a timed-out test left
 * running) is `leftOverOf` its owner's: a plain description, or nobody's. The stores stay current
 * where they are: only their fields change.
 */
export function releaseAsyncContexts(
  leftOverOf: (owner: unknown) => unknown = () => undefined,
): void {
  const leftOvers = new Map<unknown, unknown>();
  const release = (store: AsyncContext) => {
    const { owner } = store;
    if (owner !== undefined && !leftOvers.has(owner)) leftOvers.set(owner, leftOverOf(owner));
    store.owner = owner === undefined ? undefined : leftOvers.get(owner);
    store.origin = undefined;
    store.flow = undefined;
  };
  for (const ref of issued) {
    const store = ref.deref();
    if (store) release(store);
  }
  ownerStores.forEach(release);
  issued = [];
  ownerStores = [];
  pruneAt = PRUNE_MIN;
}

/** A store for `owner`'s work, emptied by `releaseAsyncContexts`. */
export function ownerContext(owner: unknown): AsyncContext {
  const store: AsyncContext = { owner };
  ownerStores.push(store);
  return store;
}

/**
 * Switches the storage on now (on Node 20 and 22 its first `run` enables an async hook), so the
 * moment is hangwatch's choice: see `light-hooks`.
 */
export function enableAsyncContext(): void {
  // A store other than the current one: `run` with the same store skips enabling.
  if (storage.getStore() === undefined) storage.run({}, () => undefined);
}

export function currentAsyncContext(): AsyncContext | undefined {
  return storage.getStore();
}

/**
 * AsyncLocalStorage's own `run`, bound: `applyInContext({ owner }, Reflect.apply, fn, self, args)`
 * calls `fn` as work of `owner` one frame deep (neither the bound call nor `Reflect.apply` adds a
 * frame). Every stack a test function reads or throws carries what wraps it, and Jest's
 * source-map support formats each frame.
 */
export const applyInContext = storage.run.bind(storage) as <T>(
  store: AsyncContext,
  apply: typeof Reflect.apply,
  fn: (...args: never[]) => T,
  self: unknown,
  args: ArrayLike<unknown>,
) => T;

/** The origin of the call `runWithOrigin` is running now, synchronously (not an inherited one). */
let originOnStack: LazyStack | undefined;

/**
 * Runs `fn` with `origin` as the user call site for what it creates; the owner carries over, and
 * the origin it runs under becomes `origin.outer`.
 */
export function runWithOrigin<T>(origin: LazyStack, fn: () => T): T {
  const store = storage.getStore();
  if (store?.origin !== undefined && store.origin !== origin)
    origin.outer ??= outerOf(store.origin);
  const outer = originOnStack;
  originOnStack = origin;
  try {
    return storage.run(issue({ owner: store?.owner, flow: store?.flow, origin }), fn);
  } finally {
    originOnStack = outer;
  }
}

/**
 * Origins chained through `outer` at most: a client reconnecting from its own close handler
 * would otherwise chain every attempt.
 */
const MAX_ORIGIN_CHAIN = 4;

/**
 * What a new origin recorded under `current` chains to: `current`, or past the longest chain
 * kept, the outermost origin, which stands for those between.
 */
function outerOf(current: LazyStack): LazyStack {
  let outermost = current;
  let length = 1;
  while (outermost.outer !== undefined) {
    outermost = outermost.outer;
    length++;
  }
  return length < MAX_ORIGIN_CHAIN ? current : outermost;
}

/**
 * The origin whose call (`listen`, `connect`, `fetch`) is on the stack right now, if any: what
 * that call creates before it returns has the origin's stack as its own (see the tracker).
 */
export function originOfCallRunning(): LazyStack | undefined {
  return originOnStack;
}

/** Runs `fn` (and everything it starts) as `flow`; owner and origin carry over. */
export function runInFlow<T>(flow: unknown, fn: () => T): T {
  return storage.run(issue({ ...storage.getStore(), flow }), fn);
}

/**
 * Makes `flow` current for the rest of this synchronous run and what it starts: how a bare
 * `await lock.acquire()` carries its flow into the code after the await (see `core/locks/flows`).
 */
export function enterFlow(flow: unknown): void {
  storage.enterWith(issue({ ...storage.getStore(), flow }));
}
