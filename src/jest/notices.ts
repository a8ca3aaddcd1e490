import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';

/**
 * Every line hangwatch prints from a test file's process goes through here: a warning about the
 * user's code each time it happens, a notice about hangwatch itself once per process or once
 * per run, and warnings that belong under the test file in Jest's console output.
 */

const PREFIX = 'hangwatch: ';

function prefixed(text: string): string {
  return text.startsWith(PREFIX) ? text : `${PREFIX}${text}`;
}

function write(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A warning about the user's code (a blocked loop, a lock-order inversion): every time. */
export function warn(text: string): void {
  write(prefixed(text));
}

/** Lines already printed by this process (see `noteOnce`). */
const printed = new Set<string>();

/** A notice about hangwatch itself (a part switched off, a version it does not know): once per process. */
export function noteOnce(text: string): void {
  const line = prefixed(text);
  if (printed.has(line)) return;
  printed.add(line);
  write(line);
}

/**
 * A warning in the test file's console output (a leak, a late close), where Jest shows it under
 * the file. Jest's console prints where each call came from, which would be a frame inside
 * hangwatch: the call site is hidden, the text already names the user's lines.
 */
export function consoleNotice(
  console: Pick<Console, 'warn' | 'info'>,
  level: 'warn' | 'info',
  text: string,
): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    console[level](text);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Once per Jest run, not once per test file or worker. Test files run in several worker
 * processes (or threads, or Jest's own process under --runInBand): they share one Jest process,
 * and a marker file named after it (its pid and start time) lets the first one that gets there
 * print.
 */
export function noteOncePerRun(text: string): void {
  const line = prefixed(text);
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
  write(line);
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
