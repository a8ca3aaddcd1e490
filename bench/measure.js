'use strict';
// One measured Jest run in a fresh process: CPU and peak memory as the process reports them on
// exit (see jest-child.js), wall time as seen from here, and Jest's own pass/fail counts.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { REPO_ROOT } = require('./configs');
const { watchdogThreadCpu } = require('./thread-cpu');

const CHILD = path.join(__dirname, 'jest-child.js');

/**
 * Runs the suite under `configPath` with `node`. Tests run in band: one process does all the work,
 * so its CPU time is the whole run's and both configurations get exactly the same parallelism.
 */
async function measureJestRun({ node, configPath, workDir, runId }) {
  fs.mkdirSync(workDir, { recursive: true });
  const usageFile = path.join(workDir, `${runId}.usage.json`);
  const resultsFile = path.join(workDir, `${runId}.results.json`);
  const logFile = path.join(workDir, `${runId}.log`);
  for (const file of [usageFile, resultsFile]) fs.rmSync(file, { force: true });

  const args = [
    CHILD,
    usageFile,
    '--config',
    configPath,
    '--runInBand',
    '--ci',
    '--json',
    `--outputFile=${resultsFile}`,
  ];
  const log = fs.openSync(logFile, 'w');
  const started = process.hrtime.bigint();
  const exitCode = await new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: REPO_ROOT, stdio: ['ignore', log, log] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? signal));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  fs.closeSync(log);

  const failure = (reason) =>
    new Error(`${runId}: ${reason}. Jest's output is in ${path.relative(REPO_ROOT, logFile)}.`);
  if (!fs.existsSync(usageFile)) throw failure(`the Jest process ended with ${exitCode}`);
  const usage = JSON.parse(fs.readFileSync(usageFile, 'utf8'));
  const results = fs.existsSync(resultsFile)
    ? JSON.parse(fs.readFileSync(resultsFile, 'utf8'))
    : undefined;
  if (exitCode !== 0 || !results?.success) {
    const counts = results ? `${results.numFailedTests} of ${results.numTotalTests} failed` : '';
    throw failure(`Jest exited with ${exitCode}${counts ? ` (${counts})` : ''}`);
  }
  return {
    node: usage.node,
    cpuMs: usage.userMs + usage.systemMs,
    userMs: usage.userMs,
    systemMs: usage.systemMs,
    wallMs,
    maxRssMb: usage.maxRssMb,
    workerThreadCpuMs: watchdogThreadCpu(usage),
    tests: results.numTotalTests,
  };
}

module.exports = { measureJestRun };
