import { REPORT_SCHEMA_VERSION, type Finding, type KeptAliveResource } from '../core/model';
import { keptAliveWithWords, withWords } from '../core/render/words';

/**
 * The saved report (`hangwatch-report.json`): every finding of a run, its facts unchanged and
 * their words added (a pending resource's `summary`, a finding's `notes`: see `withWords`), plus what is
 * needed to read it later (versions, shard, root directory). A single run and a merge of shard
 * runs have the same shape: `runs` simply lists more than one. Described for other tools by
 * `schema/hangwatch-report.schema.json`; a unit test keeps the two in step.
 */

export const REPORT_FORMAT = 'hangwatch-report';

export interface RunInfo {
  /** Unique per Jest run; merging the same run twice is refused. */
  runId: string;
  startedAt: string;
  finishedAt: string;
  hangwatchVersion: string;
  nodeVersion: string;
  /** The version of the Jest that ran, when it could be found. */
  jestVersion: string | null;
  platform: string;
  /** Jest's rootDir: finding paths are absolute, views show them relative to this. */
  rootDir: string;
  /** `--shard=index/count`, or null for an unsharded run. */
  shard: { index: number; count: number } | null;
  tests: { suites: number; total: number; passed: number; failed: number };
  findingCount: number;
}

export interface HangwatchReport {
  format: typeof REPORT_FORMAT;
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  runs: RunInfo[];
  /** Every finding of every run, ordered by test file (and in the order found within a file). */
  findings: Finding[];
  /**
   * Leaked resources that still held a process open after its last test: why Jest "did not
   * exit" or had to force a worker to exit. Absent when nothing did.
   */
  keptAlive?: KeptAliveResource[];
}

/** A report that cannot be read: the CLI prints the message and exits 2. */
export class ReportFormatError extends Error {
  override name = 'ReportFormatError';
}

export function buildReport(
  run: Omit<RunInfo, 'findingCount'>,
  findings: Finding[],
  keptAlive: KeptAliveResource[] = [],
): HangwatchReport {
  return {
    format: REPORT_FORMAT,
    schemaVersion: REPORT_SCHEMA_VERSION,
    runs: [{ ...run, findingCount: findings.length }],
    findings: byTestFile(findings.map((finding) => withWords(finding, run.rootDir))),
    ...(keptAlive.length > 0 ? { keptAlive: keptAlive.map(keptAliveWithWords) } : {}),
  };
}

/**
 * Combines shard reports into one, as if the shards had been a single run. A test file runs in
 * exactly one shard, so ordering by test file gives the unsharded run's order.
 */
export function mergeReports(reports: HangwatchReport[]): HangwatchReport {
  const seen = new Set<string>();
  for (const run of reports.flatMap((report) => report.runs)) {
    if (seen.has(run.runId)) {
      throw new ReportFormatError(
        `run ${run.runId}${run.shard ? ` (shard ${run.shard.index}/${run.shard.count})` : ''} appears in more than one input; each shard's report must be given once.`,
      );
    }
    seen.add(run.runId);
  }
  const runs = reports
    .flatMap((report) => report.runs)
    .sort((a, b) => (a.shard?.index ?? 0) - (b.shard?.index ?? 0));
  const keptAlive = reports.flatMap((report) => report.keptAlive ?? []);
  return {
    format: REPORT_FORMAT,
    schemaVersion: REPORT_SCHEMA_VERSION,
    runs,
    findings: byTestFile(reports.flatMap((report) => report.findings)),
    ...(keptAlive.length > 0 ? { keptAlive } : {}),
  };
}

/** Stable: findings of one file keep the order they were found in. */
function byTestFile(findings: Finding[]): Finding[] {
  const fileOf = (finding: Finding) => {
    const testPath = (finding as { testPath?: unknown }).testPath;
    return typeof testPath === 'string' ? testPath : '';
  };
  return [...findings].sort((a, b) => (fileOf(a) < fileOf(b) ? -1 : fileOf(a) > fileOf(b) ? 1 : 0));
}

/**
 * Checks what readers rely on (format, version, the two lists). The full shape is the JSON
 * Schema's business; findings of kinds this version does not know pass through untouched.
 */
/** Why a text is not JSON, in words of our own (Node's wording changes between versions). */
function whyNotJson(text: string, error: unknown): string {
  if (text.trim() === '') return 'the file is empty';
  const message = error instanceof Error ? error.message : '';
  if (/end of JSON input|Unterminated/.test(message)) {
    return 'it ends before the JSON does: was it written completely?';
  }
  const position = /position (\d+)/.exec(message);
  if (!position) return 'it has something in it that JSON does not allow';
  const offset = Number(position[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `unexpected ${JSON.stringify(text[offset] ?? '')} at line ${line}, column ${column}`;
}

export function parseReport(text: string, source: string): HangwatchReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReportFormatError(`${source} is not valid JSON (${whyNotJson(text, error)}).`);
  }
  const report = value as Partial<HangwatchReport> | null;
  if (report === null || typeof report !== 'object' || report.format !== REPORT_FORMAT) {
    throw new ReportFormatError(
      `${source} is not a hangwatch report (expected "format": "${REPORT_FORMAT}").`,
    );
  }
  if (report.schemaVersion !== REPORT_SCHEMA_VERSION) {
    throw new ReportFormatError(
      `${source} has schema version ${JSON.stringify(report.schemaVersion)}; this hangwatch reads version ${REPORT_SCHEMA_VERSION}. Use the hangwatch version that wrote it.`,
    );
  }
  if (!Array.isArray(report.runs) || !Array.isArray(report.findings)) {
    throw new ReportFormatError(`${source} is missing its "runs" or "findings" list.`);
  }
  const badFinding = report.findings.findIndex(
    (finding: unknown) =>
      finding === null ||
      typeof finding !== 'object' ||
      typeof (finding as { kind?: unknown }).kind !== 'string',
  );
  if (badFinding !== -1) {
    throw new ReportFormatError(`${source}: findings[${badFinding}] has no "kind".`);
  }
  return report as HangwatchReport;
}
