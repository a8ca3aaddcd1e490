import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AwaitedThing, Finding } from '../../src/core/model';
import { schemaErrors } from '../helpers/report-schema';
import {
  FIXTURES,
  reportOf,
  runFixture,
  topFrameOf,
  type FixtureRun,
} from '../helpers/run-fixture';

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
      /waits for event 'ready' on a Connection for [\d.]+ m?s; the wait began at await-stacks\.test\.js:24:9/,
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

  test('a p-queue job that awaits its own queue: the job holding the slot waits for the queue itself', () => {
    const report = reportOf(
      run.failureOf('imports a user through a queue whose job queues its own lookup'),
    );
    expect(report).toMatch(
      /waits inside p-queue, entered at queue\.test\.js:4:\d+ .*\n +a slot is held by a job p-queue is running, waiting at src\/users-import\.js:13:\d+ +const profile = await imports\.add\(\(\) => loadProfile\(id\)\);\n +that job itself waits on p-queue: if on this same one, it holds a slot while it waits for one/,
    );
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

  // Node's stream waits: their promises and listeners are Node's own, held by nothing of the
  // test's, so without a record the flow was garbage and the report named no line.
  test('stream/promises finished on a stream written to but never ended', () => {
    const failure = run.failureOf('a stream written to but never ended');
    const report = reportOf(failure);
    expect(report).toMatch(
      /waits for a PassThrough to finish \(stream\/promises finished\) for [\d.]+ m?s\n +end\(\) was never called on it, so it never ends\n/,
    );
    expect(report).toMatch(
      /src\/csv\.js:11:3 +await finished\(out\); \/\/ out\.end\(\) is missing/,
    );
    expect(report).toMatch(/streams\.test\.js:7:3 +await expect\(toCsv\(rows\)\)/);
    expect(topFrameOf(failure)).toContain('src/csv.js:11:3');
  });

  test('for await over a stream nobody ends', () => {
    const failure = run.failureOf('for await over a stream nobody ends');
    const report = reportOf(failure);
    expect(report).toMatch(
      /waits for the next chunk or the end of a PassThrough \(for await\) for [\d.]+ m?s\n +end\(\) was never called on it, so it never ends\n/,
    );
    expect(report).toMatch(/src\/csv\.js:25:20 +for await \(const chunk of stream\)/);
    expect(topFrameOf(failure)).toContain('src/csv.js:25:20');
  });

  test('finished on a readable whose data nobody reads', () => {
    const report = reportOf(run.failureOf('finished on a response body nobody reads'));
    expect(report).toMatch(
      /waits for a Readable to finish \(stream\/promises finished\) for [\d.]+ m?s\n +its end was pushed, but 11 B are still unread and nothing reads them: read it to the end/,
    );
    expect(report).toMatch(/streams\.test\.js:20:3 +await finished\(body\);/);
  });

  test('a pipeline whose source never ends: which stream holds it up', () => {
    const report = reportOf(run.failureOf('a pipeline whose source never ends'));
    expect(report).toMatch(
      /waits for a pipeline of 3 stages to finish \(stream\/promises pipeline\) for [\d.]+ m?s\n +stage 1 of 3, a Readable: its source has not pushed the end \(push\(null\)\)\n/,
    );
    expect(report).toMatch(
      /src\/csv\.js:19:3 +await pipeline\(source, zlib\.createGzip\(\), sink\);/,
    );
  });

  test("an async generator's own await, under the for await that drives it", () => {
    const failure = run.failureOf('paging through an api whose second page never answers');
    const report = reportOf(failure);
    expect(report).toContain(
      'waits on a new Promise whose resolve and reject have not been called; its executor: streams.test.js:32:',
    );
    expect(report).toMatch(
      /streams\.test\.js:25:18 +const rows = await fetchPage\(page\);\n +streams\.test\.js:34:20 +for await \(const rows of pages\(fetchPage\)\)/,
    );
    expect(topFrameOf(failure)).toContain('streams.test.js:25:18');
  });

  test('a promisified callback API that never calls back: the function, where it is defined', () => {
    const failure = run.failureOf('a promisified callback API that never calls back');
    const report = reportOf(failure);
    expect(report).toMatch(
      /waits for readSetting\(\) to call its callback \(promisified with util\.promisify\) for [\d.]+ m?s; readSetting is defined at src\/legacy\.js:4:\d+ +function readSetting\(cache, key, callback\) \{/,
    );
    expect(report).toMatch(
      /events-iterator\.test\.js:6:3 +await expect\(readSettingAsync\(cache, 'theme'\)\)/,
    );
    expect(topFrameOf(failure)).toContain('events-iterator.test.js:6:3');
  });

  test('events.on over an emitter that never emits: the event and where the wait began', () => {
    const report = reportOf(run.failureOf('events.on over an emitter that never emits'));
    expect(report).toMatch(
      /waits for event 'job' on an EventEmitter for [\d.]+ m?s; the wait began at events-iterator\.test\.js:11:29 +for await \(const \[job\] of on\(queue, 'job'\)\) \{/,
    );
  });

  test('readline over a stream nobody ends: the line wait, and why its input has not ended', () => {
    const failure = run.failureOf('collects the lines of a stream nobody ends');
    const report = reportOf(failure);
    expect(report).toMatch(
      /waits for event 'line' on an Interface for [\d.]+ m?s; the wait began at src\/lines\.js:7:28 +for await \(const line of rl\) lines\.push\(line\);\n +its input, a PassThrough, has not ended: end\(\) was never called on it, so it never ends\n/,
    );
    expect(report).toMatch(/lines\.test\.js:18:10 +expect\(await collectLines\(input\)\)/);
    expect(report).toContain('can never finish');
  });

  test("readline over a child process's stdout: the pipe ends only when the child does", () => {
    const report = reportOf(
      run.failureOf('collects the lines of a child process that never exits'),
    );
    expect(report).toContain(
      "its input, a Socket, has not ended: it is a pipe: its data ends only when the process at the other end closes it or exits (a child process's stdout ends when the child exits)",
    );
    expect(report).toMatch(/child process \d+ `node -e .*` still running/);
  });

  test('for await over a TCP connection: the peer that must end it', () => {
    const report = reportOf(run.failureOf('reads a connection its server never ends'));
    expect(report).toMatch(
      /waits for the next chunk or the end of a Socket \(for await\) for [\d.]+ m?s\n +it is a connection to 127\.0\.0\.1:\d+: its data ends only when the peer ends the connection, or when it is destroyed\n/,
    );
    expect(report).toMatch(/lines\.test\.js:34:20 +for await \(const chunk of socket\)/);
  });

  test("Readable.from over an async generator: the generator's own await and what it waits on", () => {
    const failure = run.failureOf('reading more rows than a cursor holds');
    const report = reportOf(failure);
    expect(report).toMatch(
      /waits for the next chunk or the end of a Readable \(for await\) for [\d.]+ m?s\n +it is fed by the async generator rowsOf\(\), stopped at an await of its own \(innermost first\):\n +waits on a new Promise whose resolve and reject have not been called; its executor: cursor\.test\.js:7:\d+ .*\n +src\/export\.js:8:18 const page = await cursor\.nextPage\(\);\n +src\/export\.js:28:20 +for await \(const row of Readable\.from\(rowsOf\(cursor\)\)\) \{/,
    );
    // Nothing is pending: the error's frame is the generator's await, the innermost.
    expect(topFrameOf(failure)).toContain('src/export.js:8:18');
  });

  test('a pipeline whose first stage is Readable.from a stopped generator', () => {
    const failure = run.failureOf('exporting a cursor that never gives its empty last page');
    const report = reportOf(failure);
    // Its gzip stage is idle, waiting for input like the flow: it wakes nothing, so the test
    // fails early, and the error's frame is the generator's await, not the createGzip line.
    expect(report).toContain('can never finish');
    expect(report).toMatch(
      /1 thing it started is still open, but idle: none of it could settle it:\n +1\. zlib stream not finished, idle: it waits for more input or end\(\)/,
    );
    expect(topFrameOf(failure)).toContain('src/export.js:8:18');
    expect(report).toMatch(
      /stage 1 of 4, a Readable: it is fed by the async generator rowsOf\(\), stopped at an await of its own \(innermost first\):\n.*its executor: cursor\.test\.js:7:\d+.*\n +src\/export\.js:8:18 const page = await cursor\.nextPage\(\);\n +src\/export\.js:22:3 /,
    );
  });

  test('a pipeline fed by an async generator stage: the generator, at its own await', () => {
    const failure = run.failureOf('copying a cursor into an object sink');
    expect(reportOf(failure)).toMatch(
      /stage 2 of 2, a Writable: it is fed by the async generator rowsOf\(\), stopped at an await of its own \(innermost first\):\n.*its executor: cursor\.test\.js:7:\d+.*\n +src\/export\.js:8:18 const page = await cursor\.nextPage\(\);\n +src\/export\.js:37:3 +await pipeline\(rowsOf\(cursor\), sink\);/,
    );
    expect(topFrameOf(failure)).toContain('src/export.js:8:18');
  });

  test("a pipeline's generator stage stopped at its own await: the stage, its await, what it waits on", () => {
    const failure = run.failureOf('exporting orders when one has no customer');
    expect(reportOf(failure)).toMatch(
      /stage 1 of 3, a Readable: it is read by the async generator withCustomers\(\), stopped at an await of its own \(innermost first\):\n +waits inside generic-pool, entered at src\/orders\.js:17:20 .*\n +src\/orders\.js:17:20 const client = await clients\.acquire\(\);\n +src\/orders\.js:31:3 +await pipeline\(Readable\.from\(orders\), withCustomers, sink\);/,
    );
    expect(topFrameOf(failure)).toContain('src/orders.js:17:20');
  });

  test("a pipeline's last stage, an async function, stopped at its own await", () => {
    const failure = run.failureOf('saving rows with a duplicate');
    expect(reportOf(failure)).toMatch(
      /stage 1 of 2, a Readable: it is read by the async function save\(\), stopped at an await of its own \(innermost first\):\n +waits for insertRow\(\) to call its callback \(promisified with util\.promisify\) for [\d.]+ m?s; insertRow is defined at src\/orders\.js:40:19 .*\n +src\/orders\.js:51:37 for await \(const row of source\) await insert\(table, row\);/,
    );
    expect(topFrameOf(failure)).toContain('src/orders.js:51:37');
  });

  test('a generator stage that waits for its input is not named: the input that never ends is', () => {
    const failure = run.failureOf('exporting orders from a feed nobody ends');
    const report = reportOf(failure);
    expect(report).toMatch(/stage 1 of 3, a PassThrough: end\(\) was never called on it/);
    expect(report).not.toContain('it is read by');
  });

  test('a done callback only a listener would call: the emitter, the event, the listener', () => {
    const failure = run.failureOf("an app's error event that never comes");
    expect(reportOf(failure)).toMatch(
      /`done` was never called\.\n`done` would be called from here, which is still waiting \(innermost first\):\n +waits for event 'error' on an App for [\d.]+ m?s\n +done\.test\.js:12:\d+ app\.on\('error', \(error\) => \{/,
    );
    expect(topFrameOf(failure)).toContain('done.test.js:12:');
  });

  test("done called by a socket.io client's listener (component-emitter): the socket, the event", () => {
    const failure = run.failureOf('a welcome the chat server never sends');
    expect(reportOf(failure)).toMatch(
      /`done` would be called from here, which is still waiting \(innermost first\):\n +waits for event 'welcome' on a Socket for [\d.]+ m?s\n +socket-io\.test\.js:29:\d+ client\.on\('welcome', \(message\) => \{/,
    );
    // The client's socket, now placed at the user's connect, is what it started: it ranks first.
    expect(topFrameOf(failure)).toContain('socket-io.test.js:28:');
  });

  test("a socket.io event awaited through the client's once: the wait and its line", () => {
    const report = reportOf(run.failureOf('a typing notice nobody sends, awaited once'));
    expect(report).toMatch(
      /waits for event 'typing' on a Socket for [\d.]+ m?s; the wait began at socket-io\.test\.js:39:\d+ +await new Promise\(\(resolve\) => client\.once\('typing', resolve\)\);/,
    );
  });

  test("socket.io's WebSocket, opened after its polling handshake: placed at the user's connect", () => {
    const report = reportOf(run.failureOf('a welcome the chat server never sends'));
    expect(report).toMatch(
      /1\. TCP socket to 127\.0\.0\.1:\d+, open .*\n +created at socket-io\.test\.js:28:\d+ +client = connect\(url\);\n +made on its behalf inside ws, at /,
    );
  });

  test("a listener that wraps resolve: its event, not the reject listener's beside it", () => {
    const report = reportOf(run.failureOf('a child process awaited through a wrapped resolve'));
    expect(report).toMatch(
      /waits for event 'exit' \(or 'error'\) on a ChildProcess for [\d.]+ m?s; the wait began at wrapped-resolve\.test\.js:9:\d+ +const code = await new Promise\(\(resolve, reject\) => \{/,
    );
    expect(
      reportOf(run.failureOf('a reply awaited through a wrapped resolve, connect_error rejecting')),
    ).toMatch(
      /waits for event 'reply' \(or 'connect_error'\) on a Socket for [\d.]+ m?s; the wait began at socket-io\.test\.js:44:\d+/,
    );
  });

  test('an event emitted before a wrapped-resolve listener was added: missed, with the emit line', () => {
    const report = reportOf(
      run.failureOf("a 'ready' emitted before the wait, awaited through a wrapped resolve"),
    );
    expect(report).toMatch(
      /waits for event 'ready' \(or 'error'\) on a Cache for [\d.]+ m?s; the wait began at wrapped-resolve\.test\.js:27:\d+ .*\n +'ready' was emitted [\d.]+ m?s before this wait started, so the wait missed it; emitted at wrapped-resolve\.test\.js:21:\d+ +this\.emit\('ready'\);/,
    );
  });

  test("an earlier test's poll, left running, does not push a later test's await out of the record", () => {
    const failure = run.failureOf(
      'awaits a config that never loads, while the earlier poll still runs',
    );
    expect(reportOf(failure)).toMatch(
      /It is awaiting \(innermost first\):\n +waits on a new Promise whose resolve and reject have not been called; its executor: poll-left-running\.test\.js:14:\d+ .*\n +poll-left-running\.test\.js:18:\d+ const config = await loadConfig\(\);/,
    );
  });

  test("a wait inside a package the user's call reaches through another (execa's get-stream), written once for its two flows", () => {
    const report = reportOf(run.failureOf('awaits a command that never exits, through execa'));
    expect(report).toMatch(
      /It is awaiting, in 2 concurrent flows \(innermost first\):\n +flows 1 and 2 \(the same awaits\):\n +waits inside get-stream, reached through execa, entered at execa\.test\.js:4:\d+ /,
    );
    expect(report).toMatch(
      /1\. child process \d+ `node -e "setInterval\(\(\) => \{\}, 1000\)"` still running/,
    );
  });

  test('done called from a promise callback: the async function it waits on, its await', () => {
    const failure = run.failureOf('done called after a promise that never settles');
    expect(reportOf(failure)).toMatch(
      /`done` would be called from here, which is still waiting \(innermost first\):\n +waits for readSetting\(\) to call its callback \(promisified with util\.promisify\) for [\d.]+ m?s; readSetting is defined at src\/legacy\.js:4:\d+ .*\n +done\.test\.js:30:17 const theme = await readSettingAsync\(cache, 'theme'\);\n +done\.test\.js:23:\d+ loadTheme\(cache\)\.then\(\(theme\) => \{/,
    );
    expect(topFrameOf(failure)).toContain('done.test.js:30:17');
  });

  test('done itself as the listener: the event it waits for, beside the child still running', () => {
    const report = reportOf(run.failureOf('a child process that never exits'));
    expect(report).toMatch(
      /`done` would be called from here, which is still waiting \(innermost first\):\n +waits for event 'exit' on a ChildProcess for [\d.]+ m?s\n/,
    );
    expect(report).toContain('1. child process');
  });

  test('a client that retries a refused connection: the errors its listener swallowed', () => {
    const report = reportOf(run.failureOf('reads a key from a redis that is not running'));
    expect(report).toContain('waits inside ioredis, entered at client.test.js:21:');
    expect(report).toMatch(
      /While it waited, its own work emitted an error that a listener took, so nothing failed:\n +- connect ECONNREFUSED 127\.0\.0\.1:\d+: \d+ times, on .*a Socket.*; the last [\d.]+ m?s before this report\n/,
    );
  });

  test('a poll loop whose condition never holds: named as one, not only its latest timer', () => {
    const report = reportOf(
      run.failureOf('waits until a queue drains, and nothing takes jobs off it'),
    );
    expect(report).toMatch(/poll\.test\.js:7:5 +await sleep\(everyMs\);/);
    expect(report).toMatch(
      /It set \d+ timers while it waited, one after another, the latest \(50 ms\) still pending: a poll or retry loop is waiting for something that has not happened\./,
    );
  });

  test('the JSON report holds stream and callback waits as data, valid against the schema', () => {
    const json = JSON.parse(
      fs.readFileSync(path.join(FIXTURES, 'await-stacks', 'hangwatch-report.json'), 'utf8'),
    ) as { findings: Finding[] };
    expect(schemaErrors(json)).toEqual([]);
    const awaitedIn = (testName: string): AwaitedThing | undefined => {
      const finding = json.findings.find(
        (entry) => entry.kind === 'hang' && entry.testName === testName,
      );
      return finding?.kind === 'hang' ? finding.awaits?.[0]?.awaiting : undefined;
    };
    expect(awaitedIn('a stream written to but never ended')).toMatchObject({
      kind: 'stream',
      via: 'finished',
      state: {
        stream: 'PassThrough',
        destroyed: false,
        readable: { ended: false, endPushed: false },
        writable: { endCalled: false, finished: false },
      },
    });
    expect(awaitedIn('a pipeline whose source never ends')).toMatchObject({
      kind: 'stream',
      via: 'pipeline',
      pipeline: { position: 1, length: 3 },
      state: { stream: 'Readable', readable: { endPushed: false } },
    });
    expect(awaitedIn('a child process awaited through a wrapped resolve')).toMatchObject({
      kind: 'event',
      emitter: 'ChildProcess',
      event: 'exit',
      orEvents: ['error'],
    });
    expect(awaitedIn('a promisified callback API that never calls back')).toMatchObject({
      kind: 'callback',
      functionName: 'readSetting',
      site: { top: { line: 4 } },
    });
    expect(awaitedIn('collects the lines of a child process that never exits')).toMatchObject({
      kind: 'event',
      emitter: 'Interface',
      event: 'line',
      input: { stream: 'Socket', socket: { pipe: true }, readable: { ended: false } },
    });
    expect(awaitedIn('reads a connection its server never ends')).toMatchObject({
      kind: 'stream',
      via: 'iteration',
      state: {
        stream: 'Socket',
        socket: { pipe: false, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
      },
    });
    expect(awaitedIn('exporting a cursor that never gives its empty last page')).toMatchObject({
      kind: 'stream',
      via: 'pipeline',
      pipeline: { position: 1, length: 4 },
      source: {
        generator: 'rowsOf',
        steps: [
          { frame: { line: 8, column: 18 }, sourceLine: 'const page = await cursor.nextPage();' },
        ],
        awaiting: { kind: 'promise', site: { top: { line: 7 } } },
      },
    });
    expect(awaitedIn('saving rows with a duplicate')).toMatchObject({
      kind: 'stream',
      via: 'pipeline',
      pipeline: { position: 1, length: 2 },
      reader: {
        function: 'save',
        kind: 'async function',
        steps: [{ frame: { line: 51, column: 37 } }],
        awaiting: { kind: 'callback', functionName: 'insertRow' },
      },
    });
    const redisHang = json.findings.find(
      (entry) =>
        entry.kind === 'hang' && entry.testName === 'reads a key from a redis that is not running',
    );
    expect(redisHang?.kind === 'hang' && redisHang.handledErrors).toEqual([
      expect.objectContaining({
        code: 'ECONNREFUSED',
        emitters: expect.arrayContaining(['Socket']),
      }),
    ]);
    const pollHang = json.findings.find(
      (entry) =>
        entry.kind === 'hang' &&
        entry.testName === 'waits until a queue drains, and nothing takes jobs off it',
    );
    expect(pollHang?.kind === 'hang' && pollHang.advice).toContainEqual({
      code: 'polling',
      timers: expect.any(Number),
      delayMs: 50,
    });
    const doneCallersOf = (testName: string) => {
      const finding = json.findings.find(
        (entry) => entry.kind === 'hang' && entry.testName === testName,
      );
      return finding?.kind === 'hang' ? finding.doneCallers : undefined;
    };
    expect(doneCallersOf("an app's error event that never comes")).toEqual([
      {
        steps: [expect.objectContaining({ frame: expect.objectContaining({ line: 12 }) })],
        awaiting: expect.objectContaining({ kind: 'event', emitter: 'App', event: 'error' }),
      },
    ]);
    expect(awaitedIn('exporting orders when one has no customer')).toMatchObject({
      reader: { function: 'withCustomers', kind: 'async generator' },
    });
    expect(awaitedIn('finished on a response body nobody reads')).toMatchObject({
      kind: 'stream',
      via: 'finished',
      state: { readable: { endPushed: true, buffered: 11, flowing: null } },
    });
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

test('native ESM: the missed event and a stream wait', async () => {
  const run = await runFixture('await-stacks-esm', {
    args: ['--forceExit'],
    env: { NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
    timeoutMs: 400_000,
  });
  const report = reportOf(run.failureOf('an event emitted in a constructor before the wait'));
  expect(report).toMatch(/the wait began at ready\.test\.js:6:9/);
  expect(report).toMatch(/emitted at src\/conn\.js:6:10 +this\.emit\('ready'\);/);
  // A named import of Node's stream/promises gets the recording `finished` too.
  const stream = reportOf(run.failureOf('a stream written to but never ended'));
  expect(stream).toContain('waits for a PassThrough to finish (stream/promises finished)');
  expect(stream).toMatch(/stream\.test\.js:7:3 +await finished\(out\);/);
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
