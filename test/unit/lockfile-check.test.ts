import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-lockfile.js');

function check(lockfile: string) {
  return spawnSync(process.execPath, [SCRIPT, lockfile], { encoding: 'utf8' });
}

const made: string[] = [];
afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function writeLock(packages: Record<string, object>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-lock-'));
  made.push(dir);
  const file = path.join(dir, 'package-lock.json');
  fs.writeFileSync(file, JSON.stringify({ lockfileVersion: 3, packages }));
  return file;
}

const complete = { version: '1.0.0', integrity: 'sha512-AAAA' };

test("the repository's own lockfile passes", () => {
  const result = check(path.join(ROOT, 'package-lock.json'));
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test('a versionless entry fails, naming the entry and the command that rewrites the lockfile', () => {
  const placeholder =
    'node_modules/unrs-resolver/node_modules/@unrs/resolver-binding-win32-x64-msvc';
  const result = check(
    writeLock({
      '': { name: 'p' },
      'node_modules/a': complete,
      [placeholder]: { dev: true, optional: true },
    }),
  );
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(`${placeholder}: no version, no integrity`);
  expect(result.stderr).toContain('Rewrite it with: rm package-lock.json && npm install');
  expect(result.stderr).not.toContain('node_modules/a:');
});

test('links and registry entries without a resolved address pass', () => {
  const result = check(
    writeLock({
      '': { name: 'p' },
      'node_modules/self': { resolved: '..', link: true },
      'node_modules/git-dep': { version: '1.0.0', resolved: 'git+ssh://example/repo.git#abc' },
      'node_modules/a': complete,
    }),
  );
  expect(result.status).toBe(0);
});
