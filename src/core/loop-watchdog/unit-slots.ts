import type { LoopUnit } from './report';

/** Concurrent units describable at once (`test.concurrent`); slots are reused by token. */
const SLOT_COUNT = 16;
const SLOT_BYTES = 4096;
/** Per slot: the token it describes (0 while it is being written) and the JSON's length. */
const HEADER_INTS = 2;
/** A name longer than this is cut, so the description always fits its slot. */
const MAX_NAME_CHARS = 500;

/**
 * The tests and hooks now running, described in memory both threads share. The watchdog needs a
 * unit's description only when that unit froze the loop, and then the test thread cannot answer,
 * so the test thread leaves it here as each unit starts: a `JSON.stringify` and a copy. A message
 * per unit start and end did the same at a structured clone and a wake-up of the watchdog thread
 * each, the largest single cost of the watchdog on a suite of short tests.
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
    let json = JSON.stringify(unit);
    if (json.length * 3 > SLOT_BYTES && Buffer.byteLength(json) > SLOT_BYTES) {
      const { forTest, ...rest } = unit;
      json = JSON.stringify({
        ...rest,
        name: unit.name.slice(0, MAX_NAME_CHARS),
        ...(forTest !== undefined ? { forTest: forTest.slice(0, MAX_NAME_CHARS) } : {}),
        testPath: unit.testPath.slice(-MAX_NAME_CHARS),
        rootDir: unit.rootDir.slice(-MAX_NAME_CHARS),
      });
    }
    const length = this.bytes.write(json, slot * SLOT_BYTES, SLOT_BYTES, 'utf8');
    Atomics.store(this.headers, slot * HEADER_INTS + 1, length);
    Atomics.store(this.headers, slot * HEADER_INTS, token);
  }

  /** Watchdog: the description of unit `token`, if its slot still holds it. */
  get(token: number): LoopUnit | undefined {
    if (!(token > 0)) return undefined;
    const slot = token % SLOT_COUNT;
    if (Atomics.load(this.headers, slot * HEADER_INTS) !== token) return undefined;
    const length = Atomics.load(this.headers, slot * HEADER_INTS + 1);
    const start = slot * SLOT_BYTES;
    const json = this.bytes.toString('utf8', start, start + length);
    // Rewritten for another unit meanwhile: what was read may be half of each.
    if (Atomics.load(this.headers, slot * HEADER_INTS) !== token) return undefined;
    try {
      return JSON.parse(json) as LoopUnit;
    } catch {
      return undefined;
    }
  }
}
