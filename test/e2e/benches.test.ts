// The benches' `--together` mode: bench/suite.js on a small project, and `npm run bench`'s own
// generated suite (its quick size).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
// Inside the repository (ignored by git), so the project finds this repository's Jest.
const project = path.join(repoRoot, '.bench-out', 'bench-suite-test-project');

interface SideResult {
  measured: string;
  pairs: number;
  together: boolean;
  cpuRatioPerPair: number[];
  ratio: { cpu: number; wall: number; maxRss: number };
}

beforeAll(() => {
  fs.rmSync(project, { recursive: true, force: true });
  fs.mkdirSync(path.join(project, '__tests__'), { recursive: true });
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'bench-suite-test-project', private: true }),
  );
  fs.writeFileSync(
    path.join(project, '__tests__', 'server.test.js'),
    [
      "const http = require('node:http');",
      "test('a request to a server of its own', async () => {",
      "  const server = http.createServer((req, res) => res.end('ok'));",
      '  await new Promise((resolve) => server.listen(0, resolve));',
      '  const { port } = server.address();',
      '  const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();',
      '  await new Promise((resolve) => server.close(resolve));',
      "  expect(body).toBe('ok');",
      '});',
      '',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

test('--together runs a round’s sides at once and compares each with that round’s plain run', () => {
  const run = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'bench', 'suite.js'),
      project,
      '--pairs',
      '2',
      '--warmup',
      '0',
      '--together',
      '--measure',
      'hangwatch,plain-again',
      '--json',
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 280_000 },
  );
  expect(run.stderr).toContain('the sides of a round together');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('2 rounds with their sides together, --runInBand');
  const results = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as SideResult);
  expect(results.map((result) => result.measured)).toEqual(['hangwatch', 'plain-again']);
  for (const result of results) {
    expect(result).toMatchObject({ pairs: 2, together: true });
    expect(result.cpuRatioPerPair).toHaveLength(2);
    for (const ratio of [...result.cpuRatioPerPair, result.ratio.cpu, result.ratio.maxRss]) {
      expect(ratio).toBeGreaterThan(0);
    }
  }
  // Each round's progress lines name every side once.
  for (const round of ['round 1/2', 'round 2/2']) {
    const lines = run.stderr.split('\n').filter((line) => line.includes(round));
    expect(lines.map((line) => line.split(/\s+/)[3]).sort()).toEqual([
      'hangwatch',
      'plain',
      'plain-again',
    ]);
  }
}, 300_000);

test('npm run bench --together runs each round’s configurations at once', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-bench-test-')), 'r.json');
  try {
    const run = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'bench', 'run.js'),
        '--quick',
        '--together',
        '--runs',
        '2',
        '--configs',
        'plain,hangwatch',
        '--out',
        out,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 280_000 },
    );
    expect(run.stderr).toContain("each round's configurations together");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("median of 2 run(s) each, each round's configurations together.");
    const summary = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      together: boolean;
      runs: number;
      configurations: { name: string; cpuRatioPerRound: number[] }[];
    };
    expect(summary).toMatchObject({ together: true, runs: 2 });
    expect(summary.configurations.map((row) => row.name)).toEqual(['plain', 'hangwatch']);
    for (const row of summary.configurations) expect(row.cpuRatioPerRound).toHaveLength(2);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}, 300_000);
