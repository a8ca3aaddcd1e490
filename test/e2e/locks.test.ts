import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LockOrderFinding } from '../../src/core/model';
import type { HangwatchReport } from '../../src/report/document';
import {
  REPO_ROOT,
  reportOf,
  runFixture,
  topFrameOf,
  type FixtureRun,
} from '../helpers/run-fixture';

let run: FixtureRun;
let orderError: FixtureRun;
let allSites: FixtureRun;
/** The lock-order findings of the locks-workers fixture run by two workers, then in band. */
const acrossRun: { workers: LockOrderFinding[]; inBand: LockOrderFinding[]; inBandStderr: string } =
  { workers: [], inBand: [], inBandStderr: '' };
beforeAll(async () => {
  const lockOrderFindings = () =>
    (
      JSON.parse(
        fs.readFileSync(
          path.join(REPO_ROOT, 'test/fixtures/locks-workers/hangwatch-report.json'),
          'utf8',
        ),
      ) as HangwatchReport
    ).findings.filter((finding): finding is LockOrderFinding => finding.kind === 'lock-order');
  // The two runs write the same report file: one after the other.
  const workersThenInBand = async () => {
    await runFixture('locks-workers', { args: ['--maxWorkers=2'] });
    acrossRun.workers = lockOrderFindings();
    acrossRun.inBandStderr = (await runFixture('locks-workers', { args: ['--runInBand'] })).stderr;
    acrossRun.inBand = lockOrderFindings();
  };
  [run, orderError, allSites] = await Promise.all([
    runFixture('locks', { args: ['--forceExit'] }),
    runFixture('locks', { args: ['--config', 'jest.order-error.config.js', 'inversion'] }),
    runFixture('locks', { args: ['--config', 'jest.all-sites.config.js', 'busy-lock'] }),
    workersThenInBand(),
  ]);
}, 300_000);

/** The fixture's `testTimeout` (test/fixtures/locks/jest.config.js). */
const FIXTURE_TIMEOUT_MS = 2000;

/**
 * Deadlocks are found when they close: the test fails with a DeadlockError before its timeout.
 * How long before depends on the machine's load, so that is all that is asserted (a fixture that
 * allows more time passes `withinMs`).
 */
function expectFastDeadlock(name: string, withinMs = FIXTURE_TIMEOUT_MS): string {
  const result = run.resultOf(name);
  expect(result.status).toBe('failed');
  expect(result.duration ?? Infinity).toBeLessThan(withinMs);
  const failure = run.failureOf(name);
  expect(failure).toMatch(/^DeadlockError: Deadlock: /);
  return failure;
}

describe.each(['runExclusive', 'bare acquire'])('%s style', (style) => {
  const exclusive = style === 'runExclusive';

  test('two transfers in opposite orders: a cycle naming both locks, flows and lines', () => {
    const failure = expectFastDeadlock(`${style}: two transfers in opposite orders`);
    expect(failure).toContain("2 flows wait for each other's locks");
    const [held, waited] = exclusive
      ? ['bank.js:15:20', 'bank.js:17:20']
      : ['bank.js:26:39', 'bank.js:29:37'];
    expect(failure).toContain(`acquired at ${held}`);
    expect(failure).toContain(`waits for "lock`);
    expect(failure).toContain(`at ${waited}`);
    expect(failure).toContain('*** DEADLOCK ***');
  });

  test('three locks in a ring', () => {
    const failure = expectFastDeadlock(`${style}: three locks in a ring`);
    expect(failure).toContain("3 flows wait for each other's locks");
    expect(failure).toContain(
      exclusive ? 'three-locks.test.js:20:16' : 'three-locks.test.js:10:36',
    );
  });

  test('a lock taken again through a helper fails at once as a self-deadlock', () => {
    const failure = expectFastDeadlock(
      exclusive
        ? 'runExclusive: nested through a helper'
        : 'bare acquire: taken again through a helper',
    );
    expect(failure).toContain('waits for lock "ledger" that it already holds');
    expect(failure).toContain(
      exclusive ? 'self-deadlock.test.js:8:17' : 'self-deadlock.test.js:12:32',
    );
    expect(topFrameOf(failure)).toContain('self-deadlock.test.js');
  });

  test('a lock never released after a throw names the flow that ended', () => {
    const failure = expectFastDeadlock(`${style}: the next user of the lock`);
    expect(failure).toContain('is held by flow #');
    expect(failure).toContain(
      'that ended at the end of test "a refresh throws before releasing" without releasing it',
    );
    expect(failure).toContain('acquired at abandoned.test.js:6:31');
  });

  if (!exclusive) {
    test('a release function dropped uncalled is found while the same test waits, even with a server open', () => {
      const failure = expectFastDeadlock(
        'bare acquire: a loader throws before releasing, then the same test waits while a server is open',
        1500,
      );
      expect(failure).toContain('lock "index" is held by flow #');
      expect(failure).toContain(
        'whose release function was garbage-collected without being called',
      );
      expect(failure).toContain(
        'its release function dropped uncalled, acquired at abandoned.test.js:30:33',
      );
      expect(topFrameOf(failure)).toContain('abandoned.test.js:37:17');
    });
  }

  test('waitForUnlock while holding the lock', () => {
    const failure = expectFastDeadlock(
      exclusive
        ? 'runExclusive: waitForUnlock inside the critical section'
        : 'bare acquire: waitForUnlock while holding the lock',
    );
    expect(failure).toContain(
      'waits for the unlock of "migrations" at wait-for-unlock.test.js:6:34',
    );
  });
});

test('a semaphore pool drained by a path that forgets to release', () => {
  const drained = expectFastDeadlock(
    'bare acquire: the pool drained by a path that forgets to release',
  );
  expect(drained).toContain('semaphore-pool.test.js:6:41');
  expect(drained).toContain('waits for a permit of semaphore "connections" whose permits it holds');
  const next = expectFastDeadlock(
    'runExclusive: a caller after the pool was drained by the test above',
  );
  expect(next).toContain('that ended at the end of test "bare acquire: the pool drained');
});

test('Promise.all of flows running the same function is not a deadlock', () => {
  expect(run.resultOf('the helper alone passes, even from two flows at once').status).toBe(
    'passed',
  );
  expect(run.resultOf('bare acquire: the same transfers one after the other pass').status).toBe(
    'passed',
  );
});

test('no false positives: helpers sharing a lock under a held one, fire-and-forget jobs waiting for their starter, a hot loop', () => {
  for (const name of [
    'helpers started together under a held lock share another lock',
    'a fire-and-forget job waits for the lock its starter releases after some I/O',
    'a fire-and-forget job waits for the lock its starter releases at once',
    'the same lock, taken and released in a loop, then by two flows at once',
    "async-mutex's release() without the releaser, after a stall with a server open",
  ]) {
    const result = run.resultOf(name);
    // The failure's own message, when there is one, is what tells a false positive from load.
    expect({ name, status: result.status, failure: result.failureMessages.join('\n') }).toEqual({
      name,
      status: 'passed',
      failure: '',
    });
  }
  expect(run.stderr).not.toContain('no-false-positives.test.js:');
});

test('the event-loop watchdog is on and takes no lock test for a frozen loop', () => {
  for (const { stderr } of [run, orderError, allSites]) {
    expect(stderr).not.toContain('the event-loop watchdog is off');
    expect(stderr).not.toContain('froze the event loop');
  }
});

test("a busy lock's holder is named by its last recorded site; lockSites: 'all' records its own", () => {
  const name =
    'a lock taken in a hot loop, then in a deadlock: its holder is named by a sampled site';
  // About sites, not speed (the fixture allows a loaded machine 10 s).
  const failure = expectFastDeadlock(name, 10_000);
  // The site budget refills with time (one site per 10 ms): on a starved machine the hot loop can
  // be slow enough for the deadlock's own acquisition to be recorded, and then that is named.
  expect(failure).toMatch(
    /holds "journal", acquired at (a place not recorded \(busy lock; its last recorded acquisition: busy-lock\.test\.js:10:35|busy-lock\.test\.js:14:35)/,
  );
  expect(failure).toContain('holds "index", acquired at busy-lock.test.js:20:33');
  const exact = allSites.failureOf(name);
  expect(exact).toMatch(/^DeadlockError: Deadlock: /);
  expect(exact).toContain('holds "journal", acquired at busy-lock.test.js:14:35');
  expect(exact).not.toContain('not recorded');
});

test('an inversion across two tests never hangs, and is warned about once with both sites', () => {
  expect(run.resultOf('runExclusive: users, then orders').status).toBe('passed');
  expect(
    run.resultOf('bare acquire: orders, then users (never hangs here, but could)').status,
  ).toBe('passed');
  const warnings =
    run.stderr.split('hangwatch: Possible deadlock: locks "users" and "orders"').length - 1;
  expect(warnings).toBe(1);
  expect(run.stderr).toContain('"users" at inversion.test.js:7:15');
  expect(run.stderr).toContain('"users" at inversion.test.js:12:36');
});

test('an inversion whose two orders ran in different worker processes is reported once, by the reporter', () => {
  expect(acrossRun.workers).toHaveLength(1);
  const [finding] = acrossRun.workers;
  expect(finding.message).toMatch(
    /^Possible deadlock: locks "(users|orders)" and "(users|orders)"/,
  );
  expect(finding.message).toContain('Seen across test processes:');
  expect(finding.message).toContain('store.js:11:40');
  // In one process the worker itself sees both orders: still one finding, no cross-process note.
  expect(acrossRun.inBand).toHaveLength(1);
  expect(acrossRun.inBand[0].message).not.toContain('Seen across test processes');
  // Which order is named first follows which file ran first: Jest orders files by past timings.
  expect(acrossRun.inBandStderr).toMatch(
    /hangwatch: Possible deadlock: locks "(users" and "orders|orders" and "users)"/,
  );
});

test("lockOrder: 'error' fails the test that closed the cycle", () => {
  expect(orderError.resultOf('runExclusive: users, then orders').status).toBe('passed');
  const failure = orderError.failureOf(
    'bare acquire: orders, then users (never hangs here, but could)',
  );
  expect(failure).toMatch(/^LockOrderError: Possible deadlock: locks "users" and "orders"/);
  expect(topFrameOf(failure)).toContain('inversion.test.js:12:36');
});

test("lockOrder: 'error' in a beforeAll fails the block's tests the way a failing hook does", () => {
  const failure = orderError.failureOf('an inversion closed in beforeAll a test of the block');
  expect(failure).toMatch(/^LockOrderError: Possible deadlock: locks "catalog" and "prices"/);
  expect(topFrameOf(failure)).toContain('inversion-hooks.test.js:8:38');
  expect(run.resultOf('an inversion closed in beforeAll a test of the block').status).toBe(
    'passed',
  );
});

test('a hang report lists the locks: holder, flow, site and how long', () => {
  const report = reportOf(
    run.failureOf(
      'bare acquire: the holder waits on a slow call, the timeout report shows the lock',
    ),
  );
  expect(report).toContain('Locks (1):');
  const held =
    /"inventory" \(mutex, created at hang-report\.test\.js:3\)\n\s+held by flow #\d+ for (\d+\.\d) s, acquired at hang-report\.test\.js:7:35/.exec(
      report,
    );
  expect(held).not.toBeNull();
  // Held from the test's start to its 2 s timeout; a busy machine builds the report later.
  expect(Number(held![1])).toBeGreaterThanOrEqual(1.5);
});

test('a holder stuck on a promise nobody resolves fails early with the locks in the report', () => {
  const name = 'runExclusive: the holder awaits a promise nobody resolves';
  const failure = run.failureOf(name);
  // Found early: the report's own found-at time (its await stacks' snapshot comes after), before
  // the test's timeout; how long before is the machine's load (two still looks, 50 ms apart, idle).
  // "after 120 ms", or on a loaded machine "after 1.2 s".
  const foundAfter = /can never finish: after (\d+ ms|[\d.]+ s)/.exec(failure);
  const after = foundAfter?.[1];
  const afterMs =
    after === undefined ? Infinity : parseFloat(after) * (after.endsWith(' ms') ? 1 : 1000);
  expect(afterMs).toBeLessThan(FIXTURE_TIMEOUT_MS);
  expect(failure).not.toContain('Exceeded timeout');
  expect(failure).toContain('"session" (mutex, created at blocked.test.js:3)');
  expect(failure).toContain('acquired at blocked.test.js:8:13');
  expect(failure).toContain('at blocked.test.js:9:13');
});
