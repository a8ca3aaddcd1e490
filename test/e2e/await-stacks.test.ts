import { reportOf, runFixture, topFrameOf, type FixtureRun } from '../helpers/run-fixture';

// Default mode: the hung test's awaits, read from the heap when it hangs, name the user's lines.
describe('await stacks (Jest 30, CommonJS)', () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture('await-stacks', { args: ['--forceExit'], timeoutMs: 600_000 });
  }, 620_000);

  test('a jest.fn returning a promise nobody settles: the mock line and each await', () => {
    const failure = run.failureOf('a mocked call returns a promise nobody settles');
    const report = reportOf(failure);
    expect(report).toContain(
      "waits on a promise a jest.fn() mock returned, which never settles; made at await-stacks.test.js:9:58   jest.spyOn(api, 'getUser').mockReturnValue(new Promise(() => {}));",
    );
    expect(report).toMatch(/src\/users\.js:4:16 +const user = await api\.getUser\(id\);/);
    expect(report).toMatch(
      /await-stacks\.test\.js:10:3 +await expect\(greet\(1\)\)\.resolves\.toBe\('hello Ada'\);/,
    );
    expect(topFrameOf(failure)).toContain('src/users.js:4:16');
  });

  test('a new Promise whose resolve is dropped: the executor line', () => {
    const failure = run.failureOf('a new Promise whose resolve is dropped');
    expect(reportOf(failure)).toContain(
      'waits on a new Promise whose resolve and reject have not been called; its executor: await-stacks.test.js:18:',
    );
    expect(topFrameOf(failure)).toContain('await-stacks.test.js:18:17');
  });

  test('an event emitted in a constructor before the wait: the missed emit, named', () => {
    const failure = run.failureOf('an event emitted in a constructor before the wait');
    const report = reportOf(failure);
    expect(report).toMatch(
      /waits for event 'ready' on a Connection for \d+ ms; the wait began at await-stacks\.test\.js:24:9/,
    );
    expect(report).toMatch(
      /'ready' was emitted \d+ ms before this wait started, so the wait missed it; emitted at src\/conn\.js:7:10 +this\.emit\('ready'\);/,
    );
    expect(topFrameOf(failure)).toContain('await-stacks.test.js:24:3');
  });

  test('a p-limit limiter of 1 used inside its own job: the library and the line that entered it', () => {
    const failure = run.failureOf('a limiter of 1 used inside its own job');
    const report = reportOf(failure);
    expect(report).toContain(
      'waits inside p-limit, entered at src/jobs.js:8:5   await limit(() => `${name}: sub-step`);',
    );
    expect(report).toMatch(/await-stacks\.test\.js:29:3 +await expect\(runJob\('import'\)\)/);
    expect(report).toContain(
      'p-limit runs this very flow as one of its jobs: the flow holds a slot of p-limit while it waits for one',
    );
    expect(topFrameOf(failure)).toContain('src/jobs.js:8:5');
  });

  test('a p-limit limiter whose slots are held by jobs that never finish: who holds them', () => {
    const report = reportOf(
      run.failureOf('a limiter whose slots are held by jobs that never finish'),
    );
    expect(report).toContain(
      "waits inside p-limit, entered at await-stacks.test.js:61:3   await requestExport('invoices');",
    );
    // Only this limiter's jobs: the earlier test's limiter (src/jobs.js) still holds its own slot.
    expect(report).toContain(
      '2 slots are held by jobs p-limit is running, each waiting at src/exports.js:9:18   const file = await new Promise((resolve) => answers.set(id, resolve));',
    );
    expect(report).not.toContain('src/jobs.js');
  });

  test('a generic-pool borrow never released after a throw', () => {
    const failure = run.failureOf('a pool borrow never released after a throw');
    expect(reportOf(failure)).toContain(
      'waits inside generic-pool, entered at src/pool.js:12:18   const client = await pool.acquire();',
    );
    expect(topFrameOf(failure)).toContain('src/pool.js:12:18');
  });

  test('two flows each awaiting the other one’s event are listed separately', () => {
    const report = reportOf(run.failureOf("two flows each awaiting the other one's event"));
    expect(report).toContain('It is awaiting, in 2 concurrent flows (innermost first):');
    expect(report).toMatch(
      /waits for event 'pong' on an EventEmitter .*await-stacks\.test\.js:40:11/,
    );
    expect(report).toMatch(
      /waits for event 'ping' on an EventEmitter .*await-stacks\.test\.js:44:11/,
    );
    expect(report).toMatch(
      /await-stacks\.test\.js:47:3 +await Promise\.all\(\[ping\(\), pong\(\)\]\);/,
    );
  });

  test('a hung afterAll: its own await', () => {
    const failure = run.stdout + run.stderr;
    expect(failure).toContain('afterAll hook of describe "a hung afterAll" can never finish');
    expect(failure).toMatch(
      /await-stacks\.test\.js:52:5 +await new Promise\(\(resolve\) => register\(resolve\)\);/,
    );
  });
});

test('Jest 29: the mock case', async () => {
  const run = await runFixture('await-stacks', {
    jestMajor: 29,
    args: ['--forceExit', '-c', 'jest29.config.js', '-t', 'a mocked call'],
    timeoutMs: 400_000,
  });
  const failure = run.failureOf('a mocked call returns a promise nobody settles');
  expect(reportOf(failure)).toMatch(/src\/users\.js:4:16 +const user = await api\.getUser\(id\);/);
  expect(topFrameOf(failure)).toContain('src/users.js:4:16');
}, 420_000);

test('native ESM: the missed event', async () => {
  const run = await runFixture('await-stacks-esm', {
    args: ['--forceExit'],
    env: { NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
    timeoutMs: 400_000,
  });
  const report = reportOf(run.failureOf('an event emitted in a constructor before the wait'));
  expect(report).toMatch(/the wait began at ready\.test\.js:6:9/);
  expect(report).toMatch(/emitted at src\/conn\.js:6:10 +this\.emit\('ready'\);/);
}, 420_000);

test('ts-jest: .ts lines, source-mapped', async () => {
  const run = await runFixture('await-stacks-ts', { args: ['--forceExit'], timeoutMs: 400_000 });
  const failure = run.failureOf('a mocked call returns a promise nobody settles');
  const report = reportOf(failure);
  expect(report).toMatch(/src\/users\.ts:10:22 +const user: User = await api\.getUser\(id\);/);
  expect(report).toMatch(/greet\.test\.ts:5:3 +await expect\(greet\(1\)\)\.resolves/);
  expect(report).toMatch(/made at greet\.test\.ts:4:\d+/);
  expect(topFrameOf(failure)).toContain('src/users.ts:10:22');
}, 420_000);
