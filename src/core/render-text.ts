import type { CreationSite, HangFinding, LeakFinding } from './model';
import { renderAwaitSection } from './await-stacks/render';
import { renderLockSection } from './locks/render';
import { displayPath } from './stack';
import {
  fakeTimerSummary,
  groupPending,
  headline,
  madeByText,
  ownerNote,
  pendingVerdict,
} from './wording';

export interface TextOptions {
  /** Paths are shown relative to this directory. */
  rootDir: string;
}

/**
 * Plain text (no colours): it becomes the failure message, which other reporters (jest-junit,
 * CI logs) carry verbatim.
 */
export function renderHangText(finding: HangFinding, options: TextOptions): string {
  const lines: string[] = [headline(finding), ...renderAwaitSection(finding, options.rootDir)];
  let number = 0;
  for (const group of groupPending(finding)) {
    lines.push(group.title);
    for (const resource of group.resources) {
      number++;
      const flags = [
        resource.keepsAlive ? undefined : "unref'd",
        ownerNote(resource, finding),
      ].filter(Boolean);
      lines.push(`  ${number}. ${resource.summary}${flags.length ? ` (${flags.join('; ')})` : ''}`);
      lines.push(...siteLines(resource.site, options, '     '));
      if (resource.madeBy) {
        const { file, line, column } = resource.madeBy;
        const where = `${displayPath(file, options.rootDir)}:${line}:${column}`;
        lines.push(`     ${madeByText(resource.madeBy, where)}`);
      }
    }
  }
  if (finding.omittedCount > 0) {
    lines.push(`  ...and ${finding.omittedCount} more pending resources not shown.`);
  }
  if (finding.fakeTimers) {
    const { implementation, pending } = finding.fakeTimers;
    lines.push(
      `Fake timers (${implementation}) hold ${pending.length} pending timer${pending.length === 1 ? '' : 's'}:`,
    );
    for (const timer of pending) {
      const note = ownerNote(timer, finding);
      lines.push(`  - ${fakeTimerSummary(timer)}${note ? ` (${note})` : ''}`);
      lines.push(...siteLines(timer.site, options, '    '));
    }
  }
  if (finding.pendingPromises && finding.pendingPromises.length > 0) {
    lines.push('Pending promises it created (the innermost `new Promise` first):');
    for (const promise of finding.pendingPromises) {
      lines.push(`  - ${promise.summary}`);
      lines.push(...siteLines(promise.site, options, '    '));
    }
  }
  if (finding.locks) lines.push(...renderLockSection(finding.locks, options));
  for (const thrown of finding.thrownBeforeDone ?? []) {
    lines.push(`Before \`done()\` was reached, a callback threw: ${thrown.message}`);
    lines.push(...siteLines(thrown.site, options, '  '));
  }
  const verdict = pendingVerdict(finding);
  if (verdict) lines.push(verdict);
  lines.push(...finding.notes);
  return lines.join('\n');
}

function siteLines(site: CreationSite | undefined, options: TextOptions, indent: string): string[] {
  const top = site?.top;
  if (!top) return [`${indent}created at an unknown place (no user code on its stack)`];
  const where = `${displayPath(top.file, options.rootDir)}:${top.line}:${top.column}`;
  const via = top.origin === 'dependency' && top.packageName ? ` (inside ${top.packageName})` : '';
  const code = site.sourceLine ? `   ${site.sourceLine}` : '';
  return [`${indent}created at ${where}${via}${code}`];
}

/** The warning (or failure) for resources a test or file left open. */
export function renderLeakText(finding: LeakFinding, options: TextOptions): string {
  const count = finding.resources.length + finding.omittedCount;
  const subject =
    finding.scope === 'test'
      ? `test "${finding.testName}"`
      : `${displayPath(finding.testPath, options.rootDir)}, after its last test,`;
  const lines = [
    `hangwatch: ${subject} left ${count} resource${count === 1 ? '' : 's'} open that keep${count === 1 ? 's' : ''} the process alive:`,
  ];
  finding.resources.forEach((resource, index) => {
    const owner = resource.owner;
    const where =
      finding.scope === 'file' && owner
        ? owner.kind === 'module'
          ? ' (started while the file was loading)'
          : ` (started in ${owner.kind})`
        : '';
    lines.push(`  ${index + 1}. ${resource.summary}${where}`);
    lines.push(...siteLines(resource.site, options, '     '));
  });
  if (finding.omittedCount > 0) lines.push(`  ...and ${finding.omittedCount} more not shown.`);
  return lines.join('\n');
}
