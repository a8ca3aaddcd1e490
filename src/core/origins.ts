import * as net from 'node:net';
import { runWithOrigin } from './async-context';
import { captureStack, DEEP_STACK_DEPTH } from './stack';

/**
 * Some APIs create their async resources later, on another tick, with no user frame on the stack:
 * `server.listen(port, host)` binds after a DNS lookup, `socket.connect(host)` after one too, and
 * `fetch` opens its socket deep inside undici. Wrapping those entry points records the user's
 * call site in the async context, and every resource created under it inherits that site.
 */
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
const WRAPPED = Symbol.for('hangwatch.originWrapped');

export function withOrigin<F extends AnyFunction>(original: F, name: string): F {
  if ((original as unknown as Record<symbol, unknown>)[WRAPPED]) return original;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    return runWithOrigin(captureStack(wrapped, DEEP_STACK_DEPTH), () => original.apply(this, args));
  };
  Object.defineProperty(wrapped, 'name', { value: name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  return wrapped as unknown as F;
}

let coreEntryPointsWrapped = false;

/**
 * Node's own prototypes are shared by every test file in a worker, so they are wrapped once per
 * process. The wrappers only record a stack (a few microseconds per listen or connect).
 */
export function wrapCoreEntryPoints(): void {
  if (coreEntryPointsWrapped) return;
  coreEntryPointsWrapped = true;
  const serverProto = net.Server.prototype as unknown as Record<string, AnyFunction>;
  serverProto.listen = withOrigin(serverProto.listen, 'listen');
  const socketProto = net.Socket.prototype as unknown as Record<string, AnyFunction>;
  socketProto.connect = withOrigin(socketProto.connect, 'connect');
}
