/**
 * The watchdog thread. It runs beside the test thread, reads the heartbeat the test thread leaves
 * in shared memory, and when the loop has stopped beating for `blockThreshold` it looks at what
 * the test thread is doing through the inspector. A loop still blocked past its unit's timeout
 * can never finish by itself, so the watchdog reports it and ends the process.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { readFrozenMarker, writeFrozenMarker } from './frozen-markers';
import { MainThreadInspector } from './inspect-main-thread';
import {
  FROZEN_LOOP_EXIT_CODE,
  type FromWatchdog,
  type WatchdogStatus,
  type WatchdogThreadData,
} from './protocol';
import { buildBlockedLoopFinding, renderBlockedLoopText, type LoopUnit } from './report';
import { SharedLoopState } from './shared-state';
import { SharedUnitSlots } from './unit-slots';

/** How long a pause may take to land before the thread is taken to be inside a native call. */
const PAUSE_TIMEOUT_MS = 1000;
/** If ending the process through the debugger has not worked by then, it is killed. */
const EXIT_FALLBACK_MS = 2000;

interface Block {
  /** The heartbeat the loop stopped at. */
  start: number;
  token: number;
  looked: boolean;
}

class Watchdog {
  private block: Block | undefined;
  private busy = false;

  constructor(
    private readonly state: SharedLoopState,
    private readonly units: SharedUnitSlots,
    private readonly inspector: MainThreadInspector,
    private readonly data: WatchdogThreadData,
  ) {}

  /** Polls often enough to notice a block within a tenth of the threshold. */
  pollDelay(): number {
    return Math.min(100, Math.max(10, Math.round(this.state.thresholdMs() / 10)));
  }

  async poll(): Promise<void> {
    if (this.busy) return;
    if (!this.state.armed()) {
      this.block = undefined;
      return;
    }
    const beat = this.state.lastBeat();
    const now = this.state.now();
    const threshold = this.state.thresholdMs();
    if (this.block && beat !== this.block.start) {
      if (this.block.looked) {
        this.report({
          type: 'block-ended',
          token: this.block.token,
          blockStart: this.block.start,
          blockedMs: beat - this.block.start,
        });
      }
      this.block = undefined;
    }
    if (now - beat <= threshold) return;
    const { token, deadline } = this.state.unit();
    this.block ??= { start: beat, token, looked: false };
    // Between tests the loop is Jest's: loading and transforming files blocks it, legitimately.
    if (token === 0 || token !== this.block.token) return;
    this.busy = true;
    try {
      if (!this.block.looked) {
        this.block.looked = true;
        const frames = await this.inspector.pause(PAUSE_TIMEOUT_MS);
        if (frames) await this.inspector.resume();
        this.report({ type: 'block-seen', token, blockStart: beat, frames: frames ?? [] });
      } else if (deadline > 0 && now > deadline + threshold) {
        // Jest would have failed it at `deadline` if its timer could fire; `threshold` more is
        // the grace for a synchronous test that ends a little after its timeout (Jest passes it).
        await this.endFrozenProcess(token, now - this.block.start);
      }
    } finally {
      this.busy = false;
    }
  }

  private report(message: FromWatchdog): void {
    this.data.reports.postMessage(message);
  }

  private async endFrozenProcess(token: number, blockedMs: number): Promise<void> {
    const unit = this.units.read(token);
    if (!unit) return;
    const frames = await this.inspector.pause(PAUSE_TIMEOUT_MS);
    const { inBand, markerDir } = this.data;
    // A marker already there means the rerun did not stop this unit early: do not loop forever.
    const frozenBefore = !inBand && readFrozenMarker(markerDir, unit) !== undefined;
    const finding = buildBlockedLoopFinding(
      unit,
      { blockedMs, frames: frames ?? [], frozen: true, severity: 'error' },
      [endingNote(unit, inBand, frames !== undefined && !frozenBefore)],
    );
    fs.writeSync(2, `\nhangwatch: ${renderBlockedLoopText(finding, unit.rootDir)}\n\n`);
    if (!inBand && !frozenBefore) {
      try {
        writeFrozenMarker(markerDir, unit, finding);
      } catch {
        // Without its marker the rerun would freeze again: end the process the way Jest won't retry.
        killProcess();
      }
    }
    setTimeout(killProcess, EXIT_FALLBACK_MS).unref();
    if (!frames || frozenBefore) {
      killProcess();
      return;
    }
    // Node prints "Waiting for the debugger to disconnect..." when a process ends with a session
    // attached; the report is out, so nothing else is wanted on stderr from this process.
    fs.closeSync(2);
    this.inspector.exitProcess(FROZEN_LOOP_EXIT_CODE);
  }
}

function endingNote(unit: LoopUnit, inBand: boolean, withExitCode: boolean): string {
  const what = unit.kind === 'test' ? 'test' : 'hook';
  const how = withExitCode ? `exit code ${FROZEN_LOOP_EXIT_CODE}` : 'SIGKILL';
  if (inBand) {
    return `Jest's timeout cannot fire while the loop is blocked, so hangwatch ended the Jest process (${how}): with --runInBand the tests run inside Jest itself, so the run stops here, without the files still to run and without Jest's summary. Without --runInBand, Jest restarts the worker and carries on.`;
  }
  return withExitCode
    ? `Jest's timeout cannot fire while the loop is blocked, so hangwatch ended this Jest worker process (${how}). Jest runs the file again in a new worker, where this ${what} fails at once with this report.`
    : `Jest's timeout cannot fire while the loop is blocked, so hangwatch ended this Jest worker process (${how}); Jest reports the file as crashed.`;
}

/** SIGKILL: Jest's worker pool does not retry a process killed by a signal. */
function killProcess(): void {
  process.kill(process.pid, 'SIGKILL');
}

function main(): void {
  const port = parentPort;
  if (!port) return;
  const data = workerData as WatchdogThreadData;
  const status = (message: WatchdogStatus) => port.postMessage(message);
  let inspector: MainThreadInspector;
  try {
    inspector = new MainThreadInspector();
  } catch (error) {
    status({ type: 'unavailable', reason: `no inspector (${(error as Error).message})` });
    return;
  }
  const watchdog = new Watchdog(
    new SharedLoopState(data.buffer, data.epoch),
    new SharedUnitSlots(data.unitSlots),
    inspector,
    data,
  );
  // The thread's own loop must stay alive while a poll awaits the inspector (its session does not
  // hold the loop): the worker is unref'd on the test thread's side, so this never holds the process.
  setInterval(() => {}, 1 << 30);
  const tick = () => {
    watchdog
      .poll()
      .catch((error: unknown) => {
        // The watchdog must never take the tests down with it: stop watching, say so once.
        fs.writeSync(2, `hangwatch: the event-loop watchdog stopped (${String(error)}).\n`);
        process.exit(0);
      })
      .finally(() => setTimeout(tick, watchdog.pollDelay()));
  };
  tick();
  status({ type: 'ready' });
}

main();
