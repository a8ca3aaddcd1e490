import type { HeapEdge, HeapGraph } from './heap-graph';
import type { ProbeNodes } from './probe-nodes';
import { probe, type HangwatchEventWait } from './recorder';
import type { HangwatchStreamWait } from './stream-waits';

/*
 * Node's own waits recorded while tests pass (see `recorder`), found again in a heap snapshot:
 * by the promise or iterator a record holds, or by the iterator that holds the awaited promise.
 */

export function recordedStreamWait(
  nodes: ProbeNodes,
  node: number,
): HangwatchStreamWait | undefined {
  const index = nodes.streamWaits.get(node);
  return index === undefined ? undefined : probe.streamWaits[index];
}

/**
 * The snapshot node of what a stream wait keeps for one stage: the async iterator that feeds it
 * (`sources`: a `Readable.from`'s, or the stage before it), or what reads it (`readers`: the
 * generator, or the async function's promise, the function stage after it returned).
 */
export function streamStageNode(
  graph: HeapGraph,
  nodes: ProbeNodes,
  wait: HangwatchStreamWait,
  stage: number,
  kept: 'sources' | 'readers',
): number | undefined {
  if (wait[kept][stage] === undefined) return undefined;
  const byWait = kept === 'sources' ? nodes.streamSources : nodes.streamReaders;
  const array = byWait.get(probe.streamWaits.indexOf(wait));
  return array === undefined ? undefined : graph.follow(array, stage);
}

/** Edges that say nothing about who holds a value, and would lead the walk anywhere. */
const NOT_OWNERSHIP = new Set([
  '__proto__',
  'prototype',
  'constructor',
  'map',
  'global',
  'global_proxy_object',
]);

/**
 * Whether a retaining edge is data held by its owner: not a prototype link (every instance links
 * to its class), not a realm's global or native context (every closure reaches those), and not
 * hangwatch's own records (the rings hold every recorded promise and iterator at once).
 */
function isOwnership(graph: HeapGraph, edge: HeapEdge & { from: number }): boolean {
  if (typeof edge.name === 'string' && NOT_OWNERSHIP.has(edge.name)) return false;
  if (graph.type(edge.from) === 'synthetic') return false;
  const owner = graph.name(edge.from);
  return owner !== 'system / NativeContext' && !owner.startsWith('Hangwatch');
}

/** `events.on` keeps a pending promise nine steps deep: closure, context, queue, buffer, entry. */
const MAX_HOLDER_DEPTH = 12;

/**
 * The recorded iterator that holds one of these promises in its state: `events.on`'s queues the
 * pending `next()` promises; a stream's (Node 26, not a generator there) keeps the pending one's
 * resolve.
 */
export function iteratorHolding(
  graph: HeapGraph,
  nodes: ProbeNodes,
  promises: number[],
): HangwatchEventWait | HangwatchStreamWait | undefined {
  const iterators = new Map<number, HangwatchEventWait | HangwatchStreamWait>();
  for (const [node, index] of nodes.waits) {
    const wait = probe.waits[index];
    if (wait?.via === 'on') iterators.set(node, wait);
  }
  for (const [node, index] of nodes.streamWaits) {
    const wait = probe.streamWaits[index];
    if (wait?.via === 'iteration') iterators.set(node, wait);
  }
  if (iterators.size === 0) return undefined;
  const holder = graph.firstRetainer(promises, iterators, {
    maxDepth: MAX_HOLDER_DEPTH,
    along: (edge) => isOwnership(graph, edge),
  });
  return holder === undefined ? undefined : iterators.get(holder);
}
