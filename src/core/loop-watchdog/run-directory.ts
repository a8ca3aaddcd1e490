import * as fs from 'node:fs';
import { isPrivateDirectory, makeRunDirectory, ownUid } from '../run-directories';

/**
 * The watchdog's private directory for one Jest run: created by the Jest process with `mkdtemp`
 * (a name nobody can guess, mode 0700) before it forks workers, which inherit its path. Nothing
 * lives at a fixed, shared path: on a machine several users share, nobody else can create it
 * first or plant files in it, and every file read back is checked to be ours (see `readOwnFile`).
 */
export const LOOP_DIR_ENV = 'HANGWATCH_LOOP_DIR';
/** The pid of the Jest process that made it: a nested Jest run sees a foreign owner. */
export const LOOP_OWNER_ENV = 'HANGWATCH_LOOP_PID';
/** The reporter's run directory (src/jest/findings-channel.ts), used when the runner is not. */
const FINDINGS_DIR_ENV = 'HANGWATCH_RUN_DIR';
const FINDINGS_OWNER_ENV = 'HANGWATCH_RUN_PID';

let opened: string | undefined;
const removeOpened = () => {
  if (opened) fs.rmSync(opened, { recursive: true, force: true });
};

/**
 * Creates a new directory for one run of Jest's runner and exports it to the workers it forks.
 * New each run: in watch mode one Jest process runs many times, and a marker the last run left
 * would fail a unit its user has since fixed.
 */
export function openLoopRunDirectory(): string {
  if (opened) removeOpened();
  else process.once('exit', removeOpened);
  const dir = makeRunDirectory('loop');
  opened = dir;
  process.env[LOOP_DIR_ENV] = dir;
  process.env[LOOP_OWNER_ENV] = String(process.pid);
  return dir;
}

/**
 * The run directory this process may use: the runner's, else the reporter's; only when it was
 * made by this process or by the Jest process that forked it, and only if it is a real directory
 * of ours that nobody else can write to.
 */
export function loopRunDirectory(): string | undefined {
  for (const [dirEnv, ownerEnv] of [
    [LOOP_DIR_ENV, LOOP_OWNER_ENV],
    [FINDINGS_DIR_ENV, FINDINGS_OWNER_ENV],
  ] as const) {
    const dir = process.env[dirEnv];
    const owner = Number(process.env[ownerEnv]);
    if (!dir || !Number.isInteger(owner)) continue;
    if (owner !== process.pid && owner !== process.ppid) continue;
    if (isPrivateDirectory(dir)) return dir;
  }
  return undefined;
}

/**
 * Reads a file hangwatch wrote itself, or `undefined`: it must be a regular file (no symlink, one
 * link) owned by this user. Opened without following links, then checked on the open descriptor.
 */
export function readOwnFile(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    const stat = fs.fstatSync(fd);
    const uid = ownUid();
    if (!stat.isFile() || stat.nlink !== 1) return undefined;
    if (uid !== undefined && stat.uid !== uid) return undefined;
    return fs.readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes a file only this user can read, replacing none that is not ours (no following links). */
export function writeOwnFile(file: string, content: string): void {
  const flags =
    fs.constants.O_WRONLY |
    fs.constants.O_CREAT |
    fs.constants.O_EXCL |
    (fs.constants.O_NOFOLLOW ?? 0);
  const fd = fs.openSync(file, flags, 0o600);
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
}
