import { renderAwaitSection, renderDoneCallersSection } from '../await-stacks/render';
import { formatDuration, withArticle } from '../format';
import { renderLockSection } from './locks';
import type {
  BlockedLoopFinding,
  FakeTimersState,
  HandledError,
  HangFinding,
  LeakFinding,
} from '../model';
import {
  fakeTimerSummary,
  groupPending,
  headline,
  leftByNote,
  ownerNote,
  pendingVerdict,
  unitLabel,
} from '../wording';
import { noteLines } from './advice';
import type { Block, Entry } from './blocks';
import { formatLocation, formatPath } from './location';
import { describePending } from './pending';

/** The sections of a hang report, in order, as every view shows them. */
export function hangBlocks(finding: HangFinding, rootDir: string): Block[] {
  const blocks: Block[] = [{ kind: 'headline', text: headline(finding) }];
  for (const section of [
    renderAwaitSection(finding, rootDir),
    renderDoneCallersSection(finding, rootDir),
  ]) {
    if (section.length === 0) continue;
    blocks.push({ kind: 'lines', title: section[0], label: section[0], lines: section.slice(1) });
  }
  const handled = finding.handledErrors ?? [];
  if (handled.length > 0) {
    blocks.push({
      kind: 'list',
      title: `While it waited, its own work emitted ${handled.length === 1 ? 'an error' : `${handled.length} errors`} that a listener took, so nothing failed:`,
      numbered: false,
      entries: handled.map((error) => ({
        text: handledErrorText(error),
        flags: [],
        showSite: false,
      })),
    });
  }
  for (const group of groupPending(finding)) {
    blocks.push({
      kind: 'list',
      title: group.title,
      numbered: true,
      entries: group.resources.map((resource) => ({
        text: describePending(resource),
        flags: [
          resource.keepsAlive ? undefined : "unref'd",
          ownerNote(resource, finding),
          resource.leftBy
            ? leftByNote(resource.leftBy, formatPath(resource.leftBy.testPath, rootDir))
            : undefined,
        ].filter((flag): flag is string => flag !== undefined),
        ...(resource.site ? { site: resource.site } : {}),
        showSite: true,
        ...(resource.madeBy ? { madeBy: resource.madeBy } : {}),
      })),
    });
  }
  if (finding.omittedCount > 0) {
    blocks.push({
      kind: 'omitted',
      text: `...and ${finding.omittedCount} more pending resources not shown.`,
    });
  }
  if (finding.fakeTimers) {
    const { implementation, pending, advancesWithRealTime } = finding.fakeTimers;
    blocks.push({
      kind: 'list',
      title: `${whoseFakeTimersHold(implementation)} ${pending.length} pending timer${pending.length === 1 ? '' : 's'}:`,
      numbered: false,
      entries: pending.map((timer) => {
        const note = ownerNote(timer, finding);
        return {
          text: fakeTimerSummary(timer, advancesWithRealTime === true),
          flags: note ? [note] : [],
          ...(timer.site ? { site: timer.site } : {}),
          // A clock the test installs itself is seen once it is in place: a timer it held by
          // then has no recorded creation, which is no sign of a missing user frame.
          showSite: timer.site !== undefined || implementation !== 'installed',
        };
      }),
    });
  }
  if (finding.pendingPromises && finding.pendingPromises.length > 0) {
    blocks.push({
      kind: 'list',
      title: 'Pending promises it created (the innermost `new Promise` first):',
      numbered: false,
      entries: finding.pendingPromises.map((promise): Entry => ({
        text: describePending(promise),
        flags: [],
        ...(promise.site ? { site: promise.site } : {}),
        showSite: true,
      })),
    });
  }
  if (finding.locks) {
    const lines = renderLockSection(finding.locks, { rootDir });
    const titled = lines[0]?.startsWith('Locks (') === true;
    blocks.push({
      kind: 'lines',
      ...(titled ? { title: lines[0] } : {}),
      label: titled ? lines[0] : 'Locks:',
      lines: titled ? lines.slice(1) : lines,
    });
  }
  for (const thrown of finding.thrownBeforeDone ?? []) {
    blocks.push({
      kind: 'paragraph',
      text: `Before \`done()\` was reached, a callback threw: ${thrown.message}`,
      ...(thrown.site ? { site: thrown.site } : {}),
      showSite: true,
    });
  }
  const verdict = pendingVerdict(finding);
  if (verdict) blocks.push({ kind: 'paragraph', text: verdict });
  for (const note of noteLines(finding)) blocks.push({ kind: 'note', text: note });
  return blocks;
}

/** The sections of a leak report: what a test or file left open. */
export function leakBlocks(finding: LeakFinding, rootDir: string): Block[] {
  const count = finding.resources.length + finding.omittedCount;
  const subject =
    finding.scope === 'test'
      ? `test "${finding.testName}"`
      : `${formatPath(finding.testPath, rootDir)}, after its last test,`;
  const blocks: Block[] = [
    {
      kind: 'list',
      title: `hangwatch: ${subject} left ${count} resource${count === 1 ? '' : 's'} open that keep${count === 1 ? 's' : ''} the process alive:`,
      numbered: true,
      entries: finding.resources.map((resource) => {
        const owner = resource.owner;
        const flag =
          finding.scope === 'file' && owner
            ? owner.kind === 'module'
              ? 'started while the file was loading'
              : `started in ${owner.kind}`
            : undefined;
        return {
          text: describePending(resource),
          flags: flag ? [flag] : [],
          ...(resource.site ? { site: resource.site } : {}),
          showSite: true,
        };
      }),
    },
  ];
  if (finding.omittedCount > 0) {
    blocks.push({ kind: 'omitted', text: `...and ${finding.omittedCount} more not shown.` });
  }
  return blocks;
}

function blockedWhere(finding: BlockedLoopFinding, rootDir: string): string {
  const top = finding.site?.top;
  const call = finding.nativeCall;
  if (call) {
    const at = top ? ` at ${formatLocation(top, rootDir)}` : '';
    return ` in a native call, ${call.api}(${call.args}),${at}`;
  }
  if (!top) {
    return finding.stack.length === 0
      ? ' outside JavaScript (a synchronous native call: execSync, Atomics.wait, a sync fs call...)'
      : ' in code that is not the project’s own';
  }
  return ` at ${formatLocation(top, rootDir)}`;
}

/**
 * How far a frozen unit got: past its timeout, or, with none of its own yet (a Jest 29 concurrent
 * test's code, run before the test started), past the timeout of the test running then.
 */
export function pastTimeout(timeoutMs: number): string {
  return timeoutMs > 0
    ? `past its ${formatDuration(timeoutMs)} timeout`
    : 'past the timeout of the test running then';
}

/** "test "x" blocked the event loop for 2.5 s at loop.test.js:4:3" */
export function blockedLoopHeadline(finding: BlockedLoopFinding, rootDir: string): string {
  if (finding.frozen) {
    return `${unitLabel(finding)} froze the event loop: blocked for ${formatDuration(finding.blockedMs)}, ${pastTimeout(finding.timeoutMs)},${blockedWhere(finding, rootDir)}.`;
  }
  return `${unitLabel(finding)} blocked the event loop for ${formatDuration(finding.blockedMs)}${blockedWhere(finding, rootDir)}.`;
}

/** The sections of a blocked-loop report: headline, the loop's source line, the stack, notes. */
export function blockedLoopBlocks(finding: BlockedLoopFinding, rootDir: string): Block[] {
  const blocks: Block[] = [{ kind: 'headline', text: blockedLoopHeadline(finding, rootDir) }];
  if (finding.site?.sourceLine) blocks.push({ kind: 'source', code: finding.site.sourceLine });
  const shown = finding.stack.filter((frame) => frame.origin !== 'internal');
  if (shown.length > 0) {
    const title = finding.nativeCall
      ? 'Where the test made the call (most recent call first):'
      : 'Stack of the test when the watchdog looked (most recent call first):';
    blocks.push({
      kind: 'lines',
      title,
      label: title,
      // Not "at ...": Jest takes lines that start so in a failure message for the error's own stack.
      lines: shown.map((frame) => {
        const location = formatLocation(frame, rootDir);
        return `  ${frame.functionName ? `- ${frame.functionName} (${location})` : `- ${location}`}`;
      }),
    });
  }
  for (const note of noteLines(finding)) blocks.push({ kind: 'note', text: note });
  return blocks;
}

/** Whose fake clock holds the timers: Jest's (by implementation) or the test's own. */
function whoseFakeTimersHold(implementation: FakeTimersState['implementation']): string {
  return implementation === 'installed'
    ? 'A fake clock the test installed itself holds'
    : `Fake timers (${implementation}) hold`;
}

/** `connect ECONNREFUSED 127.0.0.1:6399: 5 times, on a Socket and a Redis; the last 102 ms before this report`. */
function handledErrorText(error: HandledError): string {
  const code = error.code && !error.message.includes(error.code) ? ` (${error.code})` : '';
  const times = error.count === 1 ? 'once' : `${error.count} times`;
  const on = error.emitters.map((name) => withArticle(name)).join(' and ');
  return `${error.message}${code}: ${times}, on ${on}; the last ${formatDuration(error.lastAgoMs)} before this report`;
}
