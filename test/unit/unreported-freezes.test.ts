import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFrozenMarker } from '../../src/core/loop-watchdog/frozen-markers';
import type { LoopUnit } from '../../src/core/loop-watchdog/report';
import type { BlockedLoopFinding } from '../../src/core/model';
import { unreportedFreezes } from '../../src/jest/unreported-freezes';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unreported-freezes-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function frozen(name: string, forTest?: string): { unit: LoopUnit; finding: BlockedLoopFinding } {
  const unit: LoopUnit = {
    kind: forTest ? 'beforeEach' : 'test',
    name,
    ...(forTest ? { forTest } : {}),
    testPath: '/project/spin.test.js',
    rootDir: '/project',
    timeoutMs: 1000,
  };
  const finding = {
    schemaVersion: 1,
    kind: 'blocked-loop',
    testName: name,
    testPath: unit.testPath,
    phase: unit.kind,
    ...(forTest ? { forTest } : {}),
    blockedMs: 3000,
    timeoutMs: 1000,
    frozen: true,
    severity: 'error',
    stack: [],
    advice: [
      { code: 'starved-thread', asleep: false, cpuPercent: 20, waitedMs: 500 },
      { code: 'ended-process', unit: 'test', how: 'worker-rerun', exitCode: 124 },
    ],
  } as unknown as BlockedLoopFinding;
  return { unit, finding };
}

test('a marker no process reported comes back, its ending advice replaced', () => {
  const { unit, finding } = frozen('spins');
  writeFrozenMarker(dir, unit, finding);
  const [recovered, ...rest] = unreportedFreezes([], dir);
  expect(rest).toEqual([]);
  expect(recovered.testName).toBe('spins');
  expect(recovered.advice).toEqual([
    { code: 'starved-thread', asleep: false, cpuPercent: 20, waitedMs: 500 },
    { code: 'rerun-missing', unit: 'test', exitCode: 124 },
  ]);
});

test('a marker whose rerun reported the unit (same file, phase, name and test) is left out', () => {
  const test = frozen('spins');
  const hook = frozen('spins', 'another test');
  writeFrozenMarker(dir, test.unit, test.finding);
  writeFrozenMarker(dir, hook.unit, hook.finding);
  const rerun = { ...test.finding, advice: [] };
  expect(unreportedFreezes([rerun], dir).map((finding) => finding.forTest)).toEqual([
    'another test',
  ]);
  // A blocked (not frozen) loop of the same unit is another finding: it reports no freeze.
  expect(unreportedFreezes([{ ...rerun, frozen: false }, hook.finding], dir)).toHaveLength(1);
});

test('no directory, no markers, or a file that is not a marker: nothing', () => {
  expect(unreportedFreezes([], undefined)).toEqual([]);
  expect(unreportedFreezes([], dir)).toEqual([]);
  fs.writeFileSync(path.join(dir, 'frozen-0a.json'), '{"kind":"hang"}');
  fs.writeFileSync(path.join(dir, 'frozen-0b.json'), 'not json');
  expect(unreportedFreezes([], dir)).toEqual([]);
  expect(unreportedFreezes([], path.join(dir, 'gone'))).toEqual([]);
});
