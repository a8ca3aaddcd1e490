'use strict';
// `npm run bench`: hangwatch's overhead against plain jest-environment-node on one generated suite.
// See `npm run bench -- --help`.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseOptions, UsageError, USAGE } = require('./cli');
const { CONFIGURATIONS, REPO_ROOT, writeJestConfigs } = require('./configs');
const { generateSuite } = require('./generate-suite');
const { measureJestRun } = require('./measure');
const { summarize, renderTable } = require('./report');
const { runRound } = require('./round');
const { describeWatchdogThread } = require('./thread-cpu');

const OUT_DIR = path.join(REPO_ROOT, '.bench-out');

/** Round `round` starts at a different configuration, so none always runs first or last. */
function interleavedOrder(configurations, round) {
  const shift = round % configurations.length;
  return [...configurations.slice(shift), ...configurations.slice(0, shift)];
}

function readNodeVersion(node) {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(`cannot run ${node} --version (${error.code ?? error.message}).`, {
      cause: error,
    });
  }
}

function describeRun(run) {
  return (
    `cpu ${(run.cpuMs / 1000).toFixed(2)} s  wall ${(run.wallMs / 1000).toFixed(2)} s  ` +
    `max RSS ${run.maxRssMb.toFixed(0)} MB` +
    describeWatchdogThread(run)
  );
}

async function main() {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const configurations = CONFIGURATIONS.filter((c) => options.configs.includes(c.name));
  const nodeVersion = readNodeVersion(options.node);
  const suiteDir = path.join(OUT_DIR, 'suite');
  const suite = generateSuite(suiteDir, options.suiteSize);
  const configPaths = writeJestConfigs({
    suiteDir,
    configDir: path.join(OUT_DIR, 'configs'),
    cacheDir: path.join(OUT_DIR, 'jest-cache'),
  });
  const progress = (message) => process.stderr.write(`${message}\n`);
  progress(
    `hangwatch bench: Node ${nodeVersion}, ${suite.tests} tests in ${suite.files} files, ` +
      `${options.warmupRuns} warm-up + ${options.runs} measured run(s) per configuration` +
      (options.together ? ", each round's configurations together." : '.'),
  );

  const samples = Object.fromEntries(configurations.map((c) => [c.name, []]));
  const rounds = options.warmupRuns + options.runs;
  for (let round = 0; round < rounds; round++) {
    const warmup = round < options.warmupRuns;
    const order = interleavedOrder(configurations, round);
    const runConfiguration = (configuration) =>
      measureJestRun({
        node: options.node,
        configPath: configPaths[configuration.name],
        workDir: path.join(OUT_DIR, 'runs'),
        runId: `${configuration.name}-${round + 1}`,
      });
    const runs = await runRound(order, runConfiguration, options);
    order.forEach((configuration, index) => {
      const run = runs[index];
      const tag = warmup ? 'warm-up' : `run ${round - options.warmupRuns + 1}/${options.runs}`;
      progress(`  ${tag.padEnd(9)} ${configuration.label.padEnd(28)} ${describeRun(run)}`);
      if (!warmup) samples[configuration.name].push(run);
    });
  }

  const summary = summarize({
    configurations,
    samples,
    meta: {
      date: new Date().toISOString(),
      node: nodeVersion,
      nodePath: options.node,
      jest: require('jest/package.json').version,
      platform: `${process.platform}-${process.arch}`,
      cpus: `${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
      suite: { ...suite, size: options.suiteSize },
      runs: options.runs,
      warmupRuns: options.warmupRuns,
      together: options.together,
    },
  });
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`\n${renderTable(summary)}\n`);
  process.stdout.write(`Results: ${path.relative(process.cwd(), options.out)}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench: ${error.message}\n`);
  process.exitCode = 1;
});
