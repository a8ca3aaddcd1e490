import * as diagnostics from 'node:diagnostics_channel';
import type { ResourceTracker } from './tracker';

/**
 * fetch (undici) keeps sockets alive and hands them to later requests: a request sent on a
 * pooled socket creates no async resource at all, so async_hooks alone would never see a
 * `fetch` that hangs on a reused connection. undici announces every request on diagnostics
 * channels; each pending request becomes a tracked record until its response ends.
 */
export interface FetchRequestState {
  method: string;
  url: string;
  /** `waiting` until response headers arrive, then `body` until the response ends. */
  phase: 'waiting' | 'body';
  statusCode?: number;
  socket?: object;
  /** Set once its response has ended or it failed. */
  finished?: boolean;
  /**
   * Whether it still holds the process open, as a handle's `hasRef` says: until it finishes, and
   * while its socket is open and ref'd (the end-of-run list asks after the file's tracker is gone).
   */
  hasRef(): boolean;
}

interface UndiciRequest {
  method?: string;
  origin?: string;
  path?: string;
}

type Message = { request?: UndiciRequest; response?: { statusCode?: number }; socket?: object };

const CHANNELS = {
  create: 'undici:request:create',
  sendHeaders: 'undici:client:sendHeaders',
  headers: 'undici:request:headers',
  trailers: 'undici:request:trailers',
  error: 'undici:request:error',
} as const;

export class FetchRequestTracker {
  private readonly pending = new WeakMap<object, { id: number; state: FetchRequestState }>();
  private readonly handlers: Record<keyof typeof CHANNELS, (message: unknown) => void>;

  constructor(tracker: ResourceTracker<unknown>) {
    const entry = (message: unknown) => {
      const request = (message as Message).request;
      return request ? this.pending.get(request) : undefined;
    };
    const finish = (message: unknown) => {
      const request = (message as Message).request;
      const found = entry(message);
      if (!request || !found) return;
      tracker.forget(found.id);
      this.pending.delete(request);
    };
    this.handlers = {
      create: (message) => {
        const request = (message as Message).request;
        if (!request) return;
        const state: FetchRequestState = {
          method: String(request.method ?? 'GET'),
          url: `${request.origin ?? ''}${request.path ?? ''}`,
          phase: 'waiting',
          hasRef: () => !state.finished && (!state.socket || socketHoldsProcess(state.socket)),
        };
        const id = tracker.addVirtual('FETCH', state);
        if (id !== undefined) this.pending.set(request, { id, state });
        statesByRequest.set(request, state);
      },
      sendHeaders: (message) => {
        const found = entry(message);
        if (found) found.state.socket = (message as Message).socket;
      },
      headers: (message) => {
        const found = entry(message);
        if (!found) return;
        found.state.phase = 'body';
        found.state.statusCode = (message as Message).response?.statusCode;
      },
      trailers: finish,
      error: finish,
    };
  }

  enable(): void {
    subscribeOnce();
    enabledTrackers.add(this);
  }

  disable(): void {
    enabledTrackers.delete(this);
  }

  /** Hands an undici message to this tracker's handler for `channel`. */
  receive(channel: keyof typeof CHANNELS, message: unknown): void {
    this.handlers[channel](message);
  }
}

function socketHoldsProcess(socket: object): boolean {
  const { destroyed, _handle: handle } = socket as {
    destroyed?: boolean;
    _handle?: { hasRef?: () => boolean } | null;
  };
  if (destroyed === true) return false;
  return typeof handle?.hasRef === 'function' ? handle.hasRef() : true;
}

/**
 * Subscribed once per process and left subscribed: a channel's first subscriber and its last
 * unsubscribe each switch the channel's prototype, which, per test file and channel, cost more
 * than forwarding a message nobody listens to.
 */
const enabledTrackers = new Set<FetchRequestTracker>();
let subscribed = false;
/**
 * Each request's state for as long as undici holds the request: the end-of-run list holds a
 * state weakly, and asks after its file (and its tracker) are gone whether it still holds the
 * process. Marked finished here, whichever file is running by then.
 */
const statesByRequest = new WeakMap<object, FetchRequestState>();

function subscribeOnce(): void {
  if (subscribed) return;
  subscribed = true;
  for (const [key, name] of Object.entries(CHANNELS)) {
    const channel = key as keyof typeof CHANNELS;
    const ends = channel === 'trailers' || channel === 'error';
    diagnostics.subscribe(name, (message) => {
      if (ends) markFinished(message);
      for (const tracker of enabledTrackers) tracker.receive(channel, message);
    });
  }
}

function markFinished(message: unknown): void {
  const request = (message as Message).request;
  const state = request ? statesByRequest.get(request) : undefined;
  if (state) state.finished = true;
}
