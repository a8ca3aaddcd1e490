import type {
  AwaitedThing,
  AwaitFlow,
  AwaitStep,
  CreationSite,
  Frame,
  SlotHolder,
  StreamReader,
  StreamState,
} from '../model';
import { framesOf, readSourceLine, toCreationSite } from '../stack';
import { CONTEXT, HeapGraph } from './heap-graph';
import { iteratorHolding, recordedStreamWait, streamStageNode } from './held-waits';
import { probeNodes, type ProbeNodes } from './probe-nodes';
import { SameThreadInspector } from './inspector-session';
import type { HangwatchCallbackWait } from './callback-waits';
import { probe, HangwatchEventWait, type HangwatchUnheardEmit } from './recorder';
import { HangwatchStreamWait, streamWaitOf, unendedInputOf } from './stream-waits';
import { AwaitWalk } from './walk';
import { realNow } from '../real-timers';
import { callersOf, forgetSources } from './scope-callers';

const MAX_FLOWS = 8;
const MAX_STEPS = 12;
const MAX_HOLDERS = 4;
/** How far the search for the limiter holding a waited promise may spread through the heap. */
const MAX_RETAINER_VISITS = 20_000;

/**
 * The hung unit's suspended async flows, read from a heap snapshot (the failure path only: it
 * takes a second or so, and nothing runs meanwhile). `unitPromise` is the promise the unit's
 * function returned: flows are the chains of awaits that end in it.
 */
export function readAwaitStacks(unitPromise: unknown): AwaitFlow[] {
  return readSnapshot(unitPromise, (reading, unitNode) => {
    const roots = rootsSettling(reading.walk, unitNode);
    const chains = chainsFrom(roots, reading.awaitees);
    const flows: AwaitFlow[] = [];
    for (const chain of chains.slice(0, MAX_FLOWS)) {
      const steps = chainSteps(chain, reading.walk, reading.graph, reading.inspector);
      if (steps.length === 0) continue;
      const awaiting = awaitedThing(reading, chain[0], steps);
      if (awaiting?.kind === 'library') {
        const holders = slotHolders(awaiting.packageName, chain, reading);
        if (holders.length > 0) awaiting.holders = holders;
      }
      flows.push({ steps, ...(awaiting ? { awaiting } : {}) });
    }
    return flows;
  });
}

/**
 * Takes a heap snapshot with `root` reachable from the probe, and reads it: `read` gets the
 * snapshot's await graph and `root`'s node. Nothing when the snapshot lacks the probe.
 */
export function readSnapshot(
  root: unknown,
  read: (reading: Reading, rootNode: number) => AwaitFlow[],
): AwaitFlow[] {
  const startedAt = realNow();
  const inspector = new SameThreadInspector();
  probe.units = [root];
  try {
    // First: enabling the debugger also computes each script's line ends, without which V8 (up to
    // Node 20's) scans a script's whole source for every function the snapshot locates in it,
    // minutes for a heap holding TypeScript (157 s against 8 s, measured).
    inspector.loadScripts();
    const graph = new HeapGraph(inspector.heapSnapshot());
    probe.units = [];
    const nodes = probeNodes(graph);
    if (nodes?.unitPromise === undefined) return [];
    const walk = new AwaitWalk(graph);
    const awaitees = awaiteesOf(walk);
    return read({ now: startedAt, walk, graph, nodes, inspector, awaitees }, nodes.unitPromise);
  } finally {
    probe.units = [];
    inspector.close();
    forgetSources();
  }
}

/** What reading one hung unit's awaits needs at every step. */
export interface Reading {
  now: number;
  walk: AwaitWalk;
  graph: HeapGraph;
  nodes: ProbeNodes;
  inspector: SameThreadInspector;
  /** For each suspended generator, the suspended generators it awaits. */
  awaitees: Map<number, number[]>;
}

/** For each suspended generator, the suspended generators it awaits (directly or through then/all). */
function awaiteesOf(walk: AwaitWalk): Map<number, number[]> {
  const awaitees = new Map<number, number[]>();
  for (const generator of walk.suspended.keys()) {
    const own = walk.suspended.get(generator)?.ownPromise;
    if (own === undefined) continue;
    for (const awaiter of walk.downstream(own).awaiters) {
      if (awaiter === generator) continue;
      awaitees.set(awaiter, [...(awaitees.get(awaiter) ?? []), generator]);
    }
  }
  return awaitees;
}

/** The suspended generators whose own promise's settlement flows into `promise`. */
function rootsSettling(walk: AwaitWalk, promise: number): number[] {
  const roots: number[] = [];
  for (const generator of walk.suspended.keys()) {
    const own = walk.suspended.get(generator)?.ownPromise;
    if (own !== undefined && walk.downstream(own).promises.has(promise)) roots.push(generator);
  }
  return roots;
}

/**
 * Chains of suspended generators, innermost first, from each root (a generator whose settlement
 * settles the unit) down through the generators each one awaits, to the ones that await nothing
 * suspended (a `new Promise`, an event, a library's queue). Each leaf is one flow.
 */
function chainsFrom(roots: number[], awaitees: Map<number, number[]>): number[][] {
  const chains: number[][] = [];
  const descend = (path: number[]) => {
    if (chains.length >= MAX_FLOWS * 4) return;
    const below = (awaitees.get(path[path.length - 1]) ?? []).filter((g) => !path.includes(g));
    if (below.length === 0 || path.length >= 64) {
      chains.push([...path].reverse());
      return;
    }
    for (const next of below) descend([...path, next]);
  };
  for (const root of roots) descend([root]);
  return chains;
}

/**
 * The jobs the instance of `packageName` this flow waits in is running now: suspended async
 * functions outside the package that its own async functions await (a limiter's `run` awaits each
 * job it started). The instance is the closure scope of that library function, found again from
 * the promise the flow waits on (held through the instance's queue), so another limiter's jobs are
 * never named. A flow that is itself one of the jobs waits for a slot it holds.
 */
function slotHolders(packageName: string, chain: number[], reading: Reading): SlotHolder[] {
  const { awaitees, walk, graph, inspector } = reading;
  const packages = new Map<number, string | undefined>();
  const packageOf = (generator: number): string | undefined => {
    if (!packages.has(generator)) {
      const functionNode = walk.suspended.get(generator)?.functionNode;
      const position = functionNode === undefined ? undefined : graph.position(functionNode);
      const frame = position ? inspector.frame(position) : undefined;
      // A package Jest uses too (p-limit) is classified internal: the name is what counts here.
      packages.set(generator, frame && frame.origin !== 'user' ? frame.packageName : undefined);
    }
    return packages.get(generator);
  };
  const jobsByScope = new Map<number, number[]>();
  for (const [awaiter, awaited] of awaitees) {
    if (packageOf(awaiter) !== packageName) continue;
    const functionNode = walk.suspended.get(awaiter)?.functionNode;
    const scope = functionNode === undefined ? undefined : graph.follow(functionNode, 'context');
    if (scope === undefined) continue;
    const jobs = jobsByScope.get(scope) ?? [];
    for (const job of awaited) {
      if (packageOf(job) !== packageName && !jobs.includes(job)) jobs.push(job);
    }
    jobsByScope.set(scope, jobs);
  }
  const waited = walk.awaitedBy(chain[0]);
  const scope =
    waited === undefined
      ? undefined
      : graph.firstRetainer(walk.upstream(waited), jobsByScope, { maxVisits: MAX_RETAINER_VISITS });
  const jobs = scope === undefined ? [] : (jobsByScope.get(scope) ?? []);
  // The waiting flow's own job first: that is the self-deadlock.
  jobs.sort((a, b) => Number(chain.includes(b)) - Number(chain.includes(a)));
  const holders: SlotHolder[] = [];
  for (const job of jobs.slice(0, MAX_HOLDERS)) {
    const location = inspector.generatorLocation(graph.id(job));
    const frame = location
      ? inspector.frame(location, walk.suspended.get(job)?.functionName)
      : undefined;
    if (!frame || frame.origin === 'internal') continue;
    const sourceLine = readSourceLine(frame.file, frame.line);
    holders.push({
      frame,
      ...(sourceLine !== undefined ? { sourceLine } : {}),
      sameFlow: chain.includes(job),
      ...(waitsInside(packageName, job, reading, packageOf)
        ? { waitsOnPackage: true as const }
        : {}),
    });
  }
  return holders;
}

/**
 * Whether a suspended job itself waits inside `packageName`: on one of its async functions, or on
 * a `new Promise` its code made (a queue's `add`, which returns one). By package, not instance:
 * a job of one queue may wait on another queue of the same package (the text says "if").
 */
function waitsInside(
  packageName: string,
  job: number,
  reading: Reading,
  packageOf: (generator: number) => string | undefined,
): boolean {
  const { awaitees, walk } = reading;
  const chain = innermostChain(job, awaitees);
  if (chain.some((generator) => generator !== job && packageOf(generator) === packageName)) {
    return true;
  }
  const awaited = walk.awaitedBy(chain[0]);
  if (awaited === undefined) return false;
  return walk.upstream(awaited).some((promise) => {
    const index = reading.nodes.explicit.get(promise);
    const frame = index === undefined ? undefined : executorFrame(reading, index);
    return frame !== undefined && frame.origin !== 'user' && frame.packageName === packageName;
  });
}

/** Where the executor of a recorded `new Promise` (by its index in the record) is defined. */
function executorFrame(reading: Reading, index: number): Frame | undefined {
  const executor = reading.nodes.executors.get(index);
  const position = executor === undefined ? undefined : reading.graph.position(executor);
  return position ? reading.inspector.frame(position) : undefined;
}

export function chainSteps(
  chain: number[],
  walk: AwaitWalk,
  graph: HeapGraph,
  inspector: SameThreadInspector,
): AwaitStep[] {
  const steps: AwaitStep[] = [];
  for (const generator of chain) {
    const location = inspector.generatorLocation(graph.id(generator));
    if (!location) continue;
    const name = walk.suspended.get(generator)?.functionName;
    const frame = inspector.frame(location, name || undefined);
    if (!frame || frame.origin === 'internal') continue;
    const previous = steps[steps.length - 1]?.frame;
    if (
      frame.origin === 'dependency' &&
      previous?.origin === 'dependency' &&
      previous.packageName === frame.packageName
    ) {
      steps[steps.length - 1] = step(frame);
      continue;
    }
    steps.push(step(frame));
    if (steps.length === MAX_STEPS) break;
  }
  return steps;
}

export function step(frame: Frame): AwaitStep {
  const sourceLine = readSourceLine(frame.file, frame.line);
  return { frame, ...(sourceLine !== undefined ? { sourceLine } : {}) };
}

function siteOf(frame: Frame | undefined): CreationSite | undefined {
  if (!frame) return undefined;
  const sourceLine = readSourceLine(frame.file, frame.line);
  return { top: frame, frames: [frame], ...(sourceLine !== undefined ? { sourceLine } : {}) };
}

/** What a suspended generator's innermost await waits on (see `promiseWaitsOn`). */
export function awaitedThing(
  reading: Reading,
  leaf: number,
  steps: AwaitStep[],
  depth = 0,
): AwaitedThing | undefined {
  // `for await` over a stream: up to Node 24 the innermost suspended function is Node's iterator
  // itself, an async generator.
  const iteratedWait = recordedStreamWait(reading.nodes, leaf);
  const iterated =
    iteratedWait &&
    withSource(reading, iteratedWait, streamWaitOf(iteratedWait, reading.now), depth);
  if (iterated) return iterated;
  const awaited = reading.walk.awaitedBy(leaf);
  if (awaited === undefined) return undefined;
  return promiseWaitsOn(reading, awaited, steps, depth);
}

/**
 * What a pending promise waits on: a recorded wait (an event, a stream, a promisified call) it is
 * made from, a `new Promise` whose resolve nobody calls, a listener's promise, a mock's result, a
 * package's queue. `steps` is the flow that waits on it, innermost first.
 */
export function promiseWaitsOn(
  reading: Reading,
  awaited: number,
  steps: AwaitStep[],
  depth = 0,
): AwaitedThing | undefined {
  const { now, walk, graph, nodes, inspector } = reading;
  const streamWait = (wait: HangwatchStreamWait | undefined) =>
    wait && withSource(reading, wait, streamWaitOf(wait, now), depth);
  const sources = walk.upstream(awaited);
  for (const promise of sources) {
    const waitIndex = nodes.waits.get(promise);
    const wait = waitIndex === undefined ? undefined : probe.waits[waitIndex];
    if (wait) return onceWait(wait, now);
    const streamAwaited = streamWait(recordedStreamWait(nodes, promise));
    if (streamAwaited) return streamAwaited;
    const callbackIndex = nodes.callbackWaits.get(promise);
    const callback = callbackIndex === undefined ? undefined : probe.callbackWaits[callbackIndex];
    if (callback) {
      const fnNode = nodes.callbackFunctions.get(callbackIndex!);
      return callbackWait(callback, fnNode, graph, inspector, now);
    }
  }
  const iterator = iteratorHolding(graph, nodes, sources);
  const heldByIterator =
    iterator instanceof HangwatchEventWait ? onceWait(iterator, now) : streamWait(iterator);
  if (heldByIterator) return heldByIterator;
  const entered = steps.find((entry) => entry.frame.origin === 'user');
  for (const promise of sources) {
    const index = nodes.explicit.get(promise);
    if (index === undefined) continue;
    const executor = executorFrame(reading, index);
    if (executor && executor.origin !== 'user' && isLibrary(executor.packageName)) {
      return library(executor.packageName, entered, steps);
    }
    const listener = listenerOf(reading, promise);
    if (listener) {
      return eventWait(graph, nodes, listener, siteOf(executor), probe.createdAt[index], now);
    }
    if (isMockResult(graph, sources)) return { kind: 'mock', ...siteField(siteOf(executor)) };
    return {
      kind: 'promise',
      ...siteField(siteOf(executor)),
      ageMs: Math.round(now - probe.createdAt[index]),
    };
  }
  if (isMockResult(graph, sources)) return { kind: 'mock' };
  const innermost = steps[0]?.frame;
  if (innermost && innermost.origin !== 'user' && isLibrary(innermost.packageName)) {
    return library(innermost.packageName, entered, steps);
  }
  return undefined;
}

/** Source reads nest at most this deep (a generator reading a stream fed by a generator...). */
const MAX_SOURCE_DEPTH = 2;

/**
 * A stream the flow waits on, with the flows around it that are stopped at an await of their
 * own: the generator that feeds it (`Readable.from`, a pipeline's stage before it), which is why
 * it has not ended, and the pipeline's function stage that reads it, which is why it is not read.
 */
function withSource(
  reading: Reading,
  wait: HangwatchStreamWait,
  awaited: AwaitedThing | undefined,
  depth: number,
): AwaitedThing | undefined {
  if (awaited?.kind !== 'stream' || depth >= MAX_SOURCE_DEPTH) return awaited;
  const stage = awaited.pipeline ? awaited.pipeline.position - 1 : 0;
  const sourceNode = streamStageNode(reading.graph, reading.nodes, wait, stage, 'sources');
  const source = sourceNode === undefined ? undefined : stoppedFlow(reading, sourceNode, depth);
  if (source) {
    awaited.source = {
      generator: source.functionName,
      steps: source.steps,
      ...(source.awaiting ? { awaiting: source.awaiting } : {}),
    };
  }
  const reader = stoppedReader(reading, wait, stage, depth);
  if (reader) awaited.reader = reader;
  return awaited;
}

/**
 * The pipeline's function stage after `stage`, when it is stopped at an await of its own: not
 * when its innermost await is the read of that stage (it waits for data, like the pipeline).
 */
function stoppedReader(
  reading: Reading,
  wait: HangwatchStreamWait,
  stage: number,
  depth: number,
): StreamReader | undefined {
  const node = streamStageNode(reading.graph, reading.nodes, wait, stage, 'readers');
  if (node === undefined) return undefined;
  // An async generator stage is its generator; an async function stage returned its promise.
  const isGenerator = reading.walk.suspended.has(node);
  const generator = isGenerator ? node : reading.walk.generatorOf(node);
  const input = wait.stages[stage];
  if (generator === undefined || input === undefined) return undefined;
  const flow = stoppedFlow(reading, generator, depth, (leaf) => readsStream(reading, leaf, input));
  if (!flow) return undefined;
  return {
    function: flow.functionName,
    kind: isGenerator ? 'async generator' : 'async function',
    steps: flow.steps,
    ...(flow.awaiting ? { awaiting: flow.awaiting } : {}),
  };
}

/**
 * A suspended generator's chain, innermost first, and what its innermost await waits on; none
 * when it has no step of its own to show, or when `skip` says its innermost await is not one.
 */
function stoppedFlow(
  reading: Reading,
  node: number,
  depth: number,
  skip?: (leaf: number) => boolean,
): { functionName: string; steps: AwaitStep[]; awaiting?: AwaitedThing } | undefined {
  const generator = reading.walk.suspended.get(node);
  if (!generator) return undefined;
  const chain = innermostChain(node, reading.awaitees);
  if (skip?.(chain[0])) return undefined;
  const steps = chainSteps(chain, reading.walk, reading.graph, reading.inspector);
  if (steps.length === 0) return undefined;
  const awaiting = awaitedThing(reading, chain[0], steps, depth + 1);
  return { functionName: generator.functionName, steps, ...(awaiting ? { awaiting } : {}) };
}

/**
 * Whether a suspended generator's await is the read of `stream` (`for await` over it): Node's
 * iterator is itself the suspended generator up to Node 24, and holds the awaited promise after.
 */
function readsStream(reading: Reading, leaf: number, stream: object): boolean {
  const isRead = (wait: unknown) =>
    wait instanceof HangwatchStreamWait && wait.via === 'iteration' && wait.stages[0] === stream;
  const direct = recordedStreamWait(reading.nodes, leaf);
  if (direct) return isRead(direct);
  const awaited = reading.walk.awaitedBy(leaf);
  if (awaited === undefined) return false;
  return isRead(iteratorHolding(reading.graph, reading.nodes, reading.walk.upstream(awaited)));
}

/** From a suspended generator down through what it awaits: innermost first, one path. */
export function innermostChain(outermost: number, awaitees: Map<number, number[]>): number[] {
  const path = [outermost];
  for (;;) {
    const below = (awaitees.get(path[path.length - 1]) ?? []).find((g) => !path.includes(g));
    if (below === undefined || path.length >= 64) return path.reverse();
    path.push(below);
  }
}

/** A package the user's code calls into (p-limit counts: Jest uses it too, but not in a test's awaits). */
function isLibrary(packageName: string | undefined): packageName is string {
  return (
    packageName !== undefined &&
    packageName !== 'hangwatch' &&
    !packageName.startsWith('jest') &&
    !packageName.startsWith('@jest/') &&
    packageName !== 'expect'
  );
}

function siteField(site: CreationSite | undefined): { site?: CreationSite } {
  return site ? { site } : {};
}

function library(
  packageName: string,
  entered: AwaitStep | undefined,
  steps: AwaitStep[],
): AwaitedThing {
  // The package the user's line called, when the wait is deeper, in another one it uses (execa
  // reading a child's output through get-stream).
  const callee = entered ? steps[steps.indexOf(entered) - 1]?.frame : undefined;
  const calledPackage =
    callee?.origin === 'dependency' && callee.packageName && callee.packageName !== packageName
      ? callee.packageName
      : undefined;
  return {
    kind: 'library',
    packageName,
    ...(calledPackage ? { calledPackage } : {}),
    ...(entered ? { enteredAt: entered.frame } : {}),
    ...(entered?.sourceLine !== undefined ? { enteredSourceLine: entered.sourceLine } : {}),
  };
}

function emitterName(emitter: object): string {
  const name = (emitter as { constructor?: { name?: string } }).constructor?.name;
  return name || 'EventEmitter';
}

function eventName(event: string | symbol): string {
  return typeof event === 'symbol' ? event.toString() : event;
}

function onceWait(wait: HangwatchEventWait, now: number): AwaitedThing {
  const site = toCreationSite(framesOf(wait.stack));
  const missed = probe.emits.find(
    (emit): emit is HangwatchUnheardEmit =>
      emit !== undefined &&
      emit.emitter === wait.emitter &&
      emit.event === wait.event &&
      emit.at <= wait.at,
  );
  return {
    kind: 'event',
    emitter: emitterName(wait.emitter),
    event: eventName(wait.event),
    ...siteField(site),
    waitingMs: Math.round(now - wait.at),
    ...(missed ? { missed: missedAt(missed, wait.at) } : {}),
    ...inputField(wait.emitter),
  };
}

function inputField(emitter: object): { input?: StreamState } {
  const input = unendedInputOf(emitter);
  return input ? { input } : {};
}

function missedAt(
  emit: HangwatchUnheardEmit,
  waitAt: number,
): { beforeMs: number; site?: CreationSite } {
  const site = toCreationSite(framesOf(emit.stack));
  return { beforeMs: Math.max(0, Math.round(waitAt - emit.at)), ...siteField(site) };
}

/** A promisified function that has not called back, named, and where it is defined. */
function callbackWait(
  wait: HangwatchCallbackWait,
  functionNode: number | undefined,
  graph: HeapGraph,
  inspector: SameThreadInspector,
  now: number,
): AwaitedThing {
  const position = functionNode === undefined ? undefined : graph.position(functionNode);
  const name = (wait.fn as { name?: unknown }).name;
  return {
    kind: 'callback',
    ...(typeof name === 'string' && name !== '' ? { functionName: name } : {}),
    ...siteField(siteOf(position ? inspector.frame(position) : undefined)),
    waitingMs: Math.round(now - wait.at),
  };
}

/** An emitter's event whose listener would settle a promise, and its other such events. */
interface SettlingListener {
  emitter: number;
  event: string;
  /** Other events of that emitter whose listeners would settle it too (an 'error' rejecting it). */
  orEvents: string[];
}

/**
 * The emitter and event whose listener would settle this promise: a listener that is its resolve
 * or reject, or a function of the user's that calls one (`job.on('done', (r) => resolve(r.value))`,
 * where the scope of the executor holds `resolve`). One that resolves it comes first: with
 * `job.on('error', reject)` beside it, the wait is for 'done', or 'error'.
 */
function listenerOf(reading: Reading, promise: number): SettlingListener | undefined {
  const { graph, inspector } = reading;
  const found: { emitter: number; event: string; rejects: boolean }[] = [];
  for (const contextEdge of graph.incoming(promise)) {
    if (graph.name(contextEdge.from) !== CONTEXT) continue;
    for (const closureEdge of graph.incoming(contextEdge.from)) {
      if (closureEdge.name !== 'context' || graph.type(closureEdge.from) !== 'closure') continue;
      const settles = settlingKind(graph, closureEdge.from);
      // Only a promise's own resolving functions have callers worth following.
      const callers = settles
        ? callersOf(graph, inspector, closureEdge.from)
        : [{ node: closureEdge.from }];
      for (const caller of callers) {
        const held = emitterHolding(graph, caller.node);
        if (held) found.push({ ...held, rejects: settles === 'reject' });
      }
    }
  }
  const first = found.find((listener) => !listener.rejects) ?? found[0];
  if (!first) return undefined;
  const orEvents = found
    .filter((listener) => listener.emitter === first.emitter && listener.event !== first.event)
    .map((listener) => listener.event);
  return { emitter: first.emitter, event: first.event, orEvents: [...new Set(orEvents)] };
}

/** Whether a function is a promise's resolve or its reject (V8's builtins), by its code. */
function settlingKind(graph: HeapGraph, fn: number): 'resolve' | 'reject' | undefined {
  const code = graph.follow(fn, 'code');
  const match =
    code === undefined ? null : /PromiseCapabilityDefault(Resolve|Reject)/.exec(graph.name(code));
  if (!match) return undefined;
  return match[1] === 'Reject' ? 'reject' : 'resolve';
}

/**
 * Who holds a listener function: an emitter's `_events[name]` (or its array), or `once`'s wrapper
 * state; or, for the component-emitter family (socket.io and its client, engine.io), the
 * emitter's `_callbacks['$' + name]` array, or its `once` wrapper (a function whose `fn` it is).
 */
export function emitterHolding(
  graph: HeapGraph,
  listener: number,
): { emitter: number; event: string } | undefined {
  for (const edge of graph.incoming(listener)) {
    if (edge.name === 'listener') {
      const target = graph.follow(edge.from, 'target');
      const type = graph.follow(edge.from, 'type');
      if (target !== undefined && type !== undefined) {
        return { emitter: target, event: graph.name(type) };
      }
    }
  }
  const held = heldByEvents(graph, listener);
  if (held) return held;
  for (const edge of graph.incoming(listener)) {
    if (edge.name !== 'fn' || graph.type(edge.from) !== 'closure') continue;
    const wrapped = heldByEvents(graph, edge.from);
    if (wrapped) return wrapped;
  }
  return undefined;
}

/** The emitter whose `_events` or `_callbacks` table holds this function (alone or in an array). */
function heldByEvents(
  graph: HeapGraph,
  listener: number,
): { emitter: number; event: string } | undefined {
  for (const edge of graph.incoming(listener)) {
    const holders =
      graph.type(edge.from) === 'array' || edge.type === 'element'
        ? graph.incoming(edge.from).filter((e) => e.type === 'property')
        : [edge];
    for (const holder of holders) {
      if (holder.type !== 'property' || typeof holder.name !== 'string') continue;
      for (const table of graph.incoming(holder.from)) {
        if (table.name === '_events') return { emitter: table.from, event: holder.name };
        if (table.name === '_callbacks' && holder.name.startsWith('$')) {
          return { emitter: table.from, event: holder.name.slice(1) };
        }
      }
    }
  }
  return undefined;
}

export function eventWait(
  graph: HeapGraph,
  nodes: ProbeNodes,
  listener: { emitter: number; event: string; orEvents?: string[] },
  site: CreationSite | undefined,
  startedAt: number,
  now: number,
): AwaitedThing {
  const emits = (nodes.emitsByEmitter.get(listener.emitter) ?? [])
    .map((index) => probe.emits[index])
    .filter(
      (emit): emit is HangwatchUnheardEmit =>
        emit !== undefined && eventName(emit.event) === listener.event && emit.at <= startedAt,
    );
  return {
    kind: 'event',
    emitter: graph.name(listener.emitter) || 'EventEmitter',
    event: listener.event,
    ...(listener.orEvents?.length ? { orEvents: listener.orEvents } : {}),
    ...siteField(site),
    waitingMs: Math.round(now - startedAt),
    ...(emits[0] ? { missed: missedAt(emits[0], startedAt) } : {}),
  };
}

/** One of these promises is a `jest.fn()`'s result (`mock.results[i].value`). */
function isMockResult(graph: HeapGraph, promises: number[]): boolean {
  for (const promise of promises) {
    for (const valueEdge of graph.incoming(promise)) {
      if (valueEdge.name !== 'value') continue;
      for (const elementEdge of graph.incoming(valueEdge.from)) {
        if (elementEdge.type !== 'element') continue;
        if (graph.incoming(elementEdge.from).some((e) => e.name === 'results')) return true;
      }
    }
  }
  return false;
}
