import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Frame } from '../../src/core/model';
import * as vm from 'node:vm';
import {
  callerFrames,
  captureStack,
  displayPath,
  isRunnerOwned,
  parseFrameLine,
  framesOf,
  parseStack,
  stackText,
  toCreationSite,
  useFrameMappingScope,
  type LazyStack,
} from '../../src/core/stack';

/** A project that is not hangwatch's own checkout, so its files classify as user code. */
const PROJECT = path.join(os.tmpdir(), 'hangwatch-unit-project');
const inProject = (...parts: string[]) => path.join(PROJECT, ...parts);
const inPackage = (pkg: string, file = 'index.js') => inProject('node_modules', pkg, 'lib', file);

function frame(overrides: Partial<Frame> & Pick<Frame, 'file' | 'origin'>): Frame {
  return { line: 1, column: 1, ...overrides };
}

describe('parseFrameLine', () => {
  test('reads a named frame: function name, file, line and column', () => {
    expect(parseFrameLine(`    at placeOrder (${inProject('src', 'orders.ts')}:12:7)`)).toEqual({
      file: inProject('src', 'orders.ts'),
      line: 12,
      column: 7,
      functionName: 'placeOrder',
      origin: 'user',
    });
  });

  test('reads a method frame such as Object.<anonymous> (a test file top level)', () => {
    const parsed = parseFrameLine(`    at Object.<anonymous> (${inProject('orders.test.ts')}:3:5)`);
    expect(parsed).toMatchObject({
      functionName: 'Object.<anonymous>',
      file: inProject('orders.test.ts'),
      line: 3,
      column: 5,
    });
  });

  test('reads an anonymous frame without a function name', () => {
    const parsed = parseFrameLine(`    at ${inProject('src', 'boot.js')}:40:2`);
    expect(parsed).toEqual({
      file: inProject('src', 'boot.js'),
      line: 40,
      column: 2,
      origin: 'user',
    });
    expect(parsed).not.toHaveProperty('functionName');
  });

  test('strips the `async` marker from named and anonymous frames', () => {
    expect(
      parseFrameLine(`    at async loadUser (${inProject('src', 'users.ts')}:8:3)`),
    ).toMatchObject({
      functionName: 'loadUser',
      file: inProject('src', 'users.ts'),
      line: 8,
      column: 3,
    });
    const anonymous = parseFrameLine(`    at async ${inProject('src', 'users.ts')}:9:1`);
    expect(anonymous).toMatchObject({ file: inProject('src', 'users.ts'), line: 9, column: 1 });
    expect(anonymous).not.toHaveProperty('functionName');
  });

  test('keeps `new X` as the function name of a constructor frame', () => {
    expect(
      parseFrameLine(`    at new Client (${inPackage('pg', 'client.js')}:30:11)`),
    ).toMatchObject({ functionName: 'new Client', line: 30, column: 11 });
  });

  test('turns file:// URLs into paths, decoding escapes', () => {
    const file = inProject('my app', 'server.mjs');
    const url = pathToFileURL(file).href;
    expect(url).toContain('my%20app');
    expect(parseFrameLine(`    at start (${url}:5:9)`)).toMatchObject({
      file,
      line: 5,
      column: 9,
      functionName: 'start',
      origin: 'user',
    });
    expect(parseFrameLine(`    at ${url}:6:1`)).toMatchObject({ file, line: 6, origin: 'user' });
  });

  test('classifies node: internals as internal', () => {
    expect(parseFrameLine('    at listOnTimeout (node:internal/timers:573:17)')).toEqual({
      file: 'node:internal/timers',
      line: 573,
      column: 17,
      functionName: 'listOnTimeout',
      origin: 'internal',
    });
    expect(parseFrameLine('    at node:net:1234:5')).toMatchObject({ origin: 'internal' });
  });

  test('ignores eval frames and frames without a location', () => {
    expect(
      parseFrameLine(
        `    at eval (eval at <anonymous> (${inProject('a.js')}:1:1), <anonymous>:1:1)`,
      ),
    ).toBeUndefined();
    expect(parseFrameLine('    at new Promise (<anonymous>)')).toBeUndefined();
    expect(parseFrameLine('    at <anonymous>:3:4')).toBeUndefined();
    expect(parseFrameLine('    at async Promise.all (index 0)')).toBeUndefined();
    expect(parseFrameLine('    at Array.map (native)')).toBeUndefined();
  });

  test('ignores lines that are not frames', () => {
    expect(parseFrameLine('Error: boom')).toBeUndefined();
    expect(parseFrameLine('')).toBeUndefined();
    expect(parseFrameLine('    at nowhere')).toBeUndefined();
  });
});

describe('frame classification', () => {
  test('project files outside node_modules are user code', () => {
    expect(parseFrameLine(`    at f (${inProject('lib', 'db.ts')}:1:1)`)).toMatchObject({
      origin: 'user',
    });
    expect(parseFrameLine(`    at f (${inProject('lib', 'db.ts')}:1:1)`)).not.toHaveProperty(
      'packageName',
    );
  });

  test('files under node_modules are dependencies named by their package', () => {
    expect(parseFrameLine(`    at f (${inPackage('pg')}:1:1)`)).toMatchObject({
      origin: 'dependency',
      packageName: 'pg',
    });
  });

  test('scoped packages are named with their scope', () => {
    expect(parseFrameLine(`    at f (${inPackage('@prisma/client')}:1:1)`)).toMatchObject({
      origin: 'dependency',
      packageName: '@prisma/client',
    });
  });

  test('a nested node_modules names the innermost package', () => {
    const file = inProject('node_modules', 'express', 'node_modules', 'body-parser', 'index.js');
    expect(parseFrameLine(`    at f (${file}:1:1)`)).toMatchObject({
      origin: 'dependency',
      packageName: 'body-parser',
    });
  });

  test('pnpm layouts name the real package, not the .pnpm store entry', () => {
    const file = inProject('node_modules', '.pnpm', 'ws@8.0.0', 'node_modules', 'ws', 'index.js');
    expect(parseFrameLine(`    at f (${file}:1:1)`)).toMatchObject({
      origin: 'dependency',
      packageName: 'ws',
    });
  });

  test.each(['jest-circus', 'jest-runtime', 'expect', '@sinonjs/fake-timers', 'hangwatch'])(
    'the test runner package %s is internal',
    (pkg) => {
      expect(parseFrameLine(`    at f (${inPackage(pkg)}:1:1)`)).toMatchObject({
        origin: 'internal',
        packageName: pkg,
      });
    },
  );

  test.each(['@jest/core', '@jest/fake-timers', '@jest/environment'])(
    'any @jest/* package (%s) is internal',
    (pkg) => {
      expect(parseFrameLine(`    at f (${inPackage(pkg)}:1:1)`)).toMatchObject({
        origin: 'internal',
        packageName: pkg,
      });
    },
  );

  test('a package merely starting with "jest" is still a dependency', () => {
    expect(parseFrameLine(`    at f (${inPackage('jest-fetch-mock')}:1:1)`)).toMatchObject({
      origin: 'dependency',
      packageName: 'jest-fetch-mock',
    });
  });

  test("hangwatch's own source files are internal", () => {
    const own = path.resolve(__dirname, '..', '..', 'src', 'core', 'tracker.ts');
    expect(parseFrameLine(`    at init (${own}:50:3)`)).toMatchObject({ origin: 'internal' });
  });

  test('relative locations (old-style Node internals) are internal', () => {
    expect(parseFrameLine('    at listOnTimeout (internal/timers.js:554:17)')).toMatchObject({
      origin: 'internal',
    });
  });
});

describe('parseStack', () => {
  test('parses the frames of a real stack, skipping the message line', () => {
    const frames = parseStack(new Error('boom').stack);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.find((entry) => entry.origin !== 'internal')?.origin).toBe('user');
  });

  test('returns no frames for a missing stack', () => {
    expect(parseStack(undefined)).toEqual([]);
    expect(parseStack('')).toEqual([]);
  });

  test('captureStack records the caller of the skipped function, formatted lazily', () => {
    function createsSomething() {
      return captureStack(createsSomething);
    }
    const holder = createsSomething();
    const frames = parseStack(holder.stack);
    expect(frames.find((entry) => entry.origin !== 'internal')?.origin).toBe('user');
    expect(frames.some((f) => f.functionName === 'createsSomething')).toBe(false);
  });
});

describe('toCreationSite', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-stack-'));
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function writeSource(name: string, lines: string[]): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, lines.join('\n'));
    return file;
  }

  test('drops internal frames and points at the first user frame', () => {
    const user = frame({ file: inProject('src', 'a.ts'), origin: 'user', line: 3 });
    const site = toCreationSite([
      frame({ file: 'node:internal/timers', origin: 'internal' }),
      frame({ file: inPackage('jest-circus'), origin: 'internal', packageName: 'jest-circus' }),
      user,
      frame({ file: 'node:internal/process/task_queues', origin: 'internal' }),
    ]);
    expect(site?.frames).toEqual([user]);
    expect(site?.top).toBe(user);
  });

  test('collapses a run of frames in one package to its outermost frame', () => {
    const inner = frame({
      file: inPackage('pg', 'conn.js'),
      origin: 'dependency',
      packageName: 'pg',
    });
    const middle = frame({
      file: inPackage('pg', 'pool.js'),
      origin: 'dependency',
      packageName: 'pg',
    });
    const outer = frame({
      file: inPackage('pg', 'index.js'),
      origin: 'dependency',
      packageName: 'pg',
    });
    const user = frame({ file: inProject('src', 'db.ts'), origin: 'user', line: 9 });
    const site = toCreationSite([inner, middle, outer, user]);
    expect(site?.frames).toEqual([outer, user]);
    expect(site?.top).toBe(user);
  });

  test('keeps one frame per package when packages alternate', () => {
    const a1 = frame({ file: inPackage('a', '1.js'), origin: 'dependency', packageName: 'a' });
    const a2 = frame({ file: inPackage('a', '2.js'), origin: 'dependency', packageName: 'a' });
    const b = frame({ file: inPackage('b'), origin: 'dependency', packageName: 'b' });
    const a3 = frame({ file: inPackage('a', '3.js'), origin: 'dependency', packageName: 'a' });
    expect(toCreationSite([a1, a2, b, a3])?.frames).toEqual([a2, b, a3]);
  });

  test('collapses a package run across dropped internal frames', () => {
    const inner = frame({ file: inPackage('ws', 'a.js'), origin: 'dependency', packageName: 'ws' });
    const outer = frame({ file: inPackage('ws', 'b.js'), origin: 'dependency', packageName: 'ws' });
    const site = toCreationSite([inner, frame({ file: 'node:events', origin: 'internal' }), outer]);
    expect(site?.frames).toEqual([outer]);
  });

  test('user frames are never collapsed', () => {
    const first = frame({ file: inProject('a.ts'), origin: 'user', line: 1 });
    const second = frame({ file: inProject('a.ts'), origin: 'user', line: 2 });
    expect(toCreationSite([first, second])?.frames).toEqual([first, second]);
  });

  test('top falls back to the first dependency frame when there is no user frame', () => {
    const pg = frame({ file: inPackage('pg'), origin: 'dependency', packageName: 'pg' });
    const ws = frame({ file: inPackage('ws'), origin: 'dependency', packageName: 'ws' });
    expect(toCreationSite([pg, ws])?.top).toBe(pg);
  });

  test('is undefined when every frame is internal', () => {
    expect(
      toCreationSite([
        frame({ file: 'node:internal/timers', origin: 'internal' }),
        frame({ file: inPackage('jest-runner'), origin: 'internal', packageName: 'jest-runner' }),
      ]),
    ).toBeUndefined();
    expect(toCreationSite([])).toBeUndefined();
  });

  test("reads the top frame's source line from the file, trimmed", () => {
    const file = writeSource('client.ts', [
      "import { connect } from 'net';",
      '',
      '    const socket = connect(5432);   ',
      'export {};',
    ]);
    const site = toCreationSite([frame({ file, origin: 'user', line: 3, column: 20 })]);
    expect(site?.sourceLine).toBe('const socket = connect(5432);');
  });

  test('reads source lines from files with Windows line endings', () => {
    const file = path.join(dir, 'crlf.ts');
    fs.writeFileSync(file, 'first();\r\nsecond();\r\n');
    expect(toCreationSite([frame({ file, origin: 'user', line: 2 })])?.sourceLine).toBe(
      'second();',
    );
  });

  test('leaves out the source line when the file cannot be read or the line does not exist', () => {
    const missing = toCreationSite([
      frame({ file: path.join(dir, 'does-not-exist.ts'), origin: 'user', line: 1 }),
    ]);
    expect(missing).toBeDefined();
    expect(missing).not.toHaveProperty('sourceLine');
    const file = writeSource('short.ts', ['only();']);
    expect(toCreationSite([frame({ file, origin: 'user', line: 99 })])).not.toHaveProperty(
      'sourceLine',
    );
  });
});

describe('isRunnerOwned', () => {
  const timers = frame({ file: 'node:internal/timers', origin: 'internal' });
  const circus = frame({
    file: inPackage('jest-circus'),
    origin: 'internal',
    packageName: 'jest-circus',
  });
  const user = frame({ file: inProject('a.test.ts'), origin: 'user' });
  const dependency = frame({ file: inPackage('pg'), origin: 'dependency', packageName: 'pg' });

  test('true when the first non-node frame is the runner and no user frame follows', () => {
    expect(isRunnerOwned([timers, circus])).toBe(true);
    expect(isRunnerOwned([circus, dependency])).toBe(true);
  });

  test("true for what Jest's cache writes open through write-file-atomic and signal-exit", () => {
    const signalExit = frame({
      file: inPackage('signal-exit'),
      origin: 'dependency',
      packageName: 'signal-exit',
    });
    const writeFileAtomic = frame({
      file: inPackage('write-file-atomic'),
      origin: 'dependency',
      packageName: 'write-file-atomic',
    });
    const transform = frame({
      file: inPackage('@jest/transform'),
      origin: 'internal',
      packageName: '@jest/transform',
    });
    expect(isRunnerOwned([signalExit, writeFileAtomic, transform])).toBe(true);
    expect(isRunnerOwned([signalExit, writeFileAtomic, user])).toBe(false);
  });

  test('false when a user frame is anywhere on the stack', () => {
    expect(isRunnerOwned([timers, circus, user])).toBe(false);
  });

  test('false when the first non-node frame is a dependency or user code', () => {
    expect(isRunnerOwned([timers, dependency, circus])).toBe(false);
    expect(isRunnerOwned([user, circus])).toBe(false);
  });

  test('false when only node: frames (or none) are known', () => {
    expect(isRunnerOwned([timers])).toBe(false);
    expect(isRunnerOwned([])).toBe(false);
  });
});

describe('callerFrames', () => {
  test('reads who is calling from V8 call sites, classified as parsed stacks are', () => {
    const script = new vm.Script('(function emitFromPackage(read) { return read(); })', {
      filename: inPackage('some-client'),
    });
    const emitFromPackage = script.runInThisContext() as (read: () => Frame[]) => Frame[];
    function userCaller(): Frame[] {
      return emitFromPackage(() => callerFrames(undefined, 5));
    }
    const frames = userCaller();
    const pkg = frames.find((entry) => entry.functionName === 'emitFromPackage');
    const user = frames.find((entry) => entry.functionName === 'userCaller');
    expect(frames.find((entry) => entry.origin !== 'internal')?.origin).toBe('user');
    expect(pkg).toMatchObject({
      file: inPackage('some-client'),
      functionName: 'emitFromPackage',
      origin: 'dependency',
      packageName: 'some-client',
    });
    expect(user).toMatchObject({ file: __filename, functionName: 'userCaller', origin: 'user' });
  });

  test("formats nothing: another tool's Error.prepareStackTrace is neither called nor lost", () => {
    const previous = Error.prepareStackTrace;
    const prepare = jest.fn(() => 'formatted');
    Error.prepareStackTrace = prepare;
    try {
      const limit = Error.stackTraceLimit;
      expect(callerFrames(undefined, 3).length).toBeGreaterThan(0);
      expect(prepare).not.toHaveBeenCalled();
      expect(Error.prepareStackTrace).toBe(prepare);
      expect(Error.stackTraceLimit).toBe(limit);
    } finally {
      Error.prepareStackTrace = previous;
    }
  });
});

/**
 * A source-map formatter as Jest installs one (a new one in each test file): it says which files
 * it was asked to map, and writes `column` as each mapped frame's column.
 */
function installMapper(column = '1'): { asked: string[]; restore: () => void } {
  const previous = Error.prepareStackTrace;
  const asked: string[] = [];
  Error.prepareStackTrace = (error, sites) =>
    `${error.name || 'Error'}: ${error.message || ''}` +
    sites
      .map((site) => {
        const file = site.getFileName() ?? '';
        asked.push(file);
        return `\n    at ${site.getFunctionName() ?? '<anonymous>'} (${file}:${site.getLineNumber()}:${column})`;
      })
      .join('');
  return { asked, restore: () => (Error.prepareStackTrace = previous) };
}

describe('stackText', () => {
  function captureThroughPackage(): LazyStack {
    const script = new vm.Script('(function callsBack(fn) { return fn(); })', {
      filename: inPackage('some-client'),
    });
    const callsBack = script.runInThisContext() as (fn: () => LazyStack) => LazyStack;
    return callsBack(function userCall() {
      return captureStack(undefined, 40);
    });
  }

  test("maps only user and dependency frames; Node's and the runner's are written as V8 does", () => {
    const mapper = installMapper();
    let text: string | undefined;
    const captured = captureThroughPackage();
    try {
      text = stackText(captured);
    } finally {
      mapper.restore();
    }
    expect(mapper.asked).toContain(__filename);
    expect(mapper.asked).toContain(inPackage('some-client'));
    expect(mapper.asked.every((file) => file === __filename || file.includes('some-client'))).toBe(
      true,
    );
    const frames = parseStack(text);
    expect(frames.some((frame) => frame.packageName === 'jest-circus')).toBe(true);
    expect(frames.find((frame) => frame.functionName === 'userCall')).toMatchObject({
      file: __filename,
      column: 1, // the mapper's column: it was mapped
      origin: 'user',
    });
    // The formatter is the installed one again, and the text is what `.stack` now says.
    expect(captured.stack).toBe(text);
  });

  test('a formatter that returns no text gets the whole stack; the text is then none', () => {
    const previous = Error.prepareStackTrace;
    const sitesSeen: number[] = [];
    Error.prepareStackTrace = (_error, sites) => {
      sitesSeen.push(sites.length);
      return sites;
    };
    try {
      const captured = captureThroughPackage();
      expect(stackText(captured)).toBeUndefined();
      expect(framesOf(captured)).toEqual([]);
      // Asked for the header first, then for the whole stack at once.
      expect(sitesSeen[sitesSeen.length - 1]).toBe((captured.stack as unknown as unknown[]).length);
      expect(sitesSeen[sitesSeen.length - 1]).toBeGreaterThan(0);
    } finally {
      Error.prepareStackTrace = previous;
    }
  });

  test('without an installed formatter it is the stack V8 writes', () => {
    const previous = Error.prepareStackTrace;
    delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    try {
      const text = stackText(captureThroughPackage());
      expect(parseStack(text).find((frame) => frame.functionName === 'userCall')?.file).toBe(
        __filename,
      );
    } finally {
      Error.prepareStackTrace = previous;
    }
  });
});

describe('stackText across test files (useFrameMappingScope)', () => {
  /** A real file on disk whose function captures a stack, as a transformed module's would. */
  const moduleFile = path.join(os.tmpdir(), `hangwatch-mapping-${process.pid}.js`);
  const source = '(function capturesHere(capture) { return capture(); })';
  function captureInModule(): LazyStack {
    const capturesHere = new vm.Script(source, { filename: moduleFile }).runInThisContext() as (
      capture: () => LazyStack,
    ) => LazyStack;
    return capturesHere(() => captureStack(undefined, 40));
  }

  /** The mapped text of a stack captured in the module, formatted by a new file's formatter. */
  function formatInNewFile(scope: string | undefined, tag: string) {
    useFrameMappingScope(scope);
    const mapper = installMapper(tag);
    try {
      const text = stackText(captureInModule()) ?? '';
      return {
        asked: mapper.asked,
        moduleLine: text.split('\n').find((l) => l.includes(moduleFile)),
      };
    } finally {
      mapper.restore();
    }
  }

  beforeAll(() => fs.writeFileSync(moduleFile, source));
  afterAll(() => fs.rmSync(moduleFile, { force: true }));
  afterEach(() => useFrameMappingScope(undefined));

  test('a later file of the same project reuses the frames an earlier one mapped', () => {
    const first = formatInNewFile('project-a', 'first');
    expect(first.asked).toContain(moduleFile);
    expect(first.moduleLine).toMatch(/:first\)$/);
    const second = formatInNewFile('project-a', 'second');
    expect(second.asked).not.toContain(moduleFile);
    expect(second.moduleLine).toBe(first.moduleLine);
  });

  test('another project, or no project, maps its frames itself', () => {
    formatInNewFile('project-a', 'first');
    const other = formatInNewFile('project-b', 'other');
    expect(other.asked).toContain(moduleFile);
    expect(other.moduleLine).toMatch(/:other\)$/);
    formatInNewFile(undefined, 'unscoped');
    expect(formatInNewFile(undefined, 'again').moduleLine).toMatch(/:again\)$/);
  });

  test('a file changed since (size or mtime) is mapped again', () => {
    formatInNewFile('project-c', 'before');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(moduleFile, later, later);
    const after = formatInNewFile('project-c', 'after');
    expect(after.asked).toContain(moduleFile);
    expect(after.moduleLine).toMatch(/:after\)$/);
  });
});

describe('displayPath', () => {
  test('shows files inside the root relative to it', () => {
    expect(displayPath(inProject('test', 'a.test.ts'), PROJECT)).toBe(
      path.join('test', 'a.test.ts'),
    );
  });

  test('keeps files outside the root absolute', () => {
    const outside = path.join(os.tmpdir(), 'elsewhere', 'b.ts');
    expect(displayPath(outside, PROJECT)).toBe(outside);
  });

  test('keeps node: locations as they are', () => {
    expect(displayPath('node:internal/timers', PROJECT)).toBe('node:internal/timers');
  });

  // Only ".." itself or a "../" prefix leaves the root; "..generated" is a folder inside it.
  test('shows a file under a directory named "..something" inside the root as relative', () => {
    expect(displayPath(inProject('..generated', 'client.ts'), PROJECT)).toBe(
      path.join('..generated', 'client.ts'),
    );
  });
});
