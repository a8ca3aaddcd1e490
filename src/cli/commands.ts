import * as fs from 'node:fs';
import { codeFrameColumns } from '@babel/code-frame';
import { plural } from '../core/format';
import {
  mergeReports,
  parseReport,
  ReportFormatError,
  type HangwatchReport,
  type RunInfo,
} from '../report/document';
import type { Finding } from '../core/model';
import { formatPath } from '../core/render/location';
import { digestOf } from '../report/digest';
import { kindCount, renderFindingText, renderRunSummary } from '../report/render-summary';

/** The CLI's commands as functions from files to text; `main.ts` does arguments and exit codes. */

export function readReport(file: string): HangwatchReport {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ReportFormatError(
      code === 'ENOENT'
        ? `${file}: no such file.`
        : code === 'EISDIR'
          ? `${file} is a directory, not a report.`
          : `${file} cannot be read (${(error as Error).message}).`,
    );
  }
  return parseReport(text, file);
}

/** A saved report as the terminal showed it: each finding in full, then the run summary. */
export function showReport(report: HangwatchReport): string {
  const rootDir = report.runs[0]?.rootDir ?? process.cwd();
  const out = [describeRuns(report.runs), ''];
  if (report.findings.length === 0) {
    out.push('No findings: hangwatch found nothing to report in this run.');
    return `${out.join('\n')}\n`;
  }
  for (const finding of report.findings) {
    out.push(headingOf(finding, rootDir), renderFindingText(finding, rootDir), '');
    const frame = codeFrameOf(finding);
    if (frame) out.push(frame, '');
  }
  out.push(renderRunSummary(report.findings, { rootDir }).trimEnd());
  return `${out.join('\n')}\n`;
}

/**
 * The source around the finding's culprit line, drawn as Jest draws it under a failure
 * (@babel/code-frame), while the file is still there and still has that line.
 */
function codeFrameOf(finding: Finding): string | undefined {
  const location = digestOf(finding).location;
  if (!location) return undefined;
  let source: string;
  try {
    source = fs.readFileSync(location.file, 'utf8');
  } catch {
    return undefined;
  }
  if (source.split('\n').length < location.line) return undefined;
  return codeFrameColumns(
    source,
    { start: { line: location.line, column: location.column } },
    { linesAbove: 2, linesBelow: 2, highlightCode: false },
  );
}

/** Which test file and test a finding belongs to, above its full text. */
function headingOf(finding: Finding, rootDir: string): string {
  const digest = digestOf(finding);
  const file = digest.testPath ? formatPath(digest.testPath, rootDir) : '(no test file)';
  return `── ${kindCount(digest.kind, 1).replace(/^1 /, '')} in ${file}${digest.testName ? ` › ${digest.testName}` : ''}`;
}

function describeRuns(runs: RunInfo[]): string {
  const shards = runs
    .filter((run) => run.shard)
    .map((run) => `${run.shard!.index}/${run.shard!.count}`);
  const first = runs[0];
  const versions = first
    ? `, Jest ${first.jestVersion ?? 'unknown'}, Node ${first.nodeVersion}, hangwatch ${first.hangwatchVersion}`
    : '';
  const when = first ? ` (started ${first.startedAt})` : '';
  const which =
    shards.length > 0 ? ` (shard${shards.length === 1 ? '' : 's'} ${shards.join(', ')})` : '';
  const tests = runs.reduce((sum, run) => sum + run.tests.total, 0);
  return `hangwatch report: ${plural(runs.length, 'run')}${which}, ${plural(tests, 'test')}${versions}${when}`;
}

export function mergeReportFiles(files: string[]): HangwatchReport {
  return mergeReports(files.map(readReport));
}
