/**
 * The memory the test thread and the watchdog thread share. The test thread only ever stores a few
 * integers (no messages, no allocation), so the heartbeat costs nothing measurable; the watchdog
 * reads them without asking, which works while the test thread is stuck.
 */
const enum Slot {
  /** When the test thread's event loop last ran a heartbeat, in ms since `epoch`. */
  Beat,
  /** 1 while a test file's environment is set up and wants watching. */
  Armed,
  /** Token of the test or hook now running, 0 when none is. */
  Unit,
  /** When that unit's Jest timeout expires, in ms since `epoch`; 0 when it has none. */
  Deadline,
  /** The file's `blockThreshold`, in ms. */
  Threshold,
  /** Id of the blocking native call (./native-calls.ts) the test thread is inside, 0 if none. */
  NativeCall,
  /** Id of the last native call the watchdog ended by ending its child process. */
  EndedCall,
  /** Token of the unit whose stack the watchdog is sampling now, 0 when none. */
  Looking,
  /** How many reports the watchdog has posted to the test thread so far. */
  ReportsSent,
  Count,
}

export class SharedLoopState {
  private readonly slots: Int32Array;

  /** `epoch` keeps the millisecond clock small enough for 32-bit slots (24 days). */
  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Slot.Count * 4),
    readonly epoch: number = Date.now(),
  ) {
    this.slots = new Int32Array(buffer);
  }

  now(): number {
    return Date.now() - this.epoch;
  }

  beat(): void {
    Atomics.store(this.slots, Slot.Beat, this.now());
  }

  lastBeat(): number {
    return Atomics.load(this.slots, Slot.Beat);
  }

  arm(thresholdMs: number): void {
    Atomics.store(this.slots, Slot.Threshold, thresholdMs);
    this.beat();
    Atomics.store(this.slots, Slot.Armed, 1);
  }

  disarm(): void {
    Atomics.store(this.slots, Slot.Armed, 0);
    this.setUnit(0, 0);
  }

  armed(): boolean {
    return Atomics.load(this.slots, Slot.Armed) === 1;
  }

  thresholdMs(): number {
    return Atomics.load(this.slots, Slot.Threshold);
  }

  setUnit(token: number, deadline: number): void {
    Atomics.store(this.slots, Slot.Deadline, deadline);
    Atomics.store(this.slots, Slot.Unit, token);
  }

  setNativeCall(id: number): void {
    Atomics.store(this.slots, Slot.NativeCall, id);
  }

  nativeCall(): number {
    return Atomics.load(this.slots, Slot.NativeCall);
  }

  setLooking(token: number): void {
    Atomics.store(this.slots, Slot.Looking, token);
  }

  looking(): number {
    return Atomics.load(this.slots, Slot.Looking);
  }

  markCallEnded(id: number): void {
    Atomics.store(this.slots, Slot.EndedCall, id);
  }

  callEnded(): number {
    return Atomics.load(this.slots, Slot.EndedCall);
  }

  /** Watchdog: a report was just posted. */
  countReport(): void {
    Atomics.add(this.slots, Slot.ReportsSent, 1);
  }

  /** Test thread: changed since it was last read, reports wait in the port. */
  reportsSent(): number {
    return Atomics.load(this.slots, Slot.ReportsSent);
  }

  unit(): { token: number; deadline: number } {
    return {
      token: Atomics.load(this.slots, Slot.Unit),
      deadline: Atomics.load(this.slots, Slot.Deadline),
    };
  }
}
