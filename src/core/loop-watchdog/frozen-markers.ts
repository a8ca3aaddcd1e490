import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BlockedLoopFinding, LoopUnit } from './report';

/**
 * When the watchdog ends a Jest worker process whose loop froze, Jest's worker pool starts a new
 * process and runs the same file again. A marker, written before the process ends and read at the
 * frozen unit's start, lets that second run fail the unit at once with the report instead of
 * freezing again. Markers live in one directory per Jest run (the worker's parent process).
 */
const MARKERS_ROOT = path.join(os.tmpdir(), 'hangwatch-frozen-loops');

export function markerDirFor(jestPid: number): string {
  return path.join(MARKERS_ROOT, String(jestPid));
}

function markerFile(dir: string, unit: Pick<LoopUnit, 'kind' | 'name' | 'forTest' | 'testPath'>) {
  const key = [unit.testPath, unit.kind, unit.name, unit.forTest ?? ''].join('\0');
  return path.join(dir, `${createHash('sha1').update(key).digest('hex')}.json`);
}

export function writeFrozenMarker(dir: string, unit: LoopUnit, finding: BlockedLoopFinding): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(markerFile(dir, unit), JSON.stringify(finding));
}

export function readFrozenMarker(
  dir: string,
  unit: Pick<LoopUnit, 'kind' | 'name' | 'forTest' | 'testPath'>,
): BlockedLoopFinding | undefined {
  try {
    return JSON.parse(fs.readFileSync(markerFile(dir, unit), 'utf8')) as BlockedLoopFinding;
  } catch {
    return undefined;
  }
}

/** Removes the markers of Jest runs that have ended, so none outlives its run for long. */
export function removeStaleMarkers(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(MARKERS_ROOT);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || isAlive(Number(entry))) continue;
    fs.rmSync(path.join(MARKERS_ROOT, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
