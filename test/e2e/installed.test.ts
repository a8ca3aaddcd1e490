import {
  installedProject,
  installedVersion,
  occurrences,
  removePackedTarball,
  type InstalledProject,
} from '../helpers/installed-project';

afterAll(removePackedTarball);

// Fresh projects with hangwatch installed from its tarball, as the README's Install section says,
// once per Jest major. Each setup mode of the README's table runs here.

const TESTS = {
  'hang.test.js': `test('awaits a long timer', async () => {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
});
`,
  // The same self-deadlock in three files, so "once per run" meets several worker processes.
  ...Object.fromEntries(
    [1, 2, 3].map((n) => [
      `ledger-${n}.test.js`,
      `const { Mutex } = require('async-mutex');

test('ledger ${n}: takes its lock twice', async () => {
  const ledger = new Mutex();
  await ledger.acquire();
  await ledger.acquire();
});
`,
    ]),
  ),
};

const NOTICE = 'hangwatch: this config lacks what the hangwatch presets set up';

/** The jsdom preset without jest-environment-jsdom: one line naming the running Jest's major. */
async function expectMissingJsdomLine(project: InstalledProject, major: number): Promise<void> {
  const run = await project.jest(['--config', 'jest.jsdom.config.js']);
  expect(run.code).toBe(1);
  const line = `Cannot find module 'jest-environment-jsdom': the jsdom preset of hangwatch needs it. Install it: npm install --save-dev jest-environment-jsdom@${major}`;
  expect(occurrences(run.stderr, line)).toBe(1);
  expect(run.stderr).not.toContain('Require stack');
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('Jest 30, hangwatch installed from the tarball', () => {
  let project: InstalledProject;
  beforeAll(async () => {
    project = await installedProject(
      { jest: installedVersion('jest'), 'async-mutex': installedVersion('async-mutex') },
      {
        ...TESTS,
        'jest.config.js': `module.exports = { preset: 'hangwatch', testTimeout: 1000 };\n`,
        'jest.environment-only.config.js': `module.exports = { testEnvironment: 'hangwatch/environment', testTimeout: 1000 };\n`,
        'jest.environment-mapped.config.js': `module.exports = {
  testEnvironment: 'hangwatch/environment',
  moduleNameMapper: { '^async-mutex$': 'hangwatch/async-mutex' },
  reporters: ['default', 'hangwatch/reporter'],
  testSequencer: 'hangwatch/sequencer',
  testTimeout: 1000,
};
`,
        'jest.environment-bad-option.config.js': `module.exports = {
  testEnvironment: 'hangwatch/environment',
  testSequencer: 'hangwatch/sequencer',
  testEnvironmentOptions: { hangwatch: { leak: 'error' } },
};
`,
        'jest.jsdom.config.js': `module.exports = { preset: 'hangwatch/presets/jsdom' };\n`,
        'jest.jsdom-environment.config.js': `module.exports = { testEnvironment: 'hangwatch/environment/jsdom' };\n`,
        'jest.ts-jest.config.js': `module.exports = { preset: 'hangwatch/presets/ts-jest' };\n`,
      },
    );
  }, 240_000);
  afterAll(() => project?.remove());

  test('the preset: hang reports, lock deadlocks, the end-of-run summary, no notice', async () => {
    const run = await project.jest(['--forceExit', '--maxWorkers=2']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HangError: test "awaits a long timer" hung');
    expect(occurrences(run.stderr, 'DeadlockError: Deadlock:')).toBe(3);
    expect(run.stderr).toContain('hangwatch: 4 findings in this run: 1 hang, 3 deadlocks');
    expect(run.stderr).not.toContain(NOTICE);
  }, 120_000);

  test('testEnvironment alone: says once per run what it lacks, and deadlocks are plain hangs', async () => {
    const run = await project.jest([
      '--forceExit',
      '--maxWorkers=2',
      '--config',
      'jest.environment-only.config.js',
    ]);
    expect(run.code).toBe(1);
    expect(occurrences(run.stderr, NOTICE)).toBe(1);
    expect(run.stderr).toContain(
      `${NOTICE}: async-mutex locks are not tracked, so a deadlock reports as a plain hang (add moduleNameMapper: { '^async-mutex$': 'hangwatch/async-mutex' }); no end-of-run summary, JSON report or failOn gate (add 'hangwatch/reporter' to reporters). See "Install" in hangwatch's README.`,
    );
    expect(run.stderr).not.toContain('DeadlockError');
    expect(occurrences(run.stderr, 'HangError: test "ledger')).toBe(3);
  }, 120_000);

  test('testEnvironment plus the documented entries: the same as the preset, no notice', async () => {
    const run = await project.jest([
      '--forceExit',
      '--maxWorkers=2',
      '--config',
      'jest.environment-mapped.config.js',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain(NOTICE);
    expect(occurrences(run.stderr, 'DeadlockError: Deadlock:')).toBe(3);
    expect(run.stderr).toContain('hangwatch: 4 findings in this run: 1 hang, 3 deadlocks');
  }, 120_000);

  test('testSequencer: hangwatch/sequencer checks options once without the preset', async () => {
    const run = await project.jest(['--config', 'jest.environment-bad-option.config.js']);
    expect(run.code).toBe(1);
    expect(occurrences(run.stderr, 'hangwatch: Validation Error')).toBe(1);
    expect(run.stderr).toContain('Unknown option "leak"');
    expect(run.stderr).toContain('Did you mean "leaks"?');
    expect(run.stderr).not.toMatch(/PASS|FAIL/);
  }, 120_000);

  test('jsdom preset without jest-environment-jsdom: one line saying what to install', async () => {
    await expectMissingJsdomLine(project, 30);
  }, 120_000);

  test('the jsdom environment without jest-environment-jsdom: the same line, no require stack', async () => {
    const run = await project.jest(['--config', 'jest.jsdom-environment.config.js']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "Cannot find module 'jest-environment-jsdom': hangwatch's jsdom environment needs it. Install it: npm install --save-dev jest-environment-jsdom@30",
    );
    expect(run.stderr).not.toContain('Require stack');
  }, 120_000);

  test('ts-jest preset without ts-jest: one line saying what to install', async () => {
    const run = await project.jest(['--config', 'jest.ts-jest.config.js']);
    expect(run.code).toBe(1);
    expect(
      occurrences(
        run.stderr,
        "Cannot find module 'ts-jest': the ts-jest preset of hangwatch needs it. Install it: npm install --save-dev ts-jest",
      ),
    ).toBe(1);
    expect(run.stderr).not.toContain('Require stack');
  }, 120_000);
});

describe('Jest 29, hangwatch installed from the tarball', () => {
  let project: InstalledProject;
  beforeAll(async () => {
    project = await installedProject(
      { jest: installedVersion('jest-29'), 'async-mutex': installedVersion('async-mutex') },
      {
        ...TESTS,
        'jest.config.js': `module.exports = { preset: 'hangwatch', testTimeout: 1000 };\n`,
        'jest.jsdom.config.js': `module.exports = { preset: 'hangwatch/presets/jsdom' };\n`,
      },
    );
  }, 240_000);
  afterAll(() => project?.remove());

  test('jsdom preset without jest-environment-jsdom: the install line names Jest 29’s major', async () => {
    await expectMissingJsdomLine(project, 29);
  }, 120_000);

  test('npm installs no second jest-environment-node: hangwatch uses Jest 29’s own', () => {
    const tree = project.npm(['ls', '--all', 'jest-environment-node']);
    expect(tree).toContain('jest-environment-node@29.');
    expect(tree).not.toContain('jest-environment-node@30.');
  });

  test('the preset reports hangs and deadlocks under Jest 29', async () => {
    const run = await project.jest(['--forceExit', '--maxWorkers=2']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HangError: test "awaits a long timer" hung');
    expect(occurrences(run.stderr, 'DeadlockError: Deadlock:')).toBe(3);
    expect(run.stderr).toContain('hangwatch: 4 findings in this run: 1 hang, 3 deadlocks');
    expect(run.stderr).not.toContain(NOTICE);
  }, 120_000);
});
