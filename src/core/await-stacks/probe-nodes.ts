import type { HeapGraph } from './heap-graph';

/** The probe's rings as snapshot nodes: promise node → ring index, and so on. */
export interface ProbeNodes {
  unitPromise?: number;
  explicit: Map<number, number>;
  executors: Map<number, number>;
  waits: Map<number, number>;
  emitsByEmitter: Map<number, number[]>;
  /** The promise (`finished`, `pipeline`) or iterator (`for await`) of each stream wait. */
  streamWaits: Map<number, number>;
  /** By stream wait index: its `sources` array (see `HangwatchStreamWait`). */
  streamSources: Map<number, number>;
  /** By stream wait index: its `readers` array. */
  streamReaders: Map<number, number>;
  /** Each promisified call's promise, and (by index) the callback-style function it called. */
  callbackWaits: Map<number, number>;
  callbackFunctions: Map<number, number>;
}

/** The probe's rings (see `recorder`), found in a heap snapshot by the probe's class name. */
export function probeNodes(graph: HeapGraph): ProbeNodes | undefined {
  for (const node of graph.find('object', 'HangwatchAwaitProbe')) {
    const units = graph.follow(node, 'units');
    const unitPromise = units === undefined ? undefined : graph.follow(units, 0);
    if (unitPromise === undefined) continue;
    return {
      unitPromise,
      explicit: elements(graph, graph.follow(node, 'promises')),
      executors: byIndex(graph, graph.follow(node, 'executors')),
      waits: elements(graph, graph.follow(node, 'waits'), 'promise'),
      emitsByEmitter: groupBy(elements(graph, graph.follow(node, 'emits'), 'emitter')),
      streamWaits: elements(graph, graph.follow(node, 'streamWaits'), 'waited'),
      streamSources: byIndex(graph, graph.follow(node, 'streamWaits'), 'sources'),
      streamReaders: byIndex(graph, graph.follow(node, 'streamWaits'), 'readers'),
      callbackWaits: elements(graph, graph.follow(node, 'callbackWaits'), 'promise'),
      callbackFunctions: byIndex(graph, graph.follow(node, 'callbackWaits'), 'fn'),
    };
  }
  return undefined;
}

/** Element node (or its `property`) → index in the array. */
function elements(graph: HeapGraph, array: number | undefined, property?: string) {
  const map = new Map<number, number>();
  if (array === undefined) return map;
  for (const edge of graph.edges(array)) {
    if (edge.type !== 'element' || typeof edge.name !== 'number') continue;
    const target = property ? graph.follow(edge.to, property) : edge.to;
    if (target !== undefined) map.set(target, edge.name);
  }
  return map;
}

/** Index → element node (or its `property`). */
function byIndex(
  graph: HeapGraph,
  array: number | undefined,
  property?: string,
): Map<number, number> {
  const map = new Map<number, number>();
  for (const [node, index] of elements(graph, array, property)) map.set(index, node);
  return map;
}

function groupBy(map: Map<number, number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const [node, index] of map) groups.set(node, [...(groups.get(node) ?? []), index]);
  return groups;
}
