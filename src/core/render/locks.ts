import { formatDuration } from '../format';
import type {
  CreationSite,
  Deadlock,
  LockOrderFinding,
  LockHold,
  LockOrderInversion,
  LockSection,
  LockState,
} from '../model';
import { formatLocation, formatPath, formatSite } from './location';

/** Text views of locks: the lock section of a hang report, a DeadlockError, an inversion warning. */
export interface LockTextOptions {
  rootDir: string;
}

export function siteText(site: CreationSite | undefined, options: LockTextOptions): string {
  return formatSite(site, options.rootDir) ?? 'an unknown place';
}

/** Why a holder can never release: its release function was dropped, or its flow ended. */
function endedText(hold: LockHold, before: string, after = ''): string {
  if (hold.releaseDropped) return `${before}its release function dropped uncalled${after}`;
  return hold.flow.endedAt
    ? `${before}ended at ${hold.flow.endedAt} without releasing${after}`
    : '';
}

/** "acquired at X"; for a busy lock's holder whose own site was not recorded, says whose it is. */
function acquiredAt(
  hold: { site?: CreationSite; siteSampled?: boolean },
  options: LockTextOptions,
): string {
  return hold.siteSampled
    ? `acquired at a place not recorded (busy lock; its last recorded acquisition: ${siteText(hold.site, options)})`
    : `acquired at ${siteText(hold.site, options)}`;
}

function shortSite(site: CreationSite | undefined, options: LockTextOptions): string {
  const top = site?.top;
  return top ? formatLocation(top, options.rootDir, { column: false }) : '?';
}

/** Who holds a lock and since where: `lock "x" is held by flow #3 (in test "t") since a.js:4:9 (1.2 s)`. */
export function renderHolders(state: LockState, options: LockTextOptions): string {
  if (state.holders.length === 0) return `lock "${state.name}" is free now`;
  const holders = state.holders.map(
    (hold) =>
      `${hold.flow.name}${hold.flow.owner ? ` (in ${hold.flow.owner.kind} "${hold.flow.owner.name}")` : ''} since ${siteText(hold.site, options)}${hold.siteSampled ? ' (its last recorded acquisition)' : ''} (${formatDuration(hold.heldMs)})`,
  );
  return `lock "${state.name}" is held by ${holders.join('; and by ')}`;
}

const HEADLINES: Record<Deadlock['kind'], (deadlock: Deadlock) => string> = {
  self: (deadlock) => {
    const { flow, waitsFor } = deadlock.steps[0];
    return waitsFor.kind === 'semaphore'
      ? `${flow.name} waits for a permit of semaphore "${waitsFor.lock}" whose permits it holds itself: none can be freed while this flow waits (permits taken on a path that never releases them, or taken again before releasing).`
      : `${flow.name} waits for lock "${waitsFor.lock}" that it already holds: it can never be released while this flow waits (a non-reentrant lock taken twice, or a release skipped by a return or throw).`;
  },
  cycle: (deadlock) =>
    `${deadlock.steps.length} flows wait for each other's locks (${[...new Set(deadlock.steps.map((step) => `"${step.waitsFor.lock}"`))].join(', ')}): none can ever go on.`,
  abandoned: (deadlock) => {
    const holder = deadlock.holders[0];
    const lock = holder?.lock ?? deadlock.steps[0].waitsFor.lock;
    if (holder?.hold.releaseDropped) {
      return `lock "${lock}" is held by ${holder.hold.flow.name}, whose release function was garbage-collected without being called (the code that acquired it returned or threw before releasing): nobody can release it any more.`;
    }
    return `lock "${lock}" is held by ${holder?.hold.flow.name ?? 'a flow'} that ended at ${holder?.hold.flow.endedAt ?? 'an unknown point'} without releasing it: nobody can release it any more.`;
  },
  blocked: (deadlock) =>
    `every flow waits for a lock (${deadlock.steps.length} waiting) and nothing else is pending (no timer, socket, request or child process) that could release one.`,
};

/** The first line of a deadlock's report. */
export function deadlockHeadline(deadlock: Deadlock): string {
  return `Deadlock: ${HEADLINES[deadlock.kind](deadlock)}`;
}

export function renderDeadlock(deadlock: Deadlock, options: LockTextOptions): string {
  const lines = [deadlockHeadline(deadlock)];
  for (const step of deadlock.steps) {
    lines.push(
      `  ${step.flow.name}${step.flow.owner ? ` (in ${step.flow.owner.kind} "${step.flow.owner.name}")` : ''}`,
    );
    for (const held of step.holds) {
      lines.push(`    holds "${held.lock}", ${acquiredAt(held, options)}`);
    }
    const verb = step.waitsFor.mode === 'unlock' ? 'waits for the unlock of' : 'waits for';
    lines.push(`    ${verb} "${step.waitsFor.lock}" at ${siteText(step.waitsFor.site, options)}`);
  }
  for (const { lock, hold } of deadlock.holders) {
    const ended = endedText(hold, ', ');
    lines.push(
      `  "${lock}" held for ${formatDuration(hold.heldMs)} by ${hold.flow.name}${ended}, ${acquiredAt(hold, options)}`,
    );
  }
  if (deadlock.kind === 'cycle' && deadlock.steps.length > 1)
    lines.push(...scenario(deadlock, options));
  return lines.join('\n');
}

const COLUMN = 40;

/**
 * Lockdep's "possible unsafe locking scenario": one column per flow, each taking what it holds,
 * then each asking for what it waits on, so the interleaving that deadlocks reads top to bottom.
 */
function scenario(deadlock: Deadlock, options: LockTextOptions): string[] {
  const columns = deadlock.steps.map((step) => step.flow.name);
  const row = (cells: string[]) =>
    '  ' +
    cells
      .map((cell) => cell.slice(0, COLUMN - 2).padEnd(COLUMN))
      .join('')
      .trimEnd();
  const lines = ['  Scenario:', row(columns), row(columns.map((name) => '-'.repeat(name.length)))];
  deadlock.steps.forEach((step, index) => {
    for (const held of step.holds) {
      const cells = columns.map(() => '');
      cells[index] = `lock(${held.lock}) ${held.siteSampled ? '?' : shortSite(held.site, options)}`;
      lines.push(row(cells));
    }
  });
  deadlock.steps.forEach((step, index) => {
    const cells = columns.map(() => '');
    cells[index] = `lock(${step.waitsFor.lock}) ${shortSite(step.waitsFor.site, options)}`;
    lines.push(row(cells));
  });
  lines.push('  *** DEADLOCK ***');
  return lines;
}

/** The first line of an inversion's report. */
export function inversionHeadline({ first, second }: LockOrderInversion): string {
  return `Possible deadlock: locks "${first}" and "${second}" are taken in opposite orders.`;
}

export function renderInversion(inversion: LockOrderInversion, options: LockTextOptions): string {
  const { first, second, forward, backward } = inversion;
  return [
    inversionHeadline(inversion),
    `  ${forward.flow} took "${first}" then "${second}":`,
    `    "${first}" at ${siteText(forward.heldSite, options)}`,
    `    "${second}" at ${siteText(forward.takenSite, options)}`,
    `  ${backward.flow} took "${second}" then "${first}":`,
    `    "${second}" at ${siteText(backward.heldSite, options)}`,
    `    "${first}" at ${siteText(backward.takenSite, options)}`,
    '  Scenario:',
    `  ${'flow 1'.padEnd(COLUMN)}flow 2`,
    `  ${'------'.padEnd(COLUMN)}------`,
    `  lock(${first})`,
    `  ${''.padEnd(COLUMN)}lock(${second})`,
    `  lock(${second})`,
    `  ${''.padEnd(COLUMN)}lock(${first})`,
    '  *** DEADLOCK ***',
    '  Take them in one order everywhere (hangwatch option lockOrder: "warn" | "error" | "off").',
  ].join('\n');
}

/** The lock section of a hang report. */
export function renderLockSection(section: LockSection, options: LockTextOptions): string[] {
  const lines: string[] = [];
  if (section.locks.length > 0) lines.push(`Locks (${section.locks.length}):`);
  for (const lock of section.locks) {
    const capacity = lock.kind === 'semaphore' ? `, ${lock.capacity} permits` : '';
    lines.push(
      `  "${lock.name}" (${lock.kind}${capacity}${lock.site ? `, created at ${shortSite(lock.site, options)}` : ''})`,
    );
    for (const hold of lock.holders) {
      const ended = endedText(hold, ' (', ')');
      lines.push(
        `    held by ${hold.flow.name}${ended} for ${formatDuration(hold.heldMs)}, ${acquiredAt(hold, options)}`,
      );
    }
    for (const wait of lock.waiters) {
      lines.push(
        `    waited on by ${wait.flow.name} for ${formatDuration(wait.waitingMs)} at ${siteText(wait.site, options)}`,
      );
    }
  }
  if (section.deadlock) lines.push(...renderDeadlock(section.deadlock, options).split('\n'));
  for (const inversion of section.inversions)
    lines.push(...renderInversion(inversion, options).split('\n'));
  return lines;
}

/** A lock-order finding in words; one seen across test processes says where each order was. */
export function lockOrderFindingText(finding: LockOrderFinding, options: LockTextOptions): string {
  const text = renderInversion(finding.inversion, options);
  const first = finding.firstOrderSeenIn;
  if (!first) return text;
  const { first: a, second: b } = finding.inversion;
  return `${text}\n  Seen across test processes: "${a}" then "${b}" in ${formatPath(first.testPath, options.rootDir)} (test "${first.testName}"), the opposite order in ${formatPath(finding.testPath, options.rootDir)} (test "${finding.testName}").`;
}
