import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BlockedLoopFinding, LoopUnit } from './report';
import { readOwnFile, writeOwnFile } from './run-directory';

/**
 * When the watchdog ends a Jest worker process whose loop froze, Jest's worker pool starts a new
 * process and runs the same file again. A marker, written before the process ends and read at the
 * frozen unit's start, lets that second run fail the unit at once with the report instead of
 * freezing again. Markers live in the run's private directory (./run-directory.ts).
 */
type UnitKey = Pick<LoopUnit, 'kind' | 'name' | 'forTest' | 'testPath'>;

/** One text per unit: a marker's file name is its hash; equal for a unit and its finding. */
export function unitKeyOf(unit: UnitKey): string {
  return [unit.testPath, unit.kind, unit.name, unit.forTest ?? ''].join('\0');
}

/** The unit a blocked-loop finding is about, as a marker is keyed. */
export function unitOfFinding(finding: BlockedLoopFinding): UnitKey {
  const { testPath, phase: kind, testName: name, forTest } = finding;
  return { testPath, kind, name, ...(forTest !== undefined ? { forTest } : {}) };
}

const MARKER_NAME = /^frozen-[0-9a-f]+\.json$/;

function markerFile(dir: string, unit: UnitKey) {
  return path.join(dir, `frozen-${createHash('sha1').update(unitKeyOf(unit)).digest('hex')}.json`);
}

export function writeFrozenMarker(dir: string, unit: LoopUnit, finding: BlockedLoopFinding): void {
  writeOwnFile(markerFile(dir, unit), JSON.stringify(finding));
}

/**
 * Whether the run's directory holds any marker at all: read once per test file, so the units of
 * a run where nothing froze (nearly every run) cost no hash and no file lookup each.
 */
export function anyFrozenMarker(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((name) => MARKER_NAME.test(name));
  } catch {
    return false;
  }
}

/** The marker of this very unit, if this user's run wrote one; anything else is ignored. */
export function readFrozenMarker(dir: string, unit: UnitKey): BlockedLoopFinding | undefined {
  const finding = parseMarker(readOwnFile(markerFile(dir, unit)));
  return finding && unitKeyOf(unitOfFinding(finding)) === unitKeyOf(unit) ? finding : undefined;
}

/** Every marker the run's directory holds, as the ended processes wrote them, oldest first. */
export function readFrozenMarkers(dir: string): BlockedLoopFinding[] {
  let files: { file: string; writtenAt: number }[];
  try {
    files = fs
      .readdirSync(dir)
      .filter((name) => MARKER_NAME.test(name))
      .map((name) => path.join(dir, name))
      .map((file) => ({ file, writtenAt: fs.lstatSync(file).mtimeMs }));
  } catch {
    return [];
  }
  return files
    .sort((a, b) => a.writtenAt - b.writtenAt || a.file.localeCompare(b.file))
    .map(({ file }) => parseMarker(readOwnFile(file)))
    .filter((finding) => finding !== undefined);
}

function parseMarker(text: string | undefined): BlockedLoopFinding | undefined {
  if (text === undefined) return undefined;
  try {
    const finding = JSON.parse(text) as Partial<BlockedLoopFinding>;
    const wellFormed =
      finding.kind === 'blocked-loop' &&
      typeof finding.testPath === 'string' &&
      typeof finding.testName === 'string' &&
      typeof finding.phase === 'string' &&
      Array.isArray(finding.stack) &&
      (Array.isArray(finding.advice) || Array.isArray(finding.notes));
    return wellFormed ? (finding as BlockedLoopFinding) : undefined;
  } catch {
    return undefined;
  }
}
