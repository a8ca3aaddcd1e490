import { Worker } from 'node:worker_threads';

/**
 * Worker threads by their native handle (what async_hooks reports), once each is online. Only
 * then can its event loop's use be read: Node's own `eventLoopUtilization()` waits for that too,
 * and the handle, asked before its loop first turned, aborts the whole process.
 */
const onlineByHandle = new WeakMap<object, Worker>();
let watching = false;

/** Notes each worker as it comes online (its `'online'` event), once per process. */
export function watchWorkersComingOnline(): void {
  if (watching) return;
  watching = true;
  const parent = Object.getPrototypeOf(Worker.prototype) as {
    emit: (...args: unknown[]) => boolean;
  };
  Object.defineProperty(Worker.prototype, 'emit', {
    configurable: true,
    writable: true,
    value: function emit(this: Worker, event: unknown) {
      if (event === 'online') noteOnline(this);
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(parent.emit, this, arguments) as boolean;
    },
  });
}

function noteOnline(worker: Worker): void {
  const key = Object.getOwnPropertySymbols(worker).find(
    (symbol) => symbol.description === 'kHandle',
  );
  const handle: unknown = key ? (worker as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof handle === 'object' && handle !== null) onlineByHandle.set(handle, worker);
}

/** The worker whose native handle this is, once it came online. */
export function onlineWorker(handle: unknown): Worker | undefined {
  return typeof handle === 'object' && handle !== null ? onlineByHandle.get(handle) : undefined;
}
