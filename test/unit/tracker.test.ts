import { AsyncResource } from 'node:async_hooks';
import { EventEmitterAsyncResource } from 'node:events';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { ResourceTracker, type ResourceRecord } from '../../src/core/tracker';
import { framesOf } from '../../src/core/stack';
import { withOrigin } from '../../src/core/origins';
import { applyInContext } from '../../src/core/async-context';
import { LeftOver } from '../../src/core/left-over';

interface Owner {
  name: string;
}

/** `destroy` hooks run asynchronously: give Node a turn of the event loop to deliver them. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const noop = () => {};

const trackers: ResourceTracker<Owner>[] = [];
const cleanups: (() => void | Promise<void>)[] = [];

function track(
  options: { owner?: (contextOwner: unknown) => Owner | undefined; promises?: boolean } = {},
) {
  const tracker = new ResourceTracker<Owner>({
    ownerOf: options.owner ?? (() => undefined),
    promises: options.promises ?? false,
  });
  trackers.push(tracker);
  tracker.enable();
  return tracker;
}

function recordOf(tracker: ResourceTracker<Owner>, resource: object) {
  return tracker.live().find((record) => record.resource === resource);
}

function handleOf(object: object): object {
  const handle = (object as { _handle?: object })._handle;
  if (!handle) throw new Error('no native handle');
  return handle;
}

afterEach(async () => {
  for (const tracker of trackers.splice(0)) tracker.disable();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('ResourceTracker', () => {
  test('a cleared or fired timer is not live, though its destruction is delivered later', async () => {
    const tracker = track();
    const timers = () => tracker.live().filter((record) => record.type === 'Timeout');
    const cleared = setTimeout(noop, 10_000);
    expect(timers()).toHaveLength(1);
    clearTimeout(cleared);
    expect(timers()).toEqual([]);
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
    expect(timers()).toEqual([]);
  });

  test('a zlib handle is pending while its stream is open, done once closed or used synchronously', async () => {
    const tracker = track();
    const zlibHandles = () => tracker.live().filter((record) => record.type === 'ZLIB');
    zlib.gzipSync('hello');
    zlib.brotliCompressSync('hello');
    expect(zlibHandles()).toEqual([]);
    const gzip = zlib.createGzip();
    expect(zlibHandles()).toHaveLength(1);
    await new Promise<void>((resolve) => gzip.close(() => resolve()));
    expect(zlibHandles()).toEqual([]);
  });

  test('a synchronous crypto job is done when its call returns; an asynchronous one is pending until its callback', async () => {
    const tracker = track();
    const cryptoJobs = () => tracker.live().filter((record) => record.type.endsWith('REQUEST'));
    crypto.randomBytes(16);
    crypto.pbkdf2Sync('pw', 'salt', 10, 16, 'sha256');
    crypto.scryptSync('pw', 'salt', 16);
    // Node reports their destruction only when they are collected: they were listed as pending.
    expect(cryptoJobs()).toEqual([]);
    let done!: () => void;
    const called = new Promise<void>((resolve) => (done = resolve));
    crypto.pbkdf2('pw', 'salt', 100_000, 16, 'sha256', () => done());
    expect(cryptoJobs().map((record) => record.type)).toEqual(['PBKDF2REQUEST']);
    await called;
    await nextTurn();
    expect(cryptoJobs()).toEqual([]);
  });

  test('records a real setTimeout with its type, owner and a stack through this test file', () => {
    const owner: Owner = { name: 'creates a timer' };
    const tracker = track({ owner: () => owner });
    const before = performance.now();
    const timer = setTimeout(noop, 10_000);
    cleanups.push(() => clearTimeout(timer));

    const record = recordOf(tracker, timer) as ResourceRecord<Owner>;
    expect(record).toBeDefined();
    expect(record.type).toBe('Timeout');
    expect(record.owner).toBe(owner);
    expect(typeof record.asyncId).toBe('number');
    expect(typeof record.triggerAsyncId).toBe('number');
    expect(record.createdAt).toBeGreaterThanOrEqual(before);
    expect(record.createdAt).toBeLessThanOrEqual(performance.now());
    expect(record.stack.stack).toContain(__filename);
    expect(tracker.get(record.asyncId)).toBe(record);
    expect(tracker.size).toBe(tracker.live().length);
  });

  test('forgets a timer once clearTimeout destroys it', async () => {
    const tracker = track({ owner: () => ({ name: 'clears a timer' }) });
    const timer = setTimeout(noop, 10_000);
    const record = recordOf(tracker, timer);
    expect(record).toBeDefined();

    clearTimeout(timer);
    await nextTurn();

    expect(recordOf(tracker, timer)).toBeUndefined();
    expect(tracker.get(record!.asyncId)).toBeUndefined();
  });

  test('forgets a timer once it has fired', async () => {
    const tracker = track();
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1);
      expect(recordOf(tracker, timer)).toBeDefined();
    });
    await nextTurn();
    expect(recordOf(tracker, timer!)).toBeUndefined();
  });

  test('records no owner when nobody is responsible and there is no owned trigger', () => {
    const tracker = track();
    const timer = setTimeout(noop, 10_000);
    cleanups.push(() => clearTimeout(timer));
    const record = recordOf(tracker, timer);
    expect(record).toBeDefined();
    expect(record?.owner).toBeUndefined();
  });

  test('work an earlier file left running: no owner, its left-over named, its timers counted', async () => {
    const tracker = track({ owner: () => undefined });
    const leftOver = new LeftOver({
      testPath: '/project/cache.test.js',
      owner: { kind: 'test', name: 'waits for the cache to warm' },
      timedOut: true,
    });
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(() => timers.forEach((timer) => clearTimeout(timer)));
    // A poll loop, as its file's release leaves it: its store names the left-over.
    applyInContext({ owner: leftOver }, Reflect.apply, () => pollLoop(timers), null, []);
    while (timers.length < 3) await new Promise((resolve) => setTimeout(resolve, 2));
    const latest = recordOf(tracker, timers[2]);
    expect(latest?.owner).toBeUndefined();
    expect(latest?.leftOver).toBe(leftOver);
    expect(tracker.timersSetBy(leftOver)).toBeGreaterThanOrEqual(3);
    // What nobody's work makes stays nobody's.
    const alone = setTimeout(noop, 10_000);
    timers.push(alone);
    expect(recordOf(tracker, alone)?.leftOver).toBeUndefined();
  });

  test('lists live records oldest first', () => {
    const tracker = track();
    const first = setTimeout(noop, 10_000);
    const second = setTimeout(noop, 10_000);
    cleanups.push(
      () => clearTimeout(first),
      () => clearTimeout(second),
    );
    const resources = tracker.live().map((record) => record.resource);
    expect(resources.indexOf(first)).toBeGreaterThanOrEqual(0);
    expect(resources.indexOf(first)).toBeLessThan(resources.indexOf(second));
  });

  test('untracked() hides what its function creates and returns its result', () => {
    const tracker = track({ owner: () => ({ name: 'hangwatch itself' }) });
    const hidden = tracker.untracked(() => setTimeout(noop, 10_000));
    const visible = setTimeout(noop, 10_000);
    cleanups.push(
      () => clearTimeout(hidden),
      () => clearTimeout(visible),
    );
    expect(recordOf(tracker, hidden)).toBeUndefined();
    expect(recordOf(tracker, visible)).toBeDefined();
  });

  test('untracked() resumes recording after its function throws', () => {
    const tracker = track();
    expect(() =>
      tracker.untracked(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const timer = setTimeout(noop, 10_000);
    cleanups.push(() => clearTimeout(timer));
    expect(recordOf(tracker, timer)).toBeDefined();
  });

  test('nested untracked() calls only resume recording when the outermost one returns', () => {
    const tracker = track();
    const inner = tracker.untracked(() => {
      tracker.untracked(noop);
      return setTimeout(noop, 10_000);
    });
    cleanups.push(() => clearTimeout(inner));
    expect(recordOf(tracker, inner)).toBeUndefined();
  });

  test('never records process.nextTick work', () => {
    const tracker = track();
    process.nextTick(noop);
    expect(tracker.live().some((record) => record.type === 'TickObject')).toBe(false);
  });

  test('disable() stops recording and forgets everything', () => {
    const tracker = track();
    const before = setTimeout(noop, 10_000);
    cleanups.push(() => clearTimeout(before));
    expect(tracker.size).toBeGreaterThan(0);
    tracker.disable();
    expect(tracker.size).toBe(0);
    const after = setTimeout(noop, 10_000);
    cleanups.push(() => clearTimeout(after));
    expect(recordOf(tracker, after)).toBeUndefined();
  });

  describe('promises', () => {
    function neverSettles(): Promise<never> {
      return new Promise<never>(noop);
    }
    const createdByNeverSettles = (record: ResourceRecord<Owner>) =>
      record.type === 'PROMISE' && (record.stack.stack ?? '').includes('neverSettles');

    test('are not recorded by default', () => {
      const tracker = track();
      void neverSettles();
      expect(tracker.live().some((record) => record.type === 'PROMISE')).toBe(false);
    });

    test('are recorded with promises: true, without holding the promise object', () => {
      const owner: Owner = { name: 'awaits forever' };
      const tracker = track({ owner: () => owner, promises: true });
      void neverSettles();
      const records = tracker.live().filter(createdByNeverSettles);
      expect(records).toHaveLength(1);
      expect(records[0].resource).toBeUndefined();
      expect(records[0].owner).toBe(owner);
      expect(records[0].stack.stack).toContain(__filename);
    });

    test('are forgotten once resolved', () => {
      const tracker = track({ promises: true });
      let resolve: () => void = noop;
      function settlesLater(): Promise<void> {
        return new Promise<void>((r) => (resolve = r));
      }
      void settlesLater();
      const created = (record: ResourceRecord<Owner>) =>
        record.type === 'PROMISE' && (record.stack.stack ?? '').includes('settlesLater');
      expect(tracker.live().filter(created)).toHaveLength(1);
      resolve();
      expect(tracker.live().filter(created)).toHaveLength(0);
    });
  });

  test('a connection a server accepts inherits the owner of the server', async () => {
    const serverOwner: Owner = { name: 'starts a server' };
    let current: Owner | undefined = serverOwner;
    const tracker = track({ owner: () => current });

    const server = net.createServer();
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(recordOf(tracker, handleOf(server))?.owner).toBe(serverOwner);

    // From here on nobody is responsible: the accepted socket can only get its owner through its
    // trigger, the listening server.
    current = undefined;
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    cleanups.push(() => void client.destroy());
    const serverSide = await accepted;
    cleanups.push(() => void serverSide.destroy());

    const record = recordOf(tracker, handleOf(serverSide));
    expect(record?.type).toBe('TCPWRAP');
    expect(record?.triggerAsyncId).toBe(recordOf(tracker, handleOf(server))?.asyncId);
    expect(record?.owner).toBe(serverOwner);
    expect(recordOf(tracker, handleOf(client))?.owner).toBeUndefined();
    // Node made it from the server's native callback: no stack of its own is captured. The
    // client's socket, made here, has this file's frame.
    expect(record?.stack.stack).toBeUndefined();
    const clientFrames = framesOf(recordOf(tracker, handleOf(client))?.stack);
    expect(clientFrames.some((frame) => frame.file === __filename)).toBe(true);
  });

  test('a handle made inside a call wrapped for its origin takes that call’s stack; later work takes its own', async () => {
    const tracker = track();
    const server = net.createServer();
    let timer: NodeJS.Timeout | undefined;
    const listenHere = withOrigin(function (this: unknown, ...args: unknown[]) {
      const [target, onListening] = args as [net.Server, () => void];
      return target.listen(0, onListening);
    }, 'listen');
    await new Promise<void>((resolve) => {
      listenHere(server, () => {
        timer = setTimeout(noop, 10_000);
        resolve();
      });
    });
    cleanups.push(
      () => new Promise<void>((resolve) => server.close(() => resolve())),
      () => clearTimeout(timer),
    );

    // Made before listen returned: the origin's stack, taken as the call began, is its own.
    const serverRecord = recordOf(tracker, handleOf(server));
    expect(serverRecord?.origin).toBeDefined();
    expect(serverRecord?.stack).toBe(serverRecord?.origin);
    expect(framesOf(serverRecord?.stack).some((frame) => frame.file === __filename)).toBe(true);
    // Made later, in the listening callback: it inherits the origin and has a stack of its own.
    const timerRecord = recordOf(tracker, timer!);
    expect(timerRecord?.origin).toBe(serverRecord?.origin);
    expect(timerRecord?.stack).not.toBe(timerRecord?.origin);
    expect(timerRecord?.stack.stack).toContain(__filename);
  });
});

describe('async ancestry through ticks', () => {
  /**
   * A library that makes its timer from a tick, and re-arms it from the timer's own callback; the
   * last one waits long, so it is still pending when looked at.
   */
  function libraryReconnectLoop(timers: NodeJS.Timeout[], rounds: number) {
    process.nextTick(function libraryTick() {
      const arm = (left: number) => {
        const timer = setTimeout(
          () => {
            if (left > 0) arm(left - 1);
          },
          left > 0 ? 1 : 60_000,
        );
        timers.push(timer);
      };
      arm(rounds);
    });
  }

  test('a tick traced while a module scope runs roots what its callbacks create, owner included', async () => {
    const owner: Owner = { name: 'module scope' };
    let current: Owner | undefined = owner;
    const tracker = track({ owner: () => current });
    tracker.traceTicks = true;
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(() => timers.forEach((timer) => clearTimeout(timer)));
    libraryReconnectLoop(timers, 2); // ancestry: the user line
    tracker.traceTicks = false;
    current = undefined;
    while (timers.length < 3) await new Promise((resolve) => setTimeout(resolve, 2));
    const last = recordOf(tracker, timers[2]);
    expect(last).toBeDefined();
    expect(last!.owner).toBe(owner);
    expect(last!.root?.stack.stack).toContain('libraryReconnectLoop');
    expect(last!.root?.stack.stack).toContain(__filename);
  });

  test('an untraced tick with no recorded parent roots nothing', async () => {
    const tracker = track();
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(() => timers.forEach((timer) => clearTimeout(timer)));
    libraryReconnectLoop(timers, 0);
    await nextTurn();
    const record = recordOf(tracker, timers[0]);
    expect(record).toBeDefined();
    expect(record!.root).toBeUndefined();
  });
});

describe("an HTTP client's response", () => {
  async function serve() {
    const server = http.createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as net.AddressInfo).port;
  }

  /** A request made as `owner`; a library reacts to its response with a timer (a reconnect). */
  function requestAs(owner: Owner, port: number, agent: http.Agent | false) {
    return new Promise<NodeJS.Timeout>((resolve) => {
      applyInContext(
        { owner },
        Reflect.apply,
        function userMakesTheRequest() {
          http.get({ port, host: '127.0.0.1', agent }, (response) => {
            response.resume();
            response.on('end', () => {
              const timer = setTimeout(noop, 60_000);
              cleanups.push(() => clearTimeout(timer));
              resolve(timer);
            });
          });
        },
        null,
        [],
      );
    });
  }

  test('what its callbacks create is rooted at the socket of the request, made by the user', async () => {
    const port = await serve();
    const tracker = track({ owner: (owner) => owner as Owner | undefined });
    const owner: Owner = { name: 'test' };
    const timer = await requestAs(owner, port, false);
    const record = recordOf(tracker, timer);
    expect(record?.owner).toBe(owner);
    expect((record?.root as ResourceRecord<Owner> | undefined)?.type).toBe('TCPWRAP');
    expect(record?.root?.stack.stack).toContain('userMakesTheRequest');
  });

  test("a pooled socket an earlier test made is no root of a later test's response work", async () => {
    const port = await serve();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const tracker = track({ owner: (owner) => owner as Owner | undefined });
    const earlier: Owner = { name: 'earlier test' };
    const later: Owner = { name: 'later test' };
    await requestAs(earlier, port, agent);
    const timer = await requestAs(later, port, agent);
    const record = recordOf(tracker, timer);
    expect(record?.owner).toBe(later);
    expect(record?.root === undefined || record.root.owner === later).toBe(true);
  });
});

describe('context carriers (a library’s own AsyncResource)', () => {
  test('are not recorded, so nothing holds them and nothing reads them as pending', () => {
    const tracker = track();
    const carrier = new AsyncResource('onerror');
    const bound = AsyncResource.bind(noop);
    const emitter = new EventEmitterAsyncResource({ name: 'orders' });
    expect(recordOf(tracker, carrier)).toBeUndefined();
    expect(
      tracker.live().some((record) => ['onerror', 'bound noop', 'orders'].includes(record.type)),
    ).toBe(false);
    emitter.emitDestroy();
    bound();
  });

  test('pass the ancestry of what created them to what their callback creates later', async () => {
    const tracker = track();
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(() => timers.forEach((timer) => clearTimeout(timer)));
    // A library's queue: the work is made from a timer of the user's, run later in its context.
    let carrier: AsyncResource | undefined;
    const userTimer = setTimeout(() => {
      carrier = new AsyncResource('queued-task');
    }, 1);
    timers.push(userTimer);
    const userRecord = recordOf(tracker, userTimer);
    expect(userRecord).toBeDefined();
    while (carrier === undefined) await nextTurn();
    carrier.runInAsyncScope(() => timers.push(setTimeout(noop, 60_000)));
    // The user's timer has fired and is gone; its record is still the root.
    expect(recordOf(tracker, userTimer)).toBeUndefined();
    expect(recordOf(tracker, timers[1])?.root).toBe(userRecord);
  });
});

/** Polls every 2 ms without end, as a `waitFor` whose condition never holds. */
function pollLoop(timers: NodeJS.Timeout[]): void {
  const next = () => timers.push(setTimeout(next, 2));
  next();
}
