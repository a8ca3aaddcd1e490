import type { KeptAliveResource } from './model';
import { stillHoldsProcess } from './leaks';

/**
 * Confirmed leaks of every test file this process has run, and the work of its timed-out tests
 * (Jest does not stop it), kept to answer Jest's "did not exit" at the end of the run: which of
 * them still hold the process open, and who created them.
 * Process-wide (a global symbol), because each test file gets its own environment and the
 * in-band reporter may load its own copy of this module. Resources are held weakly.
 */
interface Held {
  entry: KeptAliveResource;
  target: WeakRef<object>;
}

interface Registry {
  held: Held[];
  /** What `keptAliveIfChanged` last answered: the same answer again is no news. */
  lastAnswer: KeptAliveResource[];
}

const REGISTRY = Symbol.for('hangwatch.keptAlive');

function registry(): Registry {
  const holder = globalThis as { [REGISTRY]?: Registry };
  return (holder[REGISTRY] ??= { held: [], lastAnswer: [] });
}

/** A confirmed leak, or a timed-out test's work still holding the process at its file's end. */
export function rememberKeptAlive(resource: object, entry: KeptAliveResource): void {
  registry().held.push({ entry, target: new WeakRef(resource) });
}

/** The remembered resources that still hold the process open now; forgets the others. */
export function stillKeptAlive(): KeptAliveResource[] {
  const state = registry();
  state.held = state.held.filter((item) => {
    const resource = item.target.deref();
    return resource !== undefined && stillHoldsProcess(resource);
  });
  return state.held.map((item) => item.entry);
}

/**
 * Like `stillKeptAlive`, but `undefined` when the answer is the same as last time: a process
 * without leaks need not say so after every file, nor one whose leaks of an earlier file still
 * hold it (its last answer stands).
 */
export function keptAliveIfChanged(): KeptAliveResource[] | undefined {
  const state = registry();
  const previous = state.lastAnswer;
  const now = stillKeptAlive();
  state.lastAnswer = now;
  const same = now.length === previous.length && now.every((entry, i) => entry === previous[i]);
  return same ? undefined : now;
}
