import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setupGaps } from '../../src/jest/setup-check';

// The set-up notice's lock clause names async-mutex only when the project itself depends on it.

const LOCK_GAP = expect.stringContaining('async-mutex locks are not tracked');

function project(manifest: object | undefined, installed: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-setup-'));
  if (manifest) fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify(manifest));
  for (const name of installed) {
    const dir = path.join(root, 'node_modules', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
  }
  return root;
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function gapsOf(manifest: object | undefined, installed: string[], subdir = ''): string[] {
  const root = project(manifest, installed);
  roots.push(root);
  const rootDir = path.join(root, subdir);
  fs.mkdirSync(rootDir, { recursive: true });
  return setupGaps({ rootDir, moduleNameMapper: [] });
}

test('a project that depends on async-mutex, without the mapping, is told', () => {
  expect(gapsOf({ devDependencies: { 'async-mutex': '^0.5.0' } }, ['async-mutex'])).toEqual([
    LOCK_GAP,
  ]);
  expect(gapsOf({ dependencies: { 'async-mutex': '^0.5.0' } }, ['async-mutex'])).toEqual([
    LOCK_GAP,
  ]);
});

test('async-mutex that only a dependency brings (mockttp uses it inside) is not named', () => {
  expect(gapsOf({ devDependencies: { mockttp: '^3.0.0' } }, ['mockttp', 'async-mutex'])).toEqual(
    [],
  );
});

test('declared but not installed: nothing to map yet', () => {
  expect(gapsOf({ devDependencies: { 'async-mutex': '^0.5.0' } }, [])).toEqual([]);
});

test("a rootDir without its own package.json reads the closest one above (a workspace's)", () => {
  expect(
    gapsOf({ devDependencies: { 'async-mutex': '^0.5.0' } }, ['async-mutex'], 'packages/api'),
  ).toEqual([LOCK_GAP]);
});
