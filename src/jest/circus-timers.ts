/**
 * The timer jest-circus (Jest 29 and 30) arms for each test's and hook's timeout, told by its
 * callback's source (`() => reject(_makeTimeoutMessage(...))`). It can only end a unit, never
 * settle one, and there is one per test: the tracker skips it at creation, so it costs neither a
 * record nor a creation stack (the stack would tell it too, but only once formatted).
 */
export function isCircusTimeoutTimer(timer: object): boolean {
  const callback = (timer as { _onTimeout?: unknown })._onTimeout;
  return (
    typeof callback === 'function' &&
    callback.length === 0 &&
    Function.prototype.toString.call(callback).includes('reject(_makeTimeoutMessage(')
  );
}
