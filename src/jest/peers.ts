import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Optional peers (jest-environment-jsdom for the jsdom preset, ts-jest for the ts-jest preset):
 * when one is missing, say in one line what to install, for the Jest major that is running,
 * instead of a raw "Cannot find module" with a require stack.
 */

/** The major version of the Jest that loaded this process, when it can be told. */
export function runningJestMajor(): number | undefined {
  const jestConfig = Object.keys(require.cache).find((file) =>
    /[\\/]jest-config[\\/]build[\\/]/.test(file),
  );
  const candidates = [
    ...(jestConfig ? [path.join(jestConfig.split(/[\\/]build[\\/]/)[0], 'package.json')] : []),
  ];
  for (const start of [process.cwd(), __dirname]) {
    try {
      candidates.push(require.resolve('jest/package.json', { paths: [start] }));
    } catch {
      // not resolvable from here
    }
  }
  for (const file of candidates) {
    try {
      const { version } = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string };
      const major = Number.parseInt(version ?? '', 10);
      if (Number.isInteger(major)) return major;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** The one line a missing peer gets. Starts as Node's does, so Jest files it as a missing module. */
export function missingPeerMessage(name: string, neededFor: string): string {
  const major = runningJestMajor();
  // ts-jest publishes one major per Jest major too (29 covers Jest 29 and 30 today).
  const version = name === 'ts-jest' ? '' : major ? `@${major}` : '';
  return `Cannot find module '${name}': ${neededFor} needs it. Install it: npm install --save-dev ${name}${version}`;
}

/** An Error with the one line and no stack: the line is all there is to say. */
export function missingPeerError(name: string, neededFor: string): Error {
  const error = new Error(missingPeerMessage(name, neededFor));
  Object.assign(error, { code: 'MODULE_NOT_FOUND' });
  error.stack = '';
  return error;
}

function resolvable(name: string, from: string[]): boolean {
  for (const start of from) {
    try {
      require.resolve(name, { paths: [start] });
      return true;
    } catch {
      // not from here
    }
  }
  return false;
}

/** Throws the one-line error when `name` resolves neither from hangwatch nor from the project. */
export function assertPeer(name: string, neededFor: string): void {
  if (!resolvable(name, [__dirname, process.cwd()])) throw missingPeerError(name, neededFor);
}

/**
 * A package of Jest's own tree (jest-runner depends on jest-environment-node), loaded from the
 * Jest that is running this process, so its version always matches; then from the project and
 * from hangwatch's own place.
 */
export function requireFromRunningJest<T>(name: string, neededFor: string): T {
  const runner = Object.keys(require.cache).find((file) =>
    /[\\/]jest-runner[\\/]build[\\/]/.test(file),
  );
  const from = [...(runner ? [path.dirname(runner)] : []), process.cwd(), __dirname];
  for (const start of from) {
    let file: string;
    try {
      file = require.resolve(name, { paths: [start] });
    } catch {
      continue;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as T;
  }
  throw missingPeerError(name, neededFor);
}

/** `require(name)`, with the one-line error when it is not installed. */
export function requirePeer<T>(name: string, neededFor: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    const missing =
      (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
      (error as Error).message.includes(`'${name}'`);
    if (missing) throw missingPeerError(name, neededFor);
    throw error;
  }
}
