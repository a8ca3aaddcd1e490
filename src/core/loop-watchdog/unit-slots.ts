import type { LoopUnit } from './report';

/** Concurrent units describable at once (`test.concurrent`); slots are reused by token. */
const SLOT_COUNT = 16;
const SLOT_BYTES = 4096;
/** A name longer than this is cut, so the description always fits its slot. */
const MAX_NAME_CHARS = 500;

/** Per slot, in 32-bit integers. */
const enum Header {
  /** The token it describes; 0 while it is being written. */
  Token,
  Kind,
  /** Byte lengths of the four texts, in this order in the slot's bytes; -1: no `forTest`. */
  NameBytes,
  ForTestBytes,
  TestPathBytes,
  RootDirBytes,
  Count,
}

const KINDS: readonly LoopUnit['kind'][] = [
  'test',
  'beforeEach',
  'afterEach',
  'beforeAll',
  'afterAll',
];

/**
 * The tests and hooks now running, described in memory both threads share. The watchdog needs a
 * unit's description only when that unit froze the loop, and then the test thread cannot answer,
 * so the test thread leaves it here as each unit starts: its texts copied in, nothing serialised.
 * A message per unit start and end did the same at a structured clone and a wake-up of the
 * watchdog thread each, the largest single cost of the watchdog on a suite of short tests; a JSON
 * text per unit, about 2 µs more each. A slot keeps its file's path and root directory from one
 * unit to the next: only the unit's own names are copied while the file stays the same.
 */
export class SharedUnitSlots {
  private readonly headers: Int32Array;
  private readonly timeouts: Float64Array;
  private readonly bytes: Buffer;
  /** What each slot's path texts hold now (test thread only): rewritten when they change. */
  private readonly written: { testPath?: string; rootDir?: string }[] = [];

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(
      SLOT_COUNT * (Header.Count * 4 + 8 + SLOT_BYTES),
    ),
  ) {
    this.headers = new Int32Array(buffer, 0, SLOT_COUNT * Header.Count);
    this.timeouts = new Float64Array(buffer, SLOT_COUNT * Header.Count * 4, SLOT_COUNT);
    this.bytes = Buffer.from(buffer, SLOT_COUNT * (Header.Count * 4 + 8));
  }

  /** Test thread: describes unit `token` (a positive integer) for the watchdog. */
  write(token: number, unit: LoopUnit): void {
    const slot = token % SLOT_COUNT;
    const at = slot * Header.Count;
    Atomics.store(this.headers, at + Header.Token, 0);
    let { name, forTest, testPath, rootDir } = unit;
    // Worst case three bytes a character: cut the texts only when they might not fit.
    const chars = name.length + (forTest?.length ?? 0) + testPath.length + rootDir.length;
    if (chars * 3 > SLOT_BYTES) {
      name = name.slice(0, MAX_NAME_CHARS);
      forTest = forTest?.slice(0, MAX_NAME_CHARS);
      testPath = testPath.slice(-MAX_NAME_CHARS);
      rootDir = rootDir.slice(-MAX_NAME_CHARS);
    }
    const start = slot * SLOT_BYTES;
    // The paths first, where they stay while the file does; the names after them.
    const seen = (this.written[slot] ??= {});
    if (seen.testPath !== testPath || seen.rootDir !== rootDir) {
      const pathBytes = this.bytes.write(testPath, start, SLOT_BYTES, 'utf8');
      const rootBytes = this.bytes.write(
        rootDir,
        start + pathBytes,
        SLOT_BYTES - pathBytes,
        'utf8',
      );
      this.headers[at + Header.TestPathBytes] = pathBytes;
      this.headers[at + Header.RootDirBytes] = rootBytes;
      seen.testPath = testPath;
      seen.rootDir = rootDir;
    }
    let used = this.headers[at + Header.TestPathBytes] + this.headers[at + Header.RootDirBytes];
    const nameBytes = this.bytes.write(name, start + used, SLOT_BYTES - used, 'utf8');
    used += nameBytes;
    const forTestBytes =
      forTest === undefined
        ? -1
        : this.bytes.write(forTest, start + used, SLOT_BYTES - used, 'utf8');
    this.headers[at + Header.Kind] = KINDS.indexOf(unit.kind);
    this.headers[at + Header.NameBytes] = nameBytes;
    this.headers[at + Header.ForTestBytes] = forTestBytes;
    this.timeouts[slot] = unit.timeoutMs;
    // Last, and atomically: the watchdog reads nothing of a slot whose token is not the unit's.
    Atomics.store(this.headers, at + Header.Token, token);
  }

  /** Watchdog: the description of unit `token`, if its slot still holds it. */
  get(token: number): LoopUnit | undefined {
    if (!(token > 0)) return undefined;
    const slot = token % SLOT_COUNT;
    const at = slot * Header.Count;
    if (Atomics.load(this.headers, at + Header.Token) !== token) return undefined;
    const kind = KINDS[this.headers[at + Header.Kind]];
    const lengths = [
      this.headers[at + Header.TestPathBytes],
      this.headers[at + Header.RootDirBytes],
      this.headers[at + Header.NameBytes],
      this.headers[at + Header.ForTestBytes],
    ];
    const timeoutMs = this.timeouts[slot];
    let offset = slot * SLOT_BYTES;
    const [testPath, rootDir, name, forTest] = lengths.map((length) => {
      if (length < 0) return undefined;
      const text = this.bytes.toString('utf8', offset, offset + length);
      offset += length;
      return text;
    });
    // Rewritten for another unit meanwhile: what was read may be half of each.
    if (Atomics.load(this.headers, at + Header.Token) !== token) return undefined;
    if (kind === undefined || name === undefined) return undefined;
    if (testPath === undefined || rootDir === undefined) return undefined;
    return {
      kind,
      name,
      ...(forTest !== undefined ? { forTest } : {}),
      testPath,
      rootDir,
      timeoutMs,
    };
  }
}
