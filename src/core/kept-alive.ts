import type { KeptAliveResource } from './model';
import { stillHoldsProcess } from './leaks';

/**
 * Confirmed leaks of every test file this process has run, kept to answer Jest's "did not exit"
 * at the end of the run: which of them still hold the process open, and who created them.
 * Process-wide (a global symbol), because each test file gets its own environment and the
 * in-band reporter may load its own copy of this module. Resources are held weakly.
 */
interface Held {
  entry: KeptAliveResource;
  target: WeakRef<object>;
}

const REGISTRY = Symbol.for('hangwatch.keptAlive');

function registry(): Held[] {
  const holder = globalThis as { [REGISTRY]?: Held[] };
  return (holder[REGISTRY] ??= []);
}

export function rememberLeak(resource: object, entry: KeptAliveResource): void {
  registry().push({ entry, target: new WeakRef(resource) });
}

/** The remembered leaks that still hold the process open now; forgets the others. */
export function stillKeptAlive(): KeptAliveResource[] {
  const held = registry();
  const open = held.filter((item) => {
    const resource = item.target.deref();
    return resource !== undefined && stillHoldsProcess(resource);
  });
  held.splice(0, held.length, ...open);
  return open.map((item) => item.entry);
}
