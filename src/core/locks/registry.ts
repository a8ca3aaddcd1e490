import { realClearTimeout, realSetTimeout } from '../real-timers';
import { LockGraph, type LockGraphHost } from './graph';
import type { LockReporter } from './reporter';
import type { Lock } from './types';

/**
 * Where primitives find the graph. Jest loads hangwatch/sync and the async-mutex adapter inside
 * each test file's sandbox, as fresh module copies; the session publishes its graph on the test
 * file's global under this key, so those copies all report into the one the session reads.
 * Without a session (plain Node), a graph of their own is made on first use.
 */
const GRAPH_KEY = Symbol.for('hangwatch.lockGraph');
/** Where an instrumented lock object (async-mutex's Semaphore) keeps its graph lock. */
export const LOCK_KEY = Symbol.for('hangwatch.lock');
const ROOT_DIR_KEY = Symbol.for('hangwatch.rootDir');
const NOTE_KEY = Symbol.for('hangwatch.noteOnce');

type Note = (line: string) => void;
type Slots = { [GRAPH_KEY]?: LockGraph; [ROOT_DIR_KEY]?: string; [NOTE_KEY]?: Note };

/**
 * Lines already printed without a session (plain Node). Under Jest the session publishes its own
 * once-per-process notice to the test files' sandboxes, where each loads fresh module copies: a
 * line is printed once per process, not once per test file.
 */
const printed = new Set<string>();

function printOnce(line: string): void {
  if (printed.has(line)) return;
  printed.add(line);
  process.stderr.write(`${line}\n`);
}

/** The lock graph the locks of this test file report into (see `LockReporter`). */
export function lockGraph(): LockReporter {
  const existing = (globalThis as Slots)[GRAPH_KEY];
  if (existing) return existing;
  const graph = new LockGraph(standaloneHost());
  pin(globalThis, GRAPH_KEY, graph);
  return graph;
}

export function publishLockGraph(
  target: object,
  graph: LockGraph,
  rootDir: string,
  noteOnce: Note = printOnce,
): void {
  pin(target, GRAPH_KEY, graph);
  pin(target, ROOT_DIR_KEY, rootDir);
  pin(target, NOTE_KEY, noteOnce);
}

/** Prints a line to stderr once per process (see `printed`). */
export function noteOnce(line: string): void {
  ((globalThis as Slots)[NOTE_KEY] ?? printOnce)(line);
}

/**
 * Non-configurable, so Jest's cleanup of a test file's globals leaves it alone rather than
 * walking the whole graph (deep enough to overflow the stack).
 */
function pin(target: object, key: symbol, value: unknown): void {
  if (Object.getOwnPropertyDescriptor(target, key)) return;
  Object.defineProperty(target, key, { value, configurable: false, enumerable: false });
}

/** The project root the session runs in, where adapters look for the real packages. */
export function publishedRootDir(): string | undefined {
  return (globalThis as Slots)[ROOT_DIR_KEY];
}

function standaloneHost(): LockGraphHost {
  return {
    rootDir: process.cwd(),
    setTimer: (fn, ms) => realSetTimeout(fn, ms),
    clearTimer: (timer) => realClearTimeout(timer as NodeJS.Timeout),
    // Without a resource tracker nothing is known about other work: never claim all is blocked.
    somethingElsePending: () => true,
    describeOwner: () => undefined,
    onInversion: () => undefined,
  };
}

/** The graph lock behind an instrumented lock object: an async-mutex Semaphore, or a Mutex's. */
export function lockOf(target: unknown): Lock | undefined {
  if (typeof target !== 'object' || target === null) return undefined;
  const slots = target as { [LOCK_KEY]?: Lock; _semaphore?: { [LOCK_KEY]?: Lock } };
  return slots[LOCK_KEY] ?? slots._semaphore?.[LOCK_KEY];
}
