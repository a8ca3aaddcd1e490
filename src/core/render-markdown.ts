import type { CreationSite, HangFinding } from './model';
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

/** Markdown view of a hang, for CI job summaries and issue comments. */
export function renderHangMarkdown(finding: HangFinding, options: { rootDir: string }): string {
  const out: string[] = [
    `### ⏳ ${escape(headline(finding))}`,
    '',
    `File: \`${displayPath(finding.testPath, options.rootDir)}\``,
    '',
  ];
  const awaitLines = renderAwaitSection(finding, options.rootDir);
  if (awaitLines.length > 0) {
    out.push(`**${escape(awaitLines[0])}**`, '', '```', ...awaitLines.slice(1), '```', '');
  }
  for (const group of groupPending(finding)) {
    out.push(`**${escape(group.title)}**`, '');
    for (const resource of group.resources) {
      const note = ownerNote(resource, finding);
      out.push(
        `1. ${escape(resource.summary)}${note ? ` _(${escape(note)})_` : ''}${siteText(resource.site, options.rootDir)}`,
      );
      if (resource.madeBy) {
        const { file, line, column } = resource.madeBy;
        const where = `\`${displayPath(file, options.rootDir)}:${line}:${column}\``;
        out.push(`   ${madeByText(resource.madeBy, where)}`);
      }
    }
    out.push('');
  }
  if (finding.omittedCount > 0) out.push(`…and ${finding.omittedCount} more not shown.`, '');
  if (finding.fakeTimers) {
    out.push(`**Fake timers (${finding.fakeTimers.implementation})**`, '');
    for (const timer of finding.fakeTimers.pending) {
      const note = ownerNote(timer, finding);
      out.push(
        `- ${escape(fakeTimerSummary(timer))}${note ? ` _(${escape(note)})_` : ''}${siteText(timer.site, options.rootDir)}`,
      );
    }
    out.push('');
  }
  if (finding.pendingPromises && finding.pendingPromises.length > 0) {
    out.push('**Pending promises it created (the innermost `new Promise` first)**', '');
    for (const promise of finding.pendingPromises) {
      out.push(`- ${escape(promise.summary)}${siteText(promise.site, options.rootDir)}`);
    }
    out.push('');
  }
  if (finding.locks) {
    const lockLines = renderLockSection(finding.locks, options);
    out.push('**Locks**', '', '```', ...lockLines, '```', '');
  }
  for (const thrown of finding.thrownBeforeDone ?? []) {
    out.push(
      `Before \`done()\` was reached, a callback threw: ${escape(thrown.message)}${siteText(thrown.site, options.rootDir)}`,
      '',
    );
  }
  const verdict = pendingVerdict(finding);
  if (verdict) out.push(verdict, '');
  for (const note of finding.notes) out.push(`> ${escape(note)}`);
  return out.join('\n').trimEnd() + '\n';
}

function siteText(site: CreationSite | undefined, rootDir: string): string {
  const top = site?.top;
  if (!top) return '';
  const code = site.sourceLine ? `\n   \`${site.sourceLine.replace(/`/g, "'")}\`` : '';
  return ` — \`${displayPath(top.file, rootDir)}:${top.line}:${top.column}\`${code}`;
}

function escape(text: string): string {
  return text.replace(/([<>*_|])/g, '\\$1');
}
