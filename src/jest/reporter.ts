import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AggregatedResult, Config, Reporter, TestContext } from '@jest/reporters';
import type { Finding, KeptAliveResource } from '../core/model';
import { onFirstUse } from '../core/on-first-use';
import type { HangwatchReport, RunInfo } from '../report/document';
import { loopRunDirectory } from '../core/loop-watchdog/run-directory';
import { noteOnce, warn } from './notices';
import { unreportedFreezes } from './unreported-freezes';
import { watchedByJest, type WatchedProject } from './watched-files';
import { openRunChannel, type PublishedKeptAlive, type RunChannel } from './findings-channel';
import { lastAttempts } from './reruns';
import {
  DEFAULT_REPORT_FILE,
  parseReporterOptions,
  type ReporterOptions,
} from './reporter-options';

/** The report's builders and views: Jest starts the reporter in every run, most find nothing. */
const output = onFirstUse(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('./reporter-output') as typeof import('./reporter-output'),
);

/**
 * `hangwatch/reporter`: collects what the test environments found (through the findings
 * channel), writes the JSON report, prints a short summary, annotates GitHub Actions runs, and
 * fails the run when `failOn` says so. Silent when nothing was found. Its own failures cost a
 * warning line, never a test result: the gate fails open.
 */
export default class HangwatchReporter implements Reporter {
  private readonly options: ReporterOptions;
  private channel: RunChannel | undefined;
  private startedAt = new Date();
  private failing: Finding[] = [];

  constructor(
    private readonly globalConfig: Config.GlobalConfig,
    options?: unknown,
  ) {
    // Invalid options stop the run here, naming the key, as environment options do.
    this.options = parseReporterOptions(options);
  }

  // Runs before Jest creates its test runners, so workers forked later inherit the channel.
  onRunStart(): void {
    this.guard(() => {
      this.startedAt = new Date();
      this.failing = [];
      this.channel = openRunChannel();
    });
  }

  onRunComplete(contexts: Set<TestContext> | undefined, results: AggregatedResult): void {
    const channel = this.channel;
    this.channel = undefined;
    if (!channel) return;
    const projects = [...(contexts ?? [])].map((context) => context.config);
    this.guard(() => this.finish(channel, results, projects));
    this.guard(() => channel.close());
  }

  /** Jest ends the run non-zero when a reporter reports an error here. */
  getLastError(): Error | undefined {
    if (this.failing.length === 0) return undefined;
    return new Error(
      `hangwatch: ${output().countByKind(this.failing)} found (failOn: ${this.options.failOn.join(', ')}).`,
    );
  }

  private finish(channel: RunChannel, results: AggregatedResult, projects: WatchedProject[]): void {
    const { buildReport, crossProcessInversions, renderRunSummary, renderKeptAlive } = output();
    const { findings: published, lockOrders, keptAlive, malformedLines } = channel.read();
    if (malformedLines > 0) {
      warn(`${malformedLines} unreadable finding line(s) skipped (a worker may have crashed).`);
    }
    const rootDir = this.globalConfig.rootDir;
    const markerDir = loopRunDirectory();
    const findings = lastAttempts(published, markerDir).map((entry) => entry.finding);
    const report = buildReport(
      this.runInfo(results),
      [
        ...findings,
        ...unreportedFreezes(findings, markerDir),
        ...crossProcessInversions(lockOrders),
      ],
      keptAliveNow(keptAlive),
    );
    this.failing = report.findings.filter((finding) => this.options.failOn.includes(finding.kind));
    const gate = { failOn: this.options.failOn, failing: this.failing };
    const reportFile = this.writeReport(report, projects);
    if (this.options.summary) {
      process.stderr.write(renderRunSummary(report.findings, { rootDir, reportFile, gate }));
      process.stderr.write(renderKeptAlive(report.keptAlive ?? [], rootDir, reportFile));
    }
    if (this.githubActionsEnabled() && report.findings.length > 0) {
      this.writeGitHubOutput(report.findings, gate);
    }
  }

  private runInfo(results: AggregatedResult): Omit<RunInfo, 'findingCount'> {
    const { hangwatchVersion, jestVersion } = output();
    const shard = this.globalConfig.shard;
    return {
      runId: randomUUID(),
      startedAt: new Date(results.startTime || this.startedAt.getTime()).toISOString(),
      finishedAt: new Date().toISOString(),
      hangwatchVersion: hangwatchVersion(),
      nodeVersion: process.version,
      jestVersion: jestVersion(this.globalConfig.rootDir),
      platform: process.platform,
      rootDir: this.globalConfig.rootDir,
      shard: shard ? { index: shard.shardIndex, count: shard.shardCount } : null,
      tests: {
        suites: results.numTotalTestSuites,
        total: results.numTotalTests,
        passed: results.numPassedTests,
        failed: results.numFailedTests,
      },
    };
  }

  /** Returns the path written, if any. */
  private writeReport(report: HangwatchReport, projects: WatchedProject[]): string | undefined {
    const configured = this.options.outputFile;
    if (configured === false) return undefined;
    const rootDir = this.globalConfig.rootDir;
    const file = path.resolve(rootDir, configured ?? DEFAULT_REPORT_FILE);
    if ((this.globalConfig.watch || this.globalConfig.watchAll) && watchedByJest(file, projects)) {
      noticeWatchedReport(path.relative(rootDir, file) || file);
      return undefined;
    }
    if (configured === undefined) {
      const { updateDefaultReport, formatPath, partialRunReason } = output();
      const outcome = updateDefaultReport(
        file,
        formatPath(file, rootDir),
        report,
        partialRunReason(this.globalConfig),
      );
      // Once per Jest process: in watch mode, each run without findings would otherwise repeat
      // that the file still holds the same earlier run.
      if (outcome.notice) noteOnce(outcome.notice);
      return outcome.written;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    return file;
  }

  private githubActionsEnabled(): boolean {
    const setting = this.options.githubActions;
    return setting === 'auto' ? process.env.GITHUB_ACTIONS === 'true' : setting;
  }

  private writeGitHubOutput(findings: Finding[], gate: { failOn: string[]; failing: Finding[] }) {
    const rootDir = this.globalConfig.rootDir;
    // Errors: what failed a test (a hang, a leak under `leaks: 'error'`) or fails the run.
    const failsSomething = (finding: Finding) =>
      finding.kind === 'hang' ||
      (finding as { severity?: unknown }).severity === 'error' ||
      gate.failing.includes(finding);
    const { annotationsFor, renderJobSummary } = output();
    const annotations = annotationsFor(findings, {
      rootDir,
      workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
      levelOf: (finding) => (failsSomething(finding) ? 'error' : 'warning'),
    });
    // stderr, like Jest's own github-actions reporter: stdout may be carrying `--json`.
    process.stderr.write(annotations.map((line) => `${line}\n`).join(''));
    const summaryFile = process.env.GITHUB_STEP_SUMMARY;
    if (summaryFile) {
      fs.appendFileSync(summaryFile, `${renderJobSummary(findings, { rootDir, gate })}\n`);
    }
  }

  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      warn(`reporter failed (${reason}); test results are unaffected.`);
    }
  }
}

/** Said once per Jest process: watch mode calls a new reporter for each run. */
function noticeWatchedReport(shownAs: string): void {
  noteOnce(
    `the report is not written in watch mode: Jest watches ${shownAs}, and each write would start another run. Add its path to watchPathIgnorePatterns (the presets add hangwatch-report.json), or set the reporter's outputFile to a path Jest does not watch.`,
  );
}

/**
 * What still holds each process open: in band, this process is the one that ran the tests, so
 * its leaks are checked again now; a worker's answer is what it published after its last file.
 */
function keptAliveNow(published: PublishedKeptAlive[]): KeptAliveResource[] {
  const ownFile = new RegExp(`^${process.pid}-`);
  return [
    ...output().stillKeptAlive(),
    ...published.filter((entry) => !ownFile.test(entry.source)).flatMap((entry) => entry.keptAlive),
  ];
}
