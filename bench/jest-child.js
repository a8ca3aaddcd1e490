'use strict';
// Runs Jest's own bin in this process and, on exit, writes what the process used. With
// --runInBand every test runs here, so this process's usage is the whole run's usage.
//   node bench/jest-child.js <usage.json> [jest arguments...]
// BENCH_JEST_BIN names another project's Jest (bench/suite.js runs a project's own).
const fs = require('node:fs');

const [usageFile, ...jestArgs] = process.argv.slice(2);
const jestBin = process.env.BENCH_JEST_BIN || require.resolve('jest/bin/jest');

process.on('exit', (exitCode) => {
  const cpu = process.cpuUsage();
  const usage = {
    node: process.version,
    exitCode,
    userMs: cpu.user / 1000,
    systemMs: cpu.system / 1000,
    // resourceUsage reports kilobytes.
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  fs.writeFileSync(usageFile, `${JSON.stringify(usage)}\n`);
});

process.argv = [process.argv[0], jestBin, ...jestArgs];
require(jestBin);
