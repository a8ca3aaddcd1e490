'use strict';
// `node bench/under-load.js [--hogs 2] [--rounds 1] [--only locks,passing]`: runs fixtures where nothing freezes the
// event loop with CPU hogs beside Jest (`node -e "for(;;){}"`, at this script's own priority: run
// it as a whole under `nice` to be kind to a shared machine), and checks that the event-loop
// watchdog ended no test as frozen. Prints one line per run and a summary; exits 1 if any run had
// a frozen verdict or a test that should pass did not. Needs a build (`npm run build`).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const JEST = path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');

/**
 * Each run: a fixture, Jest's arguments, and the files whose tests must all pass (the others fail
 * by design: deadlocks, hangs; a frozen verdict is wrong in every one of them).
 */
const RUNS = [
  { fixture: 'locks', args: ['--forceExit'], mustPass: ['no-false-positives.test.js'] },
  { fixture: 'locks-workers', args: ['--maxWorkers=2'], mustPass: [] },
  { fixture: 'promises-mode', args: [], mustPass: [] },
  { fixture: 'leaks', args: [], mustPass: ['clean.test.js'] },
  { fixture: 'passing', args: [], mustPass: ['clean.test.js'] },
  { fixture: 'loop-busy', args: [], mustPass: ['busy.test.js'] },
  { fixture: 'loop-frozen', args: ['fine'], mustPass: ['fine.test.js'] },
  { fixture: 'loop-native', args: ['fine'], mustPass: ['fine.test.js'] },
];

function parseArgs(argv) {
  const options = { hogs: 2, rounds: 1, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--only') {
      options.only = String(argv[++i] ?? '').split(',');
      const unknown = options.only.filter((name) => !RUNS.some((run) => run.fixture === name));
      if (unknown.length > 0) throw new Error(`--only: no run of fixture ${unknown.join(', ')}`);
    } else if (flag === '--hogs' || flag === '--rounds') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`${flag} needs a whole number, got ${argv[i]}`);
      }
      options[flag.slice(2)] = value;
    } else {
      throw new Error(`unknown option ${flag} (known: --hogs <n>, --rounds <n>, --only <list>)`);
    }
  }
  return options;
}

function startHogs(count) {
  return Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
}

function runJest({ fixture, args }) {
  const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'under-load-'));
  const outputFile = path.join(outputDir, 'results.json');
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [JEST, '--ci', '--json', `--outputFile=${outputFile}`, '--colors=false', ...args],
    {
      cwd: path.join(FIXTURES, fixture),
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.on('close', (exitCode) => {
      let results = { testResults: [] };
      try {
        results = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
      } catch {
        // no results: Jest itself failed, counted below
      }
      fs.rmSync(outputDir, { recursive: true, force: true });
      resolve({ exitCode, stderr, results, wallMs: Date.now() - started });
    });
  });
}

function count(text, pattern) {
  return (text.match(pattern) ?? []).length;
}

function judge(run, outcome) {
  const failures = outcome.results.testResults.flatMap((file) =>
    file.assertionResults.flatMap((test) => test.failureMessages),
  );
  const text = `${outcome.stderr}\n${failures.join('\n')}`;
  const notPassing = outcome.results.testResults
    .filter((file) => run.mustPass.includes(path.basename(file.name)))
    .flatMap((file) => file.assertionResults.filter((test) => test.status !== 'passed'))
    .map((test) => test.fullName);
  const ranFiles = outcome.results.testResults.map((file) => path.basename(file.name));
  const missing = run.mustPass.filter((file) => !ranFiles.includes(file));
  return {
    frozen: count(outcome.stderr, /froze the event loop/g),
    starvedNotes: count(text, /of a CPU \(the machine is busy\)/g),
    warnings: count(outcome.stderr, /^hangwatch: .* blocked the event loop for /gm),
    notPassing: [...notPassing, ...missing.map((file) => `${file} (did not run)`)],
    tests: outcome.results.numTotalTests ?? 0,
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'core', 'loop-watchdog', 'thread.js'))) {
    throw new Error('no build: run `npm run build` first');
  }
  const hogs = startHogs(options.hogs);
  const stopHogs = () => hogs.forEach((hog) => hog.kill('SIGKILL'));
  process.on('exit', stopHogs);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  const load = os.loadavg()[0].toFixed(1);
  process.stdout.write(
    `${options.hogs} CPU hog(s) beside Jest on ${os.cpus().length} CPUs (load average ${load}), ${options.rounds} round(s)\n`,
  );
  let bad = 0;
  let frozenTotal = 0;
  for (let round = 1; round <= options.rounds; round++) {
    for (const run of RUNS.filter(
      (entry) => !options.only || options.only.includes(entry.fixture),
    )) {
      const outcome = await runJest(run);
      const verdict = judge(run, outcome);
      frozenTotal += verdict.frozen;
      const ok = verdict.frozen === 0 && verdict.notPassing.length === 0;
      if (!ok) bad++;
      process.stdout.write(
        `${ok ? 'ok  ' : 'FAIL'} round ${round} ${`${run.fixture} ${run.args.join(' ')}`.padEnd(28)} ` +
          `${String(verdict.tests).padStart(3)} tests  ${(outcome.wallMs / 1000).toFixed(1).padStart(6)} s  ` +
          `frozen ${verdict.frozen}  starved-waits ${verdict.starvedNotes}  loop warnings ${verdict.warnings}` +
          `${verdict.notPassing.length ? `  not passing: ${verdict.notPassing.join(' | ')}` : ''}\n`,
      );
    }
  }
  stopHogs();
  process.stdout.write(
    `${bad === 0 ? 'no' : bad} run(s) with a problem; ${frozenTotal} frozen verdict(s) in all.\n`,
  );
  process.exitCode = bad === 0 ? 0 : 1;
}

main().catch((error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
