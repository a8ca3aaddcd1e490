'use strict';
// Turns the measured runs into medians and ratios, a table for people and JSON for tools.

/** The goal: hangwatch's default mode costs at most 10% more CPU, on Node 24. */
const CPU_TARGET = { configuration: 'hangwatch', maxCpuRatio: 1.1, nodeMajor: 24 };

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * A distribution-free 95% confidence interval for the median of `values`: the k-th smallest and
 * k-th largest, with k the largest rank whose two binomial tails (p = 1/2) hold at most 5%. Single
 * runs here move by ±15%, so whether a median is under a target is a question for this interval.
 * Fewer than 6 values give no such interval: the whole range is returned.
 */
function medianInterval(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  let tail = 0;
  let k = 0;
  let choose = 1; // C(n, i)
  for (let i = 0; i < n; i++) {
    tail += choose / 2 ** n; // P(X <= i)
    if (2 * tail > 0.05) break;
    k = i + 1;
    choose = (choose * (n - i)) / (i + 1);
  }
  if (k === 0) return [sorted[0], sorted[n - 1]];
  return [sorted[k - 1], sorted[n - k]];
}

const round = (value, digits) => Number(value.toFixed(digits));

/** `samples` maps each configuration name to its measured runs, in run order. */
function summarize({ configurations, samples, meta }) {
  const medians = (runs) => ({
    cpuMs: round(median(runs.map((run) => run.cpuMs)), 1),
    wallMs: round(median(runs.map((run) => run.wallMs)), 1),
    maxRssMb: round(median(runs.map((run) => run.maxRssMb)), 1),
  });
  const baseline = medians(samples.plain);
  const rows = configurations.map((configuration) => {
    const runs = samples[configuration.name];
    const own = medians(runs);
    const cpus = runs.map((run) => run.cpuMs);
    // Run i of every configuration belongs to the same round, so these pairs share the machine's
    // load at the time: steadier than the ratio of medians on a busy host.
    const cpuRatioPerRound = runs.map((run, index) =>
      round(run.cpuMs / samples.plain[index].cpuMs, 3),
    );
    return {
      name: configuration.name,
      label: configuration.label,
      median: own,
      cpuRangeMs: [round(Math.min(...cpus), 1), round(Math.max(...cpus), 1)],
      peakRssMb: round(Math.max(...runs.map((run) => run.maxRssMb)), 1),
      ratio: {
        cpu: round(own.cpuMs / baseline.cpuMs, 3),
        wall: round(own.wallMs / baseline.wallMs, 3),
        maxRss: round(own.maxRssMb / baseline.maxRssMb, 3),
        cpuPerRoundMedian: round(median(cpuRatioPerRound), 3),
      },
      cpuRatioPerRound,
      samples: runs.map((run) => ({
        cpuMs: round(run.cpuMs, 1),
        userMs: round(run.userMs, 1),
        systemMs: round(run.systemMs, 1),
        wallMs: round(run.wallMs, 1),
        maxRssMb: round(run.maxRssMb, 1),
        ...(run.workerThreadCpuMs !== undefined
          ? { workerThreadCpuMs: round(run.workerThreadCpuMs, 1) }
          : {}),
      })),
    };
  });
  const measured = rows.find((row) => row.name === CPU_TARGET.configuration);
  const nodeMajor = Number(/^v(\d+)/.exec(meta.node)[1]);
  const target = measured && {
    ...CPU_TARGET,
    cpuRatio: measured.ratio.cpu,
    cpuRatioPerRoundRange: [
      Math.min(...measured.cpuRatioPerRound),
      Math.max(...measured.cpuRatioPerRound),
    ],
    met: measured.ratio.cpu <= CPU_TARGET.maxCpuRatio,
    appliesToThisNode: nodeMajor === CPU_TARGET.nodeMajor,
  };
  return { ...meta, configurations: rows, ...(target ? { target } : {}) };
}

function renderTable(summary) {
  const seconds = (ms) => (ms / 1000).toFixed(2);
  const ratio = (value) => `${value.toFixed(2)}x`;
  const header = [
    'configuration',
    'cpu s',
    'cpu range s',
    'cpu',
    'wall s',
    'wall',
    'max RSS MB',
    'RSS',
  ];
  const body = summary.configurations.map((row) => [
    row.label,
    seconds(row.median.cpuMs),
    `${seconds(row.cpuRangeMs[0])}-${seconds(row.cpuRangeMs[1])}`,
    ratio(row.ratio.cpu),
    seconds(row.median.wallMs),
    ratio(row.ratio.wall),
    row.median.maxRssMb.toFixed(0),
    ratio(row.ratio.maxRss),
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((cells) => cells[column].length)),
  );
  const line = (cells) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[0]) : cell.padStart(widths[column]),
      )
      .join('  ');
  const lines = [
    `Node ${summary.node}, Jest ${summary.jest}, ${summary.cpus}; ${summary.suite.tests} tests in ` +
      `${summary.suite.files} files, --runInBand; median of ${summary.runs} run(s) each, ` +
      (summary.together ? "each round's configurations together." : 'interleaved.'),
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...body.map(line),
    '',
    'cpu = user + system time of the Jest process; ratios are against jest-environment-node.',
  ];
  const { target } = summary;
  if (target) {
    const verdict = target.met ? 'met' : 'NOT met';
    const [lowest, highest] = target.cpuRatioPerRoundRange;
    lines.push(
      `Target: default mode within ${ratio(target.maxCpuRatio)} CPU: ${verdict} at ` +
        `${ratio(target.cpuRatio)}; per-round ratios ${ratio(lowest)}-${ratio(highest)}.`,
    );
    if (!target.appliesToThisNode) {
      lines.push(
        `The target is set for Node ${target.nodeMajor}; this run used Node ${summary.node}.`,
      );
    }
  }
  return lines.join('\n');
}

module.exports = { summarize, renderTable, median, medianInterval };
