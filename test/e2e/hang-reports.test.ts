import { reportOf, runFixture, topFrameOf, type FixtureRun } from '../helpers/run-fixture';

// One real Jest run over the node-basic fixture project; each test below reads its results.
let run: FixtureRun;
beforeAll(async () => {
  run = await runFixture('node-basic', { args: ['--forceExit'] });
}, 300_000);

function hangReport(testName: string): string {
  const failure = run.failureOf(testName);
  expect(failure).toMatch(/^HangError: /);
  expect(failure).not.toContain('Exceeded timeout of');
  return failure;
}

describe('a hung test fails with a report naming the culprit line', () => {
  test('timer', () => {
    const failure = hangReport('awaits a long timer');
    expect(reportOf(failure)).toContain(
      'test "awaits a long timer" hung: still waiting after 1.0 s (timeout 1.0 s).',
    );
    expect(failure).toContain('It is waiting on 1 thing it started; nothing else is pending:');
    expect(failure).toMatch(/1\. setTimeout 60000 ms \(\d+\.\d s left\)/);
    expect(failure).toContain('created at timers.test.js:2:34');
    expect(failure).toContain('await new Promise((resolve) => setTimeout(resolve, 60_000));');
    expect(topFrameOf(failure)).toContain('timers.test.js:2:34');
  });

  test('interval, with the earlier test’s timer ranked after it', () => {
    const failure = hangReport('polls with an interval that never sees its condition');
    expect(failure).toMatch(/1\. setInterval every 50 ms/);
    expect(failure).toContain('created at timers.test.js:7:18');
    // Under a 1 s timeout it fired about 20 times: a poll, said as such.
    expect(failure).toMatch(
      /Its setInterval \(every 50 ms\) fired about \d+ times while it waited and still runs: a poll is waiting for something that has not happened\./,
    );
    expect(failure).toContain('Left open by earlier tests (1):');
    expect(failure).toContain('(started by test "awaits a long timer")');
    expect(failure.indexOf('setInterval')).toBeLessThan(failure.indexOf('setTimeout 60000'));
    expect(topFrameOf(failure)).toContain('timers.test.js:7:18');
  });

  test('http.get to a server that never answers', () => {
    const failure = hangReport('http.get to a server that never answers');
    expect(failure).toMatch(
      /1\. HTTP GET \/refund over TCP socket to 127\.0\.0\.1:\d+, open [\d.]+ m?s, 71 B sent, no data received/,
    );
    expect(failure).toContain('created at network.test.js:17:39');
    expect(failure).toMatch(/HTTP server listening on 127\.0\.0\.1:\d+, 1 open connection/);
    expect(failure).toContain('created at network.test.js:10:12');
    expect(topFrameOf(failure)).toContain('network.test.js:17:39');
  });

  test('fetch: the pending request, with the socket undici opened for it folded in', () => {
    const failure = hangReport('fetch to a server that never answers');
    expect(failure).toMatch(
      /1\. fetch GET http:\/\/127\.0\.0\.1:\d+\/orders: no response after [\d.]+ m?s/,
    );
    expect(failure).toContain('created at network.test.js:22:26');
    expect(failure).not.toMatch(
      /\d\. TCP socket to 127\.0\.0\.1:\d+, open [^\n]*\n\s+created at network\.test\.js:22/,
    );
    expect(topFrameOf(failure)).toContain('network.test.js:22:26');
  });

  test('supertest: the request superagent made from the listening callback, at the test line', () => {
    const failure = hangReport('supertest: a request the app never answers');
    // supertest sends it once its server listens: no user frame on the stack, only the listen's.
    expect(failure).toMatch(
      /1\. HTTP GET \/orders over TCP socket to 127\.0\.0\.1:\d+, [^\n]*no data received\n\s+created at network\.test\.js:37:31 [^\n]*\n\s+made on its behalf inside superagent/,
    );
    expect(topFrameOf(failure)).toContain('network.test.js:37:31');
  });

  test('supertest awaited: the request its then() made, at the line whose await entered superagent', () => {
    const failure = hangReport('supertest awaited: a request the app never answers');
    // The await calls then() from a microtask: no frame of the test's, only the await stack's.
    expect(failure).toMatch(
      /1\. HTTP GET \/orders over TCP socket to 127\.0\.0\.1:\d+, [^\n]*no data received\n\s+created at network\.test\.js:44:20 [^\n]*\n\s+made on its behalf inside superagent/,
    );
    // supertest's server, bound on a later tick from superagent's then(): the same line (Node 26
    // finds it on the stack itself, through the await's async frames).
    expect(failure).toMatch(
      /2\. HTTP server listening on 127\.0\.0\.1:\d+, 1 open connection\n\s+created at network\.test\.js:44:20 /,
    );
    expect(topFrameOf(failure)).toContain('network.test.js:44:20');
  });

  test('the end-of-run list of what holds the process: every one, each where its report placed it', () => {
    // A fetch holds the process through undici's socket, which its report folds into it.
    expect(run.stderr).toMatch(
      /fetch GET http:\/\/127\.0\.0\.1:\d+\/orders: [^\n]*\n\s+created at network\.test\.js:22:26 by test "fetch to a server that never answers"/,
    );
    expect(run.stderr).toMatch(
      /HTTP GET \/orders over TCP socket to 127\.0\.0\.1:\d+, [^\n]*\n\s+created at network\.test\.js:44:20 by test "supertest awaited: a request the app never answers"/,
    );
  });

  test('a later test lists what an earlier one left open where that one’s report placed it', () => {
    const failure = hangReport('a later test waiting on its own timer');
    expect(failure).toMatch(
      /HTTP GET \/orders over TCP socket [^\n]*\(started by test "fetches the orders from an app that never answers"\)\n\s+created at supertest-later\.test\.js:8:3 /,
    );
  });

  test('raw net client', () => {
    const failure = hangReport('raw net client waiting for a greeting');
    expect(failure).toMatch(
      /1\. TCP socket to 127\.0\.0\.1:\d+, open [\d.]+ m?s, no data sent or received/,
    );
    expect(failure).toContain('created at network.test.js:29:22');
    expect(topFrameOf(failure)).toContain('network.test.js:29:22');
  });

  test('child process, with its pid, command and stdio folded in', () => {
    const failure = hangReport('waits for a child process that never exits');
    expect(failure).toMatch(
      /1\. child process \d+ `node -e "setInterval\(\(\) => \{\}, 1000\)"` still running after [\d.]+ m?s \(3 stdio pipes open\)/,
    );
    expect(failure).toContain('created at child.test.js:7:11');
    expect(failure).not.toMatch(/\bpipe, open/);
  });

  test('done callback never called', () => {
    const failure = hangReport('done is never called');
    expect(failure).toContain('hung: `done` was never called after 1.0 s');
    expect(failure).toContain('created at done.test.js:6:3');
  });

  test('test.concurrent: each test gets only its own resources', () => {
    const a = hangReport('concurrent A hangs on its own timer');
    const b = hangReport('concurrent B hangs on its own timer');
    expect(a).toContain('setTimeout 40000 ms');
    expect(a).not.toContain('setTimeout 50000 ms');
    expect(a).toContain('nothing else is pending');
    expect(b).toContain('setTimeout 50000 ms');
    expect(b).not.toContain('setTimeout 40000 ms');
    expect(run.resultOf('concurrent C passes').status).toBe('passed');
  });

  test('test.each names the generated test', () => {
    const failure = hangReport('test.each case slow waits 45000 ms');
    expect(failure).toContain('test "test.each case slow waits 45000 ms" hung');
    expect(failure).toContain('setTimeout 45000 ms');
    expect(failure).toContain('created at each.test.js:5:34');
    expect(run.resultOf('test.each case fast waits 5 ms').status).toBe('passed');
  });

  test('jest.retryTimes: the retry is reported, the first attempt’s timer is an earlier leftover', () => {
    const failure = hangReport('retried test hangs on every attempt');
    expect(failure).toContain('hung on retry 1');
    expect(failure).toContain('1. setTimeout 30002 ms');
    expect(failure).toContain('setTimeout 30001 ms');
    expect(failure).toContain('(started by an earlier attempt of this test)');
  });

  test('nothing pending: says so, and names the await and the new Promise nobody resolves', () => {
    const failure = hangReport('awaits a promise nobody resolves');
    expect(failure).toContain('Nothing it started is still pending');
    expect(failure).toContain('It is awaiting (innermost first):');
    expect(failure).toMatch(
      /waits on a new Promise whose resolve and reject have not been called; its executor: nothing-pending\.test\.js:2:21/,
    );
    expect(failure).toMatch(/nothing-pending\.test\.js:2:3 +await new Promise\(\(\) => \{\}\);/);
    expect(topFrameOf(failure)).toContain('nothing-pending.test.js:2:3');
  });

  test('resources created while the file loads are named as such', () => {
    const failure = hangReport('hangs waiting for a request that is never made');
    expect(failure).toMatch(/1\. HTTP server listening on 127\.0\.0\.1:\d+, 0 open connections/);
    expect(failure).toContain('created at module-level.test.js:7:61');
    expect(failure).toContain('(started while the test file was loading)');
    expect(failure).toContain('created at module-level.test.js:4:19');
  });
});

describe('fake timers', () => {
  test('modern: the pending fake timer is named with its site and how to advance it', () => {
    const failure = hangReport('awaits a debounced call under modern fake timers');
    expect(failure).toContain('Fake timers (modern) hold 1 pending timer:');
    expect(failure).toContain(
      'fake setTimeout 300 ms, due in 300 fake ms: never fires unless the clock is advanced',
    );
    expect(failure).toContain('created at fake-timers-modern.test.js:5:13');
    expect(failure).toContain('jest.advanceTimersByTime');
    expect(failure).not.toContain('Nothing it started is still pending');
    expect(topFrameOf(failure)).toContain('fake-timers-modern.test.js:5:13');
  });

  test('modern: a faked setImmediate', () => {
    const failure = hangReport('awaits a faked setImmediate');
    expect(failure).toContain('fake setImmediate');
    expect(failure).toContain('created at fake-timers-modern.test.js:17:34');
  });

  test('legacy fake timers', () => {
    const failure = hangReport('awaits a timer under legacy fake timers');
    expect(failure).toContain('Fake timers (legacy) hold 1 pending timer:');
    expect(failure).toContain('fake setTimeout, due in 250 fake ms');
    expect(failure).toContain('created at fake-timers-legacy.test.js:5:34');
  });
});

test('passing tests in the same run are untouched', () => {
  expect(run.resultOf('passes after a short timer').status).toBe('passed');
  expect(run.resultOf('a request answered and a server closed').status).toBe('passed');
  expect(run.resultOf('a timer that fires').status).toBe('passed');
});
