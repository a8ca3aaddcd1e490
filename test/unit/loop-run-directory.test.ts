import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  anyFrozenMarker,
  readFrozenMarker,
  writeFrozenMarker,
} from '../../src/core/loop-watchdog/frozen-markers';
import { buildBlockedLoopFinding, type LoopUnit } from '../../src/core/loop-watchdog/report';
import {
  LOOP_DIR_ENV,
  LOOP_OWNER_ENV,
  loopRunDirectory,
  openLoopRunDirectory,
  readOwnFile,
} from '../../src/core/loop-watchdog/run-directory';
import { agreedSample, agreeingCount } from '../../src/core/loop-watchdog/samples';
import { isPrivateDirectory } from '../../src/core/run-directories';
import type { Frame } from '../../src/core/model';
import { parseFrameLine } from '../../src/core/stack';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const unit: LoopUnit = {
  kind: 'test',
  name: 'spins',
  testPath: '/project/spin.test.js',
  rootDir: '/project',
  timeoutMs: 1000,
};
const finding = buildBlockedLoopFinding(unit, {
  blockedMs: 2000,
  frames: [],
  frozen: true,
  severity: 'error',
});

let scratch: string;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'loop-run-dir-test-'));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('the run directory', () => {
  const saved = { dir: process.env[LOOP_DIR_ENV], owner: process.env[LOOP_OWNER_ENV] };
  afterEach(() => {
    for (const [key, value] of [
      [LOOP_DIR_ENV, saved.dir],
      [LOOP_OWNER_ENV, saved.owner],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  test('is made private (0700, unguessable, named by its maker) and exported to the processes Jest forks', () => {
    const dir = openLoopRunDirectory();
    expect(path.basename(dir)).toMatch(new RegExp(`^hangwatch-loop-${process.pid}-.{6}$`));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(process.env[LOOP_DIR_ENV]).toBe(dir);
    expect(loopRunDirectory()).toBe(dir);
  });

  test('each run of the runner gets a new one (watch mode runs many times), and the last is removed', () => {
    const first = openLoopRunDirectory();
    fs.writeFileSync(path.join(first, 'frozen-marker.json'), '{}');
    const second = openLoopRunDirectory();
    expect(second).not.toBe(first);
    expect(fs.existsSync(first)).toBe(false);
    expect(process.env[LOOP_DIR_ENV]).toBe(second);
    expect(loopRunDirectory()).toBe(second);
  });

  test('a directory another Jest run exported, or one open to others, is not used', () => {
    process.env[LOOP_DIR_ENV] = scratch;
    process.env[LOOP_OWNER_ENV] = '1';
    expect(loopRunDirectory()).toBeUndefined();
    process.env[LOOP_OWNER_ENV] = String(process.pid);
    fs.chmodSync(scratch, 0o777);
    expect(isPrivateDirectory(scratch)).toBe(false);
    fs.chmodSync(scratch, 0o700);
    expect(isPrivateDirectory(scratch)).toBe(true);
    const link = path.join(os.tmpdir(), `loop-run-dir-link-${process.pid}`);
    fs.symlinkSync(scratch, link);
    try {
      expect(isPrivateDirectory(link)).toBe(false);
    } finally {
      fs.unlinkSync(link);
    }
  });
});

describe('frozen markers read back', () => {
  test('the run’s own marker for the unit is read back', () => {
    writeFrozenMarker(scratch, unit, finding);
    expect(readFrozenMarker(scratch, unit)).toEqual(finding);
  });

  test('a file looks for markers once: none in a run where nothing froze', () => {
    expect(anyFrozenMarker(scratch)).toBe(false);
    expect(anyFrozenMarker(path.join(scratch, 'missing'))).toBe(false);
    writeFrozenMarker(scratch, unit, finding);
    expect(anyFrozenMarker(scratch)).toBe(true);
  });

  test('a marker for another unit, or not a blocked-loop finding, is ignored', () => {
    writeFrozenMarker(scratch, unit, finding);
    const file = fs.readdirSync(scratch)[0];
    fs.writeFileSync(path.join(scratch, file), JSON.stringify({ ...finding, testName: 'other' }));
    expect(readFrozenMarker(scratch, unit)).toBeUndefined();
    fs.writeFileSync(path.join(scratch, file), '{"kind":"hang"}');
    expect(readFrozenMarker(scratch, unit)).toBeUndefined();
  });

  test('a symlink or a hard link planted where the marker goes is not followed', () => {
    const forged = path.join(os.tmpdir(), `forged-marker-${process.pid}.json`);
    fs.writeFileSync(forged, JSON.stringify(finding));
    try {
      writeFrozenMarker(scratch, unit, finding);
      const file = path.join(scratch, fs.readdirSync(scratch)[0]);
      fs.rmSync(file);
      fs.symlinkSync(forged, file);
      expect(readOwnFile(file)).toBeUndefined();
      expect(readFrozenMarker(scratch, unit)).toBeUndefined();
      // Writing does not follow it either.
      expect(() => writeFrozenMarker(scratch, unit, finding)).toThrow();
      fs.rmSync(file);
      fs.linkSync(forged, file);
      expect(readFrozenMarker(scratch, unit)).toBeUndefined();
    } finally {
      fs.rmSync(forged, { force: true });
    }
  });

  (isRoot ? test : test.skip)('a marker owned by another user is ignored', () => {
    writeFrozenMarker(scratch, unit, finding);
    const file = path.join(scratch, fs.readdirSync(scratch)[0]);
    fs.chownSync(file, 65534, 65534);
    expect(readFrozenMarker(scratch, unit)).toBeUndefined();
  });
});

describe('stack samples', () => {
  const at = (line: number) => parseFrameLine(`    at /project/spin.test.js:${line}:5`) as Frame;
  const microtasks: Frame[] = []; // a pause between two microtasks: no JavaScript frame
  const runner = parseFrameLine(
    '    at callAsyncCircusFn (/project/node_modules/jest-circus/build/utils.js:1:1)',
  ) as Frame;

  test('the user frame most samples agree on wins over a pause between microtasks', () => {
    const samples = [microtasks, [at(20), runner], [runner], [at(20), runner], [at(12)]];
    expect(agreeingCount(samples)).toBe(2);
    expect(agreedSample(samples)).toEqual([at(20), runner]);
  });

  test('without any user frame, the sample with the most frames outside Node and Jest', () => {
    const dependency = parseFrameLine('    at /project/node_modules/lib/index.js:3:1') as Frame;
    expect(agreedSample([microtasks, [dependency, runner], [runner]])).toEqual([
      dependency,
      runner,
    ]);
    expect(agreedSample([])).toEqual([]);
  });
});
