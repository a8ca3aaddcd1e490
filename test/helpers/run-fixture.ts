import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HangwatchReport } from '../../src/report/document';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
/**
 * Jest's transform cache, shared by every fixture run on this machine: keyed by file content and
 * transform config, so a warm entry is what a user's second run reads. A run that names its own
 * `--cacheDirectory` keeps Jest's cache off.
 */
const TRANSFORM_CACHE = path.join(os.tmpdir(), 'hangwatch-fixture-transforms');
/** The Jest majors the suite runs against: 30 is the root install, 29 an npm alias. */
const JEST_BINS = {
  30: path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
  29: path.join(REPO_ROOT, 'node_modules', 'jest-29', 'bin', 'jest.js'),
} as const;

export interface AssertionResult {
  fullName: string;
  status: 'passed' | 'failed' | 'pending' | 'todo' | 'skipped';
  failureMessages: string[];
  duration?: number | null;
}

export interface FileResult {
  name: string;
  status: string;
  message: string;
  assertionResults: AssertionResult[];
}

export interface FixtureRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  files: FileResult[];
  /** The failure text of one test, by its full name (describe › test). */
  failureOf(fullName: string): string;
  resultOf(fullName: string): AssertionResult;
}

export interface RunOptions {
  args?: string[];
  /** Flags for the Node process running Jest (its worker processes inherit them). */
  nodeArgs?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  jestMajor?: keyof typeof JEST_BINS;
  /** `pipe` keeps Jest's stdin open (and silent) instead of /dev/null. */
  stdin?: 'ignore' | 'pipe';
  /**
   * Ctrl-C as a terminal sends it (SIGINT to Jest and its workers) once this file exists, which a
   * fixture's test writes when it is running.
   */
  interruptWhenExists?: string;
}

/**
 * Runs real Jest on a fixture project in a child process, as a user would, and returns its
 * JSON results alongside the raw terminal output.
 *
 * A run in which Node itself crashed (see `runtimeCrashOf`) is run once more, and the crash is
 * printed: what a fixture asserts is hangwatch's behaviour, not the runtime's. A second crash is
 * kept, and fails whatever the test asserts about the missing results, with the crash shown first.
 */
export async function runFixture(fixture: string, options: RunOptions = {}): Promise<FixtureRun> {
  let raw = await runJest(fixture, options);
  let crash = runtimeCrashOf(raw);
  if (crash) {
    process.stderr.write(
      `fixture ${fixture}: Node crashed in a Jest process (not a hangwatch error); running it once more:\n${crash}\n`,
    );
    if (options.interruptWhenExists) fs.rmSync(options.interruptWhenExists, { force: true });
    raw = await runJest(fixture, options);
    crash = runtimeCrashOf(raw);
  }
  const { files, stderr } = raw;
  const all = () => files.flatMap((file) => file.assertionResults);
  const resultOf = (fullName: string) => {
    const found = all().find((result) => result.fullName === fullName);
    if (!found) {
      throw new Error(
        `no test named "${fullName}" in fixture ${fixture}; have: ${all()
          .map((r) => r.fullName)
          .join(' | ')}\n${crash ? `${crash}\n` : ''}${stderr}`,
      );
    }
    return found;
  };
  return {
    exitCode: raw.exitCode,
    stdout: raw.stdout,
    stderr,
    durationMs: raw.durationMs,
    files,
    resultOf,
    failureOf: (fullName) => resultOf(fullName).failureMessages.join('\n'),
  };
}

interface RawRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  files: FileResult[];
}

/** Signals Node dies of when V8 or Node itself fails (a fatal check traps), never sent by Jest. */
const CRASH_SIGNALS = 'SIGTRAP|SIGSEGV|SIGILL|SIGBUS|SIGABRT';
const WORKER_CRASHED = new RegExp(
  `A jest worker process \\(pid=\\d+\\) was terminated by another process: signal=(?:${CRASH_SIGNALS})\\b`,
);
/** A line of the C backtrace Node prints as it dies: ` 11: 0xfd54a1 v8::internal::... [/usr/bin/node]`. */
const NATIVE_FRAME = /^\s*\d+: 0x[0-9a-f]+ /;

/**
 * The lines that tell of a crash of Node itself in the run (its fatal-error header and the top of
 * its C backtrace), or `undefined`: a Jest process died of a crash signal and Node printed a native
 * backtrace. hangwatch's own failures are JavaScript errors, and its watchdog ends processes with
 * an exit code or SIGKILL, so neither is taken for one.
 */
export function runtimeCrashOf(
  run: Pick<RawRun, 'signal' | 'stdout' | 'stderr'>,
): string | undefined {
  const output = `${run.stdout}\n${run.stderr}`;
  const diedOfSignal =
    WORKER_CRASHED.test(output) ||
    (run.signal !== null && new RegExp(`^(?:${CRASH_SIGNALS})$`).test(run.signal));
  if (!diedOfSignal) return undefined;
  const lines = output.split('\n');
  const firstFrame = lines.findIndex((line) => NATIVE_FRAME.test(line));
  if (firstFrame === -1) return undefined;
  const headerAt = lines
    .slice(Math.max(0, firstFrame - 12), firstFrame)
    .findIndex((line) => /fatal|check failed|error/i.test(line));
  const from = headerAt === -1 ? firstFrame : Math.max(0, firstFrame - 12) + headerAt;
  return lines.slice(from, firstFrame + 16).join('\n');
}

async function runJest(fixture: string, options: RunOptions): Promise<RawRun> {
  const cwd = path.join(FIXTURES, fixture);
  const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fixture-run-'));
  const outputFile = path.join(outputDir, 'results.json');
  const args = [
    ...(options.nodeArgs ?? []),
    JEST_BINS[options.jestMajor ?? 30],
    '--ci',
    '--json',
    `--outputFile=${outputFile}`,
    ...(options.args?.some((arg) => arg.startsWith('--cacheDirectory'))
      ? ['--no-cache']
      : [`--cacheDirectory=${TRANSFORM_CACHE}`]),
    '--colors=false',
    ...(options.args ?? []),
  ];
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...options.env },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    // Its own process group, to signal it the way a terminal does.
    detached: options.interruptWhenExists !== undefined,
  });
  const interrupt = options.interruptWhenExists;
  const watch = interrupt
    ? setInterval(() => {
        if (!fs.existsSync(interrupt)) return;
        clearInterval(watch);
        process.kill(-child.pid!, 'SIGINT');
      }, 50)
    : undefined;
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `jest on fixture ${fixture} did not finish in ${options.timeoutMs ?? 240_000} ms\n${stderr}`,
          ),
        );
      }, options.timeoutMs ?? 240_000);
      child.on('exit', (code, exitSignal) => {
        clearTimeout(timer);
        clearInterval(watch);
        resolve([code, exitSignal]);
      });
    },
  );
  const durationMs = Date.now() - started;
  let files: FileResult[] = [];
  if (fs.existsSync(outputFile)) {
    files = (JSON.parse(fs.readFileSync(outputFile, 'utf8')) as { testResults: FileResult[] })
      .testResults;
  }
  fs.rmSync(outputDir, { recursive: true, force: true });
  return { exitCode, signal, stdout, stderr, durationMs, files };
}

/** The JSON report a fixture's run wrote (the presets' default file, in the fixture's folder). */
export function reportFileOf(fixture: string): HangwatchReport {
  return JSON.parse(
    fs.readFileSync(path.join(FIXTURES, fixture, 'hangwatch-report.json'), 'utf8'),
  ) as HangwatchReport;
}

/** The HangError's report text: its first lines up to the stack. */
export function reportOf(failure: string): string {
  const lines = failure.split('\n');
  const stackAt = lines.findIndex((line) => /^\s+at /.test(line));
  return lines.slice(0, stackAt === -1 ? undefined : stackAt).join('\n');
}

/** The first stack frame of a failure: where Jest draws its code frame. */
export function topFrameOf(failure: string): string | undefined {
  return failure
    .split('\n')
    .find((line) => /^\s+at /.test(line))
    ?.trim();
}

/**
 * How late this machine runs a 10 ms timer, at worst, over `forMs`: on a loaded machine the
 * event-loop fixtures derive their thresholds and durations from it instead of fixed times.
 */
export async function measureTimerLagMs(forMs = 1000): Promise<number> {
  const every = 10;
  let worst = 0;
  let last = Date.now();
  const started = last;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last - every);
      last = now;
      if (now - started >= forMs) {
        clearInterval(timer);
        resolve();
      }
    }, every);
  });
  return worst;
}
