import { insideCallback } from '../callback-depth';
import { currentAsyncContext, enterFlow } from '../async-context';
import type { Flow, FlowKind } from './types';

/*
 * Flows live in hangwatch's async context, since JavaScript has no task objects. How each kind
 * (see `Flow` in `types`) comes about:
 *
 * - `bare`: the acquire enters a new flow with `enterWith`, so the code after the `await` runs as
 *   it. `enterWith` also leaks into the caller's synchronous remainder (the next `transfer()` of a
 *   `Promise.all`), which `resolveBareFlow` detects: a bare flow seen again in the same
 *   synchronous run that created it is a leak, and gets a sibling. A bare flow that holds a lock
 *   and acquires again, later, is most likely its own code after the `await` (`continues`), but
 *   may be a function it started, awaited or not: the acquisition becomes its child, linked as a
 *   continuation until a sibling shows up in the same synchronous run (`Promise.all` of
 *   helpers), so children of one holder never deadlock each other.
 */
export type { Flow, FlowKind };

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
    waitCount: 0,
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
   * The flow a bare `acquire()` belongs to. A bare flow from an earlier synchronous run that holds
   * and waits for nothing is this code's own continuation (a loop of acquire and release): it is
   * reused, so the common case enters no new context. Anything else gets a new flow, entered so
   * the code after the `await` carries it: a child of a flow that holds locks (see above), a
   * sibling of a flow made in this same synchronous run.
   */
  resolveBareFlow(): Flow {
    const current = this.current();
    if (current.kind === 'scope' && !current.claimed) {
      current.claimed = true;
      return current;
    }
    const detached = runsDetached();
    let parent: Flow | undefined = current;
    let continues = false;
    if (current.kind === 'bare') {
      if (isSameSegment(current)) {
        // A second acquisition in one synchronous run: the parent started several flows.
        current.continues = false;
        parent = current.parent;
      } else if (current.holdCount === 0 && current.waitCount === 0 && !detached) {
        if (current.endedAt === undefined) {
          current.segment = currentSegment();
          collapseIdleParents(current);
          return current;
        }
      } else {
        continues = current.waitCount === 0;
      }
    }
    const flow = newFlow('bare', detached ? undefined : parent, current.owner);
    if (continues && !detached) flow.continues = true;
    enterFlow(flow);
    return flow;
  }
}

/**
 * A reused flow's bare ancestors that hold and wait for nothing no longer matter to it: skipping
 * them keeps the chain short in a loop that nests acquisitions (each nesting adds a child).
 */
function collapseIdleParents(flow: Flow): void {
  let parent = flow.parent;
  while (parent?.kind === 'bare' && parent.holdCount === 0 && parent.waitCount === 0) {
    flow.continues = parent.continues;
    parent = parent.parent;
  }
  flow.parent = parent;
}

export function isAncestorOrSelf(candidate: Flow, flow: Flow): boolean {
  for (let at: Flow | undefined = flow; at; at = at.parent) if (at === candidate) return true;
  return false;
}
