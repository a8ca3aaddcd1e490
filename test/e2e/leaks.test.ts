import { runFixture, type FixtureRun } from '../helpers/run-fixture';

describe("leaks: 'warn' (the default) names each leak on the test that made it, without failing", () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture('leaks', {
      args: ['--forceExit', '--config', 'jest.notes.config.js'],
    });
  }, 300_000);

  const output = () => run.stdout + run.stderr;

  test('every test still passes', () => {
    for (const file of run.files) {
      expect(file.status).toBe('passed');
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
      /test "a fire-and-forget request that never completes" left 1 resource open[^\n]*\n\s+1\. HTTP GET \/slow over TCP socket[^\n]*\n\s+created at leaky\.test\.js:17:8/,
    );
  });

  test('a child process never killed', () => {
    expect(output()).toMatch(
      /test "a child process never killed" left 1 resource open[^\n]*\n\s+1\. child process \d+ `node -e[^\n]*\n\s+created at leaky\.test\.js:22:3/,
    );
  });

  test('a socket opened in afterEach is blamed on its test', () => {
    expect(output()).toMatch(
      /test "a socket left open in afterEach › uses the server" left 1 resource open[^\n]*\n\s+1\. TCP socket to 127\.0\.0\.1:\d+[^\n]*\n\s+created at leaky\.test\.js:32:9/,
    );
  });

  test('a module-level interval is named with its file and line', () => {
    expect(output()).toMatch(
      /module-leak\.test\.js, after its last test, left 1 resource open[^\n]*\n\s+1\. setInterval every 1 min[^\n]*\(started while the file was loading\)\n\s+created at module-leak\.test\.js:2:1/,
    );
  });

  test('a retry loop whose next attempt is always due soon, never stopped', () => {
    // Its timer, or its next connection attempt when the file ends during one.
    expect(output()).toMatch(
      /test "falls back when the cache is down, client never disconnected" left 1 resource open[^\n]*\n\s+1\. (setTimeout 20 ms|TCP socket [^\n]*still connecting)[^\n]*\n\s+created at /,
    );
    // A one-shot timer due as its test ends fires and is gone.
    expect(output()).not.toMatch(/is no leak" left/);
  });

  test("clean controls stay silent: an unref'd interval, await server.close(), servers and sockets closed in afterAll", () => {
    expect(output()).not.toMatch(/unref'd interval is not a leak" left/);
    expect(output()).not.toMatch(/is not blamed" left/);
    expect(output()).not.toMatch(/talks to it" left/);
    expect(output()).not.toMatch(/for afterAll to close" left/);
    expect(output()).not.toMatch(/clean\.test\.js, after its last test/);
  });

  test('a request still finishing when done() is called, closed by supertest a moment later, is no leak', () => {
    expect(output()).not.toMatch(/transient\.test\.js, after its last test/);
    expect(output()).not.toMatch(
      /" left \d+ resources? open[^\n]*\n[^\n]*\n\s+created at transient/,
    );
    expect(run.stderr).not.toMatch(/leak\s+transient\.test\.js/);
  });

  // How long after, when the close itself was seen; a handle that stopped holding the process
  // without a close (a loaded machine can order it so) is said to have done that instead.
  test('with leakNotes, each late close is a note saying it is no leak', () => {
    for (const name of [
      'done() from the app error event, response still being written',
      'done() on the next turn, the response 30 ms later',
      'done() from the error event as the last test of the file',
    ]) {
      expect(output()).toMatch(
        new RegExp(
          `test "${name.replace(/[()]/g, '\\$&')}": \\d+ resources? still open when the test ended[^\\n]*, (closed \\d+(?:\\.\\d)? m?s later|no longer held the process by the end of the file); not a leak\\.`,
        ),
      );
    }
  });

  test('the summary counts exactly the real leaks and says what holds the process open, and who made it', () => {
    expect(run.stderr).toMatch(/hangwatch: 6 findings in this run: 6 leaks/);
    expect(run.stderr).toMatch(
      /hangwatch: after the last test, \d+ resources still hold the process open \(why Jest may not exit\):/,
    );
    expect(run.stderr).toMatch(
      /(?:in band|worker \d+): child process \d+ `node -e[^\n]*\n\s+created at leaky\.test\.js:22:3 by test "a child process never killed"/,
    );
    expect(run.stderr).toMatch(
      /(?:in band|worker \d+): setInterval every 1 min[^\n]*\n\s+created at module-leak\.test\.js:2:1 by module-leak\.test\.js \(file level\)/,
    );
    expect(run.stderr).not.toMatch(/created at transient\.test\.js/);
  });
});

test('with worker processes, the summary names the worker each leaked resource keeps alive', async () => {
  const run = await runFixture('leaks', { args: ['--forceExit', '--maxWorkers=2'] });
  expect(run.stderr).toMatch(
    /hangwatch: after the last test, \d+ resources still hold the process open \(why Jest may not exit\):/,
  );
  expect(run.stderr).toMatch(
    /worker \d+: child process \d+ `node -e[^\n]*\n\s+created at leaky\.test\.js:22:3 by test "a child process never killed"/,
  );
  expect(run.stderr).not.toMatch(/in band:/);
}, 300_000);

describe("leaks: 'error'", () => {
  test('a confirmed leak fails its file after the last test, as an afterAll failure does, naming the test', async () => {
    const run = await runFixture('leaks', {
      args: ['--forceExit', '--config', 'jest.error.config.js', 'leaky'],
    });
    expect(run.exitCode).toBe(1);
    const [file] = run.files;
    expect(file.status).toBe('failed');
    expect(file.message).toMatch(
      /LeakError: hangwatch: test "a child process never killed" left 1 resource open/,
    );
    expect(file.message).toContain('created at leaky.test.js:22:3');
    expect(file.message).toMatch(/test "a socket left open in afterEach › uses the server" left/);
    // The tests themselves had passed when they ended.
    expect(run.resultOf('a child process never killed').status).toBe('passed');
  }, 300_000);

  test('a file-level leak fails the run', async () => {
    const run = await runFixture('leaks', {
      args: ['--forceExit', '--config', 'jest.error.config.js', 'module-leak'],
    });
    expect(run.exitCode).toBe(1);
    expect(run.files[0].status).toBe('failed');
    expect(run.files[0].message).toMatch(
      /LeakError: hangwatch: module-leak\.test\.js, after its last test, left 1 resource open/,
    );
  }, 300_000);

  test('transient resources and clean files never fail', async () => {
    const run = await runFixture('leaks', {
      args: ['--forceExit', '--config', 'jest.error.config.js', 'transient', 'clean'],
    });
    expect(run.exitCode).toBe(0);
    for (const file of run.files) expect(file.status).toBe('passed');
  }, 300_000);
});
