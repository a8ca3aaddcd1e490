import { runFixture, type FixtureRun } from '../helpers/run-fixture';

describe("leaks: 'warn' (the default) names each leak on the test that made it, without failing", () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture('leaks', { args: ['--forceExit'] });
  }, 300_000);

  const output = () => run.stdout + run.stderr;

  test('every test still passes', () => {
    for (const file of run.files) {
      for (const result of file.assertionResults) expect(result.status).toBe('passed');
    }
  });

  test('supertest against app.listen(): the server never closed', () => {
    expect(output()).toMatch(
      /test "supertest against app\.listen\(\), server never closed" left 1 resource open that keeps the process alive:\n\s+1\. HTTP server listening on \S+, 0 open connections\n\s+created at app\.js:6:60/,
    );
  });

  test('a fire-and-forget request that never completes', () => {
    expect(output()).toMatch(
      /test "a fire-and-forget request that never completes" left 1 resource open[^\n]*\n\s+1\. HTTP GET \/slow over TCP socket[^\n]*\n\s+created at leaky\.test\.js:24:8/,
    );
  });

  test('a child process never killed', () => {
    expect(output()).toMatch(
      /test "a child process never killed" left 1 resource open[^\n]*\n\s+1\. child process \d+ `node -e[^\n]*\n\s+created at leaky\.test\.js:29:17/,
    );
  });

  test('a socket opened in afterEach is blamed on its test', () => {
    expect(output()).toMatch(
      /test "a socket left open in afterEach › uses the server" left 1 resource open[^\n]*\n\s+1\. TCP socket to 127\.0\.0\.1:\d+[^\n]*\n\s+created at leaky\.test\.js:40:22/,
    );
  });

  test('a module-level interval is named with its file and line', () => {
    expect(output()).toMatch(
      /module-leak\.test\.js, after its last test, left 1 resource open[^\n]*\n\s+1\. setInterval every 1 min[^\n]*\(started while the file was loading\)\n\s+created at module-leak\.test\.js:2:1/,
    );
  });

  test("clean controls stay silent: an unref'd interval, await server.close(), a server closed in afterAll", () => {
    expect(output()).not.toMatch(/unref'd interval is not a leak" left/);
    expect(output()).not.toMatch(/is not blamed" left/);
    expect(output()).not.toMatch(/talks to it" left/);
    expect(output()).not.toMatch(/clean\.test\.js, after its last test/);
  });
});

test("leaks: 'error' fails the test that leaked, with the leak as its error", async () => {
  const run = await runFixture('leaks', {
    args: ['--forceExit', '--config', 'jest.error.config.js', 'leaky'],
  });
  const failure = run.failureOf('a child process never killed');
  expect(failure).toMatch(
    /^LeakError: hangwatch: test "a child process never killed" left 1 resource open/,
  );
  expect(failure).toContain('created at leaky.test.js:29:17');
  expect(run.resultOf('a socket left open in afterEach uses the server').status).toBe('failed');
}, 300_000);
