import * as fs from 'node:fs';
import type { Config } from '@jest/reporters';
import { plural } from '../core/format';
import { parseReport, type HangwatchReport } from '../report/document';
import { countByKind } from '../report/render-summary';

/**
 * The rule for the default report file (`hangwatch-report.json`, no `outputFile` set): it
 * describes the last run that found something. A full run with no findings removes it (they were
 * fixed). A partial run (a path or name filter, --onlyChanged, --shard, watch mode...) with no
 * findings keeps it and says so; a partial run with findings replaces it and says what the
 * earlier report held. So a partial run never drops a full run's findings silently.
 */

/** Why this run is only part of the suite, in words, or `undefined` for a full run. */
export function partialRunReason(config: Config.GlobalConfig): string | undefined {
  const loose = config as unknown as Record<string, unknown>;
  const pathPatterns = loose.testPathPatterns as { patterns?: string[] } | string[] | undefined;
  const patterns = Array.isArray(pathPatterns) ? pathPatterns : (pathPatterns?.patterns ?? []);
  if (patterns.length > 0 || (typeof loose.testPathPattern === 'string' && loose.testPathPattern)) {
    return 'test files were filtered';
  }
  if (config.testNamePattern) return 'tests were filtered by name';
  if (config.onlyChanged || config.changedSince || config.lastCommit)
    return 'only changed files ran';
  if (config.onlyFailures) return 'only failed tests ran';
  if (config.findRelatedTests) return 'only related tests ran';
  if (config.shard) return `one shard (${config.shard.shardIndex}/${config.shard.shardCount}) ran`;
  if (config.watch || config.watchAll) return 'watch mode';
  if ((loose.selectProjects as unknown[] | undefined)?.length) return 'some projects were selected';
  return undefined;
}

/** The report now in the file, when it is one of hangwatch's. */
function previousReport(file: string): HangwatchReport | undefined {
  try {
    return parseReport(fs.readFileSync(file, 'utf8'), file);
  } catch {
    return undefined;
  }
}

function describe(report: HangwatchReport): string {
  const when = report.runs[0]?.startedAt;
  const findings = report.findings.length > 0 ? countByKind(report.findings) : plural(0, 'finding');
  return `the run${when ? ` of ${when}` : ''} (${findings})`;
}

export interface DefaultReportOutcome {
  /** The file written, if any. */
  written?: string;
  /** One line to print, if the rule has something to say. */
  notice?: string;
}

/** Writes, keeps or removes the default report file, by the rule above. */
export function updateDefaultReport(
  file: string,
  shownAs: string,
  report: HangwatchReport,
  partial: string | undefined,
): DefaultReportOutcome {
  const previous = previousReport(file);
  if (report.findings.length === 0) {
    if (!previous) return {};
    if (partial) {
      return {
        notice: `no findings in this partial run (${partial}); ${shownAs} still holds ${describe(previous)}.`,
      };
    }
    fs.rmSync(file, { force: true });
    return {};
  }
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const replaced = previous && partial && previous.findings.length > 0;
  return {
    written: file,
    ...(replaced
      ? {
          notice: `${shownAs} now holds this partial run (${partial}); it replaced ${describe(previous)}.`,
        }
      : {}),
  };
}
