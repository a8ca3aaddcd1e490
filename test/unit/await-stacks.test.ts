import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findEventCycle } from '../../src/core/await-stacks/event-cycle';
import { renderAwaitSection } from '../../src/core/await-stacks/render';
import type { AwaitFlow, HangFinding } from '../../src/core/model';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'await-stacks-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TWO_FLOWS = `const { EventEmitter, once } = require('node:events');
const bus = new EventEmitter();
async function ping() {
  await once(bus, 'pong');
  bus.emit('ping');
}
async function pong() {
  await once(bus, 'ping');
  bus.emit('pong');
}
`;

function eventFlow(file: string, line: number, event: string): AwaitFlow {
  return {
    steps: [{ frame: { file, line, column: 3, origin: 'user' } }],
    awaiting: { kind: 'event', emitter: 'EventEmitter', event },
  };
}

describe('event-wait cycles', () => {
  const file = path.join(dir, 'two-flows.js');
  fs.writeFileSync(file, TWO_FLOWS);

  test('two flows that each emit, after their own wait, what the other waits for', () => {
    const cycle = findEventCycle([eventFlow(file, 4, 'pong'), eventFlow(file, 8, 'ping')]);
    expect(cycle).toEqual([
      expect.objectContaining({
        flow: 0,
        event: 'pong',
        emits: 'ping',
        emitsAt: { file, line: 5, column: 3 },
      }),
      expect.objectContaining({
        flow: 1,
        event: 'ping',
        emits: 'pong',
        emitsAt: { file, line: 9, column: 3 },
      }),
    ]);
    const finding = { awaits: [], eventCycle: cycle } as unknown as HangFinding;
    finding.awaits = [eventFlow(file, 4, 'pong'), eventFlow(file, 8, 'ping')];
    const text = renderAwaitSection(finding, dir).join('\n');
    expect(text).toContain(
      "flow 1 waits for 'pong' on its EventEmitter, then would emit 'ping' at two-flows.js:5:3   bus.emit('ping');",
    );
  });

  test('no cycle when a flow emits nothing after its wait', () => {
    expect(
      findEventCycle([eventFlow(file, 4, 'pong'), eventFlow(file, 8, 'never')]),
    ).toBeUndefined();
  });
});

describe('the await section', () => {
  test('flows that read the same are written once, under all their numbers', () => {
    const file = path.join(dir, 'flows.js');
    const same = eventFlow(file, 4, 'data');
    const finding = { awaits: [same, eventFlow(file, 8, 'end'), same] } as HangFinding;
    const lines = renderAwaitSection(finding, dir);
    expect(lines[0]).toBe('It is awaiting, in 3 concurrent flows (innermost first):');
    expect(lines).toContain('  flows 1 and 3 (the same awaits):');
    expect(lines).toContain('  flow 2:');
    expect(lines.filter((line) => line.includes("event 'data'"))).toHaveLength(1);
  });
});

/** Runs a script in a bare Node process with hangwatch's recorders on; prints the flows as JSON. */
function flowsOf(body: string): AwaitFlow[] {
  return runCase(body, 'readAwaitStacks(unit)') as AwaitFlow[];
}

/** Runs a case in a bare Node process and returns what `printed` (a JS expression) evaluates to. */
function runCase(body: string, printed: string): unknown {
  const dist = path.resolve(__dirname, '..', '..', 'dist', 'core', 'await-stacks');
  const script = path.join(dir, `case-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(
    script,
    `const { installEventRecording, recordExplicitPromises } = require(${JSON.stringify(path.join(dist, 'recorder.js'))});
const { readAwaitStacks } = require(${JSON.stringify(path.join(dist, 'read-await-stacks.js'))});
installEventRecording();
recordExplicitPromises(globalThis);
${body}
setTimeout(() => process.stdout.write(JSON.stringify(${printed})), 20);
`,
  );
  const child = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout) as unknown;
}

describe('the heap walk (bare Node)', () => {
  test('a three-deep chain on a dropped resolve: each await, innermost first, and the executor', () => {
    const flows = flowsOf(`async function inner() {
  await new Promise((resolve) => void resolve);
}
async function middle() {
  await inner();
}
const unit = (async () => {
  await middle();
})();`);
    expect(flows).toHaveLength(1);
    expect(flows[0].steps.map((step) => [step.frame.line, step.frame.functionName])).toEqual([
      [6, 'inner'],
      [9, 'middle'],
      [12, undefined],
    ]);
    expect(flows[0].awaiting).toMatchObject({ kind: 'promise', site: { top: { line: 6 } } });
  });

  test('flows that share outer steps look each suspended function up once', () => {
    // Counted at the inspector: each lookup by heap id costs V8 a marking of the whole heap.
    const { flows, lookups } = runCase(
      `const { Session } = require('node:inspector');
const post = Session.prototype.post;
globalThis.lookups = 0;
Session.prototype.post = function (method, ...rest) {
  if (method === 'HeapProfiler.getObjectByHeapObjectId') globalThis.lookups++;
  return post.call(this, method, ...rest);
};
async function branch() {
  await new Promise(() => {});
}
async function all() {
  await Promise.all([branch(), branch(), branch()]);
}
const unit = (async () => {
  await all();
})();`,
      '{ flows: readAwaitStacks(unit), lookups: globalThis.lookups }',
    ) as { flows: AwaitFlow[]; lookups: number };
    expect(flows).toHaveLength(3);
    for (const flow of flows) {
      expect(flow.steps.map((step) => [step.frame.line, step.frame.functionName])).toEqual([
        [13, 'branch'],
        [16, 'all'],
        [19, undefined],
      ]);
    }
    // Three branches, `all` and the unit's own function: five, not one per step of each flow (9).
    expect(lookups).toBe(5);
  });

  test("Readable.from a stopped async generator: the generator's await, under the for await", () => {
    const flows = flowsOf(`const { Readable } = require('node:stream');
async function* numbers() {
  yield 1;
  await new Promise(() => {});
}
const unit = (async () => {
  for await (const n of Readable.from(numbers())) void n;
})();`);
    expect(flows).toHaveLength(1);
    expect(flows[0].awaiting).toMatchObject({
      kind: 'stream',
      via: 'iteration',
      source: {
        generator: 'numbers',
        steps: [{ frame: { line: 8, functionName: 'numbers' } }],
        awaiting: { kind: 'promise', site: { top: { line: 8 } } },
      },
    });
  });

  test("the recording Readable.from is still Node's: its options, arrays and generators", () => {
    const result = runCase(
      `const { Readable } = require('node:stream');
globalThis.result = {
  name: Readable.from.name,
  fromArray: Readable.from(['a']) instanceof Readable,
  options: Readable.from(['a'], { objectMode: false }).readableObjectMode,
};
(async () => {
  const chunks = [];
  for await (const chunk of Readable.from((async function* () { yield 'x'; yield 'y'; })())) chunks.push(chunk);
  globalThis.result.chunks = chunks;
})();`,
      'globalThis.result',
    );
    expect(result).toEqual({ name: 'from', fromArray: true, options: false, chunks: ['x', 'y'] });
  });

  test("a pipeline's generator stage stopped at its own await: the stage that reads the stream", () => {
    const flows = flowsOf(`const { Readable, Writable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
async function* enrich(rows) {
  for await (const row of rows) {
    await new Promise(() => {});
    yield row;
  }
}
const sink = new Writable({ objectMode: true, write: (row, _encoding, callback) => callback() });
const unit = (async () => {
  await pipeline(Readable.from([1, 2]), enrich, sink);
})();`);
    expect(flows).toHaveLength(1);
    expect(flows[0].awaiting).toMatchObject({
      kind: 'stream',
      via: 'pipeline',
      pipeline: { position: 1, length: 3 },
      reader: {
        function: 'enrich',
        kind: 'async generator',
        steps: [{ frame: { line: 9, functionName: 'enrich' } }],
        awaiting: { kind: 'promise', site: { top: { line: 9 } } },
      },
    });
  });

  test('a stage that waits for its input is not a stopped reader', () => {
    const flows = flowsOf(`const { PassThrough, Writable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
async function* upper(rows) {
  for await (const row of rows) yield String(row).toUpperCase();
}
const sink = new Writable({ objectMode: true, write: (row, _encoding, callback) => callback() });
const input = new PassThrough({ objectMode: true });
input.write('a');
const unit = (async () => {
  await pipeline(input, upper, sink);
})();`);
    expect(flows).toHaveLength(1);
    expect(flows[0].awaiting).toMatchObject({
      kind: 'stream',
      pipeline: { position: 1, length: 3 },
      state: { stream: 'PassThrough' },
    });
    expect(flows[0].awaiting).not.toHaveProperty('reader');
  });

  test('a generator function as the first stage feeds the next one', () => {
    const flows = flowsOf(`const { Writable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const sink = new Writable({ objectMode: true, write: (row, _encoding, callback) => callback() });
const unit = (async () => {
  await pipeline(async function* pages() {
    yield 1;
    await new Promise(() => {});
  }, sink);
})();`);
    expect(flows[0].awaiting).toMatchObject({
      pipeline: { position: 2, length: 2 },
      source: { generator: 'pages', steps: [{ frame: { line: 11, functionName: 'pages' } }] },
    });
  });

  test("the recording pipeline is still Node's with function stages: values, errors, array form", () => {
    const result = runCase(
      `const { Readable, PassThrough } = require('node:stream');
const { pipeline } = require('node:stream/promises');
globalThis.result = { name: pipeline.name };
(async () => {
  const out = [];
  globalThis.result.value = await pipeline(
    [
      Readable.from(['a', 'b']),
      async function* upper(source) { for await (const chunk of source) yield String(chunk).toUpperCase(); },
      async function collect(source) { for await (const chunk of source) out.push(chunk); return out.length; },
    ],
    {},
  );
  globalThis.result.out = out;
  globalThis.result.error = await pipeline(
    Readable.from(['x']),
    async function* () { throw new Error('stage failed'); },
    new PassThrough().resume(),
  ).then(() => 'resolved', (error) => error.message);
})();`,
      'globalThis.result',
    );
    expect(result).toEqual({ name: 'pipeline', value: 2, out: ['A', 'B'], error: 'stage failed' });
  });

  test("done's callers: the listener that names it, kept while a done-style unit runs; not the others", () => {
    const dist = path.resolve(__dirname, '..', '..', 'dist', 'core', 'await-stacks');
    const body = (keep: boolean) => `const { EventEmitter } = require('node:events');
const { keepListeners } = require(${JSON.stringify(path.join(dist, 'recorder.js'))});
const { readDoneCallers } = require(${JSON.stringify(path.join(dist, 'done-callers.js'))});
${keep ? 'keepListeners();' : ''}
function unitFn(done) {
  const queue = new EventEmitter();
  queue.on('drained', () => done());
  queue.on('failed', (error) => console.log(error));
}
const done = () => {};
unitFn(done);`;
    const printed = 'readDoneCallers(done, 0)';
    expect(runCase(body(true), printed)).toEqual([
      {
        steps: [expect.objectContaining({ frame: expect.objectContaining({ line: 11 }) })],
        awaiting: expect.objectContaining({
          kind: 'event',
          emitter: 'EventEmitter',
          event: 'drained',
        }),
      },
    ]);
    // Without keeping it, the emitter only the unit's function held is gone by the snapshot.
    expect(runCase(body(false), printed)).toEqual([]);
  });

  test("a handled 'error' is recorded; one whose message getter throws passes through unrecorded", () => {
    const recorder = path.resolve(
      __dirname,
      '..',
      '..',
      'dist',
      'core',
      'await-stacks',
      'recorder.js',
    );
    const result = runCase(
      `const { EventEmitter } = require('node:events');
const { probe } = require(${JSON.stringify(recorder)});
const emitter = new EventEmitter();
emitter.on('error', () => {});
const hostile = { get message() { throw new Error('no'); } };
let threw = false;
try { emitter.emit('error', hostile); } catch { threw = true; }
emitter.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
emitter.emit('error', new Error('connect ECONNREFUSED'));
globalThis.result = { threw, recorded: probe.handledErrors.filter(Boolean).map((e) => [e.message, e.code, e.count]) };`,
      'globalThis.result',
    );
    expect(result).toEqual({
      threw: false,
      recorded: [['connect ECONNREFUSED', 'ECONNREFUSED', 2]],
    });
  });

  test('Promise.all: one flow per branch; a missed events.once named', () => {
    const flows = flowsOf(`const { EventEmitter, once } = require('node:events');
class Conn extends EventEmitter {
  constructor() { super(); this.emit('ready'); }
}
async function waitReady() {
  const conn = new Conn();
  await once(conn, 'ready');
}
async function never() {
  await new Promise(() => {});
}
const unit = Promise.all([waitReady(), never()]);`);
    expect(flows).toHaveLength(2);
    const event = flows.find((flow) => flow.awaiting?.kind === 'event');
    expect(event?.awaiting).toMatchObject({
      kind: 'event',
      emitter: 'Conn',
      event: 'ready',
      missed: { site: { top: { line: 7 } } },
    });
    expect(event?.steps[0].frame).toMatchObject({ line: 11, functionName: 'waitReady' });
  });

  test("listeners that wrap resolve and reject: the resolving one's event first, the others beside it", () => {
    const flows = flowsOf(`const { EventEmitter } = require('node:events');
class Job extends EventEmitter {}
const job = new Job();
const unit = (async () => {
  await new Promise((resolve, reject) => {
    job.on('progress', (percent) => { job.percent = percent; });
    job.on('failed', (message) => reject(new Error(message)));
    job.on('done', (result) => resolve(result.value));
  });
})();`);
    expect(flows[0].awaiting).toMatchObject({
      kind: 'event',
      emitter: 'Job',
      event: 'done',
      orEvents: ['failed'],
    });
  });

  test('a wrapped resolve alone is an event wait, not a promise nobody settles', () => {
    const flows = flowsOf(`const { EventEmitter } = require('node:events');
const bus = new EventEmitter();
const unit = (async () => {
  await new Promise((resolve) => bus.once('drained', () => resolve()));
})();`);
    expect(flows[0].awaiting).toMatchObject({ kind: 'event', event: 'drained' });
    expect(flows[0].awaiting).not.toHaveProperty('orEvents');
  });
});
