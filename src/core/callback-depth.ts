/**
 * Whether code runs synchronously inside a timer's or an I/O callback (a macrotask), as opposed to
 * a promise continuation. The resource tracker counts `before`/`after` of the resources it
 * records (never promises). Lock flows use it: work a timer starts is not awaited by the flow
 * that scheduled it. `executionAsyncResource()` cannot tell once promise hooks are off (Node 24+).
 */
let depth = 0;

export function enterCallback(): void {
  depth++;
}

export function leaveCallback(): void {
  if (depth > 0) depth--;
}

export function insideCallback(): boolean {
  return depth > 0;
}
