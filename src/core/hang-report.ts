import { describeResource } from './describe-resource';
import { findEventCycle } from './await-stacks/event-cycle';
import { awaitCulpritFrames } from './await-stacks/render';
import type {
  AwaitFlow,
  CreationSite,
  FakeTimersState,
  Frame,
  HangAdvice,
  HangFinding,
  OwnerRef,
  PendingResource,
  Relation,
} from './model';
import { REPORT_SCHEMA_VERSION } from './model';
import {
  framesOf,
  isRunnerOwned,
  stackText,
  timerCaller,
  toCreationSite,
  type LazyStack,
} from './stack';
import { LOOP_MIN_TIMERS, type ResourceRecord, type ResourceTracker } from './tracker';
import { realNow } from './real-timers';

/** What the framework adapter knows about the unit that hung. */
export interface HungUnit {
  testName: string;
  testPath: string;
  phase: HangFinding['phase'];
  forTest?: string;
  trigger: HangFinding['trigger'];
  elapsedMs: number;
  timeoutMs: number;
  waitingForDone: boolean;
  thrownBeforeDone?: HangFinding['thrownBeforeDone'];
  handledErrors?: HangFinding['handledErrors'];
  /** How many timers its own work set while it ran. */
  timersSet?: number;
  /** How many `setImmediate` callbacks it scheduled while it ran (see `timersSet`). */
  immediatesSet?: number;
  attempt: number;
}

export interface ResourceView<Owner> {
  /** How a resource's owner relates to the hung unit; `undefined` leaves it out (another concurrent test's). */
  relationOf(owner: Owner | undefined): Relation | undefined;
  describeOwner(owner: Owner | undefined): OwnerRef | undefined;
}

export interface BuildOptions {
  maxListed: number;
  fakeTimers?: FakeTimersState;
}

const RELATION_RANK: Record<Relation, number> = { 'this-test': 0, hook: 1, earlier: 2, unknown: 3 };

/** True when Node itself started the timer (an HTTP server's housekeeping), not a caller of the API. */
function createdByNode(frames: Frame[]): boolean {
  const caller = timerCaller(frames);
  return (
    caller !== undefined &&
    caller.file.startsWith('node:') &&
    caller.file !== 'node:timers/promises'
  );
}

interface Candidate {
  pending: PendingResource;
  createdAt: number;
  auxiliary: boolean;
  passive: boolean;
  hasUserSite: boolean;
  resource: object | undefined;
}

/** Turns the tracker's live resources into the ranked, capped list a hang report shows. */
export function collectPending<Owner>(
  tracker: ResourceTracker<Owner>,
  view: ResourceView<Owner>,
  options: { maxListed: number; accept?: (record: ResourceRecord<Owner>) => boolean },
): {
  listed: PendingResource[];
  /** The resource object behind each of `listed`, in the same order. */
  listedObjects: (object | undefined)[];
  omittedCount: number;
  promises: PendingResource[];
} {
  const now = realNow();
  const candidates: Candidate[] = [];
  const promiseCandidates: PromiseCandidate[] = [];
  for (const record of tracker.live()) {
    if (options.accept && !options.accept(record)) continue;
    const relation = view.relationOf(record.owner);
    if (relation === undefined) continue;
    // Only the hung unit's own promises are ever named (selectPromises): formatting the stacks
    // of the others' is wasted work while the event loop waits on this report.
    if (record.type === 'PROMISE' && relation !== 'this-test' && relation !== 'hook') continue;
    const frames = framesOf(record.stack);
    const { site, madeBy } = siteFor(record, frames, tracker);
    // The runner's own resources (its timeout timer) never appear, unless traced to user code.
    if (site?.top?.origin !== 'user' && isRunnerOwned(frames)) continue;
    const ageMs = now - record.createdAt;
    const description = describeResource(
      record.type,
      record.resource,
      ageMs,
      createdByNode(frames),
    );
    const owner = view.describeOwner(record.owner);
    const pending: PendingResource = {
      type: record.type,
      kind: description.kind,
      details: description.details,
      ageMs: Math.round(ageMs),
      keepsAlive: description.keepsAlive,
      relation,
      ...(owner ? { owner } : {}),
      ...(!owner && record.leftOver ? { leftBy: record.leftOver.by } : {}),
      ...(site ? { site } : {}),
      ...(madeBy ? { madeBy } : {}),
    };
    if (record.type === 'PROMISE') {
      const explicit = isPromiseConstructorCall(stackText(record.stack));
      promiseCandidates.push({ pending, createdAt: record.createdAt, explicit });
      continue;
    }
    candidates.push({
      pending,
      createdAt: record.createdAt,
      auxiliary: description.auxiliary,
      passive: description.passive,
      hasUserSite: site?.top?.origin === 'user',
      resource: record.resource,
    });
  }
  foldCompanions(candidates);
  foldFetchSockets(candidates);
  foldServerSides(candidates);
  const primary = candidates.filter((candidate) => !candidate.auxiliary);
  // Helper resources (a server's housekeeping timer, the request riding a socket) only matter
  // when there is nothing more telling to show.
  const chosen = primary.length > 0 ? primary : candidates;
  chosen.sort(
    (a, b) =>
      RELATION_RANK[a.pending.relation] - RELATION_RANK[b.pending.relation] ||
      // What an earlier file left running can wake nothing of this file's: last (see `leftBy`).
      Number(a.pending.leftBy !== undefined) - Number(b.pending.leftBy !== undefined) ||
      Number(b.hasUserSite) - Number(a.hasUserSite) ||
      Number(a.passive) - Number(b.passive) ||
      Number(b.pending.keepsAlive) - Number(a.pending.keepsAlive) ||
      a.createdAt - b.createdAt,
  );
  const listed = chosen.slice(0, options.maxListed).map((candidate) => candidate.pending);
  return {
    listed,
    listedObjects: chosen.slice(0, options.maxListed).map((candidate) => candidate.resource),
    omittedCount: chosen.length - listed.length,
    promises: selectPromises(promiseCandidates, options.maxListed),
  };
}

/** The promise was made by `new Promise(...)` itself, not by an async function or an await. */
function isPromiseConstructorCall(stack: string | undefined): boolean {
  const caller = (stack ?? '')
    .split('\n')
    .find((line) => /^\s+at /.test(line) && !line.includes('node:internal/async_hooks'));
  return caller?.includes('at new Promise (<anonymous>)') ?? false;
}

interface PromiseCandidate {
  pending: PendingResource;
  createdAt: number;
  /** Built with `new Promise(...)`: someone had to call its resolve, and did not. */
  explicit: boolean;
}

/**
 * A hung `await` leaves a chain of pending promises (the async function's own, each await's, the
 * one it waits on). The one worth naming is the innermost `new Promise` in user code: keep user
 * sites of the hung unit, once each, explicit constructions first, newest first.
 */
function selectPromises(candidates: PromiseCandidate[], max: number): PendingResource[] {
  const seen = new Set<string>();
  const chosen: PendingResource[] = [];
  const ordered = candidates
    .filter(({ pending }) => pending.relation === 'this-test' || pending.relation === 'hook')
    .filter(({ pending }) => pending.site?.top?.origin === 'user')
    .sort((a, b) => Number(b.explicit) - Number(a.explicit) || b.createdAt - a.createdAt);
  for (const { pending, explicit } of ordered) {
    const key = siteKey(pending.site)!;
    if (seen.has(key)) continue;
    seen.add(key);
    pending.details.newPromise = explicit;
    chosen.push(pending);
    if (chosen.length === max) break;
  }
  return chosen;
}

function siteKey(site: CreationSite | undefined): string | undefined {
  const top = site?.top;
  return top ? `${top.file}:${top.line}:${top.column}` : undefined;
}

/**
 * Some resources come in groups made by one call: a child's stdio pipes by `spawn`, a fetch
 * request's socket by `fetch`, a worker's message ports (its own and its `postMessage` channel)
 * by `new Worker`. Fold the companions into the resource that says what it is.
 */
const COMPANIONS: { parent: string; child: string }[] = [
  { parent: 'PROCESSWRAP', child: 'PIPEWRAP' },
  { parent: 'FETCH', child: 'TCPWRAP' },
  { parent: 'WORKER', child: 'MESSAGEPORT' },
];

function foldCompanions(candidates: Candidate[]): void {
  for (const { parent, child } of COMPANIONS) {
    const parents = new Map<string, { pending: PendingResource; count: number }>();
    for (const { pending } of candidates) {
      const key = siteKey(pending.site);
      if (pending.type === parent && key) parents.set(key, { pending, count: 0 });
    }
    if (parents.size === 0) continue;
    for (const candidate of candidates) {
      const key = siteKey(candidate.pending.site);
      const found = candidate.pending.type === child && key ? parents.get(key) : undefined;
      if (!found) continue;
      candidate.auxiliary = true;
      found.count++;
    }
    for (const { pending, count } of parents.values()) {
      if (count > 0 && parent === 'PROCESSWRAP') pending.details.stdioPipes = count;
    }
  }
}

/**
 * A fetch on a kept-alive connection rides a socket opened earlier (often by another test): the
 * pending request already names the call, so the socket it is waiting on is folded into it.
 */
function foldFetchSockets(candidates: Candidate[]): void {
  const handles = new Set<unknown>();
  for (const { pending, resource } of candidates) {
    const socket =
      pending.type === 'FETCH'
        ? (resource as { socket?: { _handle?: unknown } }).socket
        : undefined;
    if (socket?._handle) handles.add(socket._handle);
  }
  if (handles.size === 0) return;
  for (const candidate of candidates) {
    if (candidate.pending.type === 'TCPWRAP' && handles.has(candidate.resource))
      candidate.auxiliary = true;
  }
}

/**
 * The server side of a connection whose client side is listed too (a test's request to a server
 * of its beforeAll): one connection, listed once, as the client's socket the test made; the
 * server's entry counts it among its open connections (each earlier test's connection added one
 * more entry "accepted by the server" to every later report). Not when the server was closed and
 * its `close()` waits for that connection to end: that is what an afterEach's close hangs on.
 */
function foldServerSides(candidates: Candidate[]): void {
  const clientEnds = new Set<string>();
  for (const { pending } of candidates) {
    const { local, remote, accepted } = pending.details;
    if (accepted !== true && typeof local === 'string' && typeof remote === 'string') {
      clientEnds.add(`${unmapped(local)}>${unmapped(remote)}`);
    }
  }
  if (clientEnds.size === 0) return;
  for (const candidate of candidates) {
    const { local, remote, accepted, serverClosing } = candidate.pending.details;
    if (accepted !== true || typeof local !== 'string' || typeof remote !== 'string') continue;
    // A closed server's close() waits for this very connection: that is worth its own line.
    if (serverClosing === true) continue;
    if (clientEnds.has(`${unmapped(remote)}>${unmapped(local)}`)) candidate.auxiliary = true;
  }
}

/** An IPv4 address as a dual-stack server sees it (`[::ffff:127.0.0.1]:80`), as its client does. */
function unmapped(address: string): string {
  return address.replace(/^\[::ffff:(\d+\.\d+\.\d+\.\d+)\]/i, '$1');
}

/**
 * The creation site to show. Resources opened later on the user's behalf (fetch's socket, a
 * client's reconnect timer) have no user frame of their own: take the site recorded for the async
 * context, or walk the trigger chain back to the user's code, down to the root of its ancestry.
 * `madeBy` is the library frame that really created it, when the site shown is inherited.
 */
export function siteFor<Owner>(
  record: ResourceRecord<Owner>,
  frames: Frame[],
  tracker: ResourceTracker<Owner>,
): { site: CreationSite | undefined; madeBy?: Frame } {
  const own = toCreationSite(frames);
  if (own?.top?.origin === 'user') return { site: own };
  const isUsers = (site: CreationSite | undefined) => site?.top?.origin === 'user';
  const siteOf = (stack: LazyStack | undefined) => toCreationSite(framesOf(stack));
  const madeBy = own?.top?.origin === 'dependency' ? { madeBy: own.top } : {};
  // The call it was made for, else the call that one ran under (see `LazyStack.outer`).
  let packageCall: CreationSite | undefined;
  let origin = record.origin;
  for (let depth = 0; origin && depth < 8; depth++, origin = origin.outer) {
    const fromOrigin = siteOf(origin);
    if (isUsers(fromOrigin)) return { site: fromOrigin, ...madeBy };
    if (depth === 0) packageCall = fromOrigin;
  }
  let parent = tracker.get(record.triggerAsyncId);
  for (let depth = 0; parent && depth < 20; depth++) {
    const fromParent = siteOf(parent.stack);
    if (isUsers(fromParent)) return { site: fromParent, ...madeBy };
    parent = tracker.get(parent.triggerAsyncId);
  }
  const fromRoot = record.root && siteOf(record.root.stack);
  if (isUsers(fromRoot)) return { site: fromRoot, ...madeBy };
  // No line of the user's anywhere: its own frames, else the package call it was made for (a
  // server that binds on a later tick has only Node's own frames; its listen call has the package's).
  return { site: own ?? packageCall };
}

/** Owners whose work is the hung unit's own doing: its test and that test's per-test hooks. */
const PER_TEST_OWNERS = new Set<OwnerRef['kind']>(['test', 'beforeEach', 'afterEach']);

/**
 * Started by the hung unit itself, or, for a test or per-test hook, by that test or its per-test
 * hooks. What a `beforeAll`, an earlier test or the module scope left open is shown, never blamed.
 */
export function isOwnWork(entry: { relation: Relation; owner?: OwnerRef }): boolean {
  if (entry.relation === 'this-test') return true;
  return (
    entry.relation === 'hook' && entry.owner !== undefined && PER_TEST_OWNERS.has(entry.owner.kind)
  );
}

export function buildHangFinding(
  unit: HungUnit,
  pending: { listed: PendingResource[]; omittedCount: number; promises: PendingResource[] },
  options: {
    fakeTimers?: FakeTimersState;
    promisesTracked: boolean;
    unitSite?: CreationSite;
    awaits?: AwaitFlow[];
    doneCallers?: AwaitFlow[];
  },
): HangFinding {
  pending = {
    ...pending,
    listed: attributeToAwaitedPackage(pending.listed, options.awaits),
  };
  const advice: HangAdvice[] = [];
  const fakeTimers = options.fakeTimers;
  const fakePending = fakeTimers?.pending ?? [];
  const ownFakeTimers = fakePending.filter(isOwnWork);
  if (fakeTimers && ownFakeTimers.length > 0) {
    const dueTimes = ownFakeTimers.flatMap((timer) => timer.dueInMs ?? []);
    advice.push({
      code: 'advance-fake-timers',
      implementation: fakeTimers.implementation,
      timers: ownFakeTimers.length,
      ...(fakeTimers.advancesWithRealTime
        ? {
            advancesWithRealTime: true,
            ...(dueTimes.length > 0 ? { nextDueInMs: Math.min(...dueTimes) } : {}),
          }
        : {}),
    });
  }
  const nothingOwnPending =
    !pending.listed.some(isOwnWork) &&
    !fakePending.some(isOwnWork) &&
    pending.promises.length === 0;
  const nothingPending =
    nothingOwnPending &&
    pending.listed.length === 0 &&
    pending.omittedCount === 0 &&
    fakePending.length === 0;
  const polling = pollingAdvice(unit, pending.listed);
  if (polling) advice.push(polling);
  const awaitsKnown = (options.awaits?.length ?? 0) > 0;
  if (nothingOwnPending && !options.promisesTracked && !(awaitsKnown && !unit.waitingForDone)) {
    advice.push(
      unit.waitingForDone ? { code: 'call-done' } : { code: 'record-promises', nothingPending },
    );
  }
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'hang',
    testName: unit.testName,
    testPath: unit.testPath,
    phase: unit.phase,
    ...(options.unitSite ? { unitSite: options.unitSite } : {}),
    ...(unit.forTest ? { forTest: unit.forTest } : {}),
    trigger: unit.trigger,
    elapsedMs: Math.round(unit.elapsedMs),
    timeoutMs: unit.timeoutMs,
    waitingForDone: unit.waitingForDone,
    ...(unit.thrownBeforeDone?.length ? { thrownBeforeDone: unit.thrownBeforeDone } : {}),
    ...(unit.handledErrors?.length ? { handledErrors: unit.handledErrors } : {}),
    attempt: unit.attempt,
    pending: pending.listed,
    omittedCount: pending.omittedCount,
    ...(fakeTimers && fakePending.length > 0 ? { fakeTimers } : {}),
    ...(options.promisesTracked ? { pendingPromises: pending.promises } : {}),
    nothingPending,
    nothingOwnPending,
    advice,
    ...(awaitsKnown ? { awaits: options.awaits } : {}),
    ...(options.doneCallers?.length ? { doneCallers: options.doneCallers } : {}),
    ...eventCycleField(options.awaits),
  };
}

/**
 * The hung unit's own resources a package made with no line of the user's on their stack, given
 * the line where the unit's await entered that package (when a frame of that package is on their
 * stack: supertest's server, started from superagent's `then`). A thenable's `then` runs from a microtask
 * the `await` queues, with no frame of the test's: `await request(app).get('/orders')` makes
 * supertest's server and superagent's request there.
 */
function attributeToAwaitedPackage(
  listed: PendingResource[],
  awaits: AwaitFlow[] | undefined,
): PendingResource[] {
  const entered = new Map<string, CreationSite>();
  for (const { awaiting } of awaits ?? []) {
    if (awaiting?.kind !== 'library' || !awaiting.enteredAt) continue;
    if (entered.has(awaiting.packageName)) continue;
    entered.set(awaiting.packageName, {
      top: awaiting.enteredAt,
      frames: [awaiting.enteredAt],
      ...(awaiting.enteredSourceLine ? { sourceLine: awaiting.enteredSourceLine } : {}),
    });
  }
  if (entered.size === 0) return listed;
  return listed.map((resource) => {
    const top = resource.site?.top;
    // Only what the hung unit made itself: a hook's await is not where its test's work began
    // (a connection the test opened, awaited by an afterEach's close()).
    if (!top || top.origin === 'user' || resource.relation !== 'this-test') return resource;
    // Made inside the awaited package's call, whichever package's frame is on top.
    const inside = resource.site?.frames.find(
      (frame) => frame.packageName !== undefined && entered.has(frame.packageName),
    );
    const site = inside && entered.get(inside.packageName!);
    return site ? { ...resource, site, madeBy: resource.madeBy ?? top } : resource;
  });
}

/**
 * A poll or retry loop: the unit set many timers while it waited, and its own pending timer was
 * set in the last quarter of that wait (a single long timer would be as old as the wait).
 */
function pollingAdvice(unit: HungUnit, listed: PendingResource[]): HangAdvice | undefined {
  const recent = (type: string) =>
    listed.find(
      (entry) =>
        entry.type === type &&
        (entry.relation === 'this-test' || entry.relation === 'hook') &&
        entry.ageMs < unit.elapsedMs / 4,
    );
  const immediates = unit.immediatesSet ?? 0;
  if (immediates >= LOOP_MIN_TIMERS && recent('Immediate')) {
    return { code: 'polling', timers: immediates, immediate: true };
  }
  const timers = unit.timersSet ?? 0;
  if (timers < LOOP_MIN_TIMERS) return intervalPollAdvice(unit, listed);
  const latest = recent('Timeout');
  if (!latest) return intervalPollAdvice(unit, listed);
  const delayMs = latest.details.delayMs;
  return { code: 'polling', timers, ...(typeof delayMs === 'number' ? { delayMs } : {}) };
}

/**
 * A poll by `setInterval`: an interval of the unit's own that has fired as often as a loop's
 * timers while the unit waited (counted from its age: Node keeps no count).
 */
function intervalPollAdvice(unit: HungUnit, listed: PendingResource[]): HangAdvice | undefined {
  for (const entry of listed) {
    const intervalMs = entry.details.intervalMs;
    if (entry.type !== 'Timeout' || typeof intervalMs !== 'number' || intervalMs <= 0) continue;
    // Its own, or its test's: an interval a beforeAll started (a pool's reaper) is no poll of its.
    if (!isOwnWork(entry)) continue;
    const fired = Math.floor(Math.min(entry.ageMs, unit.elapsedMs) / intervalMs);
    if (fired >= LOOP_MIN_TIMERS) {
      return { code: 'polling', timers: fired, delayMs: intervalMs, interval: true };
    }
  }
  return undefined;
}

function eventCycleField(awaits: AwaitFlow[] | undefined): Pick<HangFinding, 'eventCycle'> {
  const cycle = awaits && awaits.length > 1 ? findEventCycle(awaits) : undefined;
  return cycle ? { eventCycle: cycle } : {};
}

/**
 * The frame a failure should point at, in ranking order: the creation site of what the hung unit
 * itself started (resources, then fake timers, then promises); else the innermost await in user
 * code; else the unit's own line. What earlier tests, shared hooks or the module scope left open is
 * never the culprit: it is listed, and may be what the unit waits on, but nothing says it is.
 */
export function culpritFrame(finding: HangFinding): Frame | undefined {
  const userSite = (entry: { site?: CreationSite }) => entry.site?.top?.origin === 'user';
  const own = (entry: { relation: Relation; owner?: OwnerRef; site?: CreationSite }) =>
    isOwnWork(entry) && userSite(entry);
  // An idle zlib stream waits for its input like the flow does: the flow's await says why.
  const canAct = (entry: PendingResource) =>
    !(entry.type === 'ZLIB' && entry.details.compressing === false);
  return (
    finding.pending.find((entry) => own(entry) && canAct(entry))?.site?.top ??
    finding.fakeTimers?.pending.find(own)?.site?.top ??
    finding.pendingPromises?.find(userSite)?.site?.top ??
    awaitCulpritFrames(finding)[0] ??
    finding.unitSite?.top
  );
}
