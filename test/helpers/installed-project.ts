import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './run-fixture';

/**
 * Fresh projects that install hangwatch as a user does: from the tarball `npm pack` makes, with
 * npm resolving its dependencies and peers from the registry. `npm test` builds dist/ before Jest
 * runs, so the tarball is packed without running the build again.
 */

let tarball: string | undefined;

export function packedTarball(): string {
  if (tarball) return tarball;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-pack-'));
  const output = execFileSync(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dir],
    { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const [{ filename }] = JSON.parse(output) as { filename: string }[];
  tarball = path.join(dir, filename);
  return tarball;
}

/** Removes the packed tarball once no more projects install it. */
export function removePackedTarball(): void {
  if (!tarball) return;
  fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
  tarball = undefined;
}

/** The version of a package this repository has installed (so npm's cache usually has it). */
export function installedVersion(packageDir: string): string {
  const manifest = path.join(REPO_ROOT, 'node_modules', packageDir, 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export interface InstalledProject {
  dir: string;
  jest(
    args: string[],
    env?: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  npm(args: string[]): string;
  remove(): void;
}

/** Writes `files` into a new directory, then `npm install`s `devDependencies` and hangwatch. */
export async function installedProject(
  devDependencies: Record<string, string>,
  files: Record<string, string>,
): Promise<InstalledProject> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-user-'));
  const manifest = {
    name: 'hangwatch-user-project',
    private: true,
    devDependencies: { ...devDependencies, hangwatch: `file:${packedTarball()}` },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      { cwd: dir, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => (error ? reject(new Error(`npm install: ${stderr}`)) : resolve()),
    );
  });
  const jestBin = path.join(dir, 'node_modules', 'jest', 'bin', 'jest.js');
  return {
    dir,
    jest: (args, env = {}) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [jestBin, '--ci', '--colors=false', ...args],
          {
            cwd: dir,
            encoding: 'utf8',
            env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', GITHUB_ACTIONS: '', ...env },
            maxBuffer: 16 * 1024 * 1024,
            timeout: 120_000,
          },
          (error, stdout, stderr) => {
            const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
            resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
          },
        );
      }),
    npm: (args) =>
      execFileSync('npm', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}
