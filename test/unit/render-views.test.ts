import type {
  BlockedLoopFinding,
  CreationSite,
  Frame,
  HangFinding,
  LeakFinding,
  PendingResource,
} from '../../src/core/model';
import { REPORT_SCHEMA_VERSION } from '../../src/core/model';
import { adviceText } from '../../src/core/render/advice';
import type { Block } from '../../src/core/render/blocks';
import { describePending } from '../../src/core/render/pending';
import { blockedLoopBlocks, hangBlocks, leakBlocks } from '../../src/core/render/sections';
import {
  renderBlockedLoopMarkdown,
  renderHangMarkdown,
  renderLeakMarkdown,
} from '../../src/core/render-markdown';
import { renderBlockedLoopText, renderHangText, renderLeakText } from '../../src/core/render-text';
import { ROOT, userFrame as user } from '../helpers/findings';

// The text view (failure messages, the CLI) and the markdown view (job summaries) draw the same
// sections. One finding of each kind, with every section it can have, rendered both ways.

function site(top: Frame, sourceLine: string): CreationSite {
  return { top, frames: [top], sourceLine };
}

const TEST = 'orders › refunds a payment';
const library: Frame = {
  file: `${ROOT}/node_modules/ioredis/built/redis/event_handler.js`,
  line: 333,
  column: 33,
  origin: 'dependency',
  packageName: 'ioredis',
};

const resources: PendingResource[] = [
  {
    type: 'TCPWRAP',
    kind: 'TCP socket',
    details: { remote: '127.0.0.1:6379', bytesRead: 0, bytesWritten: 14, connecting: false },
    ageMs: 4_900,
    keepsAlive: true,
    relation: 'this-test',
    owner: { kind: 'test', name: TEST },
    site: site(user('src/orders.test.js', 12, 5, 'poll'), 'const socket = net.connect(6379);'),
  },
  {
    type: 'Timeout',
    kind: 'timer',
    details: { delayMs: 500, leftMs: 100 },
    ageMs: 400,
    keepsAlive: false,
    relation: 'hook',
    owner: { kind: 'beforeEach', name: 'orders', testName: TEST },
    site: site(user('src/orders.test.js', 4, 15), 'const cache = new Redis();'),
    madeBy: library,
  },
];

const hang: HangFinding = {
  schemaVersion: REPORT_SCHEMA_VERSION,
  kind: 'hang',
  testName: TEST,
  testPath: `${ROOT}/src/orders.test.js`,
  phase: 'test',
  trigger: 'timeout',
  elapsedMs: 5_000,
  timeoutMs: 5_000,
  waitingForDone: true,
  thrownBeforeDone: [
    {
      message: 'expect(received).toBe(expected)',
      site: site(user('src/orders.test.js', 20, 7), 'expect(event.status).toBe(200);'),
    },
  ],
  attempt: 0,
  pending: resources,
  omittedCount: 2,
  fakeTimers: {
    implementation: 'modern',
    pending: [
      {
        kind: 'timeout',
        delayMs: 1_000,
        dueInMs: 1_000,
        relation: 'this-test',
        site: site(user('src/orders.test.js', 14, 9), 'setTimeout(retry, 1000);'),
      },
    ],
  },
  pendingPromises: [
    {
      type: 'PROMISE',
      kind: 'promise',
      details: { newPromise: true },
      ageMs: 4_800,
      keepsAlive: true,
      relation: 'this-test',
      site: site(user('src/orders.test.js', 16, 11), 'await new Promise((resolve) => {'),
    },
  ],
  nothingPending: false,
  nothingOwnPending: false,
  advice: [
    { code: 'advance-fake-timers', implementation: 'modern', timers: 1 },
    { code: 'await-stacks-heap-limit', heapBytes: 300 * 1024 * 1024, limitMb: 256 },
  ],
  locks: {
    locks: [
      {
        id: 1,
        name: 'accounts',
        kind: 'mutex',
        capacity: 1,
        site: site(user('src/bank.js', 3, 17), 'const accounts = new Mutex();'),
        holders: [
          {
            flow: { id: 7, name: 'task "refund"', owner: { kind: 'test', name: TEST } },
            weight: 1,
            site: site(user('src/bank.js', 9, 11), 'await accounts.acquire();'),
            heldMs: 4_000,
          },
        ],
        waiters: [
          {
            flow: { id: 8, name: 'flow #8' },
            mode: 'acquire',
            weight: 1,
            site: site(user('src/bank.js', 21, 11), 'await accounts.acquire();'),
            waitingMs: 3_000,
          },
        ],
      },
    ],
    inversions: [],
  },
  awaits: [
    {
      steps: [
        {
          frame: user('src/orders.test.js', 18, 5, 'waitForEvent'),
          sourceLine: 'await once(bus, "paid");',
        },
      ],
      awaiting: {
        kind: 'event',
        emitter: 'EventEmitter',
        event: 'paid',
        waitingMs: 4_700,
        site: site(user('src/orders.test.js', 18, 11), 'await once(bus, "paid");'),
      },
    },
  ],
};

const leak: LeakFinding = {
  schemaVersion: REPORT_SCHEMA_VERSION,
  kind: 'leak',
  testName: '',
  testPath: `${ROOT}/src/orders.test.js`,
  scope: 'file',
  severity: 'warning',
  resources: [
    {
      type: 'TCPSERVERWRAP',
      kind: 'HTTP server',
      details: { local: '127.0.0.1:4000', connections: 1 },
      ageMs: 9_000,
      keepsAlive: true,
      relation: 'this-test',
      owner: { kind: 'beforeAll', name: 'orders' },
      site: site(user('src/orders.test.js', 2, 18), 'const server = app.listen(4000);'),
    },
  ],
  omittedCount: 1,
};

const blockedLoop: BlockedLoopFinding = {
  schemaVersion: REPORT_SCHEMA_VERSION,
  kind: 'blocked-loop',
  testName: TEST,
  testPath: `${ROOT}/src/orders.test.js`,
  phase: 'test',
  blockedMs: 2_500,
  timeoutMs: 5_000,
  frozen: false,
  severity: 'warning',
  site: site(user('src/orders.test.js', 30, 3, 'spin'), 'while (Date.now() < end) {}'),
  stack: [user('src/orders.test.js', 30, 3, 'spin'), user('src/orders.test.js', 40, 5)],
  advice: [{ code: 'blocked-loop-warning', unit: 'test', blockThresholdMs: 1_000 }],
};

/** Markdown escapes what it would otherwise format: compare the words, not the escapes. */
function words(markdown: string): string {
  return markdown.replace(/\\([<>*_|])/g, '$1');
}

/** Every piece of text a block shows: its title, each entry, each line, each note. */
function contentOf(block: Block): string[] {
  switch (block.kind) {
    case 'headline':
    case 'note':
    case 'omitted':
    case 'paragraph':
      return [block.text];
    case 'source':
      return [block.code];
    case 'lines':
      return [block.title ?? block.label.replace(/:$/, ''), ...block.lines.map((l) => l.trim())];
    case 'list':
      return [
        block.title.replace(/:$/, ''),
        ...block.entries.flatMap((entry) => [entry.text, ...entry.flags]),
      ];
  }
}

describe.each([
  [
    'hang',
    hangBlocks(hang, ROOT),
    renderHangText(hang, { rootDir: ROOT }),
    renderHangMarkdown(hang, { rootDir: ROOT }),
  ],
  [
    'leak',
    leakBlocks(leak, ROOT),
    renderLeakText(leak, { rootDir: ROOT }),
    renderLeakMarkdown(leak, { rootDir: ROOT }),
  ],
  [
    'blocked loop',
    blockedLoopBlocks(blockedLoop, ROOT),
    renderBlockedLoopText(blockedLoop, ROOT),
    renderBlockedLoopMarkdown(blockedLoop, { rootDir: ROOT }),
  ],
])('a %s renders the same sections as text and as markdown', (_kind, blocks, text, markdown) => {
  test.each(blocks.flatMap(contentOf).filter(Boolean))('shows %j', (content) => {
    expect(text).toContain(content);
    expect(words(markdown)).toContain(content);
  });
});

describe('the rich hang, section by section', () => {
  const text = renderHangText(hang, { rootDir: ROOT });
  const markdown = words(renderHangMarkdown(hang, { rootDir: ROOT }));

  test.each([
    ['the headline', 'test "orders › refunds a payment" hung: `done` was never called after 5.0 s'],
    ['the await section', 'It is awaiting (innermost first):'],
    ['what the await waits for', "waits for event 'paid' on an EventEmitter for 4.7 s"],
    ['the await step', 'src/orders.test.js:18:5 await once(bus, "paid");'],
    ['its own pending resources', 'It is waiting on 1 thing it started:'],
    [
      'the socket, from its facts',
      'TCP socket to 127.0.0.1:6379, open 4.9 s, 14 B sent, no data received',
    ],
    ['the hook group', 'Started by its hooks (1):'],
    ['the timer, from its facts', 'setTimeout 500 ms (100 ms left)'],
    ['an unref’d resource', "unref'd"],
    ['who started it', 'started in beforeEach for "orders › refunds a payment"'],
    ['the library that made it', 'made on its behalf inside ioredis, at'],
    ['what the cap left out', '...and 2 more pending resources not shown.'],
    ['the fake timers', 'Fake timers (modern) hold 1 pending timer:'],
    [
      'a fake timer',
      'fake setTimeout 1000 ms, due in 1000 fake ms: never fires unless the clock is advanced',
    ],
    ['the pending promises', 'Pending promises it created (the innermost `new Promise` first):'],
    [
      'a promise, from its facts',
      'new Promise still pending after 4.8 s: nothing called its resolve or reject',
    ],
    ['the locks', 'Locks (1):'],
    ['a lock holder', 'held by task "refund" for 4.0 s, acquired at src/bank.js:9:11'],
    ['a lock waiter', 'waited on by flow #8 for 3.0 s at src/bank.js:21:11'],
    [
      'what threw before done',
      'Before `done()` was reached, a callback threw: expect(received).toBe(expected)',
    ],
    ['the fake-timer advice', adviceText(hang.advice![0])],
    [
      'the heap-limit advice',
      'Await stacks were not read: the heap (300.0 MiB) is over `awaitStacksMaxHeapMb` (256 MB)',
    ],
  ])('%s', (_section, content) => {
    expect(text).toContain(content);
    expect(markdown).toContain(content);
  });

  test('each creation site, at one location format', () => {
    for (const location of [
      'src/orders.test.js:12:5',
      'src/orders.test.js:4:15',
      'node_modules/ioredis/built/redis/event_handler.js:333:33',
      'src/orders.test.js:14:9',
      'src/orders.test.js:16:11',
      'src/orders.test.js:20:7',
    ]) {
      expect(text).toContain(location);
      expect(markdown).toContain(`\`${location}\``);
    }
  });

  test('pending resources are described from their facts', () => {
    expect(text).toContain(`  1. ${describePending(resources[0])}`);
    expect(text).toContain(`  2. ${describePending(resources[1])} (unref'd; started in beforeEach`);
  });
});

describe('what an earlier test file left running', () => {
  const owner = { kind: 'test' as const, name: 'waits for the cache to warm' };
  const loopTimer: PendingResource = {
    type: 'Timeout',
    kind: 'timer',
    details: { delayMs: 50, leftMs: 30 },
    ageMs: 20,
    keepsAlive: true,
    relation: 'unknown',
    leftBy: { testPath: `${ROOT}/src/cache.test.js`, owner, timedOut: true },
    site: site(user('src/cache.test.js', 8, 30, 'waitFor'), 'await sleep(intervalMs);'),
  };
  const nobodys: PendingResource = { ...loopTimer, leftBy: undefined };
  const waiting = (pending: PendingResource[]): HangFinding => ({
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'hang',
    testName: 'waits for a confirmation',
    testPath: `${ROOT}/src/orders.test.js`,
    phase: 'test',
    trigger: 'timeout',
    elapsedMs: 1000,
    timeoutMs: 1000,
    waitingForDone: false,
    attempt: 0,
    pending,
    omittedCount: 0,
    nothingPending: false,
    nothingOwnPending: true,
    notes: [],
  });

  test('is its own group, each resource naming the test and file that left it', () => {
    const hang = waiting([loopTimer, nobodys]);
    for (const view of [
      renderHangText(hang, { rootDir: ROOT }),
      words(renderHangMarkdown(hang, { rootDir: ROOT })),
    ]) {
      expect(view).toContain('Also pending, made by work an earlier test file left running (1):');
      expect(view).toContain(
        'left running by test "waits for the cache to warm" of src/cache.test.js after it timed out: Jest does not stop a timed-out test',
      );
      expect(view).toContain('Also pending, started outside any test (1):');
      // Something of unknown origin could still settle it: the general verdict.
      expect(view).toContain('only what is listed above, started elsewhere, could still settle it');
    }
  });

  test('it is listed last: it can wake nothing of this file', () => {
    const text = renderHangText(waiting([nobodys, loopTimer]), { rootDir: ROOT });
    expect(text.indexOf('started outside any test')).toBeLessThan(
      text.indexOf('made by work an earlier test file left running'),
    );
  });

  test('when it is all that is pending, the verdict says it cannot be what the test waits on', () => {
    const text = renderHangText(waiting([loopTimer]), { rootDir: ROOT });
    expect(text).toContain(
      "what is listed above is work an earlier test file left running, which holds none of this file's modules",
    );
    expect(text).not.toContain('started outside any test');
    const done = renderHangText(
      { ...waiting([loopTimer]), waitingForDone: true },
      { rootDir: ROOT },
    );
    expect(done).toContain('nothing is left that could lead to a call to `done`');
    // With some of what is pending left out of the list, it may not all be left-over work.
    const capped = renderHangText({ ...waiting([loopTimer]), omittedCount: 2 }, { rootDir: ROOT });
    expect(capped).toContain('only what is listed above, started elsewhere, could still settle it');
  });

  test('an earlier file’s hook is named as a hook, of its describe block', () => {
    const hookTimer: PendingResource = {
      ...loopTimer,
      leftBy: {
        testPath: `${ROOT}/src/cache.test.js`,
        owner: { kind: 'beforeAll', name: 'cache' },
        timedOut: false,
      },
    };
    expect(renderHangText(waiting([hookTimer]), { rootDir: ROOT })).toContain(
      '(left running by beforeAll hook of describe "cache" of src/cache.test.js)',
    );
  });
});
