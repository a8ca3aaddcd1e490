import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import type { OrderEdge } from '../core/locks/lock-order';
import type { CreationSite, Finding, KeptAliveResource } from '../core/model';
import { makeRunDirectory } from '../core/run-directories';
import { warn } from './notices';

/**
 * How findings travel from test environments to the reporter. Error objects do not reliably
 * survive Jest's worker IPC (their extra fields and class are lost), so findings go through the
 * file system instead: the reporter opens a run directory in the main process before Jest forks
 * its workers (reporters are built and `onRunStart` runs before any test runner starts), and
 * exports its path in `process.env`, which every worker inherits. Each process (or worker thread)
 * appends one JSON line per finding to its own file; the reporter reads them all at the end.
 */

/** The run directory's path, as inherited by workers. */
export const RUN_DIR_ENV = 'HANGWATCH_RUN_DIR';
/**
 * The pid of the Jest process that owns the run. A test that spawns another Jest inherits both
 * variables: the nested run's processes see a foreign owner and publish nothing into ours.
 */
export const RUN_OWNER_ENV = 'HANGWATCH_RUN_PID';

/** One line of a channel file. */
export interface PublishedFinding {
  /** Position among this process's findings, to keep their order when files are combined. */
  sequence: number;
  publishedAt: string;
  /** Jest's `JEST_WORKER_ID` of the publishing process, when it was a worker. */
  workerId?: string;
  /** The channel file it came from: one per process (set when read). */
  source: string;
  finding: Finding;
}

/** A lock order a process saw for the first time, for the reporter to compare across processes. */
export interface PublishedLockOrder {
  sequence: number;
  workerId?: string;
  /** The channel file it came from: one per process (set when read). */
  source: string;
  lockOrder: { edge: OrderEdge<CreationSite>; testName: string; testPath: string };
}

/**
 * What a process's confirmed leaks still held open after one of its test files; the last one a
 * process publishes answers for it after its last test.
 */
export interface PublishedKeptAlive {
  sequence: number;
  source: string;
  keptAlive: KeptAliveResource[];
}

let sequence = 0;
let warnedPublishFailure = false;

/**
 * Hands a finding to the run's reporter. Never throws: without a reporter (the user replaced
 * the preset's reporters) there is nowhere to send it, and a failure to write costs at most
 * one warning line, never the user's test result.
 */
export function publishFinding(finding: Finding): void {
  publish({ publishedAt: new Date().toISOString(), finding });
}

/** Hands the reporter a lock order seen for the first time in this process. */
export function publishLockOrder(lockOrder: PublishedLockOrder['lockOrder']): void {
  publish({ lockOrder });
}

/** Hands the reporter what this process's leaks hold open now (replacing what it said before). */
export function publishKeptAlive(keptAlive: KeptAliveResource[]): void {
  publish({ keptAlive });
}

/** `in band` for the process that owns the run, else `worker <JEST_WORKER_ID>`. */
export function processName(): string {
  const inBand = Number(process.env[RUN_OWNER_ENV]) === process.pid && isMainThread;
  return inBand ? 'in band' : `worker ${process.env.JEST_WORKER_ID ?? process.pid}`;
}

function publish(content: object): void {
  try {
    const dir = ownRunDirectory();
    if (!dir) return;
    const line = {
      sequence: sequence++,
      ...(process.env.JEST_WORKER_ID ? { workerId: process.env.JEST_WORKER_ID } : {}),
      ...content,
    };
    fs.appendFileSync(
      path.join(dir, `${process.pid}-${threadId}.jsonl`),
      `${JSON.stringify(line)}\n`,
    );
  } catch (error) {
    if (warnedPublishFailure) return;
    warnedPublishFailure = true;
    const reason = error instanceof Error ? error.message : String(error);
    warn(`could not pass a finding to the reporter (${reason}); test results are unaffected.`);
  }
}

function ownRunDirectory(): string | undefined {
  const dir = process.env[RUN_DIR_ENV];
  const owner = Number(process.env[RUN_OWNER_ENV]);
  if (!dir || !Number.isInteger(owner)) return undefined;
  // In band (or in a worker thread) we are the owner; a forked worker is the owner's child.
  return owner === process.pid || owner === process.ppid ? dir : undefined;
}

/** The reporter's end of the channel, one per Jest run. */
export interface RunChannel {
  readonly dir: string;
  /** Everything published so far, per process in publication order, files in name order. */
  read(): RunContents;
  /** Removes the directory and the variables once the last reporter using it is done. */
  close(): void;
}

let shared: { channel: RunChannel; users: number } | undefined;

/**
 * Creates the run directory and exports it to the processes Jest starts from now on. A second
 * hangwatch reporter in the same run (listed twice, or in watch mode's overlap) shares it: a new
 * directory would cut off the first one's findings.
 */
export function openRunChannel(): RunChannel {
  if (shared) {
    shared.users++;
    return shared.channel;
  }
  const dir = makeRunDirectory('run');
  process.env[RUN_DIR_ENV] = dir;
  process.env[RUN_OWNER_ENV] = String(process.pid);
  // A run that ends without onRunComplete (a process.exit, bail) still leaves no directory.
  const removeDirectory = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDirectory);
  const channel: RunChannel = {
    dir,
    read: () => readRunDirectory(dir),
    close: () => {
      if (!shared || shared.channel !== channel || --shared.users > 0) return;
      shared = undefined;
      if (process.env[RUN_DIR_ENV] === dir) {
        delete process.env[RUN_DIR_ENV];
        delete process.env[RUN_OWNER_ENV];
      }
      process.removeListener('exit', removeDirectory);
      removeDirectory();
    },
  };
  shared = { channel, users: 1 };
  return channel;
}

export interface RunContents {
  findings: PublishedFinding[];
  lockOrders: PublishedLockOrder[];
  /** The last report of each process that published one. */
  keptAlive: PublishedKeptAlive[];
  malformedLines: number;
}

function readRunDirectory(dir: string): RunContents {
  const findings: PublishedFinding[] = [];
  const lockOrders: PublishedLockOrder[] = [];
  const keptAlive = new Map<string, PublishedKeptAlive>();
  let malformedLines = 0;
  const files = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort();
  for (const file of files) {
    const lines = fs.readFileSync(path.join(dir, file), 'utf8').split('\n');
    for (const line of lines) {
      if (line.trim() === '') continue;
      const parsed = parseLine(line);
      if (parsed && 'keptAlive' in parsed) keptAlive.set(file, { ...parsed, source: file });
      else if (parsed && 'finding' in parsed) findings.push({ ...parsed, source: file });
      else if (parsed) lockOrders.push({ ...parsed, source: file });
      else malformedLines++;
    }
  }
  return { findings, lockOrders, keptAlive: [...keptAlive.values()], malformedLines };
}

/** A line cut short (a worker killed mid-write) or foreign is counted and skipped. */
function parseLine(
  line: string,
):
  | Omit<PublishedFinding, 'source'>
  | Omit<PublishedLockOrder, 'source'>
  | Omit<PublishedKeptAlive, 'source'>
  | undefined {
  try {
    const value = JSON.parse(line) as Partial<
      PublishedFinding & PublishedLockOrder & PublishedKeptAlive
    >;
    if (typeof value.sequence !== 'number') return undefined;
    if (Array.isArray(value.keptAlive)) return value as Omit<PublishedKeptAlive, 'source'>;
    const finding = value.finding as { kind?: unknown } | undefined;
    if (typeof finding?.kind === 'string') return value as Omit<PublishedFinding, 'source'>;
    const edge = value.lockOrder?.edge;
    if (typeof edge?.held?.key === 'string' && typeof edge.taken?.key === 'string') {
      return value as Omit<PublishedLockOrder, 'source'>;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
