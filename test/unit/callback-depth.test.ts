import { insideCallback } from '../../src/core/callback-depth';
import { ResourceTracker } from '../../src/core/tracker';

/** A timer's callback, then a promise continuation it queues, each asking the question. */
function askInTimerAndAfter(): Promise<{ inTimer: boolean; inContinuation: boolean }> {
  return new Promise((resolve) => {
    setTimeout(() => {
      const inTimer = insideCallback();
      void Promise.resolve().then(() => resolve({ inTimer, inContinuation: insideCallback() }));
    }, 1);
  });
}

test('callbacks are counted from the first question on, the one running then included', async () => {
  const tracker = new ResourceTracker<string>({ ownerOf: () => 'test', promises: false });
  tracker.enable();
  try {
    // First asked inside a recorded timer's callback: counting starts there.
    expect(await askInTimerAndAfter()).toEqual({ inTimer: true, inContinuation: false });
    expect(insideCallback()).toBe(false);
    // Counted by the hook since then.
    expect(await askInTimerAndAfter()).toEqual({ inTimer: true, inContinuation: false });
    expect(insideCallback()).toBe(false);
  } finally {
    tracker.disable();
  }
});

test('a tracker enabled after the first question counts at once', async () => {
  const tracker = new ResourceTracker<string>({ ownerOf: () => 'test', promises: false });
  tracker.enable();
  try {
    expect(await askInTimerAndAfter()).toEqual({ inTimer: true, inContinuation: false });
  } finally {
    tracker.disable();
  }
});
