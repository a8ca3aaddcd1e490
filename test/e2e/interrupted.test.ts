// A run the user stops with Ctrl-C cannot remove its temp directories; the next run does.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFixture } from '../helpers/run-fixture';

const RUN_DIRECTORY = /^hangwatch-(run|loop)-(\d+)-.{6}$/;

let tempDir: string;
beforeAll(() => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'interrupted-e2e-'));
});
afterAll(() => fs.rmSync(tempDir, { recursive: true, force: true }));

const runDirectories = () => fs.readdirSync(tempDir).filter((name) => RUN_DIRECTORY.test(name));

test('the directories an interrupted run leaves are removed by the next run', async () => {
  const running = path.join(tempDir, 'running');
  const interrupted = await runFixture('interrupted', {
    env: { TMPDIR: tempDir, RUNNING_FILE: running },
    interruptWhenExists: running,
  });
  expect(interrupted.exitCode).not.toBe(0);
  // The reporter's findings channel and the watchdog's directory, named by the Jest process.
  const left = runDirectories();
  expect(left.map((name) => RUN_DIRECTORY.exec(name)![1]).sort()).toEqual(['loop', 'run']);

  // Left alone while it may still be a run this process cannot see: changed a moment ago.
  const passing = await runFixture('passing', { env: { TMPDIR: tempDir } });
  expect(passing.exitCode).toBe(0);
  expect(runDirectories()).toEqual(left);

  // Unchanged for two hours, by a process that is gone: the next run removes them.
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const name of left) {
    const dir = path.join(tempDir, name);
    for (const file of fs.readdirSync(dir)) {
      fs.utimesSync(path.join(dir, file), twoHoursAgo, twoHoursAgo);
    }
    fs.utimesSync(dir, twoHoursAgo, twoHoursAgo);
  }
  const next = await runFixture('passing', { env: { TMPDIR: tempDir } });
  expect(next.exitCode).toBe(0);
  expect(runDirectories()).toEqual([]);
}, 300_000);
