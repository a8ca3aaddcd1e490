import { insideCallback } from '../callback-depth';
import { currentAsyncContext, enterFlow } from '../async-context';

/**
 * A flow is the chain of async work that holds or waits for locks. JavaScript has no task
 * objects, so flows live in hangwatch's async context:
 *
 * - `unit`: a test or hook, implicit for everything it runs;
 * - `task`: `task(name, fn)`, a named flow for `fn` and everything it starts;
 * - `scope`: one `runExclusive` callback, holder of its lock until the callback settles;
 * - `bare`: a plain `await lock.acquire()`. The acquire enters a new flow with `enterWith`, so the
 *   code after the `await` runs as it. `enterWith` also leaks into the caller's synchronous
 *   remainder (the next `transfer()` of a `Promise.all`), which `resolveBareFlow` detects: a bare
 *   flow seen again in the same synchronous run that created it is a leak, and gets a sibling.
 */
export type FlowKind = 'unit' | 'task' | 'scope' | 'bare';

export interface Flow {
  readonly id: number;
  readonly kind: FlowKind;
  readonly name?: string;
  /** The flow that awaits this one, as far as anyone can tell; none when started from a timer or I/O callback. */
  readonly parent?: Flow;
  /** The test or hook it runs for. */
  readonly owner: unknown;
  /** The synchronous run it was created in (see `currentSegment`). */
  readonly segment: number;
  /** Scopes: taken by the acquire of the `runExclusive` that created it. */
  claimed: boolean;
  /** Holdings, counted so "does it hold anything" costs nothing. */
  holdCount: number;
  /** Set when the flow can no longer release anything. */
  endedAt?: string;
}

let nextFlowId = 1;
let segment = 0;
let segmentEndQueued = false;

/**
 * Synchronous runs are numbered by the microtasks between them: a microtask queued when a flow is
 * created runs before any continuation of that flow, so the number has moved on by then.
 */
function currentSegment(): number {
  if (!segmentEndQueued) {
    segmentEndQueued = true;
    queueMicrotask(() => {
      segment++;
      segmentEndQueued = false;
    });
  }
  return segment;
}

export function isSameSegment(flow: Flow): boolean {
  return segmentEndQueued && flow.segment === segment;
}

export function newFlow(
  kind: FlowKind,
  parent: Flow | undefined,
  owner: unknown,
  name?: string,
): Flow {
  return {
    id: nextFlowId++,
    kind,
    ...(name !== undefined ? { name } : {}),
    ...(parent ? { parent } : {}),
    owner,
    segment: currentSegment(),
    claimed: false,
    holdCount: 0,
  };
}

/** Work started from a timer or I/O callback is not awaited by the flow that scheduled it. */
function runsDetached(): boolean {
  return insideCallback();
}

export class Flows {
  private readonly unitFlows = new WeakMap<object, Flow>();
  #outsideFlow: Flow | undefined;

  /** The flow running now: an explicit one from the async context, else its test's. */
  current(): Flow {
    const context = currentAsyncContext();
    const flow = context?.flow as Flow | undefined;
    if (flow) return flow;
    const owner = context?.owner;
    if (typeof owner !== 'object' || owner === null) {
      return (this.#outsideFlow ??= newFlow('unit', undefined, undefined));
    }
    let unitFlow = this.unitFlows.get(owner);
    if (!unitFlow) {
      unitFlow = newFlow('unit', undefined, owner);
      this.unitFlows.set(owner, unitFlow);
    }
    return unitFlow;
  }

  /** A child flow for `task()` or `runExclusive`, to run `fn` in. */
  child(kind: 'task' | 'scope', name?: string): Flow {
    const current = this.current();
    return newFlow(kind, runsDetached() ? undefined : current, current.owner, name);
  }

  /**
   * The flow a bare `acquire()` belongs to. A bare flow from an earlier synchronous run that still
   * holds a lock is this code's own continuation; anything else gets a new flow, entered so the
   * code after the `await` carries it.
   */
  resolveBareFlow(): Flow {
    const current = this.current();
    if (current.kind === 'scope' && !current.claimed) {
      current.claimed = true;
      return current;
    }
    if (current.kind === 'bare' && current.holdCount > 0 && !isSameSegment(current)) return current;
    const parent = current.kind === 'bare' ? current.parent : current;
    const flow = newFlow('bare', runsDetached() ? undefined : parent, current.owner);
    enterFlow(flow);
    return flow;
  }
}

export function isAncestorOrSelf(candidate: Flow, flow: Flow): boolean {
  for (let at: Flow | undefined = flow; at; at = at.parent) if (at === candidate) return true;
  return false;
}
