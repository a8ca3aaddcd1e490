// hangwatch's per-run temp directories: named by their maker, and those a dead run left removed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ABANDONED_AFTER_MS,
  makeRunDirectory,
  removeAbandonedRunDirectories,
} from '../../src/core/run-directories';

let tempDir: string;
beforeEach(() => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-directories-test-'));
});
afterEach(() => fs.rmSync(tempDir, { recursive: true, force: true }));

/** A pid no process has now: a child's, once it has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

/** A directory as a run of `pid` leaves it, last changed `ageMs` ago. */
function leftBy(pid: number, kind: string, ageMs: number, file?: string): string {
  const dir = fs.mkdtempSync(path.join(tempDir, `hangwatch-${kind}-${pid}-`));
  const then = new Date(Date.now() - ageMs);
  if (file) {
    fs.writeFileSync(path.join(dir, file), '{}\n');
    fs.utimesSync(path.join(dir, file), then, then);
  }
  fs.utimesSync(dir, then, then);
  return dir;
}

const LONG_AGO = ABANDONED_AFTER_MS + 60_000;

test('a new directory is private and named by kind and maker', () => {
  const dir = makeRunDirectory('run', tempDir);
  expect(path.basename(dir)).toMatch(new RegExp(`^hangwatch-run-${process.pid}-.{6}$`));
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
});

test('making one removes what runs that no longer exist left unchanged for long', () => {
  const pid = deadPid();
  const channel = leftBy(pid, 'run', LONG_AGO, `${pid}-0.jsonl`);
  const loop = leftBy(pid, 'loop', LONG_AGO);
  makeRunDirectory('loop', tempDir);
  expect(fs.existsSync(channel)).toBe(false);
  expect(fs.existsSync(loop)).toBe(false);
});

test('what a live process, a recent change or another name holds stays', () => {
  const pid = deadPid();
  const kept = [
    leftBy(process.ppid, 'run', LONG_AGO), // its maker still runs
    leftBy(process.pid, 'loop', LONG_AGO), // this process's own
    leftBy(pid, 'run', 1_000), // changed a moment ago: maybe a run this process cannot see
    fs.mkdtempSync(path.join(tempDir, 'hangwatch-run-')), // no maker in its name
    fs.mkdtempSync(path.join(tempDir, `hangwatch-heap-${pid}-`)), // not a run directory
  ];
  // Its directory is old, but a file in it was written just now.
  const written = leftBy(pid, 'run', LONG_AGO);
  fs.writeFileSync(path.join(written, 'recent.jsonl'), '{}\n');
  kept.push(written);
  const open = leftBy(pid, 'loop', LONG_AGO);
  fs.chmodSync(open, 0o755); // not private: not one hangwatch made
  const then = new Date(Date.now() - LONG_AGO);
  fs.utimesSync(open, then, then);
  kept.push(open);
  expect(removeAbandonedRunDirectories(tempDir)).toEqual([]);
  for (const dir of kept) expect(fs.existsSync(dir)).toBe(true);
});

test('an unreadable temp directory removes nothing and throws nothing', () => {
  expect(removeAbandonedRunDirectories(path.join(tempDir, 'missing'))).toEqual([]);
});
