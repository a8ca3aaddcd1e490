import { runFixture, topFrameOf, type FixtureRun } from '../helpers/run-fixture';

// Requests sent on a reused keep-alive connection create no socket of their own.
let run: FixtureRun;
beforeAll(async () => {
  run = await runFixture('keep-alive', { args: ['--forceExit'] });
}, 300_000);

test('fetch on a pooled connection: the pending request is the hung test’s own', () => {
  const failure = run.failureOf('fetch: a malformed id, on the kept-alive connection');
  expect(failure).toMatch(
    /1\. fetch GET http:\/\/127\.0\.0\.1:\d+\/orders\/abc: no response after/,
  );
  expect(failure).toContain('created at orders.test.js:28:21');
  expect(topFrameOf(failure)).toContain('orders.test.js:28:21');
});

test('http.get on a pooled socket: the reused socket is described, not a phantom', () => {
  const failure = run.failureOf('http.get: a malformed id, on the pooled socket');
  expect(failure).toMatch(/1\. HTTP GET \/orders\/abc over TCP socket to 127\.0\.0\.1:\d+/);
  expect(failure).not.toContain('unknown peer');
  expect(failure).toContain('created at orders.test.js:39:39');
});
