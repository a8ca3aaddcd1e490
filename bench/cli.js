'use strict';
// Command-line and environment options of `npm run bench`.
const path = require('node:path');
const { CONFIGURATIONS, REPO_ROOT } = require('./configs');

const USAGE = `Usage: npm run bench -- [options]

Runs one generated Jest suite under plain jest-environment-node and under hangwatch (default and
promises: true), interleaved, and prints CPU, wall time and peak memory with their ratios.

Options:
  --runs <n>        measured runs per configuration (default 5, or BENCH_RUNS)
  --quick           smoke run: a small suite, one run each, no warm-up (or BENCH_QUICK=1)
  --one-file        the suite is a single test file (what an in-band runner costs on one file)
  --node <path>     Node binary that runs Jest (default: this one, or BENCH_NODE)
  --configs <list>  which of ${CONFIGURATIONS.map((c) => c.name).join(', ')} to run, comma-separated
                    (default all; plain always runs, as the baseline)
  --together        run a round's configurations at the same moment (one process each) instead
                    of one after the other: each round's runs share the machine's load of that
                    moment, which steadies the per-round ratios on a shared host; wall times
                    are then not those of a run alone (the runs share the cores)
  --out <file>      where to write the JSON results (default .bench-out/results.json)
  --json            also print the results as one JSON line on stdout
  --help            show this text
`;

class UsageError extends Error {}

function positiveInteger(value, flag) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(value)}.`);
  }
  return number;
}

function parseConfigs(value) {
  const known = CONFIGURATIONS.map((configuration) => configuration.name);
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown configuration ${unknown.join(', ')}; known: ${known.join(', ')}.`,
    );
  }
  // The baseline always runs: every ratio is taken against it.
  return known.filter((name) => name === 'plain' || names.includes(name));
}

function parseOptions(argv, env) {
  const options = {
    runs: undefined,
    quick: env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true',
    node: env.BENCH_NODE || process.execPath,
    configs: CONFIGURATIONS.map((configuration) => configuration.name),
    out: path.join(REPO_ROOT, '.bench-out', 'results.json'),
    json: false,
    help: false,
    oneFile: false,
    together: false,
  };
  if (env.BENCH_RUNS) options.runs = positiveInteger(env.BENCH_RUNS, 'BENCH_RUNS');
  const args = [...argv];
  const valueOf = (flag) => {
    const value = args.shift();
    if (value === undefined || value.startsWith('--')) {
      throw new UsageError(`${flag} needs a value.`);
    }
    return value;
  };
  while (args.length > 0) {
    const arg = args.shift();
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    if (inline !== undefined) args.unshift(inline);
    switch (flag) {
      case '--runs':
        options.runs = positiveInteger(valueOf(flag), flag);
        break;
      case '--quick':
        options.quick = true;
        break;
      case '--one-file':
        options.oneFile = true;
        break;
      case '--node':
        options.node = path.resolve(valueOf(flag));
        break;
      case '--configs':
        options.configs = parseConfigs(valueOf(flag));
        break;
      case '--out':
        options.out = path.resolve(valueOf(flag));
        break;
      case '--json':
        options.json = true;
        break;
      case '--together':
        options.together = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}.`);
    }
  }
  options.runs ??= options.quick ? 1 : 5;
  // The first run of each configuration fills Jest's cache and the OS file cache; not measured.
  options.warmupRuns = options.quick ? 0 : 1;
  options.suiteSize = options.oneFile ? 'one' : options.quick ? 'quick' : 'full';
  return options;
}

module.exports = { parseOptions, UsageError, USAGE };
