import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LazyStack } from '../../src/core/stack';

// What keeps a finished test file's realm alive is only visible to the collector: the child
// makes stores that name a large object (as a test and its realm are), leaves a process-wide
// resource under each (an interval, as a kept-alive agent's timer), and reports whether the
// object survives full collections before and after the stores are released.
const asyncContext = path.resolve(__dirname, '../../dist/core/async-context.js');
const stack = path.resolve(__dirname, '../../dist/core/stack.js');

const script = `
const { applyInContext, currentAsyncContext, ownerContext, releaseAsyncContexts, runWithOrigin } =
  require(${JSON.stringify(asyncContext)});
const { captureStack } = require(${JSON.stringify(stack)});
const turn = () => new Promise((resolve) => setImmediate(resolve));
const collect = async () => { for (let i = 0; i < 3; i++) { global.gc(); await turn(); } };
const refs = {};
const timers = {};
const seen = {};

// A test: its store names it; the interval created under it outlives it.
(() => {
  const unit = { name: 'a test', realm: new Array(100000).fill(0) };
  refs.owner = new WeakRef(unit);
  applyInContext(ownerContext(unit), Reflect.apply, () => {
    timers.owner = setInterval(() => { seen.owner = currentAsyncContext(); }, 5);
  }, null, []);
})();

// A call site recorded as an origin: its frames hold their receiver.
(() => {
  const receiver = { realm: new Array(100000).fill(0) };
  refs.origin = new WeakRef(receiver);
  (function listen() {
    runWithOrigin(captureStack(), () => {
      timers.origin = setInterval(() => { seen.origin = currentAsyncContext(); }, 5);
    });
  }).call(receiver);
})();

// Many stores since: units' (held until the release) and origins' (pruned as they are collected).
for (let i = 0; i < 5000; i++) {
  applyInContext(ownerContext({ i }), Reflect.apply, () => {}, null, []);
  runWithOrigin({}, () => {});
}

(async () => {
  await collect();
  const before = { owner: refs.owner.deref() !== undefined, origin: refs.origin.deref() !== undefined };
  releaseAsyncContexts();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await collect();
  const after = { owner: refs.owner.deref() !== undefined, origin: refs.origin.deref() !== undefined };
  clearInterval(timers.owner);
  clearInterval(timers.origin);
  process.stdout.write(JSON.stringify({
    before,
    after,
    laterOwner: seen.owner?.owner ?? null,
    laterOrigin: seen.origin?.origin ?? null,
  }));
})();
`;

beforeAll(() => {
  if (!fs.existsSync(asyncContext))
    throw new Error(`${asyncContext} is missing: run npm run build`);
});

test('a released store no longer keeps what it named alive; work still running under it is nobody’s', () => {
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  const result = JSON.parse(child.stdout) as Record<string, unknown>;
  // The resources alone kept both alive: what the release is for.
  expect(result.before).toEqual({ owner: true, origin: true });
  expect(result.after).toEqual({ owner: false, origin: false });
  expect(result.laterOwner).toBeNull();
  expect(result.laterOrigin).toBeNull();
});

test('work still running under a released store is what `leftOverOf` makes of its owner, asked once per owner', async () => {
  // In this process, from the sources: no collection to watch here.
  const { applyInContext, currentAsyncContext, ownerContext, releaseAsyncContexts, runWithOrigin } =
    await import('../../src/core/async-context');
  const unit = { name: 'a test' };
  const seen: Record<string, unknown> = {};
  const timers: NodeJS.Timeout[] = [];
  applyInContext(
    ownerContext(unit),
    Reflect.apply,
    () => {
      timers.push(setInterval(() => (seen.own = currentAsyncContext()?.owner), 2));
      // A store of its own for a recorded call site (listen, connect), with the same owner.
      runWithOrigin({}, () => {
        timers.push(setInterval(() => (seen.derived = currentAsyncContext()?.owner), 2));
      });
    },
    null,
    [],
  );
  const leftOver = { leftBy: 'a test' };
  const asked: unknown[] = [];
  releaseAsyncContexts((owner) => {
    asked.push(owner);
    return owner === unit ? leftOver : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  timers.forEach(clearInterval);
  expect(seen).toEqual({ own: leftOver, derived: leftOver });
  expect(asked).toEqual([unit]);
});

test('an origin recorded under another keeps it as `outer`; a long chain links to its outermost', async () => {
  const { runWithOrigin } = await import('../../src/core/async-context');
  const listen: LazyStack = { stack: 'listen' };
  const connects = Array.from({ length: 6 }, (_, i): LazyStack => ({ stack: `connect ${i}` }));
  // Each connect recorded inside the work of the one before, as a reconnect loop does.
  const nest = (index: number): void => {
    if (index < connects.length) runWithOrigin(connects[index], () => nest(index + 1));
  };
  runWithOrigin(listen, () => nest(0));
  expect(connects[0].outer).toBe(listen);
  expect(connects[1].outer).toBe(connects[0]);
  expect(connects[2].outer).toBe(connects[1]);
  // Four long already: the next links to the outermost, and chains stay short.
  expect(connects[3].outer).toBe(listen);
  expect(connects[4].outer).toBe(connects[3]);
});
