import { plural } from '../core/format';
import type { Finding, KeptAliveResource, OwnerRef } from '../core/model';
import { ownerWords } from '../core/wording';
import { renderBlockedLoopText, renderHangText, renderLeakText } from '../core/render-text';
import { formatLocation, formatPath } from '../core/render/location';
import { describePending } from '../core/render/pending';
import { digestOf, type FindingDigest } from './digest';

/** Plain words for each kind, singular and plural; an unknown kind is shown as it is spelled. */
const KIND_WORDS: Record<string, [string, string]> = {
  hang: ['hang', 'hangs'],
  leak: ['leak', 'leaks'],
  deadlock: ['deadlock', 'deadlocks'],
  'lock-order': ['lock-order inversion', 'lock-order inversions'],
  'blocked-loop': ['blocked event loop', 'blocked event loops'],
};

export function kindCount(kind: string, count: number): string {
  const [one, many] = KIND_WORDS[kind] ?? [kind, kind];
  return plural(count, one, many);
}

/** "2 hangs, 1 leak", kinds in order of first appearance. */
export function countByKind(findings: Finding[]): string {
  const counts = new Map<string, number>();
  for (const finding of findings) counts.set(finding.kind, (counts.get(finding.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => kindCount(kind, count)).join(', ');
}

/** `file:line:col` relative to rootDir, or the test file alone when no line is known. */
export function whereOf(digest: FindingDigest, rootDir: string): string {
  if (digest.location) return formatLocation(digest.location, rootDir);
  return digest.testPath ? formatPath(digest.testPath, rootDir) : '(no location)';
}

export interface SummaryOptions {
  rootDir: string;
  /** Where the JSON report was written, to point at it. */
  reportFile?: string;
  /** Findings that fail the run under `failOn`, and the policy, for the closing line. */
  gate?: { failOn: readonly string[]; failing: Finding[] };
}

/**
 * The end-of-run summary: one entry per finding with its kind, the culprit line, the test and
 * one line of why. An empty string when there is nothing to say.
 */
export function renderRunSummary(findings: Finding[], options: SummaryOptions): string {
  if (findings.length === 0) return '';
  const lines = [
    `hangwatch: ${plural(findings.length, 'finding')} in this run: ${countByKind(findings)}`,
  ];
  const digests = findings.map(digestOf);
  const width = Math.max(...digests.map((digest) => digest.kind.length));
  for (const digest of digests) {
    const test = digest.testName ? `  ${digest.testName}` : '';
    lines.push(`  ${digest.kind.padEnd(width)}  ${whereOf(digest, options.rootDir)}${test}`);
    lines.push(`  ${' '.repeat(width)}  ${digest.why}`);
  }
  if (options.reportFile) {
    lines.push(`Full report: ${formatPath(options.reportFile, options.rootDir)}`);
  }
  const gate = options.gate;
  if (gate && gate.failing.length > 0) {
    lines.push(
      `hangwatch failed the run: ${countByKind(gate.failing)} (failOn: ${gate.failOn.join(', ')}).`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The answer to Jest's "did not exit one second after the test run has completed" (or its
 * force-exited workers): the leaks, and the work of timed-out tests, still holding a process open
 * after its last test, each with the process, what it is, where it was created and by which test.
 * Empty when there are none.
 */
export function renderKeptAlive(
  keptAlive: KeptAliveResource[],
  rootDir: string,
  reportFile?: string,
): string {
  if (keptAlive.length === 0) return '';
  const lines = [
    `hangwatch: after the last test, ${plural(keptAlive.length, 'resource')} still ${keptAlive.length === 1 ? 'holds' : 'hold'} the process open (why Jest may not exit):`,
  ];
  for (const { process, testPath, testName, timedOut, timedOutUnit, resource } of keptAlive.slice(
    0,
    KEPT_ALIVE_SHOWN,
  )) {
    const top = resource.site?.top;
    const where = top ? formatLocation(top, rootDir) : 'an unknown place';
    const file = formatPath(testPath, rootDir);
    // Made in a hook: named as the hook, not as its test's or its file's.
    const hook = hookOf(resource);
    const by = hook
      ? `the ${ownerWords(hook)} of ${file}`
      : testName
        ? `test "${testName}"`
        : `${file} (file level)`;
    lines.push(`  ${process}: ${describePending(resource)}`);
    // Made by work that went on after its file: the site is that work's line, in that file.
    const after = resource.leftBy ? ', whose work went on after its file ended' : '';
    lines.push(`    created at ${where} by ${by}${after}`);
    if (timedOutUnit) lines.push(`    ${timedOutWords(timedOutUnit)}`);
    else if (timedOut) {
      const unit = hook ? 'hook' : 'test';
      lines.push(
        `    it timed out, and Jest does not stop a timed-out ${unit}'s timers, loops or requests`,
      );
    }
  }
  const more = keptAlive.length - KEPT_ALIVE_SHOWN;
  if (more > 0) {
    const where = reportFile ? `, all listed in ${formatPath(reportFile, rootDir)}` : '';
    lines.push(`  …and ${more} more${where}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Another unit of its test timed out: a hook waiting on it, or the test a hook's work ran for. */
function timedOutWords(unit: OwnerRef): string {
  return unit.kind === 'test'
    ? `${ownerWords(unit)} timed out while this was open, and Jest does not stop the timers, loops or requests of a timed-out test's hooks`
    : `the ${ownerWords(unit)} timed out waiting on it, and Jest does not stop what a timed-out hook waits on`;
}

function hookOf(resource: KeptAliveResource['resource']): OwnerRef | undefined {
  const owner = resource.leftBy?.owner ?? resource.owner;
  return owner && owner.kind !== 'test' && owner.kind !== 'module' ? owner : undefined;
}

/** Entries the terminal shows of the end-of-run list; the JSON report has them all. */
const KEPT_ALIVE_SHOWN = 20;

/** A finding's full report as the terminal shows it. */
export function renderFindingText(finding: Finding, rootDir: string): string {
  if (finding.kind === 'hang') return renderHangText(finding, { rootDir });
  if (finding.kind === 'leak') return renderLeakText(finding, { rootDir });
  if (finding.kind === 'blocked-loop') return renderBlockedLoopText(finding, rootDir);
  const digest = digestOf(finding);
  const test = digest.testName ? ` in test "${digest.testName}"` : '';
  const body = (finding as unknown as { text?: unknown }).text;
  return [
    `${kindCount(digest.kind, 1).replace(/^1 /, '')}${test}: ${digest.why}`,
    `  at ${whereOf(digest, rootDir)}`,
    ...(typeof body === 'string' ? [body] : []),
  ].join('\n');
}
