'use strict';
// Where a project's Jest run puts bytes in the old generation, plain and with hangwatch: one run
// each (after a warm-up that fills Jest's cache) under V8's sampling heap profiler, keeping what
// survived a scavenge (see survivors-child.js), and the allocation sites whose surviving bytes
// differ most between the two. Peak memory follows the old generation, so this is where a peak-RSS
// ratio comes from; unlike RSS it barely moves with the machine's load.
//
//   node bench/survivors.js <project dir> [--node <path>] [--node-args <flags>] [--top 12]
//                           [-- <jest args for both sides>]
//
// On koa at 988ebec, Node 20 (README, Performance): most of the difference is one site of Jest's,
// `_createJestObjectFor`, which V8 may decide to allocate in the old generation from the start;
// `--node-args --no-allocation-site-pretenuring` shows the difference without that decision.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { installIntoProject, projectModules, hangwatchSide } = require('./project-install');

const REPO_ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(REPO_ROOT, '.bench-out', 'survivors');
const CHILD = path.join(__dirname, 'survivors-child.js');

function parseArgs(argv) {
  const options = { node: process.execPath, nodeArgs: [], top: 12, jestArgs: [] };
  const separator = argv.indexOf('--');
  const args = separator === -1 ? [...argv] : argv.slice(0, separator);
  if (separator !== -1) options.jestArgs = argv.slice(separator + 1);
  while (args.length > 0) {
    const arg = args.shift();
    if (arg === '--node') options.node = path.resolve(args.shift());
    else if (arg === '--node-args') options.nodeArgs = args.shift().split(/\s+/).filter(Boolean);
    else if (arg === '--top') options.top = Number(args.shift());
    else if (!arg.startsWith('--') && options.dir === undefined) options.dir = path.resolve(arg);
    else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (options.dir === undefined) throw new Error('give the project directory.');
  if (!Number.isInteger(options.top) || options.top < 1) {
    throw new Error('--top must be a positive integer.');
  }
  return options;
}

function runSide(options, modules, sideArgs, runId) {
  const outFile = path.join(OUT_DIR, `${runId}.json`);
  const logFile = path.join(OUT_DIR, `${runId}.log`);
  fs.rmSync(outFile, { force: true });
  const log = fs.openSync(logFile, 'w');
  const args = [
    ...options.nodeArgs,
    CHILD,
    outFile,
    '--runInBand',
    '--ci',
    '--forceExit',
    `--cacheDirectory=${path.join(OUT_DIR, 'cache')}`,
    ...sideArgs,
    ...options.jestArgs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(options.node, args, {
      cwd: options.dir,
      stdio: ['ignore', log, log],
      env: { ...process.env, BENCH_JEST_BIN: modules.jestBin },
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      fs.closeSync(log);
      if (code !== 0 || !fs.existsSync(outFile)) {
        reject(new Error(`${runId}: Jest ended with ${code}; its output is in ${logFile}.`));
      } else resolve(JSON.parse(fs.readFileSync(outFile, 'utf8')));
    });
  });
}

const mb = (bytes) => (bytes / 1e6).toFixed(1).padStart(7);

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const modules = projectModules(options.dir);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const installed = installIntoProject(options.dir);
  const sides = {
    plain: ['--testEnvironment', modules.nodeEnvironment],
    hangwatch: hangwatchSide(installed.root, {}),
  };
  const results = {};
  for (const [side, sideArgs] of Object.entries(sides)) {
    process.stderr.write(`survivors: ${side}, a warm-up run then the measured one\n`);
    await runSide(options, modules, sideArgs, `${side}-warm-up`);
    results[side] = await runSide(options, modules, sideArgs, side);
  }
  const { plain, hangwatch } = results;
  const keys = new Set([...Object.keys(plain.sites), ...Object.keys(hangwatch.sites)]);
  const rows = [...keys]
    .map((key) => ({ key, plain: plain.sites[key] ?? 0, hangwatch: hangwatch.sites[key] ?? 0 }))
    .sort((a, b) => Math.abs(b.hangwatch - b.plain) - Math.abs(a.hangwatch - a.plain));
  const flags = options.nodeArgs.length > 0 ? ` (node ${options.nodeArgs.join(' ')})` : '';
  process.stdout.write(
    [
      `Bytes that survived a scavenge, sampled, MB${flags}:`,
      `  all sites           plain ${mb(plain.totalBytes)}   hangwatch ${mb(hangwatch.totalBytes)}`,
      `The ${options.top} sites that differ most (plain, hangwatch):`,
      ...rows
        .slice(0, options.top)
        .map((row) => `  ${mb(row.plain)} ${mb(row.hangwatch)}  ${row.key}`),
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  process.stderr.write(`bench/survivors: ${error.message}\n`);
  process.exitCode = 1;
});
