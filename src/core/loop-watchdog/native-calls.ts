import type * as ChildProcess from 'node:child_process';
import type * as Fs from 'node:fs';
import type { Frame } from '../model';
import { captureStack, framesOf } from '../stack';

/**
 * Calls that can block the test thread inside native code, where the watchdog's inspector pause
 * never lands: synchronous child processes, `Atomics.wait`, synchronous reads and opens of pipes,
 * FIFOs and terminals. Each is wrapped so that, only when it is called while a test or hook runs,
 * it records what it is and where it was called (one stack capture, the price of a few
 * microseconds next to a process spawn or a blocking read). Regular-file reads cost one `stat`.
 */
export interface NativeCallInfo {
  /** `child_process.execSync`, `Atomics.wait`, `fs.readFileSync`... */
  api: string;
  /** The command and its arguments, the path, or the wait's arguments. */
  args: string;
  /**
   * For a call that waits on a child process of its own: the programs that child may run (the
   * shell, the command). Ending that child unblocks the call.
   */
  childPrograms?: string[];
}

export interface NativeCallRecorder {
  /** Whether a test or hook is running now (nothing is recorded outside one). */
  watching(): boolean;
  /** Before the call: returns its id. */
  beginCall(info: NativeCallInfo, frames: Frame[]): number;
  /** After the call returned or threw; throws the watchdog's report instead when it ended it. */
  endCall(id: number): void;
}

let recorder: NativeCallRecorder | undefined;

/** The recorder of the file running now; one process-wide slot, as the patched modules are. */
export function setNativeCallRecorder(next: NativeCallRecorder | undefined): void {
  recorder = next;
}

let depth = 0;

/**
 * Whether a call now is to be looked at: a unit is running, and this is not a call nested in a
 * watched one (readFileSync opens and reads through openSync and readSync: they are the outer
 * call's, recorded or found harmless with it). Checked before anything is allocated: Jest's own
 * module loading goes through these functions too.
 */
function shouldTrack(): boolean {
  return recorder !== undefined && depth === 0 && recorder.watching();
}

function track<Result>(
  describe: () => NativeCallInfo | undefined,
  call: () => Result,
  caller: (...args: never[]) => unknown,
): Result {
  const active = recorder;
  const info = active && describe();
  if (!active || !info) return callNested(call);
  let id: number;
  try {
    id = active.beginCall(info, framesOf(captureStack(caller, 24)));
  } catch {
    return call(); // never the user's call's problem
  }
  depth++;
  let result: Result;
  try {
    result = call();
  } catch (error) {
    depth--;
    active.endCall(id);
    throw error;
  }
  depth--;
  active.endCall(id);
  return result;
}

/** A call found harmless: what it calls in turn is its own (see `shouldTrack`). */
function callNested<Result>(
  call: (...args: never[]) => Result,
  self?: unknown,
  args: ArrayLike<unknown> = [],
): Result {
  depth++;
  try {
    return Reflect.apply(call, self, args) as Result;
  } finally {
    depth--;
  }
}

const MAX_ARGS_LENGTH = 200;

function shorten(text: string): string {
  return text.length > MAX_ARGS_LENGTH ? `${text.slice(0, MAX_ARGS_LENGTH - 1)}…` : text;
}

function commandLine(file: unknown, args: unknown): string {
  const list = Array.isArray(args) ? args.map(String) : [];
  return shorten([String(file), ...list].join(' '));
}

function optionsOf(args: unknown[], at: number): { shell?: unknown } {
  const candidate = Array.isArray(args[at]) ? args[at + 1] : args[at];
  return candidate && typeof candidate === 'object' ? (candidate as { shell?: unknown }) : {};
}

/** The shell runs the command, or `exec`s its first word in its place. */
function programsOf(file: unknown, shell: unknown): string[] {
  const programs: string[] = [];
  const firstWord = String(file).trim().split(/\s+/)[0];
  if (firstWord) programs.push(firstWord);
  if (shell) {
    programs.push(
      typeof shell === 'string' ? shell : process.platform === 'win32' ? 'cmd.exe' : 'sh',
    );
  }
  return programs;
}

const patched = new WeakSet<object>();

/** Wraps the synchronous child-process calls of Node's own module (shared by every realm). */
export function watchChildProcessCalls(childProcess: typeof ChildProcess): void {
  if (patched.has(childProcess)) return;
  patched.add(childProcess);
  const { execSync, execFileSync, spawnSync } = childProcess;
  const cp = childProcess as unknown as Record<string, unknown>;
  cp.execSync = function execSyncWatched(this: unknown, ...args: unknown[]) {
    if (!shouldTrack()) return (execSync as (...a: unknown[]) => unknown).apply(this, args);
    return track(
      () => ({
        api: 'child_process.execSync',
        args: shorten(String(args[0])),
        childPrograms: programsOf(args[0], optionsOf(args, 1).shell ?? true),
      }),
      () => (execSync as (...a: unknown[]) => unknown).apply(this, args),
      execSyncWatched,
    );
  };
  cp.execFileSync = function execFileSyncWatched(this: unknown, ...args: unknown[]) {
    if (!shouldTrack()) return (execFileSync as (...a: unknown[]) => unknown).apply(this, args);
    return track(
      () => ({
        api: 'child_process.execFileSync',
        args: commandLine(args[0], args[1]),
        childPrograms: programsOf(args[0], optionsOf(args, 1).shell),
      }),
      () => (execFileSync as (...a: unknown[]) => unknown).apply(this, args),
      execFileSyncWatched,
    );
  };
  cp.spawnSync = function spawnSyncWatched(this: unknown, ...args: unknown[]) {
    if (!shouldTrack()) return (spawnSync as (...a: unknown[]) => unknown).apply(this, args);
    return track(
      () => ({
        api: 'child_process.spawnSync',
        args: commandLine(args[0], args[1]),
        childPrograms: programsOf(args[0], optionsOf(args, 1).shell),
      }),
      () => (spawnSync as (...a: unknown[]) => unknown).apply(this, args),
      spawnSyncWatched,
    );
  };
}

/** What a path or descriptor is, when reading or opening it can block: a FIFO, socket, terminal. */
function blockingKind(fs: typeof Fs, target: unknown): string | undefined {
  let stat: Fs.Stats | undefined;
  try {
    if (typeof target === 'number') stat = fs.fstatSync(target);
    else if (typeof target === 'string' || target instanceof URL || Buffer.isBuffer(target)) {
      stat = fs.statSync(target, { throwIfNoEntry: false });
    }
  } catch {
    return undefined;
  }
  if (!stat) return undefined;
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'character device';
  return undefined;
}

function describeTarget(target: unknown, kind: string): string {
  return typeof target === 'number' ? `fd ${target} (${kind})` : `${String(target)} (${kind})`;
}

/**
 * Paths of modules, source maps and snapshots: what Jest's module loading reads while a test
 * runs (a `require` inside a test). No FIFO or terminal has such a name, so they skip the `stat`
 * that tells one.
 */
const MODULE_FILE = /\.(?:[cm]?[jt]sx?|json|map|snap|node)$/;

function mayBlock(target: unknown): boolean {
  return typeof target !== 'string' || !MODULE_FILE.test(target);
}

/** Wraps the synchronous reads, writes and opens of Node's `fs` that can wait on another process. */
export function watchFileSystemCalls(fs: typeof Fs): void {
  if (patched.has(fs)) return;
  patched.add(fs);
  const target = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['readFileSync', 'readSync', 'openSync', 'writeFileSync', 'writeSync']) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    // `arguments`, not a rest array: Node's own readFileSync calls openSync and readSync through
    // the module object, so every synchronous read of the process passes here two or three times.
    const watched = function (this: unknown) {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments;
      if (!shouldTrack()) return Reflect.apply(original, this, args);
      const path = args[0];
      if (!mayBlock(path)) return callNested(original, this, args);
      return track(
        () => {
          const kind = blockingKind(fs, path);
          return kind
            ? { api: `fs.${name}`, args: shorten(describeTarget(path, kind)) }
            : undefined;
        },
        () => Reflect.apply(original, this, args) as unknown,
        watched,
      );
    };
    Object.defineProperty(watched, 'name', { value: name });
    target[name] = watched;
  }
}

/** Wraps `Atomics.wait` of a test file's realm (each vm context has its own `Atomics`). */
export function watchAtomicsWait(atomics: typeof Atomics): void {
  if (patched.has(atomics)) return;
  patched.add(atomics);
  const wait = atomics.wait;
  const watched = function wait_(
    this: unknown,
    typedArray: Int32Array | BigInt64Array,
    index: number,
    value: number | bigint,
    timeout?: number,
  ) {
    if (!shouldTrack()) {
      return (wait as (...a: unknown[]) => unknown).call(this, typedArray, index, value, timeout);
    }
    return track(
      () => ({
        api: 'Atomics.wait',
        args: `index ${index}, value ${String(value)}, timeout ${timeout === undefined ? 'none' : `${timeout} ms`}`,
      }),
      () => (wait as (...a: unknown[]) => unknown).call(this, typedArray, index, value, timeout),
      watched,
    );
  };
  Object.defineProperty(watched, 'name', { value: 'wait' });
  atomics.wait = watched as typeof Atomics.wait;
}
