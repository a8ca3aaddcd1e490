import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type StackUtils from 'stack-utils';
import { onFirstUse } from './on-first-use';
import type { CreationSite, Frame } from './model';

/**
 * A stack captured now and formatted later. V8 records the frames when `captureStackTrace` runs
 * but only builds the string on first access, which is where the cost is; most stacks are never
 * read because most resources close normally.
 */
export interface LazyStack {
  stack?: string;
  /**
   * For a call site recorded as an origin (see `origins`): the origin it was recorded under, when
   * the call ran inside another recorded call's work (a client's `connect` made from the
   * `listening` callback of a server the test started). Where a user frame is looked for next.
   */
  outer?: LazyStack;
}

/**
 * Capturing costs about 0.3 µs per frame (plus the walk of async frames), so resources are
 * captured at a modest depth: enough for a user frame above Node's own (`setTimeout` sits 5
 * frames below its caller) and a client library's layers (mongoose's driver arms a timer 13
 * library frames below `createConnection`, under Node's timer frames: at 16 no frame of the
 * caller's was left). Calls whose resource appears much later and deeper (listen, connect,
 * fetch) are rare and recorded at `DEEP_STACK_DEPTH`.
 */
export const DEFAULT_STACK_DEPTH = 32;
export const DEEP_STACK_DEPTH = 40;

export function captureStack(
  skipAbove?: (...args: never[]) => unknown,
  depth: number = DEFAULT_STACK_DEPTH,
): LazyStack {
  const holder: LazyStack = {};
  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = depth;
  Error.captureStackTrace(holder, skipAbove);
  Error.stackTraceLimit = previousLimit;
  return holder;
}

type PrepareStackTrace = (error: Error, sites: NodeJS.CallSite[]) => unknown;

/**
 * The text of a captured stack, formatted now if it was not yet. The `Error.prepareStackTrace`
 * installed at that moment (Jest's source-map support) maps only the frames that can be the
 * user's or a dependency's: for each other frame (Node's, the test runner's, hangwatch's) it would
 * read the frame's file looking for a source map it never has. Those are written as V8 writes them.
 */
export function stackText(captured: LazyStack | undefined): string | undefined {
  if (!captured) return undefined;
  const installed = Error.prepareStackTrace as PrepareStackTrace | undefined;
  let text: unknown;
  if (!installed) text = captured.stack;
  else {
    Error.prepareStackTrace = (error, sites) => formatMappingOwnFrames(error, sites, installed);
    try {
      text = captured.stack;
    } finally {
      Error.prepareStackTrace = installed;
    }
  }
  // Another tool's formatter may return anything (call sites, an object): no text, no frames.
  return typeof text === 'string' ? text : undefined;
}

/** `parseStack(stackText(captured))`. */
export function framesOf(captured: LazyStack | undefined): Frame[] {
  return parseStack(stackText(captured));
}

function formatMappingOwnFrames(
  error: Error,
  sites: NodeJS.CallSite[],
  installed: PrepareStackTrace,
): unknown {
  const header = installed(error, []);
  if (typeof header !== 'string') return installed(error, sites);
  const lines = [header];
  for (const site of sites) {
    const file = callSiteFile(site);
    if (file === undefined || classify(file).origin === 'internal') {
      lines.push(`    at ${String(site)}`);
      continue;
    }
    const key = mappedFrameKey(file, site);
    const known = key === undefined ? undefined : mappedFrames.get(key);
    if (known !== undefined) {
      lines.push(known);
      continue;
    }
    // Mapped one frame at a time: the installed formatter writes the header, then the frame.
    const text = installed(error, [site]);
    if (typeof text !== 'string' || !text.startsWith(header)) return installed(error, sites);
    const line = text.slice(header.length).replace(/^\n/, '');
    if (key !== undefined) rememberMappedFrame(key, line);
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * Mapped frame lines, kept from one test file to the next. Jest installs a new source-map support
 * in every test file, which reads and parses a file's source map again for its first frame there:
 * on koa's suite, about 40% of what its end-of-file leak reports cost. A generated position maps
 * the same way while the project (its transform), the file and the file's content are the same, so
 * the key is the project (`useFrameMappingScope`), the frame as V8 writes it, and the file's size
 * and mtime. Without a scope nothing is kept.
 */
const mappedFrames = new Map<string, string>();
const MAPPED_FRAMES_MAX = 4096;
let mappingScope: string | undefined;
/** Each file's size and mtime, read once per test file (`useFrameMappingScope`). */
const fileStamps = new Map<string, string | null>();

/**
 * The project whose test file runs now, in this process (Jest runs one file at a time in each):
 * frames mapped under the same scope are reused by later files. `undefined` (between files, and
 * in the process that runs the reporter) keeps none.
 */
export function useFrameMappingScope(scope: string | undefined): void {
  mappingScope = scope;
  fileStamps.clear();
}

function mappedFrameKey(file: string, site: NodeJS.CallSite): string | undefined {
  if (mappingScope === undefined) return undefined;
  let stamp = fileStamps.get(file);
  if (stamp === undefined) {
    try {
      const stats = fs.statSync(file, { throwIfNoEntry: false });
      stamp = stats ? `${stats.size}:${stats.mtimeMs}` : null;
    } catch {
      stamp = null;
    }
    fileStamps.set(file, stamp);
  }
  return stamp === null ? undefined : `${mappingScope}\0${stamp}\0${String(site)}`;
}

function rememberMappedFrame(key: string, line: string): void {
  if (mappedFrames.size >= MAPPED_FRAMES_MAX) mappedFrames.clear();
  mappedFrames.set(key, line);
}

/** The path of a call site's script (file URLs as paths), if it has one. */
function callSiteFile(site: NodeJS.CallSite): string | undefined {
  const location = site.getFileName() ?? site.getScriptNameOrSourceURL();
  if (!location) return undefined;
  return location.startsWith('file://') ? safeFileURLToPath(location) : location;
}

/**
 * The frames of the current call stack, read from V8's call sites without formatting a stack
 * string: another tool's `Error.prepareStackTrace` (Jest installs source-map-support) costs far
 * more per stack than the capture. Positions are the generated code's, which is enough to tell
 * whose code is calling (user, dependency, internal); stacks shown in reports go through
 * `captureStack` instead.
 */
export function callerFrames(
  skipAbove: ((...args: never[]) => unknown) | undefined,
  depth: number,
): Frame[] {
  const holder: { stack?: unknown } = {};
  const previousLimit = Error.stackTraceLimit;
  const previousPrepare = Error.prepareStackTrace;
  Error.stackTraceLimit = depth;
  Error.prepareStackTrace = (_error, callSites) => callSites;
  try {
    Error.captureStackTrace(holder, skipAbove);
    const sites = holder.stack;
    return Array.isArray(sites) ? sites.flatMap(frameOfCallSite) : [];
  } finally {
    Error.prepareStackTrace = previousPrepare;
    Error.stackTraceLimit = previousLimit;
  }
}

function frameOfCallSite(site: NodeJS.CallSite): Frame[] {
  const file = callSiteFile(site);
  if (!file || site.isEval() || file.includes('<anonymous>')) return [];
  const functionName = site.getFunctionName() ?? undefined;
  return [
    {
      file,
      line: site.getLineNumber() ?? 0,
      column: site.getColumnNumber() ?? 0,
      ...(functionName ? { functionName } : {}),
      ...classify(file),
    },
  ];
}

/** Packages whose frames are the test runner's, never the user's. */
const RUNNER_PACKAGES = new Set([
  'jest',
  'jest-circus',
  'jest-runner',
  'jest-runtime',
  'jest-util',
  'jest-mock',
  'jest-worker',
  'jest-snapshot',
  'jest-message-util',
  'jest-environment-node',
  'jest-environment-jsdom',
  'jest-jasmine2',
  'expect',
  'pretty-format',
  'source-map-support',
  'p-limit',
  'co',
  '@sinonjs/fake-timers',
  'hangwatch',
]);

/** hangwatch's own files: its built code, and its sources when run from them. */
export const OWN_DIRS: readonly string[] = [
  path.resolve(__dirname, '..'),
  path.resolve(__dirname, '..', '..', 'src'),
];

/** Whether a file is one of hangwatch's own (under `ownDirs`). */
export function isOwnFile(file: string, ownDirs: readonly string[] = OWN_DIRS): boolean {
  return ownDirs.some((dir) => file.startsWith(dir + path.sep));
}

/**
 * Jest's own stack-line parser (jest-message-util's). Its `cwd` is one no path starts with: frames
 * keep absolute paths, as the rest of hangwatch expects.
 */
/** Parsing is for reports only: loaded with the first stack read. */
const stackUtils = onFirstUse(() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const StackUtilsClass = require('stack-utils') as typeof StackUtils;
  return new StackUtilsClass({ cwd: '\0', internals: [] });
});

export function parseStack(stack: string | undefined): Frame[] {
  if (!stack) return [];
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const frame = parseFrameLine(line);
    if (frame) frames.push(frame);
  }
  return frames;
}

export function parseFrameLine(line: string): Frame | undefined {
  // Only frame lines: a message line such as `at port 80:1:2` is not one.
  if (!/^\s*at /.test(line)) return undefined;
  // stack-utils reads V8's `async` marker as part of the function's name.
  const parsed = stackUtils().parseLine(line.replace(/^(\s*at )async /, '$1'));
  if (!parsed?.file || parsed.line === undefined || parsed.column === undefined) return undefined;
  if (parsed.evalOrigin || parsed.file.includes('<anonymous>')) return undefined;
  const file = parsed.file.startsWith('file://') ? safeFileURLToPath(parsed.file) : parsed.file;
  const functionName = functionNameOf(parsed);
  return {
    file,
    line: parsed.line,
    column: parsed.column,
    ...(functionName ? { functionName } : {}),
    ...classify(file),
  };
}

/** The name as V8 wrote it: `new Foo`, `Foo.bar [as baz]`. */
function functionNameOf(parsed: StackUtils.StackLineData): string | undefined {
  const base = parsed.function ?? '';
  const method = parsed.method ? ` [as ${parsed.method}]` : '';
  const name = `${parsed.constructor === true ? 'new ' : ''}${base}${method}`;
  return name || undefined;
}

function safeFileURLToPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

function classify(file: string): Pick<Frame, 'origin' | 'packageName'> {
  if (file.startsWith('node:') || !path.isAbsolute(file)) return { origin: 'internal' };
  if (isOwnFile(file)) return { origin: 'internal' };
  const packageName = packageOf(file);
  if (packageName === undefined) return { origin: 'user' };
  if (RUNNER_PACKAGES.has(packageName) || packageName.startsWith('@jest/')) {
    return { origin: 'internal', packageName };
  }
  return { origin: 'dependency', packageName };
}

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

function packageOf(file: string): string | undefined {
  const at = file.lastIndexOf(NODE_MODULES);
  if (at === -1) return undefined;
  const parts = file.slice(at + NODE_MODULES.length).split(path.sep);
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/**
 * Turns a raw stack into a creation site: internal frames dropped, runs of frames inside one
 * package collapsed to the package's entry frame, the user's first frame on top.
 */
export function toCreationSite(frames: Frame[]): CreationSite | undefined {
  const kept: Frame[] = [];
  for (const frame of frames) {
    if (frame.origin === 'internal') continue;
    const previous = kept[kept.length - 1];
    if (
      frame.origin === 'dependency' &&
      previous?.origin === 'dependency' &&
      previous.packageName === frame.packageName
    ) {
      // Keep the outermost frame of the run: the one closest to the caller.
      kept[kept.length - 1] = frame;
      continue;
    }
    kept.push(frame);
  }
  if (kept.length === 0) return undefined;
  const top = kept.find((frame) => frame.origin === 'user') ?? kept[0];
  const sourceLine = readSourceLine(top.file, top.line);
  return { top, frames: kept, ...(sourceLine !== undefined ? { sourceLine } : {}) };
}

/**
 * Packages that stand between a caller and Node without being the caller: jsdom's window timers
 * call Node's, and write-file-atomic (through signal-exit) and graceful-fs serve Jest's own cache
 * writes as well as the user's, so the frame below them decides who made the resource. The fake
 * clock (`@sinonjs/fake-timers`, Jest's modern fake timers and sinon's) makes real timers only to
 * step an `*Async` tick (`tickAsync`, `advanceTimersByTimeAsync`): they are the wait of the test
 * that awaits the tick, never the runner's, though its frames are hidden like the runner's.
 */
const PASS_THROUGH_PACKAGES = new Set([
  'jsdom',
  'signal-exit',
  'write-file-atomic',
  'graceful-fs',
  '@sinonjs/fake-timers',
]);

/** Frames of the timer API itself, skipped to find who called it. */
const TIMER_API_FILES = new Set([
  'node:internal/async_hooks',
  'node:internal/timers',
  'node:timers',
]);

/** The frame that called the timer API a timer's creation stack goes through. */
export function timerCaller(frames: Frame[]): Frame | undefined {
  return frames.find((frame) => !TIMER_API_FILES.has(frame.file));
}

/** True when the stack shows the test runner itself created the resource (its own timers, IPC). */
export function isRunnerOwned(frames: Frame[]): boolean {
  const caller = frames.find(
    (frame) =>
      !frame.file.startsWith('node:') &&
      !(frame.packageName !== undefined && PASS_THROUGH_PACKAGES.has(frame.packageName)),
  );
  if (!caller) return false;
  return caller.origin === 'internal' && !frames.some((frame) => frame.origin === 'user');
}

const sourceCache = new Map<string, string[] | null>();

export function readSourceLine(file: string, line: number): string | undefined {
  let lines = sourceCache.get(file);
  if (lines === undefined) {
    try {
      lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
    } catch {
      lines = null;
    }
    sourceCache.set(file, lines);
  }
  const text = lines?.[line - 1];
  return text === undefined ? undefined : text.trim();
}

/**
 * An error stack whose frames are `frames`, in V8's format: Jest reads it to draw its code frame
 * at the first frame, so a report's error can point at the culprit instead of where it was thrown.
 */
export function errorStack(name: string, message: string, frames: Frame[]): string {
  // A frame without a name is written as V8 writes it (`at file:line:col`): Jest's code frame
  // skips `<anonymous>` frames.
  const lines = frames.map((frame) =>
    frame.functionName
      ? `    at ${frame.functionName} (${frame.file}:${frame.line}:${frame.column})`
      : `    at ${frame.file}:${frame.line}:${frame.column}`,
  );
  return [`${name}: ${message}`, ...lines].join('\n');
}

/** Short path for display: relative to the project root when inside it. */
export function displayPath(file: string, rootDir: string): string {
  const relative = path.relative(rootDir, file);
  const outside =
    relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return outside ? file : relative;
}
