import type { LoopUnit } from './report';

const SLOT_COUNT = 16;
const SLOT_BYTES = 4096;
/** Per slot: the token it holds (0 while being written) and the JSON's length in bytes. */
const HEADER_INTS = 2;

/**
 * The tests and hooks now running, described in memory both threads share. The watchdog needs a
 * unit's description only when that unit froze the loop, and then the test thread cannot answer:
 * so the test thread leaves it here as each unit starts. A message per unit did the same at a
 * structured clone and a wake-up of the watchdog thread each (about 2% of the CPU of a suite of
 * short HTTP tests); this is a `JSON.stringify` and a copy. Slots are reused by token, so at most
 * SLOT_COUNT units (concurrent tests) can be running at once and still be described.
 */
export class SharedUnitSlots {
  private readonly headers: Int32Array;
  private readonly bytes: Buffer;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(
      SLOT_COUNT * (HEADER_INTS * 4 + SLOT_BYTES),
    ),
  ) {
    this.headers = new Int32Array(buffer, 0, SLOT_COUNT * HEADER_INTS);
    this.bytes = Buffer.from(buffer, SLOT_COUNT * HEADER_INTS * 4);
  }

  /** Test thread: describes unit `token` (a positive integer) for the watchdog. */
  write(token: number, unit: LoopUnit): void {
    const slot = token % SLOT_COUNT;
    Atomics.store(this.headers, slot * HEADER_INTS, 0);
    const start = slot * SLOT_BYTES;
    let json = JSON.stringify(unit);
    // A name too long for the slot is cut, never the JSON.
    if (Buffer.byteLength(json) > SLOT_BYTES) {
      json = JSON.stringify({ ...unit, name: unit.name.slice(0, 500), forTest: undefined });
    }
    const length = this.bytes.write(json, start, SLOT_BYTES, 'utf8');
    Atomics.store(this.headers, slot * HEADER_INTS + 1, length);
    Atomics.store(this.headers, slot * HEADER_INTS, token);
  }

  /** Watchdog: the description of unit `token`, if its slot still holds it. */
  read(token: number): LoopUnit | undefined {
    const slot = token % SLOT_COUNT;
    if (token <= 0 || Atomics.load(this.headers, slot * HEADER_INTS) !== token) return undefined;
    const length = Atomics.load(this.headers, slot * HEADER_INTS + 1);
    const start = slot * SLOT_BYTES;
    try {
      return JSON.parse(this.bytes.toString('utf8', start, start + length)) as LoopUnit;
    } catch {
      return undefined;
    }
  }
}
