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

interface Registry {
  held: Held[];
  /** Whether the last answer listed anything: an empty answer then is news, else nothing is. */
  lastAnswerEmpty: boolean;
}

const REGISTRY = Symbol.for('hangwatch.keptAlive');

function registry(): Registry {
  const holder = globalThis as { [REGISTRY]?: Registry };
  return (holder[REGISTRY] ??= { held: [], lastAnswerEmpty: true });
}

export function rememberLeak(resource: object, entry: KeptAliveResource): void {
  registry().held.push({ entry, target: new WeakRef(resource) });
}

/** The remembered leaks that still hold the process open now; forgets the others. */
export function stillKeptAlive(): KeptAliveResource[] {
  const state = registry();
  state.held = state.held.filter((item) => {
    const resource = item.target.deref();
    return resource !== undefined && stillHoldsProcess(resource);
  });
  state.lastAnswerEmpty = state.held.length === 0;
  return state.held.map((item) => item.entry);
}

/**
 * Like `stillKeptAlive`, but `undefined` when the answer is "nothing" again: a process without
 * leaks need not say so after every file.
 */
export function keptAliveIfChanged(): KeptAliveResource[] | undefined {
  const wasEmpty = registry().lastAnswerEmpty;
  const now = stillKeptAlive();
  return now.length === 0 && wasEmpty ? undefined : now;
}
