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

/** Runs `fn` with `origin` as the user call site for what it creates; the owner carries over. */
export function runWithOrigin<T>(origin: LazyStack, fn: () => T): T {
  const store = storage.getStore();
  return storage.run({ owner: store?.owner, flow: store?.flow, origin }, fn);
}

/** Runs `fn` (and everything it starts) as `flow`; owner and origin carry over. */
export function runInFlow<T>(flow: unknown, fn: () => T): T {
  return storage.run({ ...storage.getStore(), flow }, fn);
}

/**
 * Makes `flow` current for the rest of this synchronous run and what it starts: how a bare
 * `await lock.acquire()` carries its flow into the code after the await (see `core/locks/flows`).
 */
export function enterFlow(flow: unknown): void {
  storage.enterWith({ ...storage.getStore(), flow });
}
