import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURES, REPO_ROOT } from '../helpers/run-fixture';

/**
 * Watch mode: one Jest process runs the suite again each time a file it watches changes. Each
 * test copies its fixture into a directory of its own (it edits the files), where `hangwatch`
 * resolves to this repository.
 */

const JEST_BINS = {
  30: path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
  29: path.join(REPO_ROOT, 'node_modules', 'jest-29', 'bin', 'jest.js'),
} as const;
const RUN_ENDED = /^Ran all test suites\.$/gm;
const WAIT_MS = 240_000;

let tempRoot: string;
beforeAll(() => {
  tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-watch-e2e-'));
});
afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

function copyFixture(name: string, jestMajor: number): string {
  const project = path.join(tempRoot, `${name}-${jestMajor}`);
  fs.cpSync(path.join(FIXTURES, 'watch-mode', name), project, { recursive: true });
  fs.mkdirSync(path.join(project, 'node_modules'));
  fs.symlinkSync(REPO_ROOT, path.join(project, 'node_modules', 'hangwatch'), 'dir');
  return project;
}

/** One file event for Jest's watcher: written beside it under a name it does not watch, then moved. */
function replaceFile(file: string, content: string): void {
  fs.writeFileSync(`${file}.next`, content);
  fs.renameSync(`${file}.next`, file);
}

class WatchingJest {
  private readonly child: ChildProcess;
  output = '';

  constructor(cwd: string, jest: string) {
    this.child = spawn(process.execPath, [jest, '--watchAll', '--no-watchman', '--colors=false'], {
      cwd,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const take = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout!.on('data', take);
    this.child.stderr!.on('data', take);
  }

  runsEnded(): number {
    return this.output.match(RUN_ENDED)?.length ?? 0;
  }

  /** The output of the `index`th run (from 1): from the end of the one before to its own end. */
  run(index: number): string {
    const ends = [...this.output.matchAll(RUN_ENDED)].map((match) => match.index);
    return this.output.slice(index === 1 ? 0 : ends[index - 2], ends[index - 1]);
  }

  async untilRunsEnded(count: number): Promise<void> {
    const started = Date.now();
    while (this.runsEnded() < count && this.child.exitCode === null) {
      if (Date.now() - started > WAIT_MS) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (this.runsEnded() < count) {
      throw new Error(`watch mode ended ${this.runsEnded()} of ${count} runs:\n${this.output}`);
    }
  }

  async quit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

describe.each([30, 29] as const)('Jest %i', (major) => {
  test('with the preset: a fixed frozen test passes in the next run, and the report written after a run starts no other run', async () => {
    const project = copyFixture('preset', major);
    const jest = new WatchingJest(project, JEST_BINS[major]);
    try {
      await jest.untilRunsEnded(1);
      expect(jest.run(1)).toMatch(
        /test "spins until its file is fixed" froze the event loop: .* at spin\.test\.js:2:3\./,
      );
      expect(fs.existsSync(path.join(project, 'hangwatch-report.json'))).toBe(true);

      replaceFile(
        path.join(project, 'spin.test.js'),
        "test('spins until its file is fixed', () => {});\ntest('passes', () => {});\n",
      );
      await jest.untilRunsEnded(2);
      // The frozen-loop marker of the first run is gone: the test runs, and passes.
      expect(jest.run(2)).toContain('PASS ./spin.test.js');
      expect(jest.run(2)).not.toContain('froze the event loop');
      // The report written at the first run's end was no change to Jest: the edit made the only rerun.
      expect(jest.runsEnded()).toBe(2);
      // The report still holds the first run, which the second says; a third run does not repeat it.
      expect(jest.run(2)).toMatch(/no findings in this partial run \(watch mode\); .* still holds/);
      replaceFile(
        path.join(project, 'spin.test.js'),
        "test('spins until its file is fixed', () => {});\ntest('passes again', () => {});\n",
      );
      await jest.untilRunsEnded(3);
      expect(jest.run(3)).toContain('PASS ./spin.test.js');
      expect(jest.run(3)).not.toContain('still holds');
    } finally {
      await jest.quit();
    }
  }, 600_000);

  test('with the reporter and no preset: the report is not written where Jest watches, said once', async () => {
    const project = copyFixture('reporter-only', major);
    const jest = new WatchingJest(project, JEST_BINS[major]);
    try {
      await jest.untilRunsEnded(1);
      expect(jest.run(1)).toContain('hangwatch: 1 finding in this run: 1 hang');
      expect(fs.existsSync(path.join(project, 'hangwatch-report.json'))).toBe(false);

      replaceFile(
        path.join(project, 'other.test.js'),
        "test('passes again', () => {\n  expect(1).toBe(1);\n});\n",
      );
      await jest.untilRunsEnded(2);
      expect(jest.run(2)).toContain('hangwatch: 1 finding in this run: 1 hang');
      expect(jest.runsEnded()).toBe(2);
      const notices = jest.output
        .split('\n')
        .filter((line) => line.startsWith('hangwatch: the report is not written in watch mode'));
      expect(notices).toEqual([
        "hangwatch: the report is not written in watch mode: Jest watches hangwatch-report.json, and each write would start another run. Add its path to watchPathIgnorePatterns (the presets add hangwatch-report.json), or set the reporter's outputFile to a path Jest does not watch.",
      ]);
    } finally {
      await jest.quit();
    }
  }, 600_000);
});
