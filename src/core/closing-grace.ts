import { asyncWrapProviders } from 'node:async_hooks';
import { readAddress } from './socket-address';
import { isFinishedTimer, type ResourceRecord } from './tracker';

/**
 * Whether anything in this process could still close what is open, once the loop has been quiet
 * (no resource created or destroyed) for a while: a timer or an operation still due, or a
 * connection to something outside the process, whose reply may come at any moment. What is left
 * otherwise are listening servers, idle connections whose both ends are in this process, and
 * request objects on those: nothing will touch them again unless the process itself does.
 */
export function couldStillClose(
  records: readonly ResourceRecord<unknown>[],
  loopNow: number,
  withinMs: number,
): boolean {
  const endpoints = localEndpoints(records);
  return records.some((record) => {
    if (record.type === 'Timeout') return timerDueWithin(record.resource, loopNow, withinMs);
    if (record.type === 'TCPWRAP') return talksOutside(record.resource, endpoints);
    if (IDLE_UNTIL_TOUCHED.has(record.type)) return false;
    // Node's own operations (a file request, a lookup, a connect, a child process) complete on
    // their own; a library's own async resources are bookkeeping, never the work itself.
    return NODE_TYPES.has(record.type);
  });
}

/** Node's own resource types: native providers and those its JavaScript creates. */
const NODE_TYPES = new Set([
  ...Object.keys(asyncWrapProviders ?? {}),
  'Timeout',
  'Immediate',
  'TickObject',
  'Microtask',
]);

/** Node resources that never act unless something reaches them (a peer connects, sends). */
const IDLE_UNTIL_TOUCHED = new Set([
  'TCPSERVERWRAP',
  'PIPESERVERWRAP',
  'UDPWRAP',
  // On a connection, which is judged by its socket.
  'HTTPCLIENTREQUEST',
  'HTTPINCOMINGMESSAGE',
  'HTTPPARSER',
  'TLSWRAP',
  'HTTP2SESSION',
  'HTTP2STREAM',
  // A promise settles only when other work settles it.
  'PROMISE',
  'SIGNALWRAP',
  'TTYWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'FILEHANDLE',
  'DIRHANDLE',
  'DNSCHANNEL',
  'ELDHISTOGRAM',
]);

/**
 * When a Node timer was last armed, on the loop's clock (`_idleStart`, ms): a timer armed now
 * reads the loop's clock. NaN if Node does not say.
 */
export function loopClockOf(timer: unknown): number {
  const armedAt = (timer as { _idleStart?: unknown } | undefined)?._idleStart;
  return typeof armedAt === 'number' ? armedAt : Number.NaN;
}

/**
 * Whether a timer runs within `withinMs` of `loopNow`, from when it was armed and its delay
 * (`_idleTimeout`, -1 once cleared). Without them, or without the loop's clock, it is taken as
 * due.
 */
function timerDueWithin(resource: unknown, loopNow: number, withinMs: number): boolean {
  const timer = resource as { _idleTimeout?: unknown } | undefined;
  if (!timer || isFinishedTimer(timer)) return false;
  const armedAt = loopClockOf(timer);
  const delay = timer._idleTimeout;
  if (typeof delay !== 'number' || Number.isNaN(armedAt) || Number.isNaN(loopNow)) return true;
  if (delay < 0) return false;
  return armedAt + delay <= loopNow + withinMs;
}

const IPV4_MAPPED = '::ffff:';

function endpointOf(handle: unknown, side: 'getsockname' | 'getpeername'): string | undefined {
  const info = readAddress(handle as object | undefined, side);
  if (info?.address === undefined || info.port === undefined) return undefined;
  const { address, port } = info;
  // A dual-stack server sees an IPv4 client as `::ffff:127.0.0.1`: the client says `127.0.0.1`.
  const host = address.startsWith(IPV4_MAPPED) ? address.slice(IPV4_MAPPED.length) : address;
  return `${host}|${port}`;
}

function localEndpoints(records: readonly ResourceRecord<unknown>[]): Set<string> {
  const endpoints = new Set<string>();
  for (const record of records) {
    if (record.type !== 'TCPWRAP') continue;
    const local = endpointOf(record.resource, 'getsockname');
    if (local) endpoints.add(local);
  }
  return endpoints;
}

/**
 * A connected socket whose other end is not a socket of this process. One with no peer any more
 * (its peer hung up) hears from nobody; one still connecting has its connect request, judged
 * on its own.
 */
function talksOutside(handle: unknown, endpoints: Set<string>): boolean {
  const peer = endpointOf(handle, 'getpeername');
  return peer !== undefined && !endpoints.has(peer);
}
