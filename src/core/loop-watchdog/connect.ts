import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as path from 'node:path';
import { MessageChannel, Worker, isMainThread, type MessagePort } from 'node:worker_threads';
import type { ToWatchdog, WatchdogStatus, WatchdogThreadData } from './protocol';
import { loopRunDirectory } from './run-directory';
import { SharedLoopState } from './shared-state';
import { SharedUnitSlots } from './unit-slots';

/** The test thread's end of the watchdog: one per process, shared by the test files it runs. */
export interface WatchdogConnection {
  state: SharedLoopState;
  /** Where each test or hook is described as it starts, for the watchdog to read if it freezes. */
  units: SharedUnitSlots;
  /** Never started: the test thread reads it with `receiveMessageOnPort` when a unit ends. */
  reports: MessagePort;
  send(message: ToWatchdog): void;
  /** Tests run in Jest's own process (`--runInBand`), not in a worker process Jest can restart. */
  inBand: boolean;
  markerDir: string | undefined;
}

const THREAD_SCRIPT = path.join(__dirname, 'thread.js');
const STARTUP_TIMEOUT_MS = 10_000;

let connecting: Promise<WatchdogConnection | string> | undefined;

/**
 * Starts the watchdog thread once per process and resolves when it is watching, or with the
 * reason it cannot watch.
 */
export function connectWatchdog(): Promise<WatchdogConnection | string> {
  connecting ??= startWatchdog().catch((error: unknown) => `it failed to start (${String(error)})`);
  return connecting;
}

async function startWatchdog(): Promise<WatchdogConnection | string> {
  if (!isMainThread) {
    return 'Jest runs this file in a worker thread (workerThreads), and the watchdog watches main threads only';
  }
  if (inspector.url() !== undefined) {
    return 'this process is being debugged (--inspect), and a pause at a breakpoint would look like a frozen loop';
  }
  if (!fs.existsSync(THREAD_SCRIPT)) return `its thread script ${THREAD_SCRIPT} is missing`;
  const inBand = !isJestWorkerProcess();
  const state = new SharedLoopState();
  const units = new SharedUnitSlots();
  const { port1: reports, port2: watchdogEnd } = new MessageChannel();
  const data: WatchdogThreadData = {
    buffer: state.buffer,
    epoch: state.epoch,
    unitSlots: units.buffer,
    reports: watchdogEnd,
    inBand,
    markerDir: inBand ? undefined : loopRunDirectory(),
  };
  const worker = new Worker(THREAD_SCRIPT, {
    workerData: data,
    transferList: [watchdogEnd],
    // The test process's flags (--experimental-vm-modules, --require hooks) are not the thread's.
    execArgv: [],
  });
  const status = await new Promise<WatchdogStatus>((resolve) => {
    const timer = setTimeout(
      () => resolve({ type: 'unavailable', reason: 'it did not start in time' }),
      STARTUP_TIMEOUT_MS,
    );
    worker.once('message', (message: WatchdogStatus) => {
      clearTimeout(timer);
      resolve(message);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      resolve({ type: 'unavailable', reason: `its thread failed (${error.message})` });
    });
  });
  if (status.type === 'unavailable') {
    void worker.terminate();
    return status.reason;
  }
  // No debugger warm-up here: V8's first `Debugger.enable` costs about 0.1 s of CPU in every test
  // process; it is paid by the first capture instead (which is why pauses may take a second).
  // Neither may keep the process alive: Jest decides when a worker process ends.
  worker.unref();
  reports.unref();
  return {
    state,
    units,
    reports,
    send: (message) => worker.postMessage(message),
    inBand,
    markerDir: data.markerDir,
  };
}

/** Jest's worker processes are jest-worker's `processChild.js`, with an IPC channel to Jest. */
function isJestWorkerProcess(): boolean {
  const entry = require.main?.filename ?? process.argv[1] ?? '';
  return (
    typeof process.send === 'function' &&
    /jest-worker[\\/]build[\\/](workers[\\/])?processChild\.js$/.test(entry)
  );
}
