import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Node decides how promises are hooked in its own internals: only a real process shows it. The
// child counts `destroy` calls by resource type after collecting a few thousand dropped promises.
const lightHooks = path.resolve(__dirname, '../../dist/core/light-hooks.js');

const script = `
const { AsyncLocalStorage, createHook } = require('node:async_hooks');
const { enableHook } = require(${JSON.stringify(lightHooks)});
const types = new Map();
const destroyed = { PROMISE: 0, Timeout: 0 };
const hook = createHook({
  init(id, type) { types.set(id, type); },
  destroy(id) { const type = types.get(id); if (type in destroyed) destroyed[type]++; },
});
if (process.argv.at(-1) === 'light') {
  enableHook(hook);
  // A second hook enabled later, as callback counting does, keeps it so.
  enableHook(createHook({ before() {}, after() {} }));
} else {
  hook.enable();
}
const storage = new AsyncLocalStorage();
const turn = () => new Promise((resolve) => setImmediate(resolve));
(async () => {
  const seen = await storage.run('context', async () => {
    for (let i = 0; i < 2000; i++) await Promise.resolve(i);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return storage.getStore();
  });
  for (let i = 0; i < 3; i++) { global.gc(); await turn(); await turn(); }
  process.stdout.write(JSON.stringify({ destroyed, seen }));
})();
`;

function run(mode: 'light' | 'plain') {
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script, '--', mode], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout) as { destroyed: Record<string, number>; seen: unknown };
}

beforeAll(() => {
  if (!fs.existsSync(lightHooks)) throw new Error(`${lightHooks} is missing: run npm run build`);
});

test('a plainly enabled destroy hook is told of every collected promise (what the check below can see)', () => {
  expect(run('plain').destroyed.PROMISE).toBeGreaterThan(1000);
});

test('enabled through enableHook: no promise destroys, timers still destroyed, context still flows', () => {
  const result = run('light');
  expect(result.destroyed.PROMISE).toBe(0);
  expect(result.destroyed.Timeout).toBeGreaterThanOrEqual(1);
  expect(result.seen).toBe('context');
});
