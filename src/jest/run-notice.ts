import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';

/**
 * Prints a line to stderr once per Jest run, not once per test file or worker. Test files run in
 * several worker processes (or threads, or Jest's own process under --runInBand): they share one
 * Jest process, and a marker file named after it (its pid and start time) lets the first one
 * that gets there print.
 */
export function noteOncePerRun(line: string): void {
  try {
    const dir = path.join(os.tmpdir(), `hangwatch-notices-${os.userInfo().uid}`);
    fs.mkdirSync(dir, { recursive: true });
    const hash = crypto.createHash('sha1').update(line).digest('hex').slice(0, 12);
    const marker = path.join(dir, `${jestRunKey()}-${hash}`);
    fs.writeFileSync(marker, '', { flag: 'wx' });
    removeOldMarkers(dir);
  } catch (error) {
    // EEXIST: another file of this run printed it. Anything else: print rather than lose it.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
  }
  process.stderr.write(`${line}\n`);
}

/** The Jest process this file runs under: pid plus start time, so a reused pid is a new run. */
function jestRunKey(): string {
  // A jest-worker child process talks to Jest over IPC; threads and --runInBand share its pid.
  const inChildWorker = isMainThread && typeof process.send === 'function';
  const pid = inChildWorker ? process.ppid : process.pid;
  return `${pid}-${startTime(pid)}`;
}

function startTime(pid: number): string {
  try {
    // Linux: field 22 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '0';
  } catch {
    return '0';
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

function removeOldMarkers(dir: string): void {
  const now = Date.now();
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    try {
      if (now - fs.statSync(file).mtimeMs > DAY_MS) fs.rmSync(file, { force: true });
    } catch {
      // gone already
    }
  }
}
