import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/run-fixture';

interface PackResult {
  files: { path: string }[];
}

function packedFiles(): Set<string> {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [result] = JSON.parse(output) as PackResult[];
  return new Set(result.files.map((file) => file.path));
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
};

test('every entry point in "exports" is in the tarball', () => {
  const files = packedFiles();
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    const targets = typeof target === 'string' ? [target] : Object.values(target);
    for (const file of targets) {
      if (file.includes('*')) continue;
      expect({ subpath, file, packed: files.has(file.replace(/^\.\//, '')) }).toEqual({
        subpath,
        file,
        packed: true,
      });
    }
  }
  for (const preset of ['node', 'jsdom', 'ts-jest']) {
    expect(files.has(`presets/${preset}/jest-preset.js`)).toBe(true);
  }
  expect(files.has('jest-preset.js')).toBe(true);
  expect([...files].some((file) => file.startsWith('src/') || file.startsWith('test/'))).toBe(
    false,
  );
}, 300_000);

test('an installed copy resolves its presets and environments from a user project', () => {
  // The tarball's layout, installed under a fresh project's node_modules (its peer dependencies
  // resolve from this repository, as they would from the user's own install).
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'fresh-project-'));
  const installed = path.join(project, 'node_modules', 'hangwatch');
  fs.mkdirSync(installed, { recursive: true });
  for (const file of packedFiles()) {
    fs.mkdirSync(path.dirname(path.join(installed, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(installed, file));
  }
  const script = `
    const paths = [process.cwd()];
    for (const id of ['hangwatch/jest-preset', 'hangwatch/presets/jsdom/jest-preset', 'hangwatch/presets/ts-jest/jest-preset', 'hangwatch/environment', 'hangwatch/environment/jsdom', 'hangwatch']) {
      console.log(id, '->', require.resolve(id, { paths }).replace(process.cwd(), '.'));
    }
    console.log(typeof require(require.resolve('hangwatch', { paths })).withHangwatch);
  `;
  const output = execFileSync(process.execPath, ['-e', script], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(REPO_ROOT, 'node_modules') },
  });
  fs.rmSync(project, { recursive: true, force: true });
  expect(output).toContain(
    'hangwatch/environment -> ./node_modules/hangwatch/dist/jest/node-environment.js',
  );
  expect(output).toContain(
    'hangwatch/presets/jsdom/jest-preset -> ./node_modules/hangwatch/presets/jsdom/jest-preset.js',
  );
  expect(output.trim().endsWith('function')).toBe(true);
}, 300_000);
