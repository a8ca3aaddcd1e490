import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import * as readline from 'node:readline';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import {
  isSettled,
  pipelineStages,
  streamState,
  unendedInputOf,
} from '../../src/core/await-stacks/stream-waits';
import { streamReason } from '../../src/core/await-stacks/render';

// What a live stream has and has not done, and the reason a report gives for it, on real Node
// streams in each state a hung `finished`, `pipeline` or `for await` meets.

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('streamState and streamReason', () => {
  test('a PassThrough written to and never ended', () => {
    const stream = new PassThrough();
    stream.write('abc');
    const state = streamState(stream);
    expect(state).toEqual({
      stream: 'PassThrough',
      destroyed: false,
      readable: { ended: false, endPushed: false, buffered: 3, flowing: null, objectMode: false },
      writable: { endCalled: false, finished: false, buffered: 0, objectMode: false },
    });
    expect(isSettled(state)).toBe(false);
    expect(streamReason(state, 'finished')).toEqual([
      'end() was never called on it, so it never ends (3 B written to it, unread)',
    ]);
  });

  test('a readable whose end was pushed but whose data nobody reads', () => {
    const stream = new Readable({ read() {} });
    stream.push('{"ok":true}');
    stream.push(null);
    expect(streamReason(streamState(stream), 'finished')).toEqual([
      "its end was pushed, but 11 B are still unread and nothing reads them: read it to the end (resume(), a 'data' listener, or pipe it on)",
    ]);
  });

  test('a readable whose end was pushed with nothing left before it: nobody read to the end', () => {
    const stream = new Readable({ objectMode: true, read() {} });
    stream.push(null);
    expect(streamState(stream).readable).toMatchObject({ endPushed: true, buffered: 0 });
    expect(streamReason(streamState(stream), 'pipeline')).toEqual([
      'its end was pushed, but nothing has read it to the end',
    ]);
  });

  test('a readable whose source never pushes the end, in object mode', () => {
    const stream = new Readable({ objectMode: true, read() {} });
    stream.push({ id: 1 });
    expect(streamReason(streamState(stream), 'finished')).toEqual([
      'its source has not pushed the end (push(null)), and 1 object is unread with nothing reading them',
    ]);
    // Iterating reads it: only the missing end is the reason.
    expect(streamReason(streamState(stream), 'iteration')).toEqual([
      'its source has not pushed the end (push(null))',
    ]);
  });

  test('a transform ended whose output nobody reads', async () => {
    const passOn = () =>
      new Transform({ transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk) });
    // All of it fits its buffers: the end is pushed, and what is unread is the reason.
    const small = passOn();
    small.end('abc');
    await flush();
    expect(streamReason(streamState(small), 'finished')).toEqual([
      "its end was pushed, but 3 B are still unread and nothing reads them: read it to the end (resume(), a 'data' listener, or pipe it on)",
    ]);
    // More than its buffers hold: it stops transforming, so it never pushes the end.
    const large = passOn();
    large.end(Buffer.alloc(100_000));
    await flush();
    expect(streamReason(streamState(large), 'finished')).toEqual([
      expect.stringMatching(
        /^end\(\) was called, but its output is never read: [\d.]+ KiB are waiting \(resume\(\) it, or pipe it on\)$/,
      ),
    ]);
  });

  test('a writable never ended, and one whose writes never complete', () => {
    const never = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    expect(streamReason(streamState(never), 'finished')).toEqual(['end() was never called on it']);
    const stuck = new Writable({ highWaterMark: 1, write: () => {} });
    stuck.write('abcd');
    stuck.end('ef');
    expect(streamReason(streamState(stuck), 'finished')).toEqual([
      'end() was called, but 6 B written to it are still buffered: where it writes to does not take them',
    ]);
  });

  test('a finished stream is settled and has no reason', async () => {
    const stream = new PassThrough();
    stream.resume();
    stream.end('done');
    await flush();
    const state = streamState(stream);
    expect(isSettled(state)).toBe(true);
    expect(streamReason(state, 'finished')).toEqual([]);
  });

  test('a destroyed stream counts as settled', () => {
    const stream = new PassThrough();
    stream.destroy();
    expect(isSettled(streamState(stream))).toBe(true);
  });
});

describe('sockets: what must end them', () => {
  test('a TCP connection names its peer; its reason is the peer, not end()', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.write('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    try {
      await once(client, 'connect');
      const state = streamState(client);
      expect(state.socket).toEqual({ pipe: false, peer: `127.0.0.1:${port}` });
      expect(streamReason(state, 'iteration')).toEqual([
        `it is a connection to 127.0.0.1:${port}: its data ends only when the peer ends the connection, or when it is destroyed`,
      ]);
    } finally {
      client.destroy();
      server.close();
    }
  });

  test("a child process's stdout is a pipe, ended by the child", () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      const state = streamState(child.stdout);
      expect(state.socket).toEqual({ pipe: true });
      expect(streamReason(state, 'iteration')).toEqual([
        "it is a pipe: its data ends only when the process at the other end closes it or exits (a child process's stdout ends when the child exits)",
      ]);
    } finally {
      child.kill();
    }
  });

  test('a stream that is not a socket has no socket field', () => {
    expect(streamState(new PassThrough()).socket).toBeUndefined();
  });
});

describe('unendedInputOf', () => {
  test("a readline interface's input while it has not ended, and nothing once it has", async () => {
    const input = new PassThrough();
    const lines = readline.createInterface({ input });
    expect(unendedInputOf(lines)).toMatchObject({
      stream: 'PassThrough',
      readable: { ended: false },
    });
    const closed = once(lines, 'close');
    input.end('last\n');
    await closed;
    expect(unendedInputOf(lines)).toBeUndefined();
  });

  test('an emitter that is not a readline interface has none', () => {
    const emitter = Object.assign(new PassThrough(), { input: new PassThrough() });
    expect(unendedInputOf(emitter)).toBeUndefined();
  });
});

describe('pipelineStages', () => {
  const source = new PassThrough();
  const sink = new PassThrough();
  async function* upper(chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) yield String(chunk).toUpperCase();
  }

  test('every stage in order, a function stage included, without the options', () => {
    const signal = new AbortController().signal;
    expect(pipelineStages([source, upper, sink, { signal }])).toEqual([source, upper, sink]);
    expect(pipelineStages([[source, upper, sink], { end: false }])).toEqual([source, upper, sink]);
    expect(pipelineStages([source, sink])).toEqual([source, sink]);
  });

  test('an iterable as the last stage is a stage, not options', () => {
    const target = ['a', 'b'];
    expect(pipelineStages([source, target])).toEqual([source, target]);
  });
});
