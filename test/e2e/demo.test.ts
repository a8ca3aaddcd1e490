import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/run-fixture';

// `npm run demo`: every example project hangs for a real reason and shows its report; the demo
// checks each report names the expected line, and exits 0 only when all of them do.
test('npm run demo shows every example’s hang report and exits 0', () => {
  const demo = spawnSync(process.execPath, [path.join(REPO_ROOT, 'examples', 'run-demo.js')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
    // Eight examples, a few at a time, each with its own deadline in the demo: generous, so
    // a busy machine slows the demo down without failing it.
    timeout: 540_000,
  });
  const output = demo.stdout + demo.stderr;
  // The demo's own summary (what each example showed, or what was wrong), so a failure says why.
  const summary = output.slice(output.indexOf('━━━ summary ━━━'));
  expect({ status: demo.status, warning: /WARNING/.test(output), summary }).toEqual({
    status: 0,
    warning: false,
    summary: expect.not.stringContaining('✗'),
  });
  for (const example of [
    'server-never-answers',
    'retry-loop',
    'fake-timers',
    'typescript-service',
    'leaked-socket-after-each',
    'done-callback',
    'jsdom-wait-for',
    'bank-transfer-deadlock',
  ]) {
    expect(output).toMatch(new RegExp(`✓ ${example} \\(`));
  }
}, 600_000);
