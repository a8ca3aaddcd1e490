import { CONTEXT, type HeapGraph } from './heap-graph';

/**
 * The await graph inside a heap snapshot. A suspended async function is a `Generator` node (edge
 * `function` to its closure; a hidden edge to its own promise). It awaits a promise whose
 * reactions hold two builtin closures (`AsyncFunctionAwaitResolveClosure`, ...Reject) whose
 * context's `extension` is that generator. So from a generator's own promise, following
 * reactions forward (through `then`-derived promises, `Promise.all` and friends) reaches the
 * generator that awaits it; following them backward from the promise it awaits reaches the
 * promise it is really waiting for (a `new Promise`, an `events.once`, a mock's result).
 */

/** Builtins whose closures pass a settlement on to their context's promise or generator. */
const PASS_ON_BUILTIN =
  /^\((AsyncFunctionAwait|AsyncGeneratorAwait|PromiseAll|PromiseAny|PromiseCapabilityDefault|PromiseThenFinally|PromiseCatchFinally|PromiseValueThunk|PromiseThrowerFinally|PromiseAllSettled)/;

const REACTION = 'system / PromiseReaction';
const CAPABILITY = 'system / PromiseCapability';
const ASYNC_GENERATOR_REQUEST = 'system / AsyncGeneratorRequest';
const MAX_WALK = 400;

export interface SuspendedFunction {
  node: number;
  functionNode: number;
  functionName: string;
  ownPromise?: number;
}

export class AwaitWalk {
  /** For each generator's own promise, the generator. */
  private readonly byOwnPromise = new Map<number, number>();
  readonly suspended = new Map<number, SuspendedFunction>();

  constructor(private readonly graph: HeapGraph) {
    for (const node of graph.find('object', 'Generator')) {
      const ownPromise = graph
        .edges(node)
        .find(
          (edge) =>
            (edge.type === 'hidden' || edge.type === 'internal') &&
            graph.name(edge.to) === 'Promise' &&
            graph.type(edge.to) === 'object',
        )?.to;
      this.addSuspended(node, ownPromise);
    }
    // An async generator is named after its function, not `Generator`; one that something
    // awaits has a request queued (`next()` called), whose promise the awaiting code waits on:
    // Node's `for await` over a stream is one, and a user's async generator another.
    for (const request of graph.find('hidden', ASYNC_GENERATOR_REQUEST)) {
      const generator = graph
        .incoming(request)
        .find((edge) => graph.follow(edge.from, 'function') !== undefined)?.from;
      if (generator === undefined || this.suspended.has(generator)) continue;
      const promise = graph
        .edges(request)
        .find((edge) => graph.name(edge.to) === 'Promise' && graph.type(edge.to) === 'object')?.to;
      this.addSuspended(generator, promise);
    }
  }

  private addSuspended(node: number, ownPromise: number | undefined): void {
    const functionNode = this.graph.follow(node, 'function');
    if (functionNode === undefined) return;
    this.suspended.set(node, {
      node,
      functionNode,
      functionName: this.graph.name(functionNode),
      ...(ownPromise !== undefined ? { ownPromise } : {}),
    });
    if (ownPromise !== undefined) this.byOwnPromise.set(ownPromise, node);
  }

  /**
   * Follows a promise's settlement forward: the generators whose awaits it would resume (in
   * breadth order), and every promise it would settle on the way.
   */
  downstream(promise: number): { awaiters: number[]; promises: Set<number> } {
    const { graph } = this;
    const awaiters: number[] = [];
    const promises = new Set<number>([promise]);
    const seen = new Set<number>([promise]);
    const queue = [promise];
    const visit = (node: number) => {
      if (seen.has(node)) return;
      seen.add(node);
      queue.push(node);
    };
    for (let index = 0; index < queue.length && index < MAX_WALK; index++) {
      const node = queue[index];
      const name = graph.name(node);
      if (name === 'Promise') {
        promises.add(node);
        const reactions = graph.follow(node, 'reactions_or_result');
        if (reactions !== undefined && graph.name(reactions) === REACTION) visit(reactions);
      } else if (name === REACTION) {
        for (const edge of graph.edges(node)) {
          if (edge.name === 'map') continue;
          const target = graph.name(edge.to);
          if (target === 'Promise' || target === REACTION || target === CAPABILITY) visit(edge.to);
          else if (graph.type(edge.to) === 'closure') visit(edge.to);
        }
      } else if (graph.type(node) === 'closure') {
        const code = graph.follow(node, 'code');
        if (code === undefined || !PASS_ON_BUILTIN.test(graph.name(code))) continue;
        const context = graph.follow(node, 'context');
        if (context !== undefined) visit(context);
      } else if (name === CONTEXT) {
        for (const edge of graph.edges(node)) {
          if (edge.name === 'previous' || edge.name === 'scope_info') continue;
          const target = graph.name(edge.to);
          if (this.suspended.has(edge.to)) {
            if (!awaiters.includes(edge.to)) awaiters.push(edge.to);
          } else if (target === 'Promise' || target === CAPABILITY) visit(edge.to);
        }
      } else if (name === CAPABILITY) {
        for (const edge of graph.edges(node)) {
          if (graph.name(edge.to) === 'Promise') visit(edge.to);
        }
      }
    }
    return { awaiters, promises };
  }

  /** The generator that awaits this one's promise (directly or through then/all), if any. */
  awaiterOf(generator: number): number | undefined {
    const own = this.suspended.get(generator)?.ownPromise;
    if (own === undefined) return undefined;
    return this.downstream(own).awaiters.find((node) => node !== generator);
  }

  /** The promise this generator is suspended on: the one whose reactions resume it. */
  awaitedBy(generator: number): number | undefined {
    const { graph } = this;
    for (const contextEdge of graph.incoming(generator)) {
      if (contextEdge.name !== 'extension' || graph.name(contextEdge.from) !== CONTEXT) continue;
      for (const closureEdge of graph.incoming(contextEdge.from)) {
        if (closureEdge.name !== 'context' || graph.type(closureEdge.from) !== 'closure') continue;
        for (const reactionEdge of graph.incoming(closureEdge.from)) {
          if (graph.name(reactionEdge.from) !== REACTION) continue;
          const holder = this.reactionOwner(reactionEdge.from);
          if (holder !== undefined) return holder;
        }
      }
    }
    return undefined;
  }

  /**
   * Every promise whose settlement would flow into `promise` (itself included, nearest first):
   * `then` sources, a resolved-with-thenable's inner promise, `Promise.all` inputs.
   */
  upstream(promise: number): number[] {
    const { graph } = this;
    const found: number[] = [promise];
    const seen = new Set<number>([promise]);
    for (let index = 0; index < found.length && index < MAX_WALK; index++) {
      for (const edge of graph.incoming(found[index])) {
        for (const reaction of this.reactionsSettling(edge.from)) {
          const source = this.reactionOwner(reaction);
          if (source !== undefined && !seen.has(source)) {
            seen.add(source);
            found.push(source);
          }
        }
      }
    }
    return found;
  }

  /**
   * Reactions that would settle a promise, given a node that points at it: the reaction itself,
   * its capability, or the context of its resolving functions (how a promise from another realm,
   * or any thenable, is awaited: `then` is called with the new promise's resolve and reject).
   */
  private reactionsSettling(from: number): number[] {
    const { graph } = this;
    const name = graph.name(from);
    if (name === REACTION) return [from];
    if (name === CAPABILITY) {
      return graph
        .incoming(from)
        .filter((e) => graph.name(e.from) === REACTION)
        .map((e) => e.from);
    }
    if (name !== CONTEXT) return [];
    const reactions: number[] = [];
    for (const closureEdge of graph.incoming(from)) {
      if (closureEdge.name !== 'context' || graph.type(closureEdge.from) !== 'closure') continue;
      for (const edge of graph.incoming(closureEdge.from)) {
        if (graph.name(edge.from) === REACTION) reactions.push(edge.from);
      }
    }
    return reactions;
  }

  /** The promise a reaction hangs on (reactions chain through `next` from the promise). */
  reactionOwner(reaction: number): number | undefined {
    const { graph } = this;
    let current = reaction;
    for (let depth = 0; depth < 64; depth++) {
      const incoming = graph.incoming(current);
      const promise = incoming.find(
        (edge) => edge.name === 'reactions_or_result' && graph.name(edge.from) === 'Promise',
      );
      if (promise) return promise.from;
      const previous = incoming.find((edge) => graph.name(edge.from) === REACTION);
      if (!previous) return undefined;
      current = previous.from;
    }
    return undefined;
  }

  /** The generator whose own promise this is. */
  generatorOf(promise: number): number | undefined {
    return this.byOwnPromise.get(promise);
  }
}
