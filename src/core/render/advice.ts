import { formatBytes, formatDuration } from '../format';
import type { Advice, FakeTimersState } from '../model';

/** The sentence for one piece of advice, as every view prints it. */
export function adviceText(advice: Advice): string {
  switch (advice.code) {
    case 'advance-fake-timers':
      return advice.advancesWithRealTime
        ? advancingClockAdvice(advice.implementation, advice.timers, advice.nextDueInMs)
        : fakeTimerAdvice(advice.implementation, advice.timers);
    case 'call-done':
      return 'Only a call to `done` can end it now: check that every path (errors included) calls it.';
    case 'record-promises':
      return advice.nothingPending
        ? 'It is awaiting a promise nobody resolves or an event nobody emits. Set `promises: true` in testEnvironmentOptions.hangwatch to record where pending promises were created.'
        : 'Set `promises: true` in testEnvironmentOptions.hangwatch to record where the promises it awaits were created.';
    case 'await-stacks-heap-limit':
      return `Await stacks were not read: the heap (${formatBytes(advice.heapBytes)}) is over \`awaitStacksMaxHeapMb\` (${advice.limitMb} MB), and a heap snapshot takes about a second per 10 MB (a ts-jest run in band loads TypeScript into it). Raise the limit, or set \`promises: true\` to record where pending promises were created.`;
    case 'polling':
      if (advice.immediate) {
        return `It scheduled ${advice.timers} setImmediate callbacks while it waited, one after another, the latest still pending: a loop that only yields a turn is waiting for something that has not happened (and keeps a CPU busy meanwhile). Look at what the loop waits for.`;
      }
      if (advice.interval) {
        return `Its setInterval${advice.delayMs !== undefined ? ` (every ${formatDuration(advice.delayMs)})` : ''} fired about ${advice.timers} times while it waited and still runs: a poll is waiting for something that has not happened. Look at what the poll checks, not at its timer.`;
      }
      return `It set ${advice.timers} timers while it waited, one after another, the latest ${advice.delayMs !== undefined ? `(${formatDuration(advice.delayMs)}) ` : ''}still pending: a poll or retry loop is waiting for something that has not happened. Look at what the loop waits for, not at its timer.`;
    case 'await-stacks-budget':
      return `Await stacks were not read: this file's hang reports already spent ${formatDuration(advice.spentMs)} of CPU on heap snapshots.`;
    case 'blocked-loop-warning':
      return `A warning only: the ${advice.unit} is not failed. Nothing else runs while the loop is blocked (timers, I/O, other tests' callbacks); set blockedLoop: 'error' in testEnvironmentOptions.hangwatch to fail it, or raise blockThreshold (${advice.blockThresholdMs} ms).`;
    case 'starved-thread': {
      const waited = `hangwatch waited ${formatDuration(advice.waitedMs)} longer than its blockThreshold before ending it`;
      return advice.asleep
        ? `Past its timeout the thread was neither running JavaScript nor in a blocking call hangwatch records (a native addon, or a synchronous call it does not know): ${waited}.`
        : `Past its timeout the thread got ${advice.cpuPercent}% of a CPU (the machine is busy): ${waited}, in case it was only slow.`;
    }
    case 'ended-child-process':
      return `Jest's timeout cannot fire while the thread is blocked, so hangwatch ended the child process this call started (pid ${advice.pid}, and what it started): the call threw, the ${advice.unit} failed with this report, and the run went on.`;
    case 'ended-process':
      return endedProcessText(advice);
    case 'rerun-after-freeze':
      return `Jest's timeout cannot fire while the loop is blocked, so hangwatch ended the worker process running it (exit code ${advice.exitCode}); Jest ran the file again in a new worker, where this ${advice.unit} was not called again.`;
    case 'rerun-missing':
      return `Jest's timeout cannot fire while the loop is blocked, so hangwatch ended the worker process running it (exit code ${advice.exitCode}) for Jest to run the file again, but no rerun reported this ${advice.unit}: the process ended another way, or the rerun did not get to it (a name that changes from run to run). Jest's message for the file says what it saw.`;
  }
}

/** What to do about pending fake timers, in the calls the implementation in use has. */
function fakeTimerAdvice(implementation: FakeTimersState['implementation'], count: number): string {
  const which = count === 1 ? 'pending fake timer only fires' : 'pending fake timers only fire';
  switch (implementation) {
    case 'legacy':
      return `Fake timers (legacy) are installed: the ${which} when the test advances the clock. Legacy fake timers have no async methods: call jest.advanceTimersByTime(ms), jest.runOnlyPendingTimers() or jest.runAllTimers() before awaiting the promise, or use modern fake timers (jest.useFakeTimers()) and await jest.advanceTimersByTimeAsync(ms).`;
    case 'installed':
      return `The test installed a fake clock of its own (@sinonjs/fake-timers' install(), sinon.useFakeTimers()): the ${which} when the test advances that clock: await clock.tickAsync(ms) or clock.runAllAsync() while the promise is pending, or uninstall the clock (clock.uninstall(), sinon's clock.restore()) before waiting on real time.`;
    default:
      return `Fake timers (modern) are installed: the ${which} when the test advances the clock: advance it before awaiting, or await jest.advanceTimersByTimeAsync / jest.runAllTimersAsync (or call jest.runAllTimers) while the promise is pending.`;
  }
}

/**
 * A clock that advances with real time needs no call: its timers fire later than the unit's
 * timeout allowed, which a call can bring forward.
 */
function advancingClockAdvice(
  implementation: FakeTimersState['implementation'],
  count: number,
  nextDueInMs: number | undefined,
): string {
  const installed = implementation === 'installed';
  const clock = installed
    ? "The test's own fake clock advances with real time (shouldAdvanceTime)"
    : 'Fake timers (modern) advance with real time (advanceTimers)';
  const timers = count === 1 ? 'the pending fake timer fires' : 'the pending fake timers fire';
  const when =
    nextDueInMs === undefined
      ? ''
      : `, ${count === 1 ? '' : 'the next '}in about ${formatDuration(nextDueInMs)}`;
  const calls = installed
    ? 'await clock.tickAsync(ms) or clock.runAllAsync()'
    : 'await jest.advanceTimersByTimeAsync(ms) or jest.runAllTimersAsync()';
  return `${clock}: ${timers} on its own as time passes${when}, later than the timeout allowed. To get there sooner, ${calls} while the promise is pending, or give the test a longer timeout.`;
}

function endedProcessText(advice: Extract<Advice, { code: 'ended-process' }>): string {
  const prefix = "Jest's timeout cannot fire while the loop is blocked, so hangwatch ended";
  switch (advice.how) {
    case 'in-band':
      return `${prefix} the Jest process (exit code ${advice.exitCode}): the tests ran inside Jest itself (in band, without hangwatch's runner or with inBandWorker: false), so the run stops here, without the files still to run and without Jest's summary. With the preset's runner, or in worker processes, Jest carries on.`;
    case 'worker-rerun':
      return `${prefix} this Jest worker process (exit code ${advice.exitCode}). Jest runs the file again in a new worker, where this ${advice.unit} fails at once with this report.`;
    case 'worker-killed':
      return `${prefix} this Jest worker process (SIGKILL); Jest reports the file as crashed.`;
  }
}

/**
 * A finding's closing sentences: its advice in words, or, for a finding read back from a report
 * (which carries them already, written by `adviceText`), its `notes` as written.
 */
export function noteLines(finding: { advice?: Advice[]; notes?: string[] }): string[] {
  return finding.notes ?? (finding.advice ?? []).map(adviceText);
}
