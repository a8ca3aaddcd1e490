import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The child processes a synchronous `child_process` call started, read from Linux's /proc: Node
 * gives JavaScript no pid until the call returns. A child of this process that started after the
 * call did, and runs one of the programs the call named, is that call's (the thread that could
 * start any other is blocked in the call). Elsewhere: none found, nothing is ended.
 */
interface ProcessEntry {
  pid: number;
  ppid: number;
  startedAtMs: number;
  name: string;
}

/** Linux's USER_HZ: /proc start times are in these ticks on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;
/** Slack between the clocks compared (process start ticks, wall clock), and tick rounding. */
const CLOCK_SLACK_MS = 50;

function listProcesses(): ProcessEntry[] {
  const uptime = Number.parseFloat(fs.readFileSync('/proc/uptime', 'utf8'));
  const bootMs = Date.now() - uptime * 1000;
  const entries: ProcessEntry[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const argv0 = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')[0] ?? '';
      entries.push({
        pid: Number(name),
        ppid: Number(fields[1]),
        startedAtMs: bootMs + (Number(fields[19]) * 1000) / TICKS_PER_SECOND,
        name: path.basename(argv0),
      });
    } catch {
      // ended while we looked
    }
  }
  return entries;
}

/**
 * The call's child (started since `startedAt`, running one of `programs`) and every process
 * below it, children first; empty where /proc is missing.
 */
export function childTreeOfCall(startedAt: number, programs: string[]): number[] {
  if (process.platform !== 'linux') return [];
  let processes: ProcessEntry[];
  try {
    processes = listProcesses();
  } catch {
    return [];
  }
  const wanted = new Set(programs.map((program) => path.basename(program)));
  const roots = processes.filter(
    (entry) =>
      entry.ppid === process.pid &&
      entry.startedAtMs >= startedAt - CLOCK_SLACK_MS &&
      wanted.has(entry.name),
  );
  const tree: number[] = [];
  const queue = roots.map((entry) => entry.pid);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    for (const entry of processes) if (entry.ppid === pid) queue.push(entry.pid);
  }
  return tree;
}

/** Signals each process that is still there; returns how many were. */
export function signalAll(pids: number[], signal: NodeJS.Signals): number {
  let reached = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      reached++;
    } catch {
      // already gone
    }
  }
  return reached;
}
