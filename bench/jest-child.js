'use strict';
// Runs Jest's own bin in this process and, on exit, writes what the process used. With
// --runInBand every test runs here, so this process's usage is the whole run's usage.
//   node bench/jest-child.js <usage.json> [jest arguments...]
// BENCH_JEST_BIN names another project's Jest (bench/suite.js runs a project's own).
const fs = require('node:fs');
const { threadCpuByName } = require('./thread-cpu');

const [usageFile, ...jestArgs] = process.argv.slice(2);
const jestBin = process.env.BENCH_JEST_BIN || require.resolve('jest/bin/jest');

/**
 * CPU of the child processes this one waited for (Jest workers, when a runner starts them), from
 * Linux's /proc: Node reports only its own. Elsewhere 0, and runs with workers are not comparable.
 */
function childrenCpu() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // cutime and cstime, fields 16 and 17, in ticks of 1/100 s.
    return { userMs: Number(fields[13]) * 10, systemMs: Number(fields[14]) * 10 };
  } catch {
    return { userMs: 0, systemMs: 0 };
  }
}

process.on('exit', (exitCode) => {
  const cpu = process.cpuUsage();
  const children = childrenCpu();
  const usage = {
    node: process.version,
    exitCode,
    userMs: cpu.user / 1000 + children.userMs,
    systemMs: cpu.system / 1000 + children.systemMs,
    // resourceUsage reports kilobytes.
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    threadCpuMs: threadCpuByName(),
  };
  fs.writeFileSync(usageFile, `${JSON.stringify(usage)}\n`);
});

process.argv = [process.argv[0], jestBin, ...jestArgs];
require(jestBin);
