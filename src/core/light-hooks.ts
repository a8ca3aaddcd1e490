import { AsyncResource, createHook, type AsyncHook } from 'node:async_hooks';
import { enableAsyncContext } from './async-context';

/**
 * Enables hangwatch's async hooks without making Node 20 and 22 track the destruction of every
 * promise.
 *
 * Those versions decide how promises are hooked each time any hook is enabled: while some enabled
 * hook has a `destroy` callback, every new promise gets a weak handle whose collection calls back
 * into JavaScript: two to four times the cost of promise-heavy code under an AsyncLocalStorage
 * alone (bench/promise-hooks.js). hangwatch's `destroy` is for sockets, timers and handles, never
 * promises (Node versions with `trackPromises` let a hook say so). The decision reads the live
 * hook counts, while a hook enabled from inside another hook's callback is counted only when that
 * callback returns: enabling hangwatch's hooks from such a callback leaves promises hooked as
 * before (the async context's propagation), and every socket, timer and handle still reports its
 * `destroy`.
 *
 * A hook enabled later by anyone else re-decides with hangwatch's `destroy` counted: promises are
 * then tracked again, which costs time and changes nothing else.
 */
const enabledHooks = new Set<AsyncHook>();

export function enableHook(hook: AsyncHook): void {
  if (enabledHooks.has(hook)) return;
  // First use of any AsyncLocalStorage re-decides too: make it happen before, not after.
  enableAsyncContext();
  const toEnable = [...enabledHooks, hook];
  // Counted out for a moment (disable never re-decides), so the decision below does not see them.
  for (const enabled of enabledHooks) enabled.disable();
  let entered = false;
  const opener = createHook({
    init() {
      if (entered) return;
      entered = true;
      for (const each of toEnable) each.enable();
    },
    // Where Node reads it, the opener itself must not switch promise hooks on (they would stay on).
    trackPromises: false,
  } as Parameters<typeof createHook>[0]);
  opener.enable();
  try {
    new AsyncResource('hangwatch.hooks', { requireManualDestroy: true });
  } finally {
    // Outside any callback, so Node recounts its totals from the real counts.
    opener.disable();
    if (!entered) for (const each of toEnable) each.enable();
  }
  enabledHooks.add(hook);
}

export function disableHook(hook: AsyncHook): void {
  hook.disable();
  enabledHooks.delete(hook);
}
