import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { couldStillClose } from '../../src/core/closing-grace';
import { ResourceTracker, type ResourceRecord } from '../../src/core/tracker';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function record(type: string, resource?: object): ResourceRecord<unknown> {
  return {
    asyncId: 1,
    type,
    triggerAsyncId: 0,
    resource,
    owner: undefined,
    origin: undefined,
    root: undefined,
    stack: {},
    createdAt: 0,
  };
}

/** The loop's clock now, as Node's timers read it. */
function loopNow(): number {
  const timer = setTimeout(() => {}, 0);
  clearTimeout(timer);
  return (timer as unknown as { _idleStart: number })._idleStart;
}

/** A socket handle that answers its own and its peer's address (-107: not connected). */
function fakeSocket(local: string, peer: string | undefined) {
  const fill = (address: string | undefined) => (out: { address?: string; port?: number }) => {
    if (!address) return -107;
    const [host, port] = address.split('|');
    out.address = host;
    out.port = Number(port);
    return 0;
  };
  return { getsockname: fill(local), getpeername: fill(peer) };
}

async function trackedWhile(create: () => Promise<void>): Promise<ResourceRecord<unknown>[]> {
  const tracker = new ResourceTracker<unknown>({ ownerOf: () => undefined, promises: false });
  tracker.enable();
  cleanups.push(() => tracker.disable());
  await create();
  return tracker.live();
}

describe('couldStillClose', () => {
  test('a listening server and an idle connection whose both ends are in this process: no', async () => {
    const records = await trackedWhile(async () => {
      const server = net.createServer().listen(0);
      await once(server, 'listening');
      const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      await once(client, 'connect');
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      cleanups.push(() => client.destroy());
      // Let the server accept its end.
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(records.filter((entry) => entry.type === 'TCPWRAP')).toHaveLength(2);
    expect(records.some((entry) => entry.type === 'TCPSERVERWRAP')).toBe(true);
    expect(couldStillClose(records, loopNow(), 100)).toBe(false);
  });

  test('a connection to another process may hear from it at any moment: yes', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => child.kill());
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(String(chunk).trim());
    const records = await trackedWhile(async () => {
      const client = net.connect(port, '127.0.0.1');
      await once(client, 'connect');
      cleanups.push(() => client.destroy());
    });
    const sockets = records.filter((entry) => entry.type === 'TCPWRAP');
    expect(sockets).toHaveLength(1);
    expect(couldStillClose(sockets, loopNow(), 100)).toBe(true);
  });

  test('an IPv4 client of a dual-stack server is still a local pair', () => {
    const client = fakeSocket('127.0.0.1|5001', '127.0.0.1|8080');
    const accepted = fakeSocket('::ffff:127.0.0.1|8080', '::ffff:127.0.0.1|5001');
    const records = [record('TCPWRAP', client), record('TCPWRAP', accepted)];
    expect(couldStillClose(records, 0, 100)).toBe(false);
  });

  test('a socket whose peer hung up hears from nobody; its connect request is judged apart', () => {
    const halfClosed = record('TCPWRAP', fakeSocket('127.0.0.1|5001', undefined));
    expect(couldStillClose([halfClosed], 0, 100)).toBe(false);
    expect(couldStillClose([halfClosed, record('TCPCONNECTWRAP', {})], 0, 100)).toBe(true);
  });

  test('a timer due before the grace ends may still close something; a later one may not', () => {
    const records = [] as ResourceRecord<unknown>[];
    const soon = setTimeout(() => {}, 50);
    const later = setTimeout(() => {}, 60_000);
    cleanups.push(() => clearTimeout(soon));
    cleanups.push(() => clearTimeout(later));
    records.push(record('Timeout', later));
    const now = loopNow();
    expect(couldStillClose(records, now, 100)).toBe(false);
    expect(couldStillClose([...records, record('Timeout', soon)], now, 100)).toBe(true);
    expect(couldStillClose([record('Timeout', soon)], now, 10)).toBe(false);
    clearTimeout(soon);
    expect(couldStillClose([record('Timeout', soon)], now, 100)).toBe(false);
    // Without the loop's clock, a timer is taken as due.
    expect(couldStillClose([record('Timeout', later)], Number.NaN, 100)).toBe(true);
  });

  test("Node's operations in flight complete on their own; a library's own resources do not", () => {
    expect(couldStillClose([record('FSREQCALLBACK', {})], 0, 100)).toBe(true);
    expect(couldStillClose([record('Immediate', {})], 0, 100)).toBe(true);
    expect(couldStillClose([record('PROCESSWRAP', {})], 0, 100)).toBe(true);
    expect(
      couldStillClose([record('onerror', {}), record('HTTPINCOMINGMESSAGE', {})], 0, 100),
    ).toBe(false);
  });
});
