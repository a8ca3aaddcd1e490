import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { describeResource } from '../../src/core/describe-resource';
import { describePending } from '../../src/core/render/pending';
import { watchWorkersComingOnline } from '../../src/core/worker-threads';

const noop = () => {};

/** The facts `describeResource` finds, with the line `describePending` makes of them. */
function describeWithSummary(
  type: string,
  resource: object | undefined,
  ageMs: number,
  createdByNode: boolean,
) {
  const described = describeResource(type, resource, ageMs, createdByNode);
  return { ...described, summary: describePending({ type, ...described, ageMs }) };
}
const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function handleOf(object: object): object {
  const handle = (object as { _handle?: object })._handle;
  if (!handle) throw new Error('no native handle');
  return handle;
}

function timeout(delayMs: number): NodeJS.Timeout {
  const timer = setTimeout(noop, delayMs);
  cleanups.push(() => clearTimeout(timer));
  return timer;
}

async function listeningServer<S extends net.Server>(server: S): Promise<S> {
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

/** A connected client, and the server's side of the same connection. */
async function connectedPair(server: net.Server): Promise<[net.Socket, net.Socket]> {
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(portOf(server), '127.0.0.1');
  cleanups.push(() => void client.destroy());
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const serverSide = await accepted;
  cleanups.push(() => void serverSide.destroy());
  return [client, serverSide];
}

describe('describeResource: timers', () => {
  test('a setTimeout shows its delay and the time left', () => {
    const described = describeWithSummary('Timeout', timeout(30_000), 2_000, false);
    expect(described).toEqual({
      kind: 'timer',
      summary: 'setTimeout 30000 ms (28.0 s left)',
      details: { delayMs: 30_000, leftMs: 28_000 },
      keepsAlive: true,
      auxiliary: false,
      passive: false,
    });
  });

  test('a fractional delay (a backoff with jitter) reads in whole milliseconds', () => {
    const described = describeWithSummary('Timeout', timeout(2002.7669357775058), 900, false);
    expect(described.summary).toBe('setTimeout 2003 ms (1.1 s left)');
  });

  test('time left never goes below zero', () => {
    const described = describeWithSummary('Timeout', timeout(100), 250, false);
    expect(described.details).toEqual({ delayMs: 100, leftMs: 0 });
    expect(described.summary).toBe('setTimeout 100 ms (0 ms left)');
  });

  test('a setInterval shows its period and how long it has run', () => {
    const interval = setInterval(noop, 500);
    cleanups.push(() => clearInterval(interval));
    const described = describeWithSummary('Timeout', interval, 4_200, false);
    expect(described).toMatchObject({
      kind: 'interval',
      summary: 'setInterval every 500 ms, running for 4.2 s',
      details: { intervalMs: 500 },
      keepsAlive: true,
    });
  });

  test("an unref'd timer does not keep the process alive", () => {
    const timer = timeout(30_000).unref();
    expect(describeWithSummary('Timeout', timer, 0, false).keepsAlive).toBe(false);
    timer.ref();
    expect(describeWithSummary('Timeout', timer, 0, false).keepsAlive).toBe(true);
  });

  test('a timer Node started for its own housekeeping is auxiliary', () => {
    expect(describeWithSummary('Timeout', timeout(30_000), 0, true).auxiliary).toBe(true);
  });

  test('a setImmediate is described as a callback not yet run', () => {
    const immediate = setImmediate(noop);
    cleanups.push(() => clearImmediate(immediate));
    expect(describeWithSummary('Immediate', immediate, 0, false)).toMatchObject({
      kind: 'immediate',
      summary: 'setImmediate callback not yet run',
      keepsAlive: true,
    });
  });
});

describe('describeResource: sockets and servers', () => {
  test('a listening TCP server shows its address and connection count', async () => {
    const server = await listeningServer(net.createServer());
    const local = `127.0.0.1:${portOf(server)}`;
    expect(describeWithSummary('TCPSERVERWRAP', handleOf(server), 10, false)).toEqual({
      kind: 'TCP server',
      summary: `TCP server listening on ${local}, 0 open connections`,
      details: { local, connections: 0 },
      keepsAlive: true,
      auxiliary: false,
      passive: true,
    });
  });

  test("an unref'd server does not keep the process alive", async () => {
    const server = await listeningServer(net.createServer());
    server.unref();
    expect(describeWithSummary('TCPSERVERWRAP', handleOf(server), 10, false).keepsAlive).toBe(
      false,
    );
  });

  test('a client TCP socket shows the remote address and the bytes sent and received', async () => {
    const server = await listeningServer(net.createServer());
    const [client, serverSide] = await connectedPair(server);
    const received = new Promise<void>((resolve) => client.once('data', () => resolve()));
    serverSide.once('data', () => serverSide.write('pong'));
    client.write('hello');
    await received;

    const remote = `127.0.0.1:${portOf(server)}`;
    const described = describeWithSummary('TCPWRAP', handleOf(client), 1_500, false);
    expect(described).toMatchObject({
      kind: 'TCP socket',
      summary: `TCP socket to ${remote}, open 1.5 s, 5 B sent, 4 B received`,
      details: { remote, bytesWritten: 5, bytesRead: 4, local: `127.0.0.1:${client.localPort}` },
      keepsAlive: true,
      passive: false,
    });
  });

  test('a socket that has exchanged nothing says so', async () => {
    const server = await listeningServer(net.createServer());
    const [client] = await connectedPair(server);
    expect(describeWithSummary('TCPWRAP', handleOf(client), 20, false).summary).toBe(
      `TCP socket to 127.0.0.1:${portOf(server)}, open 20 ms, no data sent or received`,
    );
  });

  test('a socket still looking up its address names the host it was asked to reach', () => {
    // `.invalid` never resolves; the lookup is asynchronous, so the socket is still connecting.
    const socket = net.connect({ host: 'no-such-host.invalid', port: 80 });
    socket.on('error', noop);
    cleanups.push(() => void socket.destroy());
    const described = describeWithSummary('TCPWRAP', handleOf(socket), 5, false);
    expect(described.details).toMatchObject({ connecting: true, host: 'no-such-host.invalid' });
    expect(described.summary).toBe(
      'TCP socket to no-such-host.invalid, still connecting, no data sent or received',
    );
  });

  test('the server side of a connection is passive and names both ends', async () => {
    const server = await listeningServer(net.createServer());
    const [client, serverSide] = await connectedPair(server);
    const described = describeWithSummary('TCPWRAP', handleOf(serverSide), 20, false);
    expect(described.kind).toBe('TCP connection (server side)');
    expect(described.passive).toBe(true);
    expect(described.summary).toBe(
      `TCP connection from 127.0.0.1:${client.localPort} accepted by the server on 127.0.0.1:${portOf(server)}, open 20 ms, no data sent or received`,
    );
    expect(describeWithSummary('TCPSERVERWRAP', handleOf(server), 20, false).summary).toMatch(
      /, 1 open connection$/,
    );
  });

  test('an HTTP request written to but never ended says so; once ended, it does not', async () => {
    const server = await listeningServer(http.createServer());
    const request = http.request({ port: portOf(server), host: '127.0.0.1', method: 'POST' });
    request.on('error', noop);
    cleanups.push(() => void request.destroy());
    request.write('hello');
    const socket = await new Promise<net.Socket>((resolve) => request.once('socket', resolve));
    if (socket.connecting) await new Promise((resolve) => socket.once('connect', resolve));
    const described = describeWithSummary('TCPWRAP', handleOf(socket), 2_000, false);
    expect(described.details).toMatchObject({ httpRequest: 'POST /', requestNotEnded: true });
    expect(described.summary).toMatch(
      /^HTTP POST \/ over TCP socket to .*: the request was never ended \(end\(\) not called\), so the server still waits for its body$/,
    );
    request.end();
    expect(
      describeWithSummary('TCPWRAP', handleOf(socket), 2_000, false).details,
    ).not.toHaveProperty('requestNotEnded');
  });

  test('an HTTP server is described as an HTTP server', async () => {
    const server = await listeningServer(http.createServer());
    expect(describeWithSummary('TCPSERVERWRAP', handleOf(server), 10, false)).toMatchObject({
      kind: 'HTTP server',
      summary: `HTTP server listening on 127.0.0.1:${portOf(server)}, 0 open connections`,
    });
  });
});

describe('describeResource: child processes', () => {
  function spawnNode(script: string): ChildProcess {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    });
    return child;
  }

  test('a running child process shows its pid and command, the executable without its directory', () => {
    const script = 'setTimeout(() => {}, 10000)';
    const child = spawnNode(script);
    expect(child.pid).toEqual(expect.any(Number));
    const command = `${process.execPath} -e ${JSON.stringify(script)}`;
    const shown = `${path.basename(process.execPath)} -e ${JSON.stringify(script)}`;
    expect(describeWithSummary('PROCESSWRAP', handleOf(child), 3_000, false)).toEqual({
      kind: 'child process',
      summary: `child process ${child.pid} \`${shown}\` still running after 3.0 s`,
      details: { pid: child.pid, command },
      keepsAlive: true,
      auxiliary: false,
      passive: false,
    });
  });

  test('a child whose stdin was written to but never ended says so', () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    });
    child.stdin!.write('rows\n');
    const described = describeWithSummary('PROCESSWRAP', handleOf(child), 1_000, false);
    expect(described.details).toMatchObject({ stdinNotEnded: true });
    expect(described.summary).toMatch(
      /: its stdin was written to but never ended \(stdin\.end\(\) not called\)/,
    );
    child.stdin!.end();
    expect(
      describeWithSummary('PROCESSWRAP', handleOf(child), 1_000, false).details,
    ).not.toHaveProperty('stdinNotEnded');
  });

  test('a long command is shortened in the summary but kept whole in the details', () => {
    const script = `setTimeout(() => {}, 10000) /* ${'x'.repeat(100)} */`;
    const child = spawnNode(script);
    const described = describeWithSummary('PROCESSWRAP', handleOf(child), 0, false);
    expect(described.details.command).toBe(`${process.execPath} -e ${JSON.stringify(script)}`);
    expect(described.summary).toMatch(/`[^`]{77}\.\.\.` still running after 0 ms$/);
  });
});

describe('describeResource: standard input', () => {
  test("a process's standard input pipe is named as such, with why nothing comes", () => {
    // A process of its own, whose standard input is a pipe nobody writes to (as a Jest worker's).
    const dist = path.resolve(__dirname, '..', '..', 'dist', 'core');
    const script = `const { describeResource } = require(${JSON.stringify(path.join(dist, 'describe-resource.js'))});
const { describePending } = require(${JSON.stringify(path.join(dist, 'render', 'pending.js'))});
const described = describeResource('PIPEWRAP', process.stdin._handle, 2000, false);
process.stdout.write(JSON.stringify({ ...described, summary: describePending({ type: 'PIPEWRAP', ...described, ageMs: 2000 }) }));
process.exit(0);`;
    const child = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const described = JSON.parse(child.stdout) as { details: object; summary: string };
    expect(described.details).toMatchObject({ standardInput: true });
    expect(described.summary).toMatch(
      /^standard input \(process\.stdin\), read for 2\.0 s, no data received: nothing types into a test run's standard input/,
    );
  });
});

describe('describeResource: worker threads', () => {
  function workerHandle(worker: Worker): object {
    const key = Object.getOwnPropertySymbols(worker).find(
      (symbol) => symbol.description === 'kHandle',
    );
    const handle = key && (worker as unknown as Record<symbol, object | null>)[key];
    if (!handle) throw new Error('no worker handle');
    return handle;
  }

  /**
   * Describes the worker until `settled` holds for its facts: its share moves as time passes, so
   * no fixed wait is assumed (a loaded machine only takes longer).
   */
  async function describedWhen(worker: Worker, settled: (busy: number) => boolean) {
    for (;;) {
      const described = describeWithSummary('WORKER', workerHandle(worker), 0, false);
      const busy = described.details.busyPercent;
      if (typeof busy === 'number' && settled(busy)) return described;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(() => watchWorkersComingOnline());

  function startWorker(source: string): Worker {
    const worker = new Worker(source, { eval: true });
    cleanups.push(() => worker.terminate().then(noop));
    return worker;
  }

  test('one spinning in an endless loop reads as busy all the time', async () => {
    const worker = startWorker(
      "require('node:worker_threads').parentPort.once('message', () => { for (;;); });",
    );
    await new Promise((resolve) => worker.once('online', resolve));
    worker.postMessage('go');
    const described = await describedWhen(worker, (busy) => busy >= 90);
    expect(described.summary).toMatch(
      /^worker thread still running, busy \d+% of its [\d.]+ m?s: it runs JavaScript without a break/,
    );
  }, 30_000);

  test('one still starting is described without asking its loop (Node would abort)', () => {
    // In a process of its own: the failure this guards against kills the process, not a test.
    const dist = path.resolve(__dirname, '..', '..', 'dist', 'core');
    const script = `const { Worker } = require('node:worker_threads');
const { describeResource } = require(${JSON.stringify(path.join(dist, 'describe-resource.js'))});
require(${JSON.stringify(path.join(dist, 'worker-threads.js'))}).watchWorkersComingOnline();
const worker = new Worker("require('node:worker_threads').parentPort.on('message', () => {});", { eval: true });
const handle = worker[Object.getOwnPropertySymbols(worker).find((s) => s.description === 'kHandle')];
let online = false;
worker.once('online', () => { online = true; });
let looks = 0;
(function look() {
  describeResource('WORKER', handle, 0, false);
  looks++;
  if (!online || looks < 100) return setImmediate(look);
  worker.terminate().then(() => process.stdout.write(String(looks)));
})();`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(Number(child.stdout)).toBeGreaterThanOrEqual(100);
  });

  test('one waiting for a message reads as idle', async () => {
    const worker = startWorker(
      "require('node:worker_threads').parentPort.on('message', () => {});",
    );
    await new Promise((resolve) => worker.once('online', resolve));
    const described = await describedWhen(worker, (busy) => busy <= 10);
    expect(described.summary).toMatch(
      /^worker thread still running, idle \(busy \d+% of its [\d.]+ m?s\): it waits for a message or an event$/,
    );
  }, 30_000);
});

describe('describeResource: other types', () => {
  test('a zlib stream compressing a chunk is active; idle, it says what it waits for', async () => {
    const gzip = zlib.createGzip();
    cleanups.push(() => new Promise<void>((resolve) => gzip.close(() => resolve())));
    const handle = handleOf(gzip);
    expect(describeWithSummary('ZLIB', handle, 0, false)).toMatchObject({
      details: { compressing: false, outputFull: false },
      passive: true,
      summary: 'zlib stream not finished, idle: it waits for more input or end()',
    });
    gzip.write(Buffer.alloc(100_000));
    // The chunk is on the thread pool until its callback.
    expect(describeWithSummary('ZLIB', handle, 0, false)).toMatchObject({
      details: { compressing: true },
      passive: false,
      summary: 'zlib stream not finished',
    });
    // Nobody reads its output: it stops taking input, and what is written waits.
    for (let i = 0; i < 20; i++) gzip.write(crypto.randomBytes(64 * 1024));
    while (gzip.readableLength < gzip.readableHighWaterMark) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(describeWithSummary('ZLIB', handle, 0, false)).toMatchObject({
      details: { compressing: false, outputFull: true },
      summary:
        'zlib stream not finished, idle: nothing reads its output, so it takes no more input',
    });
  });

  test('marks helper types as auxiliary and server types as passive', () => {
    expect(describeWithSummary('TCPCONNECTWRAP', undefined, 0, false).auxiliary).toBe(true);
    expect(describeWithSummary('HTTPINCOMINGMESSAGE', undefined, 0, false)).toMatchObject({
      auxiliary: true,
      passive: true,
    });
  });

  test('an unknown type is named as it is, with its age', () => {
    expect(describeWithSummary('SOMEWRAP', undefined, 1_200, false)).toEqual({
      kind: 'SOMEWRAP',
      summary: 'SOMEWRAP pending for 1.2 s',
      details: {},
      keepsAlive: true,
      auxiliary: false,
      passive: false,
    });
  });

  test('a resource without hasRef is assumed to keep the process alive', () => {
    expect(describeWithSummary('PROMISE', undefined, 0, false)).toMatchObject({
      kind: 'promise',
      keepsAlive: true,
    });
  });
});
