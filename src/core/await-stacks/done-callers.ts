import * as fs from 'node:fs';
import type { AwaitFlow, AwaitStep, Frame } from '../model';
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

const CONTEXT = 'system / Context';
const REACTION = 'system / PromiseReaction';
const MAX_CALLERS = 4;
/** How deep a caller may be nested below the function that receives `done`. */
const MAX_NESTING = 4;
/** How much of a caller's source is read to see whether it calls `done`. */
const MAX_FUNCTION_LINES = 40;

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
    for (const caller of callersOf(reading, doneNode)) {
      const flow = callerFlow(reading, caller, unitStartedAt);
      if (flow) flows.push(flow);
      if (flows.length >= MAX_CALLERS) break;
    }
    return flows;
  });
}

interface Caller {
  node: number;
  /** Where the function is defined: none for `done` itself. */
  step?: AwaitStep;
}

/** `done` itself, and the user's functions in its scope (or nested below) whose source names it. */
function callersOf(reading: Reading, doneNode: number): Caller[] {
  const { graph, inspector } = reading;
  const callers: Caller[] = [{ node: doneNode }];
  for (const edge of graph.incoming(doneNode)) {
    if (edge.type !== 'context' || typeof edge.name !== 'string') continue;
    if (graph.name(edge.from) !== CONTEXT) continue;
    const name = edge.name;
    for (const context of contextsBelow(reading, edge.from)) {
      for (const closureEdge of graph.incoming(context)) {
        if (closureEdge.name !== 'context' || graph.type(closureEdge.from) !== 'closure') continue;
        // A scope nested in two that hold `done` (a module's and its test's) is met twice.
        if (callers.some((caller) => caller.node === closureEdge.from)) continue;
        const position = graph.position(closureEdge.from);
        const frame = position
          ? inspector.frame(position, graph.name(closureEdge.from))
          : undefined;
        if (!frame || frame.origin !== 'user' || !namesIn(frame, name)) continue;
        callers.push({ node: closureEdge.from, step: step(frame) });
      }
    }
  }
  return callers;
}

/** A scope and the scopes nested in it (their `previous` is it), a few levels down. */
function contextsBelow(reading: Reading, context: number): number[] {
  const { graph } = reading;
  const found = [context];
  for (let level = 0, from = 0; level < MAX_NESTING; level++) {
    const to = found.length;
    for (let index = from; index < to; index++) {
      for (const edge of graph.incoming(found[index])) {
        if (edge.name === 'previous' && graph.name(edge.from) === CONTEXT) found.push(edge.from);
      }
    }
    from = to;
  }
  return found;
}

/** What a caller waits to be called by: the emitter it listens to, or the promise it is a callback of. */
function callerFlow(
  reading: Reading,
  caller: Caller,
  unitStartedAt: number,
): AwaitFlow | undefined {
  const { graph, walk, nodes, now } = reading;
  const own = caller.step ? [caller.step] : [];
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

/**
 * Whether a function's source uses `name` (not as a property): read from its start, to where
 * its brackets close or the expression it is part of ends.
 */
function namesIn(frame: Frame, name: string): boolean {
  const text = functionText(frame);
  if (text === undefined) return false;
  const escaped = name.replace(/[$]/g, '\\$');
  return new RegExp(`(^|[^\\w$.])${escaped}(?![\\w$])`).test(text);
}

function functionText(frame: Frame): string | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(frame.file, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const first = lines[frame.line - 1];
  if (first === undefined) return undefined;
  // A transform's source map can place an arrow function just inside its parameters' `(`.
  const at = Math.max(0, frame.column - 1);
  const start = at > 0 && first[at - 1] === '(' && /[\w$]/.test(first[at] ?? '') ? at - 1 : at;
  const source = [
    first.slice(start),
    ...lines.slice(frame.line, frame.line - 1 + MAX_FUNCTION_LINES),
  ].join('\n');
  let depth = 0;
  let quote: string | undefined;
  for (let index = 0; index < source.length; index++) {
    const char = source[index];
    if (quote) {
      if (char === '\\') index++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      depth--;
      if (depth < 0) return source.slice(0, index);
      if (depth === 0 && char === '}') return source.slice(0, index + 1);
    } else if (depth === 0 && (char === ',' || char === ';')) return source.slice(0, index);
  }
  return source;
}
