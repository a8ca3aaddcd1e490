import type { KeptAliveResource, OwnerRef } from '../../src/core/model';
import {
  renderFindingText,
  renderKeptAlive,
  renderRunSummary,
} from '../../src/report/render-summary';
import { ROOT, sampleDeadlockFinding, sampleHang, sampleLeak } from '../helpers/findings';

/** An end-of-run entry for the sample leak's timer, made in `file` by `testName` ('' for the file). */
function keptAliveEntry(
  file: string,
  testName: string,
  extra: Partial<Omit<KeptAliveResource, 'resource'>> & {
    resource?: Partial<KeptAliveResource['resource']>;
  } = {},
): KeptAliveResource {
  const [timer] = (sampleLeak() as { resources: KeptAliveResource['resource'][] }).resources;
  const { resource, ...rest } = extra;
  return {
    process: 'worker 1',
    testPath: `${ROOT}/${file}`,
    testName,
    ...rest,
    resource: { ...timer, ...resource },
  };
}

test('one entry per finding: kind, culprit line, test, and one line of why', () => {
  const summary = renderRunSummary([sampleHang(), sampleDeadlockFinding()], {
    rootDir: ROOT,
    reportFile: `${ROOT}/hangwatch-report.json`,
    gate: { failOn: ['hang', 'deadlock'], failing: [sampleHang(), sampleDeadlockFinding()] },
  });
  expect(summary).toBe(
    [
      'hangwatch: 2 findings in this run: 1 hang, 1 deadlock',
      '  hang      src/orders.test.js:12:5  orders › refunds a payment',
      '            test "orders › refunds a payment" hung: still waiting after 5.0 s (timeout 5.0 s). Waiting on: setTimeout 60000 ms (55.0 s left).',
      '  deadlock  src/bank.js:30:9  transfers › moves money both ways',
      '            Deadlock: 2 flows wait for each other\'s locks ("accounts:B", "accounts:A"): none can ever go on.',
      'Full report: hangwatch-report.json',
      'hangwatch failed the run: 1 hang, 1 deadlock (failOn: hang, deadlock).',
      '',
    ].join('\n'),
  );
});

test('nothing at all when there is nothing to say', () => {
  expect(renderRunSummary([], { rootDir: ROOT })).toBe('');
});

test('a hang in full is the failure message text', () => {
  expect(renderFindingText(sampleHang(), ROOT)).toContain(
    'created at src/orders.test.js:12:5   setTimeout(resolve, 60_000);',
  );
});

test('a leak: the test, the resource left open and where it was created', () => {
  expect(renderRunSummary([sampleLeak()], { rootDir: ROOT })).toBe(
    [
      'hangwatch: 1 finding in this run: 1 leak',
      '  leak  src/orders.test.js:12:5  orders › refunds a payment',
      '        the test left 1 resource open: setTimeout 60000 ms (55.0 s left).',
      '',
    ].join('\n'),
  );
});

test('what still holds the process open after the last test: process, resource, site and test', () => {
  const text = renderKeptAlive(
    [
      keptAliveEntry('server.test.js', 'starts the server', { process: 'worker 2' }),
      keptAliveEntry('boot.test.js', '', { process: 'in band' }),
    ],
    ROOT,
  );
  expect(text).toMatch(
    /^hangwatch: after the last test, 2 resources still hold the process open \(why Jest may not exit\):\n {2}worker 2: /,
  );
  expect(text).toMatch(/\n {4}created at \S+:\d+:\d+ by test "starts the server"\n/);
  expect(text).toMatch(/\n {4}created at \S+:\d+:\d+ by boot\.test\.js \(file level\)\n$/);
  expect(renderKeptAlive([], ROOT)).toBe('');
});

test('a timed-out beforeAll’s work is named by the hook, not as its file’s', () => {
  const text = renderKeptAlive(
    [
      keptAliveEntry('db.test.js', '', {
        timedOut: true,
        resource: { owner: { kind: 'beforeAll', name: '' } },
      }),
    ],
    ROOT,
  );
  expect(text).toMatch(
    /\n {4}created at \S+ by the top-level beforeAll hook of db\.test\.js\n {4}it timed out, and Jest does not stop a timed-out hook's timers, loops or requests\n$/,
  );
});

test('a per-test hook is named as the hook; a test whose afterEach hung waiting on its work says so', () => {
  /** An entry of pool.test.js, made by `owner`, after a timeout. */
  const poolEntry = (testName: string, owner: OwnerRef, timedOutUnit?: OwnerRef) =>
    keptAliveEntry('pool.test.js', testName, {
      timedOut: true,
      ...(timedOutUnit ? { timedOutUnit } : {}),
      resource: { owner },
    });
  const afterEach = { kind: 'afterEach', name: '', testName: 'closes the pool' } as const;
  const text = renderKeptAlive(
    [
      poolEntry('closes the pool', afterEach),
      poolEntry('closes the pool', { kind: 'test', name: 'closes the pool' }, afterEach),
    ],
    ROOT,
  );
  expect(text).toContain(
    `by the afterEach hook for test "closes the pool" of pool.test.js\n    it timed out, and Jest does not stop a timed-out hook's timers, loops or requests\n`,
  );
  expect(text).toContain(
    `by test "closes the pool"\n    the afterEach hook for test "closes the pool" timed out waiting on it, and Jest does not stop what a timed-out hook waits on\n`,
  );
  const beforeEach = { kind: 'beforeEach', name: '', testName: 'polls the pool' } as const;
  const byTest = renderKeptAlive(
    [poolEntry('polls the pool', beforeEach, { kind: 'test', name: 'polls the pool' })],
    ROOT,
  );
  expect(byTest).toContain(
    `by the beforeEach hook for test "polls the pool" of pool.test.js\n    test "polls the pool" timed out while this was open, and Jest does not stop the timers, loops or requests of a timed-out test's hooks\n`,
  );
});

test('a long end-of-run list counts every resource and shows the first 20, pointing at the JSON report', () => {
  const entries = Array.from({ length: 23 }, (_, index) =>
    keptAliveEntry('server.test.js', `starts server ${index + 1}`),
  );
  const text = renderKeptAlive(entries, ROOT, `${ROOT}/hangwatch-report.json`);
  expect(text).toMatch(/^hangwatch: after the last test, 23 resources still hold the process open/);
  expect(text.match(/\n {2}worker 1: /g)).toHaveLength(20);
  expect(text).toContain('by test "starts server 20"');
  expect(text).not.toContain('starts server 21');
  expect(text).toMatch(/\n {2}…and 3 more, all listed in hangwatch-report\.json\n$/);
  expect(renderKeptAlive(entries, ROOT)).toMatch(/\n {2}…and 3 more\n$/);
});

test('a timed-out test’s work still holding the process open: said as such, not as a leak', () => {
  const owner = { kind: 'test' as const, name: 'waits for the cache to warm' };
  const text = renderKeptAlive(
    [
      keptAliveEntry('cache.test.js', owner.name, {
        timedOut: true,
        resource: { relation: 'this-test', owner },
      }),
      keptAliveEntry('cache.test.js', owner.name, {
        timedOut: true,
        resource: {
          relation: 'unknown',
          leftBy: { testPath: `${ROOT}/cache.test.js`, owner, timedOut: true },
        },
      }),
    ],
    ROOT,
  );
  const entries = text.split('\n  worker 1: ').slice(1);
  expect(entries[0]).toMatch(
    /\n {4}created at \S+ by test "waits for the cache to warm"\n {4}it timed out, and Jest does not stop a timed-out test's timers, loops or requests$/,
  );
  expect(entries[1]).toMatch(
    /\n {4}created at \S+ by test "waits for the cache to warm", whose work went on after its file ended\n {4}it timed out/,
  );
});

test('a hang whose only pending resource an earlier file left running says so in its row', () => {
  const hang = sampleHang();
  const [timer] = hang.pending;
  const summary = renderRunSummary(
    [
      {
        ...hang,
        nothingOwnPending: true,
        pending: [
          {
            ...timer,
            relation: 'unknown',
            owner: undefined,
            leftBy: {
              testPath: `${ROOT}/src/cache.test.js`,
              owner: { kind: 'test', name: 'waits for the cache to warm' },
              timedOut: true,
            },
          },
        ],
      },
    ],
    { rootDir: ROOT },
  );
  expect(summary).toContain('Pending, left running by an earlier file: setTimeout 60000 ms');
});
