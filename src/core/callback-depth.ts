/**
 * Whether code runs synchronously inside a timer's or an I/O callback (a macrotask), as opposed to
 * a promise continuation. The resource tracker counts `before`/`after` of the resources it
 * records (never promises). Lock flows use it: work a timer starts is not awaited by the flow
 * that scheduled it. `executionAsyncResource()` cannot tell once promise hooks are off (Node 24+).
 *
 * Counting starts when the question is first asked: a `before`/`after` hook makes Node call into
 * JavaScript around every callback and, on Node 20 and 22, every promise reaction, and most
 * suites never take a lock. A tracker asked to start says whether the callback running at that
 * moment is one of its records: that one began before anyone counted.
 */
let depth = 0;
let asked = false;
const counters = new Set<() => boolean>();

export function enterCallback(): void {
  depth++;
}

export function leaveCallback(): void {
  if (depth > 0) depth--;
}

export function insideCallback(): boolean {
  if (!asked) {
    asked = true;
    for (const startCounting of counters) if (startCounting()) depth = 1;
  }
  return depth > 0;
}

/**
 * Registers a tracker's way to start counting: called at once if the question was already asked,
 * else on the first question. Returns the unregistration.
 */
export function countCallbacksWhenAsked(startCounting: () => boolean): () => void {
  if (asked) startCounting();
  else counters.add(startCounting);
  return () => counters.delete(startCounting);
}
