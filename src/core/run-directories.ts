import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * hangwatch's directories for one Jest run in the OS temp directory (the findings channel's, the
 * watchdog's). The Jest process that makes one removes it on exit, but a process that ends without
 * Node's `exit` event cannot: Ctrl-C, a kill, a frozen loop ended from the watchdog thread. Each
 * name therefore carries the pid of its maker, and making a new one removes those whose maker is
 * gone, so such runs leave nothing behind for long.
 */
export type RunDirectoryKind = 'run' | 'loop';

/** `hangwatch-<kind>-<pid>-<mkdtemp's six characters>`. */
const RUN_DIRECTORY_NAME = /^hangwatch-(?:run|loop)-(\d+)-[^-]{6}$/;

/**
 * How long a directory of a process that no longer exists must have been left unchanged before it
 * is removed. The pid alone would do on one machine; the wait covers a temp directory shared with
 * processes this one cannot see (containers with their own pids, one user's, one mounted `/tmp`).
 */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** This user's id where the system has them (not on Windows). */
export function ownUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** Ours, not a symlink, and closed to group and others. */
export function isPrivateDirectory(dir: string): boolean {
  try {
    const stat = fs.lstatSync(dir);
    if (!stat.isDirectory()) return false;
    const uid = ownUid();
    if (uid === undefined) return true; // Windows: the user's temp dir is private already
    return stat.uid === uid && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Temp directories already swept by this process: a run makes two directories, one sweep does. */
const swept = new Set<string>();

/** A new private directory (mode 0700, a name nobody can guess) named after this process. */
export function makeRunDirectory(kind: RunDirectoryKind, tempDir: string = os.tmpdir()): string {
  if (!swept.has(tempDir)) {
    swept.add(tempDir);
    removeAbandonedRunDirectories(tempDir);
  }
  return fs.mkdtempSync(path.join(tempDir, `hangwatch-${kind}-${process.pid}-`));
}

/**
 * Removes this user's run directories whose maker no longer runs and which have not changed for
 * `ABANDONED_AFTER_MS`; returns their paths. Never throws: a directory it cannot read or remove
 * stays.
 */
export function removeAbandonedRunDirectories(
  tempDir: string = os.tmpdir(),
  now: number = Date.now(),
): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(tempDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(RUN_DIRECTORY_NAME.exec(name)?.[1]);
    if (!pid || pid === process.pid || processExists(pid)) continue;
    const dir = path.join(tempDir, name);
    try {
      if (!isPrivateDirectory(dir) || now - lastChange(dir) < ABANDONED_AFTER_MS) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/** Signal 0 only asks: ESRCH is the one answer that means no such process. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The latest change to the directory or a file in it (findings are appended to its files). */
function lastChange(dir: string): number {
  let latest = fs.lstatSync(dir).mtimeMs;
  for (const name of fs.readdirSync(dir)) {
    latest = Math.max(latest, fs.lstatSync(path.join(dir, name)).mtimeMs);
  }
  return latest;
}
