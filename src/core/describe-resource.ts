import * as http from 'node:http';
import * as https from 'node:https';
import type { FetchRequestState } from './fetch-requests';
import { ownerObject } from './handle-owner';
import { onlineWorker } from './worker-threads';
import { readAddress, type AddressInfo } from './socket-address';

/**
 * What a raw async resource is, as facts: its kind in words a test author recognises and the
 * details that say what state it is in (the sentence is `describePending`'s, in ./render).
 */
export interface ResourceDescription {
  kind: string;
  details: Record<string, string | number | boolean>;
  keepsAlive: boolean;
  /**
   * Created by Node on behalf of another resource the report already names (an HTTP server's
   * housekeeping interval, a request object riding on its socket): listed only when nothing else is.
   */
  auxiliary: boolean;
  /**
   * Only waits for others (a listening server, the server side of a connection): it cannot settle
   * anything by itself, so it ranks below what the test actively waits on.
   */
  passive: boolean;
}

type Loose = Record<string | symbol, unknown>;

const AUXILIARY_TYPES = new Set([
  'HTTPCLIENTREQUEST',
  'HTTPINCOMINGMESSAGE',
  'TCPCONNECTWRAP',
  'PIPECONNECTWRAP',
  'WRITEWRAP',
  'SHUTDOWNWRAP',
  'QUERYWRAP',
]);

const PASSIVE_TYPES = new Set(['TCPSERVERWRAP', 'PIPESERVERWRAP', 'HTTPINCOMINGMESSAGE']);

/**
 * A zlib handle with no chunk on the thread pool: it does nothing until someone writes to its
 * stream or reads from it. Node keeps the chunk it works on as the handle's `buffer`, and stops
 * halfway, keeping it, when its output is full: it goes on once that is read.
 */
export function isIdleZlib(handle: object | undefined): boolean {
  return (handle as Loose | undefined)?.buffer == null || zlibOutputFull(handle);
}

function zlibOutputFull(handle: object | undefined): boolean {
  const stream = ownerObject(handle) as
    { readableLength?: unknown; readableHighWaterMark?: unknown } | undefined;
  const { readableLength, readableHighWaterMark } = stream ?? {};
  return (
    typeof readableLength === 'number' &&
    typeof readableHighWaterMark === 'number' &&
    readableLength >= readableHighWaterMark
  );
}

function callHasRef(resource: object | undefined): boolean {
  const hasRef = (resource as Loose | undefined)?.hasRef;
  if (typeof hasRef !== 'function') return true;
  try {
    return Boolean(hasRef.call(resource));
  } catch {
    return true;
  }
}

function formatAddress(info: AddressInfo | undefined): string | undefined {
  if (!info?.address) return undefined;
  const host =
    info.family === 'IPv6' || info.address.includes(':') ? `[${info.address}]` : info.address;
  return `${host}:${info.port}`;
}

export function describeResource(
  type: string,
  resource: object | undefined,
  ageMs: number,
  createdByNode: boolean,
): ResourceDescription {
  const keepsAlive = callHasRef(resource);
  const base = {
    keepsAlive,
    auxiliary: AUXILIARY_TYPES.has(type),
    passive: PASSIVE_TYPES.has(type),
  };
  const loose = (resource ?? {}) as Loose;
  switch (type) {
    case 'Timeout':
      return { ...base, ...describeTimer(loose, ageMs), auxiliary: createdByNode };
    case 'Immediate':
      return {
        ...base,
        kind: 'immediate',
        details: {},
        auxiliary: createdByNode,
      };
    case 'TCPWRAP':
    case 'PIPEWRAP': {
      const socket = describeSocket(type, loose);
      return { ...base, ...socket, passive: socket.details.accepted === true };
    }
    case 'TCPSERVERWRAP':
    case 'PIPESERVERWRAP':
      return { ...base, ...describeServer(type, loose) };
    case 'UDPWRAP': {
      const local = formatAddress(readAddress(loose, 'getsockname'));
      return {
        ...base,
        kind: 'UDP socket',
        details: local ? { local } : {},
      };
    }
    case 'PROCESSWRAP':
      return { ...base, ...describeChild(loose) };
    case 'FETCH': {
      const request = loose as unknown as FetchRequestState;
      const socket = request.socket as Loose | undefined;
      const remote =
        typeof socket?.remoteAddress === 'string'
          ? `${socket.remoteAddress}:${String(socket.remotePort)}`
          : undefined;
      return {
        // `keepsAlive` is its `hasRef()`, as for any handle.
        ...base,
        kind: 'fetch request',
        details: {
          method: request.method,
          url: request.url,
          phase: request.phase,
          ...(remote ? { remote } : {}),
          ...(request.statusCode !== undefined ? { statusCode: request.statusCode } : {}),
        },
      };
    }
    case 'HTTPCLIENTREQUEST': {
      const request = loose.req as Loose | undefined;
      return {
        ...base,
        kind: 'HTTP request',
        details: request ? { method: String(request.method), path: String(request.path) } : {},
      };
    }
    case 'HTTPINCOMINGMESSAGE':
      return {
        ...base,
        kind: 'HTTP request received',
        details: {},
      };
    case 'GETADDRINFOREQWRAP':
    case 'GETNAMEINFOREQWRAP': {
      const host = typeof loose.hostname === 'string' ? loose.hostname : undefined;
      return {
        ...base,
        kind: 'DNS lookup',
        details: host ? { host } : {},
      };
    }
    case 'TCPCONNECTWRAP': {
      const target =
        typeof loose.address === 'string' ? `${String(loose.address)}:${String(loose.port)}` : '';
      return {
        ...base,
        kind: 'TCP connect',
        details: target ? { remote: target } : {},
      };
    }
    case 'FSREQCALLBACK':
    case 'FSREQPROMISE':
    case 'STATWATCHER':
    case 'FSEVENTWRAP':
      return {
        ...base,
        kind: type.startsWith('FSREQ') ? 'file system request' : 'file watcher',
        details: {},
      };
    case 'WORKER':
      return {
        ...base,
        kind: 'worker thread',
        details: workerLoad(resource as Loose | undefined),
      };
    case 'MESSAGEPORT':
      return { ...base, kind: 'MessagePort', details: {} };
    case 'SIGNALWRAP':
      return { ...base, kind: 'signal listener', details: {} };
    case 'TTYWRAP':
      return {
        ...base,
        kind: 'terminal stream',
        details: isStandardInput(resource) ? { standardInput: true } : {},
      };
    case 'ZLIB': {
      // Idle, it only waits for whoever writes to it or reads from it, as a server waits.
      const compressing = !isIdleZlib(resource);
      return {
        ...base,
        kind: 'zlib stream',
        details: { compressing, ...(compressing ? {} : { outputFull: zlibOutputFull(resource) }) },
        passive: !compressing,
      };
    }
    case 'PROMISE':
      return {
        ...base,
        kind: 'promise',
        details: {},
      };
    default:
      return {
        ...base,
        kind: type,
        details: {},
      };
  }
}

function describeTimer(timer: Loose, ageMs: number): Pick<ResourceDescription, 'kind' | 'details'> {
  const delay = typeof timer._idleTimeout === 'number' ? timer._idleTimeout : undefined;
  const repeat = typeof timer._repeat === 'number' ? timer._repeat : undefined;
  if (repeat !== undefined) {
    return {
      kind: 'interval',
      details: { intervalMs: repeat },
    };
  }
  const leftMs = delay === undefined ? undefined : Math.max(0, delay - ageMs);
  const details: Record<string, number> = {};
  if (delay !== undefined) details.delayMs = delay;
  if (leftMs !== undefined) details.leftMs = Math.round(leftMs);
  return { kind: 'timer', details };
}

/**
 * The process's standard input (what `process.stdin` reads), by its descriptor: comparing with
 * `process.stdin` would create that stream where no code had asked for it yet.
 */
function isStandardInput(handle: unknown): boolean {
  try {
    return (handle as { fd?: unknown } | undefined)?.fd === 0;
  } catch {
    return false;
  }
}

/**
 * How busy a worker thread's event loop has been since it started, as its
 * `performance.eventLoopUtilization()` says once it is online (see `worker-threads`): a worker
 * stuck in an endless loop is busy all the time, one waiting for a message hardly at all.
 */
function workerLoad(handle: Loose | undefined): Record<string, number> {
  const worker = onlineWorker(handle);
  if (!worker) return {};
  try {
    const { idle, active } = worker.performance.eventLoopUtilization();
    const loopMs = idle + active;
    if (!(loopMs > 0)) return {};
    const busyPercent = Math.min(100, Math.max(0, Math.round((100 * active) / loopMs)));
    return { busyPercent, loopMs: Math.round(loopMs) };
  } catch {
    // A worker that exited meanwhile: nothing to read.
    return {};
  }
}

function describeSocket(type: string, handle: Loose) {
  const socket = ownerObject(handle);
  const isPipe = type === 'PIPEWRAP';
  const remote = formatAddress(readAddress(handle, 'getpeername'));
  const local = formatAddress(readAddress(handle, 'getsockname'));
  const bytesRead = Number((handle.bytesRead ?? socket?.bytesRead ?? 0) as number);
  const bytesWritten = Number((socket?.bytesWritten ?? handle.bytesWritten ?? 0) as number);
  const connecting = socket?.connecting === true;
  const acceptedBy = (socket?.server ?? socket?._server) as Loose | undefined;
  const request = socket?._httpMessage as Loose | undefined;
  const details: Record<string, string | number | boolean> = { bytesRead, bytesWritten };
  if (isPipe && isStandardInput(handle)) details.standardInput = true;
  if (remote) details.remote = remote;
  if (local) details.local = local;
  if (connecting) details.connecting = true;
  // Before its address is known (a DNS lookup), the name it was asked to connect to.
  if (connecting && !remote && typeof socket?._host === 'string') details.host = socket._host;
  if (!isPipe && acceptedBy) {
    // The server side of a connection a server accepted: it only waits for its client.
    details.accepted = true;
    // server.close() stops listening at once but calls back only when every connection ends.
    if (acceptedBy.listening === false) details.serverClosing = true;
  }
  if (request && typeof request.method === 'string') {
    details.httpRequest = `${request.method} ${String(request.path)}`;
    // Written to but never ended (`req.write(body)` without `req.end()`): the server still
    // waits for the rest of the body, and no response comes.
    if (request.writableEnded === false && bytesRead === 0) details.requestNotEnded = true;
  }
  return {
    kind: isPipe ? 'pipe' : acceptedBy ? 'TCP connection (server side)' : 'TCP socket',
    details,
  };
}

function describeServer(type: string, handle: Loose) {
  const server = ownerObject(handle);
  const local = formatAddress(readAddress(handle, 'getsockname'));
  const label =
    server instanceof https.Server
      ? 'HTTPS server'
      : server instanceof http.Server
        ? 'HTTP server'
        : type === 'PIPESERVERWRAP'
          ? 'pipe server'
          : 'TCP server';
  const connections = typeof server?._connections === 'number' ? server._connections : undefined;
  return {
    kind: label,
    details: { ...(local ? { local } : {}), ...(connections !== undefined ? { connections } : {}) },
  };
}

function describeChild(handle: Loose) {
  const child = ownerObject(handle);
  const pid = (handle.pid ?? child?.pid) as number | undefined;
  const args = Array.isArray(child?.spawnargs) ? (child.spawnargs as string[]) : [];
  const quote = (arg: string) => (/\s/.test(arg) ? JSON.stringify(arg) : arg);
  const command = args.map(quote).join(' ');
  // Written to but never ended: a program reading its input (cat, a CLI) waits for its end.
  const stdin = child?.stdin as Loose | null | undefined;
  const stdinNotEnded =
    stdin?.writableEnded === false && Number(stdin.bytesWritten ?? stdin._bytesDispatched ?? 0) > 0;
  return {
    kind: 'child process',
    details: {
      ...(pid !== undefined ? { pid } : {}),
      ...(command ? { command } : {}),
      ...(stdinNotEnded ? { stdinNotEnded: true } : {}),
    },
  };
}
