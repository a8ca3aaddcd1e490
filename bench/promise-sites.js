'use strict';
// `promises: true` must name the `new Promise` nobody resolved on every run, not most runs: runs
// the promises-mode fixture N times (default 30) under the given Node and counts the reports that
// name test/fixtures/promises-mode/ready.test.js:4:10. Exits 1 unless every run does.
//
//   node bench/promise-sites.js [--runs 30] [--node /path/to/node] [--parallel 2]
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'promises-mode');
const JEST_BIN = path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const NAMED =
  /new Promise still pending after .*: nothing called its resolve or reject\n\s+created at ready\.test\.js:4:10/;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

function failureText(outputFile) {
  try {
    const results = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
    return results.testResults
      .flatMap((file) => file.assertionResults)
      .flatMap((test) => test.failureMessages)
      .join('\n');
  } catch {
    return undefined;
  }
}

function runOnce(node) {
  const outputFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'promise-sites-')), 'r.json');
  return new Promise((resolve) => {
    const child = spawn(
      node,
      [JEST_BIN, '--ci', '--no-cache', '--colors=false', '--json', `--outputFile=${outputFile}`],
      {
        cwd: FIXTURE,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', () => {
      const failure = failureText(outputFile) ?? stderr;
      fs.rmSync(path.dirname(outputFile), { recursive: true, force: true });
      resolve({
        named: NAMED.test(failure),
        frozen: /froze the event loop/.test(failure),
        failure,
      });
    });
  });
}

async function main() {
  const runs = Number(option('runs', '30'));
  const node = option('node', process.execPath);
  const parallel = Number(option('parallel', '2'));
  const version = require('node:child_process').execFileSync(node, ['--version'], {
    encoding: 'utf8',
  });
  let done = 0;
  let started = 0;
  let frozen = 0;
  const missed = [];
  async function worker() {
    while (started < runs) {
      const slot = started++;
      const result = await runOnce(node);
      if (result.named) {
        done++;
        continue;
      }
      if (result.frozen) frozen++;
      missed.push({ run: slot + 1, report: result.failure.split('\n').slice(0, 12).join('\n') });
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  process.stdout.write(
    `Node ${version.trim()}: ${done} of ${done + missed.length} runs named the new Promise line` +
      ` (${frozen} ended by the event-loop watchdog before any report;` +
      ` ${missed.length - frozen} reports without the line)\n`,
  );
  for (const miss of missed) process.stdout.write(`\nrun ${miss.run} did not:\n${miss.report}\n`);
  process.exitCode = missed.length === 0 ? 0 : 1;
}

main();
