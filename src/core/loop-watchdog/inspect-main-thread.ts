import * as inspector from 'node:inspector';
import { fileURLToPath } from 'node:url';
import type { Frame } from '../model';
import type * as StackModule from '../stack';
import { RUNNING_UNIT_KEY } from './protocol';
import { agreeingCount } from './samples';
import type * as SourceMapsModule from './source-maps';

/**
 * Frame parsing and source maps (stack-utils, trace-mapping), loaded on the first capture: the
 * watchdog starts in every test process, and most never capture.
 */
let frameTools:
  | {
      parseFrameLine: typeof StackModule.parseFrameLine;
      sourceMaps: SourceMapsModule.SourceMapResolver;
    }
  | undefined;
function loadFrameTools(): NonNullable<typeof frameTools> {
  if (!frameTools) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { parseFrameLine } = require('../stack') as typeof StackModule;
    const { SourceMapResolver } = require('./source-maps') as typeof SourceMapsModule;
    /* eslint-enable @typescript-eslint/no-require-imports */
    frameTools = { parseFrameLine, sourceMaps: new SourceMapResolver() };
  }
  return frameTools;
}

/** Reads the running unit's token in the paused frame's realm; 0 without one (see `runningUnit`). */
const RUNNING_UNIT_EXPRESSION = `(() => {
  try {
    const token = globalThis[Symbol.for(${JSON.stringify(RUNNING_UNIT_KEY)})];
    return typeof token === 'function' ? token() : 0;
  } catch {
    return 0;
  }
})()`;
/** Steps taken from a pause outside the user's code towards it (see `stepToUserCode`). */
const MAX_STEPS_TO_USER_CODE = 4;
const REQUEST_TIMEOUT_MS = 2000;
/**
 * How long a step out of a function entered at the pause may take before that function is taken
 * to be the one that loops: a predicate returns in microseconds of CPU, this leaves a loaded
 * machine room to schedule the thread.
 */
const STEP_OUT_TIMEOUT_MS = 500;
/**
 * The first `Debugger.enable` in a process costs V8 about 0.1 s of CPU, many times that in wall
 * time on a loaded machine: only a thread that stays silent this long is taken to be in native code.
 */
const ENABLE_TIMEOUT_MS = 15_000;

interface ScriptInfo {
  url: string;
  sourceMapURL?: string;
}

interface Location {
  scriptId: string;
  lineNumber: number;
  columnNumber?: number;
}

interface CallFrame {
  callFrameId: string;
  functionName: string;
  url?: string;
  location: Location;
  functionLocation?: Location;
}

/**
 * The watchdog's view into the test thread, from another thread: it can pause the test thread
 * wherever it is (even inside `while (true) {}`: V8 checks for interrupts at loop back edges),
 * read its stack, and resume it or end the process.
 *
 * The debugger is enabled only for the moment of a capture: while it is on, V8 sends an event for
 * every script the test thread compiles, and Jest compiles many. Requests reach the test thread
 * only while it runs JavaScript (V8 interrupts), never while its loop is idle: every wait here
 * has a timeout, and the heartbeat runs often enough for the rest.
 */
export class MainThreadInspector {
  private readonly session = new inspector.Session();
  private scripts = new Map<string, ScriptInfo>();
  /** The current pause's frames, raw (for what mapping drops) beside their mapped frame. */
  private pausedFrames: { raw: CallFrame; mapped: Frame | undefined }[] = [];
  /** A step out of an entered function did not come back in this capture: not tried again. */
  private stepOutTimedOut = false;
  private paused = false;
  private connected = false;

  constructor() {
    this.session.on(
      'Debugger.scriptParsed',
      (message: { params: ScriptInfo & { scriptId: string } }) => {
        const { scriptId, url, sourceMapURL } = message.params;
        this.scripts.set(scriptId, { url, ...(sourceMapURL ? { sourceMapURL } : {}) });
      },
    );
  }

  /**
   * Connected only for a capture: a session still attached when the process ends makes Node print
   * "Waiting for the debugger to disconnect..." (as on every `jest --forceExit`).
   */
  private connect(): void {
    if (this.connected) return;
    this.session.connectToMainThread();
    this.connected = true;
  }

  private disconnect(): void {
    if (!this.connected) return;
    this.session.disconnect();
    this.connected = false;
  }

  /**
   * Pauses the test thread and returns its stack, source-mapped, most recent call first, leaving it
   * paused. `undefined` when it did not pause within `timeoutMs`: it is not running JavaScript
   * (blocked in a native call, or the block just ended and the loop is idle).
   */
  async pause(timeoutMs: number): Promise<Frame[] | undefined> {
    if (!(await this.enable())) return undefined;
    const frames = await this.pauseEnabled(timeoutMs);
    if (!frames) await this.disable();
    return frames;
  }

  /**
   * Samples the test thread's stack up to `maxSamples` times, `intervalMs` apart, as a sampling
   * profiler would, and stops early once `enough` samples agree on a frame of the project's own
   * code: one pause can land where no user frame is on the stack (between two microtasks of an
   * `await` loop). Leaves the thread running. An empty list: the first pause did not land.
   * `answered`: the thread took the debugger's requests (it was not stuck in native code), so the
   * time this took was partly the inspector's own work on that thread.
   */
  async sample(options: {
    maxSamples: number;
    enough: number;
    intervalMs: number;
    timeoutMs: number;
    /** Asked while paused: is the thread still in the block being looked at? */
    stillBlocked: () => boolean;
    /** Told the running unit of each sample (see `runningUnit`), as soon as it is read. */
    onUnit?: (token: number) => void;
  }): Promise<{ samples: Frame[][]; landed: boolean; answered: boolean }> {
    if (!(await this.enable())) return { samples: [], landed: false, answered: false };
    const samples: Frame[][] = [];
    let landed = false;
    try {
      while (samples.length < options.maxSamples) {
        let frames = await this.pauseEnabled(options.timeoutMs);
        if (!frames) break;
        landed = true;
        if (!options.stillBlocked()) break; // it ran on: this stack is not the block's
        if (!frames.some((frame) => frame.origin === 'user')) {
          frames = (await this.stepToUserCode(options.timeoutMs)) ?? frames;
        } else {
          frames = await this.callerOfEnteredFunction(frames, options.timeoutMs);
        }
        samples.push(frames);
        if (options.onUnit) {
          const unit = await this.runningUnit(options.timeoutMs);
          if (unit > 0) options.onUnit(unit);
        }
        this.paused = false;
        await this.post('Debugger.resume').catch(() => undefined);
        if (agreeingCount(samples) >= options.enough) break;
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
      }
    } finally {
      await this.disable();
    }
    return { samples, landed, answered: true };
  }

  /**
   * The token of the unit the paused code runs for: the function the test thread left under
   * `RUNNING_UNIT_KEY`, called on the top frame (in that frame's realm, in the async context
   * current there). 0 when it is not there or does not answer.
   */
  private async runningUnit(timeoutMs: number): Promise<number> {
    const frame = this.pausedFrames[0]?.raw;
    if (!frame?.callFrameId) return 0;
    const answer = (await this.post(
      'Debugger.evaluateOnCallFrame',
      {
        callFrameId: frame.callFrameId,
        expression: RUNNING_UNIT_EXPRESSION,
        returnByValue: true,
        silent: true,
      },
      timeoutMs,
    ).catch(() => undefined)) as { result?: { value?: unknown } } | undefined;
    const token = answer?.result?.value;
    return typeof token === 'number' && Number.isInteger(token) && token > 0 ? token : 0;
  }

  /**
   * Paused where no user frame is on the stack (V8 between two microtasks of an `await` loop,
   * Node's tick queue): a few steps into what runs next usually reach the user's code.
   */
  private async stepToUserCode(timeoutMs: number): Promise<Frame[] | undefined> {
    for (let step = 0; step < MAX_STEPS_TO_USER_CODE; step++) {
      const frames = await this.awaitPause('Debugger.stepInto', timeoutMs);
      if (!frames) {
        // It did not stop again (the thread went idle or native): nothing is paused now.
        this.paused = false;
        return undefined;
      }
      if (frames.some((frame) => frame.origin === 'user')) return frames;
    }
    return undefined;
  }

  /**
   * A pause lands where V8 next checks for interrupts: a loop's back edge, or a function's entry.
   * Code not optimised yet (early on, or while a loaded machine keeps the optimising compiler's
   * thread waiting) enters the callee of a loop (`while (!done())`) as often as it loops, and a
   * pause on that entry shows the callee, though the loop that never ends is its caller's. So a
   * user function paused at its first position, called by a user function, is stepped out of
   * once: when it returns, the sample is its caller's, at the call. One that does not return in
   * time loops itself (a `while` that is a function's first statement sits at that position too):
   * it is paused again and kept.
   */
  private async callerOfEnteredFunction(frames: Frame[], timeoutMs: number): Promise<Frame[]> {
    const [callee, caller] = this.pausedFrames;
    if (this.stepOutTimedOut || !callee?.raw.functionLocation) return frames;
    if (callee.mapped?.origin !== 'user' || caller?.mapped?.origin !== 'user') return frames;
    // Positions it could stop at between its start and the pause: none means it was just entered.
    const before = (await this.post('Debugger.getPossibleBreakpoints', {
      start: callee.raw.functionLocation,
      end: callee.raw.location,
      restrictToFunction: true,
    }).catch(() => undefined)) as { locations?: unknown[] } | undefined;
    if (!before?.locations || before.locations.length > 0) return frames;
    const callerFrames = mappedOf(this.pausedFrames.slice(1));
    if (await this.awaitPause('Debugger.stepOut', STEP_OUT_TIMEOUT_MS)) return callerFrames;
    this.stepOutTimedOut = true;
    // It is running on inside the callee (or went idle): pause it again where it is.
    this.paused = false;
    await this.awaitPause('Debugger.pause', timeoutMs);
    return frames;
  }

  /** False when the thread did not answer (blocked in native code). */
  private async enable(): Promise<boolean> {
    this.scripts = new Map();
    this.stepOutTimedOut = false;
    this.connect();
    try {
      // Enabling replays `scriptParsed` for every existing script before it answers.
      await this.post('Debugger.enable', {}, ENABLE_TIMEOUT_MS);
      return true;
    } catch {
      await this.disable();
      return false;
    }
  }

  private async disable(): Promise<void> {
    if (this.paused) await this.post('Debugger.resume').catch(() => undefined);
    this.paused = false;
    // Disabling also drops a pending pause request, so the thread does not stop later by surprise.
    await this.post('Debugger.disable').catch(() => undefined);
    this.disconnect();
  }

  private pauseEnabled(timeoutMs: number): Promise<Frame[] | undefined> {
    return this.awaitPause('Debugger.pause', timeoutMs);
  }

  private async awaitPause(method: string, timeoutMs: number): Promise<Frame[] | undefined> {
    let onPaused: ((message: { params: { callFrames: CallFrame[] } }) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const callFrames = await new Promise<CallFrame[] | undefined>((resolve) => {
      onPaused = (message) => resolve(message.params.callFrames);
      this.session.once('Debugger.paused', onPaused);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.post(method).catch(() => resolve(undefined));
    });
    clearTimeout(timer);
    if (onPaused) this.session.off('Debugger.paused', onPaused);
    if (!callFrames) return undefined;
    this.paused = true;
    this.pausedFrames = callFrames.map((raw) => ({ raw, mapped: this.toFrame(raw) }));
    return mappedOf(this.pausedFrames);
  }

  async resume(): Promise<void> {
    await this.disable();
  }

  /**
   * Ends the process from the test thread itself, with `exitCode`: the thread is paused inside
   * the loop, and the debugger can still run code on it there. This is the one way to choose the
   * exit code from outside, which Jest's worker pool reads (`Runtime.terminateExecution` would
   * abort Node instead: the async hook stack it leaves behind is corrupt).
   */
  exitProcess(exitCode: number): void {
    const code = Math.trunc(exitCode);
    this.session.post('Runtime.evaluate', {
      expression: `typeof process.reallyExit === 'function' ? process.reallyExit(${code}) : process.exit(${code})`,
    });
  }

  /** Loads the frame tools ahead of a capture (see `loadFrameTools`). */
  prepareCapture(): void {
    loadFrameTools();
  }

  private toFrame(callFrame: CallFrame): Frame | undefined {
    const script = this.scripts.get(callFrame.location.scriptId);
    const url = script?.url || callFrame.url;
    if (!url) return undefined;
    // Node's own modules have `file://` URLs; Jest's vm scripts have plain paths.
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const { parseFrameLine, sourceMaps } = loadFrameTools();
    const position = sourceMaps.resolve(
      file,
      script?.sourceMapURL,
      callFrame.location.lineNumber,
      callFrame.location.columnNumber ?? 0,
    );
    const location = `${position.file}:${position.line}:${position.column}`;
    const name = callFrame.functionName;
    return parseFrameLine(name ? `    at ${name} (${location})` : `    at ${location}`);
  }

  /**
   * A thread blocked in native code answers nothing, not even `Debugger.enable`: every request
   * gives up after `REQUEST_TIMEOUT_MS` so the watchdog is never stuck waiting on it.
   */
  private post(
    method: string,
    params: object = {},
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${method} got no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.session.post(method, params, (error, result) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(result);
      });
    });
  }
}

/** The frames of a pause that map to a script, most recent call first. */
function mappedOf(frames: { mapped: Frame | undefined }[]): Frame[] {
  return frames.flatMap(({ mapped }) => (mapped ? [mapped] : []));
}
