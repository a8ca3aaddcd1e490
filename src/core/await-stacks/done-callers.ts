import type { AwaitFlow } from '../model';
import {
  awaitedThing,
  chainSteps,
  emitterHolding,
  eventWait,
  innermostChain,
  promiseWaitsOn,
  readSnapshot,
  step,
  type Reading,
} from './read-await-stacks';
import { callersOf, type ScopeCaller } from './scope-callers';

const REACTION = 'system / PromiseReaction';
const MAX_CALLERS = 4;

/**
 * For a test or hook that takes `done` and has not called it: the functions of its own that
 * would call it, each with what it is still waiting to be called by. A listener: the emitter and
 * the event (and where that event was emitted before anyone listened, when it was). A callback
 * of a promise (`p.then(() => done())`): what that promise waits on, through the async functions
 * it comes from. Read from a heap snapshot, like await stacks: `done` is the function the test
 * received, the functions that call it are those of the test's whose source names it (the
 * parameter's name, as the test's scope holds it) or that are `done` itself.
 */
export function readDoneCallers(done: unknown, unitStartedAt: number): AwaitFlow[] {
  return readSnapshot(done, (reading, doneNode) => {
    const flows: AwaitFlow[] = [];
    for (const caller of callersOf(reading.graph, reading.inspector, doneNode)) {
      const flow = callerFlow(reading, caller, unitStartedAt);
      if (flow) flows.push(flow);
      if (flows.length >= MAX_CALLERS) break;
    }
    return flows;
  });
}

/** What a caller waits to be called by: the emitter it listens to, or the promise it is a callback of. */
function callerFlow(
  reading: Reading,
  caller: ScopeCaller,
  unitStartedAt: number,
): AwaitFlow | undefined {
  const { graph, walk, nodes, now } = reading;
  const own = caller.frame ? [step(caller.frame)] : [];
  const listener = emitterHolding(graph, caller.node);
  if (listener) {
    return {
      steps: own,
      awaiting: eventWait(graph, nodes, listener, undefined, unitStartedAt, now),
    };
  }
  for (const edge of graph.incoming(caller.node)) {
    if (graph.name(edge.from) !== REACTION) continue;
    const promise = walk.reactionOwner(edge.from);
    if (promise === undefined) continue;
    // The promise of an async function: the flow goes on inside it, innermost first.
    const generator = walk.generatorOf(promise);
    if (generator !== undefined) {
      const chain = innermostChain(generator, reading.awaitees);
      const steps = chainSteps(chain, walk, graph, reading.inspector);
      const awaiting = steps.length > 0 ? awaitedThing(reading, chain[0], steps) : undefined;
      return { steps: [...steps, ...own], ...(awaiting ? { awaiting } : {}) };
    }
    const awaiting = promiseWaitsOn(reading, promise, own);
    return { steps: own, ...(awaiting ? { awaiting } : {}) };
  }
  return undefined;
}
