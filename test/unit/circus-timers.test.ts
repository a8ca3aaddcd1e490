import { createHook } from 'node:async_hooks';
import { isCircusTimeoutTimer } from '../../src/jest/circus-timers';
import { ResourceTracker } from '../../src/core/tracker';

// Timers created from here on, by this file's hooks and tests and by jest-circus around them.
const timers: object[] = [];
const hook = createHook({
  init(_id, type, _trigger, resource) {
    if (type === 'Timeout') timers.push(resource);
  },
});

beforeAll(() => hook.enable());
afterAll(() => hook.disable());

test('the timer circus arms for a test’s timeout is told apart from the test’s own', () => {
  const own = setTimeout(() => {}, 10_000);
  clearTimeout(own);
  // Circus armed this test's timeout timer just before calling it.
  const circus = timers.filter(isCircusTimeoutTimer);
  expect(circus.length).toBeGreaterThan(0);
  expect(isCircusTimeoutTimer(own)).toBe(false);
  expect(timers).toContain(own);
});

test('a tracker given the predicate records the test’s timers and not circus’s', () => {
  const tracker = new ResourceTracker<string>({
    ownerOf: () => 'test',
    promises: false,
    ignoresTimer: isCircusTimeoutTimer,
  });
  tracker.enable();
  try {
    const own = setTimeout(() => {}, 10_000);
    const circusLike = setTimeout(() => reject(_makeTimeoutMessage()), 10_000);
    const recorded = tracker.live().map((record) => record.resource);
    clearTimeout(own);
    clearTimeout(circusLike);
    expect(recorded).toContain(own);
    expect(recorded).not.toContain(circusLike);
  } finally {
    tracker.disable();
  }
});

// The names circus's callback uses, so the second test arms a timer with the same source.
function reject(_error: unknown): void {}
function _makeTimeoutMessage(): string {
  return 'Exceeded timeout';
}
