import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  openRunChannel,
  publishFinding,
  RUN_DIR_ENV,
  RUN_OWNER_ENV,
} from '../../src/jest/findings-channel';
import { sampleDeadlockFinding, sampleHang } from '../helpers/findings';

afterEach(() => {
  delete process.env[RUN_DIR_ENV];
  delete process.env[RUN_OWNER_ENV];
  jest.restoreAllMocks();
});

test('what is published in this process reaches the run, in order, and the run cleans up', () => {
  const channel = openRunChannel();
  expect(process.env[RUN_DIR_ENV]).toBe(channel.dir);
  expect(process.env[RUN_OWNER_ENV]).toBe(String(process.pid));
  publishFinding(sampleHang());
  publishFinding(sampleDeadlockFinding());
  const { findings, malformedLines } = channel.read();
  expect(findings.map((entry) => entry.finding)).toEqual([sampleHang(), sampleDeadlockFinding()]);
  expect(findings[1].sequence).toBeGreaterThan(findings[0].sequence);
  expect(malformedLines).toBe(0);
  channel.close();
  expect(fs.existsSync(channel.dir)).toBe(false);
  expect(process.env[RUN_DIR_ENV]).toBeUndefined();
});

test('a second reporter shares the open run instead of cutting the first one off', () => {
  const first = openRunChannel();
  const second = openRunChannel();
  expect(second.dir).toBe(first.dir);
  second.close();
  expect(fs.existsSync(first.dir)).toBe(true);
  first.close();
  expect(fs.existsSync(first.dir)).toBe(false);
});

test('a run owned by another Jest (a nested run inherited the variables) gets nothing', () => {
  const channel = openRunChannel();
  process.env[RUN_OWNER_ENV] = '999999999';
  publishFinding(sampleHang());
  expect(channel.read().findings).toEqual([]);
  channel.close();
});

test('a line cut short is counted and skipped, the rest still read', () => {
  const channel = openRunChannel();
  publishFinding(sampleHang());
  fs.appendFileSync(path.join(channel.dir, '1-0.jsonl'), '{"sequence":0,"finding":{"ki');
  const { findings, malformedLines } = channel.read();
  expect(findings).toHaveLength(1);
  expect(malformedLines).toBe(1);
  channel.close();
});

test('publishing never throws: a broken channel costs one warning line at most', () => {
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.env[RUN_DIR_ENV] = path.join(__dirname, 'no-such-directory', 'run');
  process.env[RUN_OWNER_ENV] = String(process.pid);
  expect(() => publishFinding(sampleHang())).not.toThrow();
  expect(() => publishFinding(sampleHang())).not.toThrow();
  const cyclic: Record<string, unknown> = { kind: 'leak' };
  cyclic.self = cyclic;
  expect(() => publishFinding(cyclic as never)).not.toThrow();
  expect(write).toHaveBeenCalledTimes(1);
  expect(String(write.mock.calls[0][0])).toMatch(
    /^hangwatch: could not pass a finding to the reporter \(.*\); test results are unaffected\.\n$/,
  );
});

test('without a reporter there is nowhere to publish, and nothing is said', () => {
  const write = jest.spyOn(process.stderr, 'write');
  publishFinding(sampleHang());
  expect(write).not.toHaveBeenCalled();
});
