'use strict';
// hangwatch's cost on a real project's own Jest suite (koa's, for instance): the suite runs under
// its own Jest and its own jest-environment-node, plain and with hangwatch installed in it as npm
// installs a package (`hangwatch/environment` and `hangwatch/reporter`), in interleaved pairs, and
// the median ratios are printed. The project is fetched and installed by you, outside this
// repository; nothing of it is copied here (hangwatch's package files are copied there, into
// node_modules/.hangwatch-bench).
//
//   node bench/suite.js <project dir> [--pairs 7] [--node <path>] [-- <jest args for both sides>]
//   BENCH_SUITE_DIR=<project dir> node bench/suite.js
//
// koa at the commit the README quotes (Jest 29, 395 tests):
//   git clone https://github.com/koajs/koa /tmp/koa && git -C /tmp/koa checkout 988ebec
//   (cd /tmp/koa && npm install --ignore-scripts)
//   npm run build && node bench/suite.js /tmp/koa
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { median, medianInterval } = require('./report');
const { installIntoProject, projectModules, hangwatchSide } = require('./project-install');
const { runRound } = require('./round');
const { describeWatchdogThread, mainAndV8WorkerCpu, watchdogThreadCpu } = require('./thread-cpu');

const REPO_ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(REPO_ROOT, '.bench-out', 'suite');
const CHILD = path.join(__dirname, 'jest-child.js');

const USAGE = `Usage: node bench/suite.js <project dir> [options]   (or BENCH_SUITE_DIR=<dir>)

Runs a project's own Jest suite (its jest and jest-environment-node, from its node_modules) under
plain jest-environment-node and under hangwatch/environment with hangwatch/reporter, in interleaved
pairs, --runInBand, and prints the median CPU, wall and peak-memory ratios. hangwatch is installed
into the project as npm would (node_modules/.hangwatch-bench: its package files, its dependencies
the project's own copies where their versions fit, else this repository's).

Options:
  --pairs <n>            measured rounds: plain and each measured side once (default 21, or
                         BENCH_PAIRS)
  --warmup <n>           unmeasured rounds first, to fill Jest's cache (default 1)
  --node <path>          Node binary that runs Jest (default: this one, or BENCH_NODE)
  --node-args <flags>    Node or V8 flags for both sides, space-separated (for instance
                         --no-allocation-site-pretenuring, see README's Performance)
  --hangwatch <json>     testEnvironmentOptions.hangwatch for the hangwatch side (default {})
  --measure <sides>      what runs against plain, one or more, comma-separated, interleaved in
                         each round (each is compared with the round's plain run): hangwatch
                         (default); disabled, no-loop-watchdog, no-leaks and
                         no-await-stacks, hangwatch with enabled: false (its loading alone),
                         blockedLoop: 'off', leaks: 'off' or awaitStacks: false, to compare with
                         the hangwatch side of the same series; hook-floor, a no-op async
                         hook with hangwatch's callbacks (init, destroy), enabled as hangwatch
                         enables its own, and one AsyncLocalStorage store: the least tracking
                         with async_hooks costs on this Node; hook-floor-plain, the same hook
                         enabled plainly (on Node 20 and 22 its destroy callback makes Node
                         watch every promise's collection); tracker, hangwatch's resource
                         tracker alone with that store; plain-again, plain Jest once more,
                         the machine's own noise in the same series (an A/A control)
  --together             run a round's sides at the same moment (one process each) instead of
                         one after the other: each round's runs then share the machine's load
                         of that moment, which steadies the per-round ratios on a shared host;
                         wall time is then not comparable with a run alone (the sides share
                         the cores), and plain-again shows what running together costs a side
  --json                 also print the results as JSON, a line per measured side
  -- <args>              passed to Jest on both sides (on a heavily loaded machine,
                         --testTimeout=60000 keeps a starved test from timing out)
`;

function parseArgs(argv, env) {
  const options = {
    dir: env.BENCH_SUITE_DIR,
    pairs: Number(env.BENCH_PAIRS || 21),
    warmup: 1,
    node: env.BENCH_NODE || process.execPath,
    nodeArgs: [],
    hangwatch: {},
    measure: ['hangwatch'],
    json: false,
    together: false,
    jestArgs: [],
  };
  const separator = argv.indexOf('--');
  const args = separator === -1 ? [...argv] : argv.slice(0, separator);
  if (separator !== -1) options.jestArgs = argv.slice(separator + 1);
  while (args.length > 0) {
    const arg = args.shift();
    if (arg === '--pairs') options.pairs = Number(args.shift());
    else if (arg === '--warmup') options.warmup = Number(args.shift());
    else if (arg === '--node') options.node = path.resolve(args.shift());
    else if (arg === '--node-args') options.nodeArgs = args.shift().split(/\s+/).filter(Boolean);
    else if (arg === '--hangwatch') options.hangwatch = JSON.parse(args.shift());
    else if (arg === '--measure') options.measure = args.shift().split(',');
    else if (arg === '--json') options.json = true;
    else if (arg === '--together') options.together = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (!arg.startsWith('--') && !options.dirFromArgs) {
      options.dir = arg;
      options.dirFromArgs = true;
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (options.help) return options;
  if (!options.dir) throw new Error('give the project directory (or BENCH_SUITE_DIR).');
  if (!Number.isInteger(options.pairs) || options.pairs < 1) {
    throw new Error('--pairs must be a positive integer.');
  }
  const unknown = options.measure.filter((side) => !MEASURED_SIDES.includes(side));
  if (unknown.length > 0 || new Set(options.measure).size !== options.measure.length) {
    throw new Error(
      `--measure takes one or more of ${MEASURED_SIDES.join(', ')}, comma-separated, each once` +
        (unknown.length > 0 ? ` (not ${unknown.join(', ')}).` : '.'),
    );
  }
  if (!Number.isInteger(options.warmup) || options.warmup < 0) {
    throw new Error('--warmup must be a whole number.');
  }
  options.dir = path.resolve(options.dir);
  return options;
}

/**
 * hangwatch with one part switched off (merged over --hangwatch): against the `hangwatch` side of
 * the same series, what that part costs; `disabled` is what loading hangwatch costs.
 */
const HANGWATCH_VARIANTS = {
  disabled: { enabled: false },
  'no-loop-watchdog': { blockedLoop: 'off' },
  'no-leaks': { leaks: 'off' },
  'no-await-stacks': { awaitStacks: false },
};

const MEASURED_SIDES = [
  'hangwatch',
  ...Object.keys(HANGWATCH_VARIANTS),
  'hook-floor',
  'hook-floor-plain',
  'tracker',
  'plain-again',
];

/**
 * The environments of the reference sides: the project's jest-environment-node, loaded after an
 * async hook (a no-op one, or hangwatch's tracker) and an AsyncLocalStorage store were enabled for
 * the whole run. Their cost against plain splits hangwatch's into Node's share and its own.
 */
function referenceEnvironment(measure, modules, installedRoot) {
  const trackerDist = path.join(installedRoot, 'dist', 'core', 'tracker.js');
  const lightHooksDist = path.join(installedRoot, 'dist', 'core', 'light-hooks.js');
  const hook =
    measure === 'tracker'
      ? `const { ResourceTracker } = require(${JSON.stringify(trackerDist)});\n` +
        'new ResourceTracker({ ownerOf: () => undefined, promises: false }).enable();\n'
      : measure === 'hook-floor'
        ? // Enabled as hangwatch enables its own (see core/light-hooks).
          `const { enableHook } = require(${JSON.stringify(lightHooksDist)});\n` +
          'enableHook(createHook({ init() {}, destroy() {}, trackPromises: false }));\n'
        : // hook-floor-plain: the same hook enabled plainly, as most async_hooks tools do.
          'new AsyncLocalStorage().run({}, () => {});\n' +
          'createHook({ init() {}, destroy() {}, trackPromises: false }).enable();\n';
  const file = path.join(OUT_DIR, `${measure}-environment.js`);
  fs.writeFileSync(
    file,
    "const { createHook, AsyncLocalStorage } = require('node:async_hooks');\n" +
      hook +
      'new AsyncLocalStorage().enterWith({});\n' +
      `module.exports = require(${JSON.stringify(modules.nodeEnvironment)}).TestEnvironment;\n`,
  );
  return ['--testEnvironment', file];
}

function writeConfigs(dir, modules, hangwatchOptions, measured) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const installed = installIntoProject(dir);
  const sides = { plain: ['--testEnvironment', modules.nodeEnvironment] };
  for (const side of measured) {
    if (side === 'hangwatch') sides[side] = hangwatchSide(installed.root, hangwatchOptions);
    else if (side in HANGWATCH_VARIANTS) {
      sides[side] = hangwatchSide(installed.root, {
        ...hangwatchOptions,
        ...HANGWATCH_VARIANTS[side],
      });
    }
    // The same command as plain's: how far two runs of one thing differ in this series.
    else if (side === 'plain-again') sides[side] = sides.plain;
    else sides[side] = referenceEnvironment(side, modules, installed.root);
  }
  return { installed, sides };
}

async function measure({ node, nodeArgs, dir, jestBin, args, runId }) {
  const usageFile = path.join(OUT_DIR, `${runId}.usage.json`);
  const logFile = path.join(OUT_DIR, `${runId}.log`);
  fs.rmSync(usageFile, { force: true });
  const log = fs.openSync(logFile, 'w');
  const started = process.hrtime.bigint();
  // --forceExit: a suite that leaks (koa's does) would otherwise never end, under either side.
  const jestArgs = [
    '--runInBand',
    '--ci',
    '--forceExit',
    `--cacheDirectory=${path.join(OUT_DIR, 'cache')}`,
    ...args,
  ];
  const exitCode = await new Promise((resolve, reject) => {
    const child = spawn(node, [...nodeArgs, CHILD, usageFile, ...jestArgs], {
      cwd: dir,
      stdio: ['ignore', log, log],
      env: { ...process.env, BENCH_JEST_BIN: jestBin },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? signal));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  fs.closeSync(log);
  if (exitCode !== 0 || !fs.existsSync(usageFile)) {
    throw new Error(`${runId}: Jest ended with ${exitCode}; its output is in ${logFile}.`);
  }
  const usage = JSON.parse(fs.readFileSync(usageFile, 'utf8'));
  // hangwatch's one-line verdict on the run ("6 findings in this run: 6 leaks"), for the progress.
  const verdict = /hangwatch: (\d+ findings? in this run[^\n]*)/.exec(
    fs.readFileSync(logFile, 'utf8'),
  )?.[1];
  return {
    cpuMs: usage.userMs + usage.systemMs,
    wallMs,
    maxRssMb: usage.maxRssMb,
    workerThreadCpuMs: watchdogThreadCpu(usage),
    threads: mainAndV8WorkerCpu(usage),
    verdict,
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2), process.env);
  if (options.help) return void process.stdout.write(USAGE);
  const modules = projectModules(options.dir);
  const configs = writeConfigs(options.dir, modules, options.hangwatch, options.measure);
  const nodeVersion = execFileSync(options.node, ['--version'], { encoding: 'utf8' }).trim();
  const progress = (line) => process.stderr.write(`${line}\n`);
  progress(
    `suite bench: ${options.dir}, Jest ${modules.jestVersion}, Node ${nodeVersion}, ` +
      `${options.warmup} warm-up + ${options.pairs} measured pairs, --runInBand` +
      (options.together ? ', the sides of a round together' : '') +
      (options.nodeArgs.length > 0 ? `, node ${options.nodeArgs.join(' ')}.` : '.'),
  );
  const { installed } = configs;
  progress(
    `hangwatch installed as ${path.relative(options.dir, installed.root)}, its dependencies ` +
      (installed.nested.length === 0
        ? "all the project's own copies."
        : `the project's own copies except ${installed.nested.join(', ')} (nested).`),
  );
  const sides = ['plain', ...options.measure];
  const samples = Object.fromEntries(sides.map((side) => [side, []]));
  for (let round = 1 - options.warmup; round <= options.pairs; round++) {
    // Rotate which side goes first, so none always runs on a warmer cache.
    const shift = (round + sides.length * 2) % sides.length;
    const order = [...sides.slice(shift), ...sides.slice(0, shift)];
    const runSide = (side) =>
      measure({
        node: options.node,
        nodeArgs: options.nodeArgs,
        dir: options.dir,
        jestBin: modules.jestBin,
        args: [...configs.sides[side], ...options.jestArgs],
        runId: `${side}-${round}`,
      });
    const runs = await runRound(order, runSide, options);
    order.forEach((side, index) => {
      const run = runs[index];
      const tag = round <= 0 ? 'warm-up' : `round ${round}/${options.pairs}`;
      progress(
        `  ${tag.padEnd(12)} ${side.padEnd(16)} cpu ${(run.cpuMs / 1000).toFixed(2)} s  ` +
          `wall ${(run.wallMs / 1000).toFixed(2)} s  max RSS ${run.maxRssMb.toFixed(0)} MB` +
          describeWatchdogThread(run) +
          (run.verdict ? `  (${run.verdict})` : ''),
      );
      if (round > 0) samples[side].push(run);
    });
  }
  const results = options.measure.map((side) =>
    compare(side, samples[side], samples.plain, { options, modules, nodeVersion, installed }),
  );
  process.stdout.write(
    [
      '',
      `Node ${nodeVersion}, Jest ${modules.jestVersion}, ${options.pairs} ` +
        (options.together ? 'rounds with their sides together' : 'interleaved rounds') +
        ', --runInBand' +
        (options.nodeArgs.length > 0 ? `, node ${options.nodeArgs.join(' ')}` : ''),
      ...results.flatMap((result) => describe(result)),
      '',
    ].join('\n'),
  );
  if (options.json) {
    for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

/** One measured side against plain: medians, the median of per-round ratios, its interval. */
function compare(side, runs, plainRuns, { options, modules, nodeVersion, installed }) {
  const ratios = (field) => runs.map((run, i) => run[field] / plainRuns[i][field]);
  return {
    suite: options.dir,
    jest: modules.jestVersion,
    node: nodeVersion,
    nodeArgs: options.nodeArgs,
    pairs: options.pairs,
    together: options.together,
    measured: side,
    nestedDependencies: installed.nested,
    hangwatchOptions: options.hangwatch,
    median: { plain: medians(plainRuns), hangwatch: medians(runs) },
    // Each round shares the machine's load of its moment: the median of per-round ratios is
    // steadier on a busy host than the ratio of medians.
    ratio: {
      cpu: round(median(ratios('cpuMs'))),
      wall: round(median(ratios('wallMs'))),
      maxRss: round(median(ratios('maxRssMb'))),
    },
    cpuRatioPerPair: ratios('cpuMs').map(round),
    cpuRatioInterval: medianInterval(ratios('cpuMs')).map(round),
    maxRssRatioInterval: medianInterval(ratios('maxRssMb')).map(round),
    watchdogThreadCpuMs: medianWatchdogThreadCpu(runs),
    threadRatios: threadRatios(runs, plainRuns),
  };
}

/**
 * The median per-round ratios of the test thread's CPU and of V8's helper threads' (the
 * collector, background compilers), where Node names its threads (22+).
 */
function threadRatios(runs, plainRuns) {
  const pairs = runs.map((run, i) => [run.threads, plainRuns[i].threads]);
  if (pairs.some(([own, plain]) => !own || !plain)) return undefined;
  const ratio = (field) => round(median(pairs.map(([own, plain]) => own[field] / plain[field])));
  return { main: ratio('mainMs'), v8Workers: ratio('v8WorkerMs') };
}

function describe(result) {
  const { plain, hangwatch } = result.median;
  const side = result.measured;
  return [
    `                      plain  ${side.padStart(11)}   ratio (median of rounds)`,
    `cpu s            ${fmt(plain.cpuMs / 1000)}    ${fmt(hangwatch.cpuMs / 1000)}     ${result.ratio.cpu.toFixed(3)}x`,
    `wall s           ${fmt(plain.wallMs / 1000)}    ${fmt(hangwatch.wallMs / 1000)}     ${result.ratio.wall.toFixed(3)}x`,
    `peak RSS MB      ${fmt(plain.maxRssMb, 0)}    ${fmt(hangwatch.maxRssMb, 0)}     ${result.ratio.maxRss.toFixed(3)}x`,
    `cpu ratio per round: ${result.cpuRatioPerPair.map((r) => r.toFixed(3)).join(' ')}`,
    `95% interval of the median ratio: cpu ${interval(result.cpuRatioInterval)}, ` +
      `peak RSS ${interval(result.maxRssRatioInterval)}`,
    ...(result.threadRatios === undefined
      ? []
      : [
          `cpu by thread (median ratio of rounds): test thread ${result.threadRatios.main.toFixed(3)}x, ` +
            `V8's helper threads (collector, compilers) ${result.threadRatios.v8Workers.toFixed(3)}x`,
        ]),
    ...(result.watchdogThreadCpuMs === undefined
      ? []
      : [
          `watchdog thread (a worker thread): ${result.watchdogThreadCpuMs.toFixed(0)} ms of CPU ` +
            `per ${side} run (median), ` +
            `${((result.watchdogThreadCpuMs / hangwatch.cpuMs) * 100).toFixed(1)}% of its CPU`,
        ]),
    '',
  ];
}

/** Median CPU of the runs' worker thread (hangwatch's watchdog), where Node names threads. */
function medianWatchdogThreadCpu(runs) {
  const times = runs.map((run) => run.workerThreadCpuMs);
  return times.length > 0 && times.every((ms) => ms !== undefined) ? median(times) : undefined;
}

function medians(runs) {
  return {
    cpuMs: median(runs.map((run) => run.cpuMs)),
    wallMs: median(runs.map((run) => run.wallMs)),
    maxRssMb: median(runs.map((run) => run.maxRssMb)),
  };
}

const interval = ([low, high]) => `${low.toFixed(3)}x to ${high.toFixed(3)}x`;
const round = (value) => Number(value.toFixed(3));
const fmt = (value, digits = 2) => value.toFixed(digits).padStart(9);

main().catch((error) => {
  process.stderr.write(`bench/suite: ${error.message}\n\n${USAGE}`);
  process.exitCode = 1;
});
