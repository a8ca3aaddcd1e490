import { REPORT_SCHEMA_VERSION, type KeptAliveResource } from '../../src/core/model';
import {
  buildReport,
  mergeReports,
  parseReport,
  ReportFormatError,
} from '../../src/report/document';
import {
  ROOT,
  sampleDeadlockFinding,
  sampleHang,
  sampleLeak,
  sampleRun,
} from '../helpers/findings';
import { reportSchema, schemaErrors } from '../helpers/report-schema';

const run = sampleRun;

describe('the JSON report', () => {
  test('is valid against the shipped schema, hangs in full and other kinds as they are', () => {
    const report = buildReport(run(), [sampleHang(), sampleLeak(), sampleDeadlockFinding()]);
    expect(schemaErrors(report)).toEqual([]);
  });

  test('the schema and the model agree on the version', () => {
    expect(reportSchema.properties.schemaVersion.const).toBe(REPORT_SCHEMA_VERSION);
  });

  test('the schema rejects a hang missing a field, or carrying one it does not document', () => {
    const { pending: _pending, ...withoutPending } = sampleHang();
    expect(schemaErrors(buildReport(run(), [withoutPending as never]))).not.toEqual([]);
    expect(schemaErrors(buildReport(run(), [{ ...sampleHang(), surprise: 1 } as never]))).toContain(
      '/findings/0 must NOT have additional properties',
    );
  });

  test('orders findings by test file, keeping the order within a file', () => {
    const first = sampleHang({ testName: 'z first', testPath: `${ROOT}/b.test.js` });
    const second = sampleHang({ testName: 'a second', testPath: `${ROOT}/b.test.js` });
    const other = sampleHang({ testPath: `${ROOT}/a.test.js` });
    const report = buildReport(run(), [first, other, second]);
    expect(report.findings).toEqual([other, first, second]);
    expect(report.runs[0].findingCount).toBe(3);
  });
});

describe('merging shard reports', () => {
  const shard1 = buildReport(run({ runId: 'one', shard: { index: 1, count: 2 } }), [
    sampleHang({ testPath: `${ROOT}/b.test.js` }),
  ]);
  const shard2 = buildReport(run({ runId: 'two', shard: { index: 2, count: 2 } }), [
    sampleHang({ testPath: `${ROOT}/a.test.js` }),
    sampleDeadlockFinding(),
  ]);

  test('lists every run by shard and every finding by file, whatever the input order', () => {
    const merged = mergeReports([shard2, shard1]);
    expect(merged.runs.map((r) => r.runId)).toEqual(['one', 'two']);
    expect(merged.findings.map((f) => (f as { testPath: string }).testPath)).toEqual([
      `${ROOT}/a.test.js`,
      `${ROOT}/b.test.js`,
      `${ROOT}/src/bank.test.js`,
    ]);
    expect(schemaErrors(merged)).toEqual([]);
  });

  test('equals the single report of the same findings', () => {
    const single = buildReport(run(), [...shard1.findings, ...shard2.findings]);
    expect(mergeReports([shard1, shard2]).findings).toEqual(single.findings);
  });

  test('refuses the same run twice', () => {
    expect(() => mergeReports([shard1, shard1])).toThrow(
      'run one (shard 1/2) appears in more than one input',
    );
  });
});

describe('reading a report', () => {
  const good = JSON.stringify(buildReport(run(), [sampleHang()]));

  test('round-trips', () => {
    expect(parseReport(good, 'r.json')).toEqual(JSON.parse(good));
  });

  test.each([
    ['{"format": "hangwatch-report", ', /^r\.json is not valid JSON \(/],
    [
      '{"results": []}',
      'r.json is not a hangwatch report (expected "format": "hangwatch-report").',
    ],
    [
      good.replaceAll('"schemaVersion":2', '"schemaVersion":99'),
      'r.json has schema version 99; this hangwatch reads version 2.',
    ],
    ['{"format": "hangwatch-report", "schemaVersion": 2}', 'is missing its "runs" or "findings"'],
    [
      '{"format": "hangwatch-report", "schemaVersion": 2, "runs": [], "findings": [{}]}',
      'r.json: findings[0] has no "kind".',
    ],
  ])('rejects %s with a clear message', (text, message) => {
    expect(() => parseReport(text, 'r.json')).toThrow(ReportFormatError);
    expect(() => parseReport(text, 'r.json')).toThrow(message);
  });
});

describe('what kept processes alive after their last test', () => {
  const keptAlive = (process: string) => ({
    process,
    testPath: `${ROOT}/server.test.js`,
    testName: 'starts the server',
    resource: (sampleLeak() as { resources: KeptAliveResource['resource'][] }).resources[0],
  });

  test('is valid against the schema, and absent when nothing did', () => {
    const report = buildReport(run(), [sampleLeak()], [keptAlive('in band')]);
    expect(schemaErrors(report)).toEqual([]);
    expect(buildReport(run(), [sampleLeak()])).not.toHaveProperty('keptAlive');
  });

  test('merged shard reports keep every shard’s', () => {
    const merged = mergeReports([
      buildReport(run({ runId: 'one' }), [], [keptAlive('worker 1')]),
      buildReport(run({ runId: 'two' }), [], [keptAlive('worker 2')]),
    ]);
    expect(merged.keptAlive?.map((entry) => entry.process).sort()).toEqual([
      'worker 1',
      'worker 2',
    ]);
  });
});
