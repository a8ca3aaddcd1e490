import {
  DeadlockError,
  LockTimeoutError,
  Mutex,
  RWLock,
  Semaphore,
  lockGraph,
  nameLock,
  task,
} from '../../src/sync';
import type { Flow } from '../../src/core/locks/flows';

const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

async function transfer(from: Mutex, to: Mutex): Promise<void> {
  const releaseFrom = await from.acquire();
  try {
    await pause();
    const releaseTo = await to.acquire();
    releaseTo();
  } finally {
    releaseFrom();
  }
}

describe('hangwatch/sync', () => {
  test('Promise.all of the same function in opposite orders: a DeadlockError naming both', async () => {
    const alice = new Mutex('alice');
    const bob = new Mutex('bob');
    const error = await Promise.all([transfer(alice, bob), transfer(bob, alice)]).catch((e) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).deadlock.kind).toBe('cycle');
    expect((error as Error).message).toContain('"alice"');
    expect((error as Error).message).toContain('"bob"');
    expect((error as Error).stack?.split('\n').find((line) => /^\s+at /.test(line))).toContain(
      'locks-sync.test.ts',
    );
  });

  test('Promise.all of the same function in one order is no deadlock', async () => {
    const a = new Mutex('a');
    const b = new Mutex('b');
    await Promise.all([transfer(a, b), transfer(a, b), transfer(a, b)]);
  });

  test('helpers started together under a held lock share another lock without a deadlock', async () => {
    const accounts = new Mutex('accounts');
    const audit = new Mutex('audit');
    const append = async () => {
      const release = await audit.acquire();
      await pause();
      release();
    };
    const release = await accounts.acquire();
    await Promise.all([append(), append(), append()]);
    release();
  });

  test('a loop of nested acquisitions keeps its chain of flows short', async () => {
    const outer = new Mutex('outer');
    const inner = new Mutex('inner');
    for (let i = 0; i < 1000; i++) {
      const releaseOuter = await outer.acquire();
      const releaseInner = await inner.acquire();
      releaseInner();
      releaseOuter();
    }
    let depth = 0;
    for (let flow: Flow | undefined = lockGraph().currentFlow(); flow; flow = flow.parent) depth++;
    expect(depth).toBeLessThan(5);
  });

  test('nameLock refuses what hangwatch does not track', () => {
    expect(() => nameLock({}, 'x')).toThrow(/nameLock: not a lock hangwatch tracks/);
  });

  test('task names appear in reports', async () => {
    const accounts = new Mutex('accounts');
    const error = await task('nightly import', () =>
      accounts.runExclusive(() => accounts.runExclusive(() => 'never')),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message).toContain('accounts');
  });

  test('runExclusive nested on the same mutex fails at once', async () => {
    const m = new Mutex('m');
    await expect(m.runExclusive(() => m.runExclusive(() => 1))).rejects.toThrow(
      /waits for lock "m" that it already holds/,
    );
  });

  test('acquire({ timeout }) uses real time and says who holds the lock since where', async () => {
    jest.useFakeTimers();
    try {
      const m = new Mutex('accounts');
      const release = await m.acquire();
      const error = await task('second', () => m.acquire({ timeout: 30 })).catch((e) => e);
      release();
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect((error as Error).message).toMatch(
        /gave up after 30 ms waiting for a lock: lock "accounts" is held by flow #\d+ since .*locks-sync\.test\.ts:\d+:\d+/,
      );
    } finally {
      jest.useRealTimers();
    }
  });

  test('acquire({ signal }) rejects with the abort reason', async () => {
    const m = new Mutex('m');
    const release = await m.acquire();
    const controller = new AbortController();
    const waiting = task('other', () => m.acquire({ signal: controller.signal }));
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    release();
  });

  test('a semaphore hands out permits in order; an RWLock shares reads and excludes writes', async () => {
    const pool = new Semaphore(2, 'pool');
    const first = await pool.acquire();
    const second = await task('b', () => pool.acquire());
    expect(pool.tryAcquire()).toBeUndefined();
    first();
    second();
    expect(pool.available).toBe(2);
    const rw = new RWLock('config');
    const reads = await Promise.all([task('r1', () => rw.read()), task('r2', () => rw.read())]);
    let wrote = false;
    const writing = task('w', () => rw.runWrite(() => (wrote = true)));
    await pause();
    expect(wrote).toBe(false);
    for (const release of reads) release();
    await writing;
    expect(wrote).toBe(true);
  });
});
