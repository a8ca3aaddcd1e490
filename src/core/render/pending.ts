import * as path from 'node:path';
import { formatBytes, formatDuration } from '../format';
import type { PendingResource } from '../model';

/** What `describePending` reads: the resource's facts, and the sentence a written report carries. */
export type PendingFacts = Pick<PendingResource, 'type' | 'kind' | 'details' | 'ageMs'> & {
  summary?: string;
};

/**
 * One line that says what a pending resource is and what state it is in, from its facts:
 * "setTimeout 30000 ms (28.0 s left)", "child process 123 `node x.js` still running after 3.0 s".
 * A report read back from a file already carries this line (`summary`, written by this function):
 * it is used as written.
 */
export function describePending(resource: PendingFacts): string {
  return resource.summary ?? fromFacts(resource);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function fromFacts({ type, kind, details, ageMs }: PendingFacts): string {
  const age = formatDuration(ageMs);
  switch (type) {
    case 'Timeout':
      return timerText(details, age);
    case 'Immediate':
      return 'setImmediate callback not yet run';
    case 'TCPWRAP':
    case 'PIPEWRAP':
      return socketText(type, details, age);
    case 'TCPSERVERWRAP':
    case 'PIPESERVERWRAP': {
      const local = text(details.local);
      const connections = number(details.connections);
      const count =
        connections === undefined
          ? ''
          : `, ${connections} open connection${connections === 1 ? '' : 's'}`;
      return `${kind} listening${local ? ` on ${local}` : ''}${count}`;
    }
    case 'UDPWRAP': {
      const local = text(details.local);
      return local ? `UDP socket bound to ${local}` : 'UDP socket';
    }
    case 'PROCESSWRAP':
      return childText(details, age);
    case 'FETCH': {
      const waiting =
        details.phase === 'waiting'
          ? `no response after ${age}`
          : `response ${details.statusCode ?? ''} received, its body not finished after ${age}`;
      return `fetch ${String(details.method)} ${String(details.url)}: ${waiting}`;
    }
    case 'HTTPCLIENTREQUEST': {
      const method = text(details.method);
      const what = method ? `${method} ${String(details.path)}` : 'request';
      return `HTTP ${what}: no response yet after ${age}`;
    }
    case 'HTTPINCOMINGMESSAGE':
      return `HTTP request received by a server, not answered after ${age}`;
    case 'GETADDRINFOREQWRAP':
    case 'GETNAMEINFOREQWRAP': {
      const host = text(details.host);
      return `DNS lookup${host ? ` of ${host}` : ''} unanswered after ${age}`;
    }
    case 'TCPCONNECTWRAP': {
      const remote = text(details.remote);
      return `TCP connect${remote ? ` to ${remote}` : ''} in progress for ${age}`;
    }
    case 'FSREQCALLBACK':
    case 'FSREQPROMISE':
      return `file system request pending for ${age}`;
    case 'STATWATCHER':
    case 'FSEVENTWRAP':
      return 'file watcher still watching';
    case 'WORKER':
      return workerText(details);
    case 'MESSAGEPORT':
      return 'MessagePort still open';
    case 'SIGNALWRAP':
      return 'process signal listener';
    case 'TTYWRAP':
      return details.standardInput === true
        ? `standard input (process.stdin, a terminal), read for ${age}${STDIN_NOTE}`
        : 'terminal (TTY) stream open';
    case 'ZLIB':
      return zlibText(details);
    case 'PROMISE':
      return promiseText(details, age);
    default:
      return `${type} pending for ${age}`;
  }
}

/** Idle, it can do nothing by itself: what would make it go on. */
function zlibText(details: PendingFacts['details']): string {
  if (details.compressing !== false) return 'zlib stream not finished';
  return details.outputFull === true
    ? 'zlib stream not finished, idle: nothing reads its output, so it takes no more input'
    : 'zlib stream not finished, idle: it waits for more input or end()';
}

function timerText(details: PendingFacts['details'], age: string): string {
  const interval = number(details.intervalMs);
  if (interval !== undefined) {
    return `setInterval every ${formatDuration(interval)}, running for ${age}`;
  }
  const delay = number(details.delayMs);
  if (delay === undefined) return 'setTimeout';
  // Node keeps a fractional delay as given (a backoff with jitter): whole milliseconds here.
  return `setTimeout ${Math.round(delay)} ms (${formatDuration(number(details.leftMs) ?? 0)} left)`;
}

/** Under Jest nobody types into a test's standard input: code that reads it waits for ever. */
const STDIN_NOTE =
  ": nothing types into a test run's standard input (a Jest worker's is an idle pipe; in CI there is no terminal): give the code a stream of its own";

function socketText(type: string, details: PendingFacts['details'], age: string): string {
  const remote = text(details.remote);
  const local = text(details.local);
  const connecting = details.connecting === true;
  let what: string;
  if (details.standardInput === true) {
    const read = number(details.bytesRead) ?? 0;
    const traffic = read > 0 ? `${formatBytes(read)} received` : 'no data received';
    return `standard input (process.stdin), read for ${age}, ${traffic}${STDIN_NOTE}`;
  }
  if (type === 'PIPEWRAP') {
    what = 'pipe';
  } else if (details.accepted === true) {
    what = `TCP connection from ${remote ?? 'a client'} accepted by the server on ${local ?? '?'}`;
    if (details.serverClosing === true) {
      what += ' (the server is closed: its close() waits for this connection to end)';
    }
  } else {
    const host = text(details.host);
    what = `TCP socket to ${remote ?? (connecting ? (host ?? 'a host') : 'an unknown peer')}`;
  }
  const request = text(details.httpRequest);
  if (request) what = `HTTP ${request} over ${what}`;
  const bytesRead = number(details.bytesRead) ?? 0;
  const bytesWritten = number(details.bytesWritten) ?? 0;
  const traffic =
    bytesRead === 0
      ? bytesWritten > 0
        ? `${formatBytes(bytesWritten)} sent, no data received`
        : 'no data sent or received'
      : `${formatBytes(bytesWritten)} sent, ${formatBytes(bytesRead)} received`;
  const state = connecting ? 'still connecting' : `open ${age}`;
  const unended =
    details.requestNotEnded === true
      ? ': the request was never ended (end() not called), so the server still waits for its body'
      : '';
  return `${what}, ${state}, ${traffic}${unended}`;
}

/** The executable (the first word of `command`, JSON-quoted when it has spaces) and the rest. */
function splitCommand(command: string): [string, string] {
  const quoted = /^"(?:[^"\\]|\\.)*"/.exec(command);
  if (quoted) {
    return [JSON.parse(quoted[0]) as string, command.slice(quoted[0].length)];
  }
  const space = command.indexOf(' ');
  return space === -1 ? [command, ''] : [command.slice(0, space), command.slice(space)];
}

function childText(details: PendingFacts['details'], age: string): string {
  const pid = number(details.pid);
  const command = text(details.command) ?? '';
  // The executable's directory is noise in one line (it can be long); `details` keeps it.
  const [program, rest] = splitCommand(command);
  const name = path.basename(program);
  const display = command ? `${/\s/.test(name) ? JSON.stringify(name) : name}${rest}` : '';
  const shortCommand = display.length > 80 ? `${display.slice(0, 77)}...` : display;
  const pipes = number(details.stdioPipes);
  const stdio =
    pipes !== undefined && pipes > 0 ? ` (${pipes} stdio pipe${pipes === 1 ? '' : 's'} open)` : '';
  const stdin =
    details.stdinNotEnded === true
      ? ': its stdin was written to but never ended (stdin.end() not called), and a program reading its input waits for that end'
      : '';
  return `child process${pid !== undefined ? ` ${pid}` : ''}${
    shortCommand ? ` \`${shortCommand}\`` : ''
  } still running after ${age}${stdio}${stdin}`;
}

/** A worker thread, with how busy its event loop has been (see `describe-resource`). */
function workerText(details: PendingFacts['details']): string {
  const busy = number(details.busyPercent);
  const loopMs = number(details.loopMs);
  if (busy === undefined || loopMs === undefined) return 'worker thread still running';
  const share = `${busy}% of its ${formatDuration(loopMs)}`;
  if (busy >= 90) {
    return `worker thread still running, busy ${share}: it runs JavaScript without a break (a long or endless loop)`;
  }
  if (busy <= 10) {
    return `worker thread still running, idle (busy ${share}): it waits for a message or an event`;
  }
  return `worker thread still running (busy ${share})`;
}

function promiseText(details: PendingFacts['details'], age: string): string {
  if (details.newPromise === true) {
    return `new Promise still pending after ${age}: nothing called its resolve or reject`;
  }
  if (details.newPromise === false) return `async function or await still pending after ${age}`;
  return `promise pending for ${age}`;
}
