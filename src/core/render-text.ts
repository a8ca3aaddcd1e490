import type { CreationSite, HangFinding } from './model';
import { displayPath } from './stack';
import { NOTHING_PENDING, fakeTimerSummary, groupPending, headline, ownerNote } from './wording';

export interface TextOptions {
  /** Paths are shown relative to this directory. */
  rootDir: string;
}

/**
 * Plain text (no colours): it becomes the failure message, which other reporters (jest-junit,
 * CI logs) carry verbatim.
 */
export function renderHangText(finding: HangFinding, options: TextOptions): string {
  const lines: string[] = [headline(finding)];
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
      lines.push(`  - ${fakeTimerSummary(timer)}`);
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
  if (finding.nothingPending) lines.push(NOTHING_PENDING);
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
