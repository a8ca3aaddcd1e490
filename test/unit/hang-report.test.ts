import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import {
  buildHangFinding,
  collectPending,
  culpritFrame,
  type HungUnit,
  type ResourceView,
} from '../../src/core/hang-report';
import type { HangFinding, OwnerRef, Relation } from '../../src/core/model';
import { renderHangMarkdown } from '../../src/core/render-markdown';
import { renderHangText } from '../../src/core/render-text';
import { noteLines } from '../../src/core/render/advice';
import { describePending } from '../../src/core/render/pending';
import { ResourceTracker } from '../../src/core/tracker';
import { NOTHING_OWN_PENDING, NOTHING_PENDING } from '../../src/core/wording';

const ROOT = path.resolve(__dirname, '..', '..');
const THIS_FILE = path.relative(ROOT, __filename);
const SOURCE = fs.readFileSync(__filename, 'utf8').split('\n');

/** Line (1-based) and column of `call` on the line carrying `marker` in this file. */
function locate(marker: string, call: string) {
  const index = SOURCE.findIndex((line) => line.includes(marker) && !line.includes('locate('));
  if (index === -1) throw new Error(`marker ${marker} not found`);
  return { line: index + 1, column: SOURCE[index].indexOf(call) + 1, code: SOURCE[index].trim() };
}

const noop = () => {};

interface Unit {
  ref: OwnerRef;
}
const hungTest: Unit = { ref: { kind: 'test', name: 'orders › refunds a payment' } };
const earlierTest: Unit = { ref: { kind: 'test', name: 'orders › creates an order' } };
const hook: Unit = { ref: { kind: 'beforeEach', name: 'orders', testName: hungTest.ref.name } };
const otherRunningTest: Unit = { ref: { kind: 'test', name: 'payments › runs concurrently' } };
const setupHook: Unit = { ref: { kind: 'beforeAll', name: 'orders' } };

const view: ResourceView<Unit> = {
  relationOf(owner): Relation | undefined {
    if (owner === hungTest) return 'this-test';
    if (owner === hook || owner === setupHook) return 'hook';
    if (owner === earlierTest) return 'earlier';
    // Another concurrently running test's resources, and Jest's own, stay out of the report.
    return undefined;
  },
  describeOwner: (owner) => owner?.ref,
};

const unit: HungUnit = {
  testName: hungTest.ref.name,
  testPath: __filename,
  phase: 'test',
  trigger: 'timeout',
  elapsedMs: 5_003.4,
  timeoutMs: 5_000,
  waitingForDone: false,
  attempt: 0,
};

let current: Unit | undefined;
let tracker: ResourceTracker<Unit>;
const cleanups: (() => void | Promise<void>)[] = [];

/** Runs `create` as if `owner` (a test or hook) were running. */
function as<T>(owner: Unit, create: () => T): T {
  current = owner;
  try {
    return create();
  } finally {
    current = undefined;
  }
}

function timer(owner: Unit, create: () => NodeJS.Timeout): NodeJS.Timeout {
  const created = as(owner, create);
  cleanups.push(() => clearTimeout(created));
  return created;
}

function finding(maxListed = 10, options: Partial<HungUnit> = {}): HangFinding {
  const pending = collectPending(tracker, view, { maxListed });
  return buildHangFinding({ ...unit, ...options }, pending, { promisesTracked: false });
}

beforeEach(() => {
  tracker = new ResourceTracker<Unit>({ ownerOf: () => current, promises: false });
  tracker.enable();
});

afterEach(async () => {
  tracker.disable();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('collectPending', () => {
  test('ranks what the hung test started before what earlier tests left open', () => {
    timer(earlierTest, () => setTimeout(noop, 40_000)); // site:earlier
    timer(hungTest, () => setTimeout(noop, 30_000)); // site:this-test

    const { listed, omittedCount } = collectPending(tracker, view, { maxListed: 10 });

    expect(listed.map((resource) => resource.relation)).toEqual(['this-test', 'earlier']);
    expect(omittedCount).toBe(0);
    const [own, leftover] = listed;
    const site = locate('// site:this-test', 'setTimeout');
    expect(own).toMatchObject({
      type: 'Timeout',
      kind: 'timer',
      details: { delayMs: 30_000 },
      keepsAlive: true,
      owner: hungTest.ref,
      site: {
        top: { file: __filename, line: site.line, column: site.column, origin: 'user' },
        sourceLine: site.code,
      },
    });
    expect(describePending(own)).toMatch(/^setTimeout 30000 ms \(\d+\.\d s left\)$/);
    expect(leftover).toMatchObject({ relation: 'earlier', owner: earlierTest.ref });
    expect(leftover.site?.top?.line).toBe(locate('// site:earlier', 'setTimeout').line);
  });

  test("ranks the hung test's hooks between the test and earlier tests", () => {
    timer(earlierTest, () => setTimeout(noop, 40_000));
    timer(hook, () => setTimeout(noop, 40_000));
    timer(hungTest, () => setTimeout(noop, 40_000));
    const { listed } = collectPending(tracker, view, { maxListed: 10 });
    expect(listed.map((resource) => resource.relation)).toEqual(['this-test', 'hook', 'earlier']);
  });

  test('within one relation, keeps creation order (oldest first)', () => {
    timer(hungTest, () => setTimeout(noop, 10_000));
    timer(hungTest, () => setTimeout(noop, 20_000));
    const { listed } = collectPending(tracker, view, { maxListed: 10 });
    expect(listed.map((resource) => resource.details.delayMs)).toEqual([10_000, 20_000]);
  });

  test("ranks an unref'd timer after one that keeps the process alive", () => {
    timer(hungTest, () => setTimeout(noop, 10_000).unref());
    timer(hungTest, () => setTimeout(noop, 20_000));
    const { listed } = collectPending(tracker, view, { maxListed: 10 });
    expect(listed.map((resource) => [resource.details.delayMs, resource.keepsAlive])).toEqual([
      [20_000, true],
      [10_000, false],
    ]);
  });

  test('leaves out resources of tests the view does not relate to the hung one', () => {
    timer(otherRunningTest, () => setTimeout(noop, 10_000));
    expect(collectPending(tracker, view, { maxListed: 10 }).listed).toEqual([]);
  });

  test('caps the list at maxListed and counts the rest', () => {
    timer(earlierTest, () => setTimeout(noop, 40_000));
    for (let i = 0; i < 3; i++) timer(hungTest, () => setTimeout(noop, 30_000));

    const { listed, omittedCount } = collectPending(tracker, view, { maxListed: 2 });

    expect(listed).toHaveLength(2);
    expect(listed.every((resource) => resource.relation === 'this-test')).toBe(true);
    expect(omittedCount).toBe(2);
  });

  test("folds a child process's stdio pipes into the process", async () => {
    const child = as(hungTest, () =>
      spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']),
    );
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    });
    const { listed } = collectPending(tracker, view, { maxListed: 10 });
    expect(listed.map((resource) => resource.type)).toEqual(['PROCESSWRAP']);
    expect(listed[0].details).toMatchObject({ pid: child.pid, stdioPipes: 3 });
    expect(describePending(listed[0])).toMatch(/ \(3 stdio pipes open\)$/);
  });

  test("folds a connection's server side into its client side, on a dual-stack server too", async () => {
    const server = net.createServer(() => {});
    // On '::', dual-stack: the server sees its IPv4 client as [::ffff:127.0.0.1].
    await new Promise<void>((resolve) => as(setupHook, () => server.listen(0, resolve)));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = as(hungTest, () =>
      net.connect((server.address() as net.AddressInfo).port, '127.0.0.1'),
    );
    cleanups.push(() => void client.destroy());
    (await accepted).on('error', () => {});
    const { listed } = collectPending(tracker, view, { maxListed: 10 });
    expect(listed.map((resource) => [resource.type, resource.kind])).toEqual([
      ['TCPWRAP', 'TCP socket'],
      ['TCPSERVERWRAP', 'TCP server'],
    ]);
  });

  test("folds a worker's own message ports into the worker; a channel of the test's stays", async () => {
    const { worker, channel } = as(hungTest, () => ({
      worker: new Worker('setInterval(() => {}, 1000)', { eval: true }),
      channel: new MessageChannel(),
    }));
    cleanups.push(async () => {
      channel.port1.close();
      channel.port2.close();
      await worker.terminate();
    });
    const { listed } = collectPending(tracker, view, { maxListed: 10 });
    // The worker made five ports (its own two, and the ends of channels it hands the thread).
    expect(listed.map((resource) => resource.type).sort()).toEqual([
      'MESSAGEPORT',
      'MESSAGEPORT',
      'WORKER',
    ]);
  });
});

describe('buildHangFinding', () => {
  test('carries the unit, the ranked list and the cap', () => {
    timer(hungTest, () => setTimeout(noop, 30_000));
    timer(hungTest, () => setTimeout(noop, 30_000));
    const built = finding(1);
    expect(built).toMatchObject({
      schemaVersion: 2,
      kind: 'hang',
      testName: 'orders › refunds a payment',
      testPath: __filename,
      phase: 'test',
      elapsedMs: 5_003,
      timeoutMs: 5_000,
      waitingForDone: false,
      attempt: 0,
      omittedCount: 1,
      nothingPending: false,
      advice: [],
    });
    expect(built.pending).toHaveLength(1);
    expect(built).not.toHaveProperty('pendingPromises');
    expect(built).not.toHaveProperty('fakeTimers');
  });

  test('a poll loop: many timers set, the pending one recent; one long timer is not', () => {
    timer(hungTest, () => setTimeout(noop, 50));
    expect(tracker.timersSetBy(hungTest)).toBe(1);
    expect(finding(10, { timersSet: 29 }).advice).toContainEqual({
      code: 'polling',
      timers: 29,
      delayMs: 50,
    });
    // As many timers, but the pending one is as old as the wait: a single long wait, not a poll.
    expect(finding(10, { timersSet: 29, elapsedMs: 0 }).advice).not.toContainEqual(
      expect.objectContaining({ code: 'polling' }),
    );
    expect(finding(10, { timersSet: 2 }).advice).not.toContainEqual(
      expect.objectContaining({ code: 'polling' }),
    );
  });

  test('a loop on setImmediate: counted, its pending callback listed once, the polling advice', async () => {
    let polls = 0;
    const done = new Promise<void>((resolve) => {
      as(hungTest, () => {
        const again = () => (++polls < 10 ? setImmediate(again) : resolve());
        setImmediate(again);
      });
    });
    await done;
    const pending = as(hungTest, () => setImmediate(noop));
    cleanups.push(() => clearImmediate(pending));
    expect(tracker.immediatesSetBy(hungTest)).toBe(11);
    expect(tracker.timersSetBy(hungTest)).toBe(0);
    const report = finding(10, { immediatesSet: tracker.immediatesSetBy(hungTest) });
    // The ones that ran are not pending, though Node delivers their destruction later.
    expect(report.pending.filter((entry) => entry.type === 'Immediate')).toHaveLength(1);
    expect(report.advice).toContainEqual({ code: 'polling', timers: 11, immediate: true });
    expect(noteLines(report).join('\n')).toContain(
      'It scheduled 11 setImmediate callbacks while it waited, one after another',
    );
  });

  test('a poll by setInterval: its own interval fired five times or more while it waited', async () => {
    timer(hungTest, () => setInterval(noop, 2));
    // Its age, not a count Node keeps, says how often it fired: let it get older than 5 periods.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const advice = finding(10, { elapsedMs: 5_000 }).advice;
    expect(advice).toContainEqual({
      code: 'polling',
      timers: expect.any(Number),
      delayMs: 2,
      interval: true,
    });
    const polling = advice?.find((entry) => entry.code === 'polling') as { timers: number };
    expect(polling.timers).toBeGreaterThanOrEqual(5);
    // A wait shorter than five periods is not a poll yet; an earlier test's interval is not its.
    expect(finding(10, { elapsedMs: 6 }).advice).not.toContainEqual(
      expect.objectContaining({ code: 'polling' }),
    );
  });

  test.each([
    ['an earlier test', earlierTest],
    ['an enclosing beforeAll (a pool’s reaper)', setupHook],
  ])('an interval %s started is no poll of this test', async (_, owner) => {
    timer(owner, () => setInterval(noop, 2));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(finding(10, { elapsedMs: 5_000 }).advice).not.toContainEqual(
      expect.objectContaining({ code: 'polling' }),
    );
  });

  test('is JSON-serialisable: a JSON round trip gives the same finding', () => {
    timer(hungTest, () => setTimeout(noop, 30_000));
    timer(earlierTest, () => setTimeout(noop, 30_000).unref());
    const built = finding();
    expect(JSON.parse(JSON.stringify(built))).toStrictEqual(built);
  });

  test('nothingOwnPending, not nothingPending, when only an earlier test left something pending', () => {
    timer(earlierTest, () => setTimeout(noop, 30_000));
    const built = finding();
    expect(built.nothingOwnPending).toBe(true);
    expect(built.nothingPending).toBe(false);
    expect(built.pending.map((resource) => resource.relation)).toEqual(['earlier']);
    expect(noteLines(built)).toEqual([
      expect.stringContaining('Set `promises: true` in testEnvironmentOptions.hangwatch'),
    ]);
  });

  test('culpritFrame never points at an earlier test’s resource: the unit’s own line instead', () => {
    timer(earlierTest, () => setTimeout(noop, 30_000));
    const top = { file: __filename, line: 1, column: 1, origin: 'user' as const };
    const unitSite = { top, frames: [top] };
    const built = buildHangFinding(unit, collectPending(tracker, view, { maxListed: 10 }), {
      promisesTracked: false,
      unitSite,
    });
    expect(culpritFrame(built)).toBe(unitSite.top);
    expect(renderHangText(built, { rootDir: __dirname })).not.toContain(
      'Nothing it started is still pending',
    );
  });

  test('nothingPending for a test waiting for `done` points at `done`', () => {
    const built = finding(10, { waitingForDone: true });
    expect(built.nothingPending).toBe(true);
    expect(built.pending).toEqual([]);
    expect(noteLines(built)).toEqual([
      'Only a call to `done` can end it now: check that every path (errors included) calls it.',
    ]);
  });

  test('culpritFrame is the creation site of the top-ranked resource', () => {
    timer(earlierTest, () => setTimeout(noop, 40_000));
    timer(hungTest, () => setTimeout(noop, 30_000)); // culprit
    const culprit = culpritFrame(finding());
    const site = locate('// culprit', 'setTimeout');
    expect(culprit).toMatchObject({ file: __filename, line: site.line, origin: 'user' });
  });
});

describe('renderHangText', () => {
  test('tells the headline, what is pending, where it was created and the code line', () => {
    timer(earlierTest, () => setTimeout(noop, 40_000)); // text:earlier
    timer(hungTest, () => setTimeout(noop, 30_000)); // text:this-test
    const built = finding();
    const text = renderHangText(built, { rootDir: ROOT });
    const own = locate('// text:this-test', 'setTimeout');
    const earlier = locate('// text:earlier', 'setTimeout');
    const lines = text.split('\n');

    expect(lines[0]).toBe(
      'test "orders › refunds a payment" hung: still waiting after 5.0 s (timeout 5.0 s).',
    );
    expect(text).toContain('It is waiting on 1 thing it started:');
    expect(text).toContain(`  1. ${describePending(built.pending[0])}`);
    expect(text).toContain(`     created at ${THIS_FILE}:${own.line}:${own.column}   ${own.code}`);
    expect(text).toContain('Left open by earlier tests (1):');
    expect(text).toContain(
      `  2. ${describePending(built.pending[1])} (started by test "orders › creates an order")`,
    );
    expect(text).toContain(`created at ${THIS_FILE}:${earlier.line}:${earlier.column}`);
    expect(text.indexOf('1. setTimeout 30000 ms')).toBeLessThan(
      text.indexOf('2. setTimeout 40000 ms'),
    );
    expect(text).not.toContain(NOTHING_PENDING);
  });

  test('says nothing else is pending when the test is the only group', () => {
    timer(hungTest, () => setTimeout(noop, 30_000).unref());
    const text = renderHangText(finding(), { rootDir: ROOT });
    expect(text).toContain('It is waiting on 1 thing it started; nothing else is pending:');
    expect(text).toMatch(/1\. setTimeout 30000 ms \(.* left\) \(unref'd\)/);
  });

  test('failed early, what it started and left open is said to be idle, not waited on', () => {
    timer(hungTest, () => setTimeout(noop, 30_000).unref());
    const text = renderHangText({ ...finding(), trigger: 'idle' }, { rootDir: ROOT });
    expect(text).toContain(
      '1 thing it started is still open, but idle: none of it could settle it:',
    );
    expect(text).not.toContain('It is waiting on');
  });

  test('says how many resources the cap left out', () => {
    for (let i = 0; i < 3; i++) timer(hungTest, () => setTimeout(noop, 30_000));
    const text = renderHangText(finding(2), { rootDir: ROOT });
    expect(text).toContain('It is waiting on 2 things it started:');
    expect(text).toContain('  ...and 1 more pending resources not shown.');
    expect(text).not.toContain('  3. ');
  });

  test('states that nothing is pending, with the note on how to find the promise', () => {
    const built = finding();
    const text = renderHangText(built, { rootDir: ROOT });
    expect(text.split('\n')).toEqual([
      'test "orders › refunds a payment" hung: still waiting after 5.0 s (timeout 5.0 s).',
      NOTHING_PENDING,
      noteLines(built)[0],
    ]);
  });

  test('names a hook that hung and the test it ran for', () => {
    const text = renderHangText(
      finding(10, { phase: 'beforeEach', testName: 'orders', forTest: hungTest.ref.name }),
      { rootDir: ROOT },
    );
    expect(text.split('\n')[0]).toBe(
      'beforeEach hook for test "orders › refunds a payment" hung: still waiting after 5.0 s (timeout 5.0 s).',
    );
  });
});

describe('renderHangMarkdown', () => {
  test('tells the same facts as the text view', () => {
    timer(earlierTest, () => setTimeout(noop, 40_000)); // md:earlier
    timer(hungTest, () => setTimeout(noop, 30_000)); // md:this-test
    const built = finding();
    const markdown = renderHangMarkdown(built, { rootDir: ROOT });
    const own = locate('// md:this-test', 'setTimeout');

    expect(markdown).toContain(
      '### ⏳ test "orders › refunds a payment" hung: still waiting after 5.0 s (timeout 5.0 s).',
    );
    expect(markdown).toContain(`File: \`${THIS_FILE}\``);
    expect(markdown).toContain('**It is waiting on 1 thing it started:**');
    expect(markdown).toContain(
      `1. ${describePending(built.pending[0])} — \`${THIS_FILE}:${own.line}:${own.column}\`\n   \`${own.code}\``,
    );
    expect(markdown).toContain('**Left open by earlier tests (1):**');
    expect(markdown).toContain('_(started by test "orders › creates an order")_');
    expect(markdown.endsWith('\n')).toBe(true);
    expect(markdown).not.toContain(NOTHING_PENDING);
  });

  test('says how many resources the cap left out', () => {
    for (let i = 0; i < 3; i++) timer(hungTest, () => setTimeout(noop, 30_000));
    expect(renderHangMarkdown(finding(1), { rootDir: ROOT })).toContain(
      '...and 2 more pending resources not shown.',
    );
  });

  test('states that nothing is pending and quotes the note', () => {
    const built = finding();
    const markdown = renderHangMarkdown(built, { rootDir: ROOT });
    expect(markdown).toContain(NOTHING_PENDING);
    expect(markdown).toContain('> It is awaiting a promise nobody resolves');
  });
});

describe('both views: describe-level hooks, work started elsewhere, library-made resources', () => {
  const userTop = {
    file: `${ROOT}/test/cache.test.js`,
    line: 4,
    column: 15,
    origin: 'user' as const,
  };
  const libraryFrame = {
    file: `${ROOT}/node_modules/ioredis/built/redis/event_handler.js`,
    line: 333,
    column: 33,
    origin: 'dependency' as const,
    packageName: 'ioredis',
  };
  const hungAfterAll = buildHangFinding(
    { ...unit, phase: 'afterAll', testName: '' },
    {
      listed: [
        {
          type: 'Timeout',
          kind: 'timer',
          summary: 'setTimeout 500 ms (100 ms left)',
          details: {},
          ageMs: 400,
          keepsAlive: true,
          relation: 'earlier',
          owner: { kind: 'module', name: `${ROOT}/test/cache.test.js` },
          site: { top: userTop, frames: [userTop], sourceLine: 'const cache = new Redis();' },
          madeBy: libraryFrame,
        },
      ],
      omittedCount: 0,
      promises: [],
    },
    { promisesTracked: false },
  );

  test('text', () => {
    const text = renderHangText(hungAfterAll, { rootDir: ROOT });
    expect(text.split('\n')).toEqual([
      'top-level afterAll hook hung: still waiting after 5.0 s (timeout 5.0 s).',
      "Started by the test file's module scope (1):",
      '  1. setTimeout 500 ms (100 ms left) (started while the test file was loading)',
      '     created at test/cache.test.js:4:15   const cache = new Redis();',
      '     made on its behalf inside ioredis, at node_modules/ioredis/built/redis/event_handler.js:333:33',
      NOTHING_OWN_PENDING,
      noteLines(hungAfterAll)[0],
    ]);
  });

  test('markdown shows the same sections', () => {
    const markdown = renderHangMarkdown(hungAfterAll, { rootDir: ROOT });
    expect(markdown).toContain('### ⏳ top-level afterAll hook hung');
    expect(markdown).toContain("**Started by the test file's module scope (1):**");
    expect(markdown).toContain('_(started while the test file was loading)_');
    expect(markdown).toContain(
      'made on its behalf inside ioredis, at `node_modules/ioredis/built/redis/event_handler.js:333:33`',
    );
    expect(markdown).toContain(NOTHING_OWN_PENDING);
    expect(markdown).not.toContain(NOTHING_PENDING);
  });

  test('a nested beforeAll is named by its describe block', () => {
    const text = renderHangText(
      { ...hungAfterAll, phase: 'beforeAll', testName: 'db › users' },
      {
        rootDir: ROOT,
      },
    );
    expect(text.split('\n')[0]).toBe(
      'beforeAll hook of describe "db › users" hung: still waiting after 5.0 s (timeout 5.0 s).',
    );
  });
});

test('its own resources a package made with no line of its own are placed where its await entered that package', () => {
  const entered = {
    file: `${__dirname}/orders.test.js`,
    line: 12,
    column: 15,
    origin: 'user' as const,
  };
  const inside = (packageName: string) => ({
    file: `/project/node_modules/${packageName}/index.js`,
    line: 1275,
    column: 10,
    origin: 'dependency' as const,
    packageName,
  });
  const resource = (relation: 'this-test' | 'earlier', top: ReturnType<typeof inside>) => ({
    type: 'TCPWRAP',
    kind: 'TCP socket',
    details: {},
    ageMs: 10,
    keepsAlive: true,
    relation,
    owner: { kind: 'test' as const, name: 'orders › refunds a payment' },
    site: { top, frames: [top] },
  });
  // The test's await entered superagent at its line.
  const awaitingSuperagent = {
    promisesTracked: false,
    awaits: [
      {
        steps: [{ frame: entered }],
        awaiting: { kind: 'library' as const, packageName: 'superagent', enteredAt: entered },
      },
    ],
  };
  const built = buildHangFinding(
    unit,
    {
      listed: [
        resource('this-test', inside('superagent')),
        resource('this-test', inside('ioredis')),
        resource('earlier', inside('superagent')),
        // supertest's server, started from superagent's then(): superagent's frame below.
        {
          ...resource('this-test', inside('supertest')),
          site: {
            top: inside('supertest'),
            frames: [inside('supertest'), inside('superagent')],
          },
        },
      ],
      omittedCount: 0,
      promises: [],
    },
    awaitingSuperagent,
  );
  expect(built.pending[0]).toMatchObject({ site: { top: entered }, madeBy: inside('superagent') });
  // Another package's, and what an earlier test made: where they were.
  expect(built.pending[1].site?.top).toEqual(inside('ioredis'));
  expect(built.pending[2].site?.top).toEqual(inside('superagent'));
  expect(built.pending[3]).toMatchObject({ site: { top: entered }, madeBy: inside('supertest') });

  // An afterEach whose await entered the package: the test's own connection, made before it, is
  // not placed at the hook's line.
  const hookHang = buildHangFinding(
    { ...unit, phase: 'afterEach', forTest: unit.testName },
    {
      // The hook's report relates the test's work to it as its test's ('hook'), not its own.
      listed: [{ ...resource('this-test', inside('superagent')), relation: 'hook' as const }],
      omittedCount: 0,
      promises: [],
    },
    awaitingSuperagent,
  );
  expect(hookHang.pending[0].site?.top).toEqual(inside('superagent'));
});
