'use strict';
// `npm run demo`: runs Jest in every example project and shows the hang reports hangwatch prints.
// The examples fail on purpose, so this exits 0 when each one fails with the expected report, and
// 1 only when the demo itself is broken: an example passes, prints no report, points at the wrong
// place, or does not exit.
//   npm run demo                 all examples
//   npm run demo -- retry-loop   only the named ones
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { stripVTControlCharacters } = require('node:util');

const repoRoot = path.resolve(__dirname, '..');
const jestBin = path.join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js');

/**
 * Each example and where its first report must say the hang comes from: the first "created at"
 * line has to name `file` and show `code` (of one of several, when timing decides which the
 * deadline finds); `mentions` must appear somewhere in the report, a `HangError` unless `error`
 * names another (a deadlock fails with a `DeadlockError` at once).
 */
const EXAMPLES = [
  {
    dir: 'server-never-answers',
    firstSite: { file: 'test/order-server.test.js', code: '/orders/abc' },
  },
  {
    dir: 'retry-loop',
    // The loop sleeps 100 ms between requests that take a few: the deadline lands in the sleep,
    // or, on a busy machine, in an attempt's request. Both are the loop, truly reported.
    firstSite: [
      { file: 'src/retry.js', code: 'setTimeout(' },
      { file: 'src/inventory-client.js', code: '.get(url' },
    ],
  },
  { dir: 'fake-timers', firstSite: { file: 'src/batch-notifier.js', code: 'setTimeout(' } },
  { dir: 'typescript-service', firstSite: { file: 'src/csv-import-service.ts', code: 'spawn(' } },
  { dir: 'leaked-socket-after-each', firstSite: { file: 'test/kv-client.js', code: 'connect(' } },
  {
    dir: 'done-callback',
    mentions: ['`done` was never called', 'Nothing it started is still pending'],
  },
  { dir: 'jsdom-wait-for', firstSite: { file: 'test/wait-for.js', code: 'setInterval(' } },
  {
    dir: 'bank-transfer-deadlock',
    error: 'DeadlockError',
    mentions: [
      '2 flows wait for each other\'s locks ("account',
      'acquired at src/ledger.js:21:39',
      'at src/ledger.js:24:37',
    ],
  },
];

/**
 * A run that takes longer than this is stuck (a handle the example failed to clean up). Quiet, the
 * slowest example takes about 20 s (ts-jest, and a heap snapshot for its await stacks); a busy
 * machine can make that several times longer.
 */
const EXAMPLE_DEADLINE_MS = 180_000;
/** Each example is one in-band Jest process: a few at once keep the demo short. */
const PARALLEL = Math.max(1, Math.min(3, os.availableParallelism()));

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code) => (text) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
const bold = paint('1');
const cyan = paint('1;36');
const red = paint('1;31');
const green = paint('32');

function ensureBuiltAndLinked() {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'jest', 'node-environment.js'))) {
    console.log(bold('dist/ is missing: running npm run build first\n'));
    const build = spawnSync('npm', ['run', 'build'], {
      cwd: repoRoot,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    if (build.status !== 0) fail('npm run build failed; the examples need dist/.');
  }
  // link-self.js makes node_modules/hangwatch point at this repository so `preset: 'hangwatch'`
  // resolves; it exits the process when the link is already there, hence a child process.
  const link = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'link-self.js')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (link.status !== 0) fail('scripts/link-self.js failed; presets cannot resolve `hangwatch`.');
}

function fail(message) {
  console.error(red(`demo: ${message}`));
  process.exit(1);
}

function selectExamples(names) {
  if (names.length === 0) return EXAMPLES;
  const unknown = names.filter((name) => !EXAMPLES.some((example) => example.dir === name));
  if (unknown.length > 0) {
    fail(`unknown example ${unknown.join(', ')}; known: ${EXAMPLES.map((e) => e.dir).join(', ')}`);
  }
  return EXAMPLES.filter((example) => names.includes(example.dir));
}

/** Runs one example's Jest; `onOutput` receives stdout and stderr as they come. */
function runExample(example, onOutput) {
  return new Promise((resolve) => {
    const started = Date.now();
    const args = [jestBin, '--ci', ...(useColor ? ['--colors'] : [])];
    const child = spawn(process.execPath, args, {
      cwd: path.join(__dirname, example.dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk) => {
      output += chunk;
      onOutput(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, EXAMPLE_DEADLINE_MS);
    child.on('error', (error) => {
      clearTimeout(deadline);
      resolve({ output, code: null, timedOut, spawnError: error, ms: Date.now() - started });
    });
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ output, code, timedOut, ms: Date.now() - started });
    });
  });
}

/** What is wrong with an example's run, for the demo's purpose; empty when it shows a hang report. */
function problemsWith(example, run) {
  if (run.spawnError) return [`could not start Jest: ${run.spawnError.message}`];
  const problems = [];
  if (run.timedOut) {
    problems.push(`Jest did not exit within ${EXAMPLE_DEADLINE_MS / 1000} s and was killed`);
  }
  if (run.code === 0) problems.push('Jest passed: the example no longer hangs');
  const text = stripVTControlCharacters(run.output);
  if (text.includes('hangwatch: internal error'))
    problems.push('hangwatch reported an internal error');
  if (text.includes('Exceeded timeout of')) problems.push("Jest's plain timeout message is shown");
  const errorName = `${example.error ?? 'HangError'}:`;
  const report = text.slice(text.indexOf(errorName));
  if (!text.includes(errorName)) {
    problems.push(`no ${errorName.slice(0, -1)} report in the output`);
    return problems;
  }
  if (example.firstSite) {
    const sites = [example.firstSite].flat();
    const firstSite = report.split('\n').find((line) => /^\s*created at /.test(line));
    const names = ({ file, code }) =>
      firstSite.includes(`created at ${file}:`) && firstSite.includes(code);
    if (!firstSite || !sites.some(names)) {
      const expected = sites.map(({ file, code }) => `${file} (\`${code}\`)`).join(' or ');
      problems.push(
        `the report's first creation site should be ${expected}, but it is:\n` +
          `      ${firstSite ? firstSite.trim() : '(none)'}`,
      );
    }
  }
  for (const phrase of example.mentions ?? []) {
    if (!report.includes(phrase)) problems.push(`the report does not say "${phrase}"`);
  }
  return problems;
}

/**
 * Runs examples a few at a time but prints them in order: the example at the head of the list
 * streams live, later ones are buffered until their turn.
 */
async function runAll(examples) {
  const states = examples.map(() => ({ buffered: '', done: false, run: undefined }));
  let head = 0;
  const heading = (index) =>
    `\n${cyan(`━━━ ${examples[index].dir} ━━━`)}  ${bold(`examples/${examples[index].dir}`)}\n`;
  const advance = () => {
    while (head < examples.length && states[head].done) {
      head++;
      if (head < examples.length) {
        process.stdout.write(heading(head) + states[head].buffered);
        states[head].buffered = '';
      }
    }
  };
  process.stdout.write(heading(0));
  let next = 0;
  const worker = async () => {
    while (next < examples.length) {
      const index = next++;
      const run = await runExample(examples[index], (chunk) => {
        if (index === head) process.stdout.write(chunk);
        else states[index].buffered += chunk;
      });
      states[index].run = run;
      states[index].done = true;
      advance();
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return states.map((state) => state.run);
}

async function main() {
  const examples = selectExamples(process.argv.slice(2));
  ensureBuiltAndLinked();
  console.log(
    bold('hangwatch demo: each example below has a test that hangs because of a real bug.'),
  );
  console.log(
    'Jest fails them on purpose; read the HangError (or DeadlockError) under each heading.',
  );
  const started = Date.now();
  const runs = await runAll(examples);

  let broken = 0;
  console.log(`\n${cyan('━━━ summary ━━━')}`);
  examples.forEach((example, index) => {
    const run = runs[index];
    const problems = problemsWith(example, run);
    const seconds = (run.ms / 1000).toFixed(1);
    if (problems.length === 0) {
      const errorName = example.error ?? 'HangError';
      const headline = stripVTControlCharacters(run.output)
        .split('\n')
        .find((line) => line.includes(`${errorName}:`))
        .replace(new RegExp(`^\\s*${errorName}:\\s*`), '');
      console.log(`${green('✓')} ${example.dir} (${seconds} s): ${headline}`);
    } else {
      broken++;
      console.log(`${red('✗')} ${example.dir} (${seconds} s):`);
      for (const problem of problems) console.log(`    ${problem}`);
    }
  });
  console.log(`\n${examples.length} examples in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (broken > 0) {
    console.error(
      red(
        `demo: WARNING: ${broken} example${broken === 1 ? '' : 's'} did not show the expected hang report (see above).`,
      ),
    );
    process.exitCode = 1;
  }
}

main().catch((error) => fail(error.stack ?? String(error)));
