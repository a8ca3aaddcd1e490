import * as path from 'node:path';
import { readPayload, SourceMapResolver } from '../../src/core/loop-watchdog/source-maps';
import {
  BlockedLoopError,
  buildBlockedLoopFinding,
  renderBlockedLoopText,
  type LoopUnit,
} from '../../src/core/loop-watchdog/report';
import { SharedLoopState } from '../../src/core/loop-watchdog/shared-state';
import { SharedUnitSlots } from '../../src/core/loop-watchdog/unit-slots';
import { parseFrameLine } from '../../src/core/stack';
import type { Frame } from '../../src/core/model';

const ROOT = path.join(path.sep, 'project');
const SPEC = path.join(ROOT, 'spin.test.js');

// Generated line 1 maps to source line 3, generated line 2 to source line 5 (column 2).
const MAP = {
  version: 3,
  file: 'spin.test.js',
  sources: ['spin.test.js'],
  names: [],
  mappings: ';AAEA;AAEE',
};
const inline = (encoding: 'base64' | 'uri') =>
  encoding === 'base64'
    ? `data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(MAP)).toString('base64')}`
    : `data:application/json,${encodeURIComponent(JSON.stringify(MAP))}`;

describe('source maps of transformed test files', () => {
  test('an inline base64 map (babel-jest, ts-jest) maps to the source line', () => {
    expect(new SourceMapResolver().resolve(SPEC, inline('base64'), 2, 0)).toEqual({
      file: SPEC,
      line: 5,
      column: 3,
    });
  });

  test('a URI-encoded inline map reads the same', () => {
    expect(readPayload(SPEC, inline('uri'))).toEqual(MAP);
  });

  test('no map, or a broken one, keeps the generated position', () => {
    const resolver = new SourceMapResolver();
    expect(resolver.resolve(SPEC, undefined, 9, 4)).toEqual({ file: SPEC, line: 10, column: 5 });
    expect(resolver.resolve(SPEC, 'data:application/json;base64,e30K!!', 9, 4)).toEqual({
      file: SPEC,
      line: 10,
      column: 5,
    });
  });
});

const unit: LoopUnit = {
  kind: 'test',
  name: 'spins › forever',
  testPath: SPEC,
  rootDir: ROOT,
  timeoutMs: 1000,
};
const frames = [
  `    at spin (${SPEC}:5:3)`,
  `    at ${SPEC}:9:3`,
  '    at callAsyncCircusFn (/project/node_modules/jest-circus/build/utils.js:1:1)',
].map((line) => parseFrameLine(line) as Frame);

describe('blocked-loop reports', () => {
  test('a block that ended is one headline at the loop’s line, then its code and stack', () => {
    const finding = buildBlockedLoopFinding(unit, {
      blockedMs: 2512,
      frames,
      frozen: false,
      severity: 'warning',
    });
    expect(renderBlockedLoopText(finding, ROOT).split('\n')).toEqual([
      'test "spins › forever" blocked the event loop for 2.5 s at spin.test.js:5:3.',
      'Stack of the test when the watchdog looked (most recent call first):',
      '  - spin (spin.test.js:5:3)',
      '  - spin.test.js:9:3',
    ]);
  });

  test('a frozen hook says so, with its timeout', () => {
    const finding = buildBlockedLoopFinding(
      { ...unit, kind: 'beforeEach', forTest: 'spins › forever' },
      { blockedMs: 2100, frames, frozen: true, severity: 'error' },
    );
    expect(renderBlockedLoopText(finding, ROOT)).toMatch(
      /^beforeEach hook for test "spins › forever" froze the event loop: blocked for 2\.1 s, past its 1\.0 s timeout, at spin\.test\.js:5:3\./,
    );
  });

  test('describe-level hooks are named as hang reports name them', () => {
    const headline = (name: string) =>
      renderBlockedLoopText(
        buildBlockedLoopFinding(
          { ...unit, kind: 'beforeAll', name },
          { blockedMs: 2100, frames, frozen: false, severity: 'warning' },
        ),
        ROOT,
      ).split('\n')[0];
    expect(headline('db › users')).toMatch(/^beforeAll hook of describe "db › users" blocked/);
    expect(headline('')).toMatch(/^top-level beforeAll hook blocked/);
  });

  test('no JavaScript on the stack means a native call blocked it', () => {
    const finding = buildBlockedLoopFinding(unit, {
      blockedMs: 1500,
      frames: [],
      frozen: false,
      severity: 'warning',
    });
    expect(renderBlockedLoopText(finding, ROOT)).toContain(
      'blocked the event loop for 1.5 s outside JavaScript (a synchronous native call',
    );
  });

  test('the error’s stack starts at the loop, so Jest draws its code frame there', () => {
    const finding = buildBlockedLoopFinding(unit, {
      blockedMs: 2512,
      frames,
      frozen: false,
      severity: 'error',
    });
    const error = new BlockedLoopError('report', finding);
    expect(error.stack?.split('\n').slice(0, 3)).toEqual([
      'BlockedLoopError: report',
      `    at spin (${SPEC}:5:3)`,
      `    at ${SPEC}:9:3`,
    ]);
  });
});

test('shared loop state: both threads see the same heartbeat, unit and deadline', () => {
  const testThread = new SharedLoopState();
  const watchdog = new SharedLoopState(testThread.buffer, testThread.epoch);
  testThread.arm(250);
  testThread.setUnit(7, 1234);
  expect(watchdog.armed()).toBe(true);
  expect(watchdog.thresholdMs()).toBe(250);
  expect(watchdog.unit()).toEqual({ token: 7, deadline: 1234 });
  expect(watchdog.lastBeat()).toBe(testThread.lastBeat());
  testThread.disarm();
  expect(watchdog.armed()).toBe(false);
  expect(watchdog.unit().token).toBe(0);
});

describe('shared unit slots', () => {
  test('the watchdog reads the description the test thread wrote for a running unit', () => {
    const testThread = new SharedUnitSlots();
    const watchdog = new SharedUnitSlots(testThread.buffer);
    const hook: LoopUnit = { ...unit, kind: 'beforeEach', name: 'spins', forTest: 'spins › é' };
    testThread.write(3, unit);
    testThread.write(4, hook);
    expect(watchdog.get(3)).toEqual(unit);
    expect(watchdog.get(4)).toEqual(hook);
    expect(watchdog.get(5)).toBeUndefined();
    expect(watchdog.get(0)).toBeUndefined();
  });

  test('a slot reused by a later unit no longer answers for the earlier one', () => {
    const slots = new SharedUnitSlots();
    slots.write(1, unit);
    slots.write(17, { ...unit, name: 'later' });
    expect(slots.get(1)).toBeUndefined();
    expect(slots.get(17)?.name).toBe('later');
  });

  test('a slot reused by a unit of another file describes that file, whatever the names', () => {
    const testThread = new SharedUnitSlots();
    const watchdog = new SharedUnitSlots(testThread.buffer);
    const other = path.join(ROOT, 'nested', 'other.test.js');
    testThread.write(5, { ...unit, name: 'a rather long name '.repeat(20) });
    testThread.write(21, { ...unit, kind: 'afterAll', name: 'short', testPath: other });
    expect(watchdog.get(21)).toEqual({ ...unit, kind: 'afterAll', name: 'short', testPath: other });
    testThread.write(37, { ...unit, kind: 'afterEach', name: 'é', forTest: 'ü', timeoutMs: 0 });
    expect(watchdog.get(37)).toEqual({
      ...unit,
      kind: 'afterEach',
      name: 'é',
      forTest: 'ü',
      timeoutMs: 0,
    });
    testThread.write(53, { ...unit, kind: 'beforeAll', timeoutMs: Infinity });
    expect(watchdog.get(53)).toEqual({ ...unit, kind: 'beforeAll', timeoutMs: Infinity });
  });

  test('a name too long for its slot is cut, never the description', () => {
    const slots = new SharedUnitSlots();
    slots.write(2, { ...unit, name: 'ü'.repeat(5000), forTest: 'x'.repeat(5000) });
    const read = slots.get(2);
    expect(read?.name).toBe('ü'.repeat(500));
    expect(read?.forTest).toBe('x'.repeat(500));
    expect(read?.testPath).toBe(SPEC);
  });
});
