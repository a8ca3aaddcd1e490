import type { Circus } from '@jest/types';
import { Degradable } from '../../src/jest/degrade';
import { Lifecycle, type UnitEvent } from '../../src/jest/lifecycle';
import { originalFunction } from '../../src/jest/unit-functions';
import type { Unit } from '../../src/jest/units';

/*
 * The lifecycle against circus-shaped events and state, as circus dispatches them (its own
 * handler has already run for each), without spawning Jest.
 */

type Fn = (...args: unknown[]) => unknown;

function describeBlock(name: string, parent?: Circus.DescribeBlock): Circus.DescribeBlock {
  const block = { type: 'describeBlock', name, parent, children: [], hooks: [], mode: undefined };
  if (parent) parent.children.push(block as unknown as Circus.DescribeBlock);
  return block as unknown as Circus.DescribeBlock;
}

function testEntry(
  name: string,
  parent: Circus.DescribeBlock,
  options: { fn?: Fn; timeout?: number; concurrent?: boolean } = {},
): Circus.TestEntry {
  const test = {
    type: 'test',
    name,
    parent,
    fn: options.fn ?? (() => undefined),
    timeout: options.timeout,
    concurrent: options.concurrent ?? false,
    errors: [],
    asyncError: new Error('declared here'),
  };
  parent.children.push(test as unknown as Circus.TestEntry);
  return test as unknown as Circus.TestEntry;
}

function hookEntry(type: Circus.HookType, parent: Circus.DescribeBlock, fn?: Fn): Circus.Hook {
  return {
    type,
    parent,
    fn: fn ?? (() => undefined),
    timeout: undefined,
  } as unknown as Circus.Hook;
}

function circusState(root: Circus.DescribeBlock, testTimeout = 5000): Circus.State {
  return {
    rootDescribeBlock: root,
    currentDescribeBlock: root,
    currentlyRunningTest: null,
    testTimeout,
    unhandledErrors: [],
  } as unknown as Circus.State;
}

/** Timers the test fires by hand. */
function manualTimers() {
  const armed = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    armed,
    timers: {
      setTimer: (fn: () => void, ms: number) => {
        armed.set(next, { fn, ms });
        return next++;
      },
      clearTimer: (timer: unknown) => void armed.delete(timer as number),
    },
    fireAll() {
      const due = [...armed.values()];
      armed.clear();
      for (const { fn } of due) fn();
    },
  };
}

function part(stop: () => void = () => undefined): Degradable {
  return new Degradable(stop, (reason) => `hangwatch: internal error (${reason}) in a test part`);
}

/** A lifecycle with one recording subscriber; `log` reads `event unit-kind unit-name`. */
function recorded() {
  const clock = manualTimers();
  const lifecycle = new Lifecycle('/project/a.test.js', clock.timers);
  const events: UnitEvent[] = [];
  lifecycle.subscribe(part(), (event) => void events.push(event));
  const log = () =>
    events.map((event) => {
      const unit = 'unit' in event ? ` ${event.unit.kind} ${event.unit.name}` : '';
      const outcome = event.name === 'unit_ended' ? ` ${event.outcome}` : '';
      return `${event.name}${unit}${outcome}`;
    });
  return { lifecycle, events, log, clock };
}

const dispatch = (
  lifecycle: Lifecycle,
  state: Circus.State,
  ...events: Array<Record<string, unknown>>
) => {
  for (const event of events) lifecycle.handleTestEvent(event as Circus.Event, state);
};

describe('unit events', () => {
  test('a file: loaded, hooks of describe blocks and tests start and end in order, then done', () => {
    const { lifecycle, log } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const users = describeBlock('users', root);
    const admins = describeBlock('admins', users);
    const test = testEntry('can log in', admins);
    const beforeAll = hookEntry('beforeAll', admins);
    const beforeEach = hookEntry('beforeEach', users);
    const afterAll = hookEntry('afterAll', root);
    const state = circusState(root);
    dispatch(lifecycle, state, { name: 'run_start' }, { name: 'hook_start', hook: beforeAll });
    dispatch(lifecycle, state, { name: 'hook_success', hook: beforeAll });
    state.currentlyRunningTest = test;
    dispatch(
      lifecycle,
      state,
      { name: 'test_start', test },
      { name: 'hook_start', hook: beforeEach },
      { name: 'hook_success', hook: beforeEach },
      { name: 'test_fn_start', test },
      { name: 'test_fn_failure', test, error: new Error('expected 1 to be 2') },
      { name: 'test_done', test },
    );
    state.currentlyRunningTest = null;
    dispatch(
      lifecycle,
      state,
      { name: 'hook_start', hook: afterAll },
      { name: 'hook_success', hook: afterAll },
      { name: 'run_finish' },
    );
    expect(log()).toEqual([
      'file_loaded',
      'unit_started beforeAll users › admins',
      'unit_ended beforeAll users › admins passed',
      'unit_started beforeEach users › admins › can log in',
      'unit_ended beforeEach users › admins › can log in passed',
      'unit_started test users › admins › can log in',
      'unit_ended test users › admins › can log in failed',
      'test_done',
      'unit_started afterAll ',
      'unit_ended afterAll  passed',
      'file_done',
    ]);
  });

  test('a hook knows its describe block and, for per-test hooks, the test it runs for', () => {
    const { lifecycle, events } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const outer = describeBlock('outer', root);
    const inner = describeBlock('inner', outer);
    const test = testEntry('works', inner);
    const state = circusState(root);
    const afterEach = hookEntry('afterEach', outer);
    const beforeAll = hookEntry('beforeAll', inner);
    dispatch(lifecycle, state, { name: 'hook_start', hook: beforeAll });
    state.currentlyRunningTest = test;
    dispatch(lifecycle, state, { name: 'hook_start', hook: afterEach });
    const [all, each] = events.map((event) => (event as { unit: Unit }).unit);
    expect(all).toMatchObject({ kind: 'beforeAll', name: 'outer › inner', block: inner });
    expect(all.test).toBeUndefined();
    expect(each).toMatchObject({ kind: 'afterEach', name: 'outer › inner › works', test });
    // Its test's block, not the hook's own: what matters is where it runs.
    expect(each.block).toBe(inner);
    expect([...lifecycle.running()]).toEqual([all, each]);
  });

  test("the timeout rule: the unit's own, else the file's; its expiry comes before Jest's failure", () => {
    const { lifecycle, log, clock, events } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const own = testEntry('own timeout', root, { timeout: 250 });
    const inherited = testEntry('file timeout', root);
    const none = testEntry('no timeout', root, { timeout: Infinity });
    const state = circusState(root, 1000);
    dispatch(lifecycle, state, { name: 'test_fn_start', test: own });
    expect([...clock.armed.values()].map(({ ms }) => ms)).toEqual([250]);
    clock.fireAll();
    dispatch(lifecycle, state, {
      name: 'test_fn_failure',
      test: own,
      error: new Error('Exceeded timeout of 250 ms for a test.'),
    });
    dispatch(lifecycle, state, { name: 'test_fn_start', test: inherited });
    expect([...clock.armed.values()].map(({ ms }) => ms)).toEqual([1000]);
    dispatch(lifecycle, state, { name: 'test_fn_success', test: inherited });
    // Ended in time: when the timer fires, nothing is due and nothing is armed again.
    clock.fireAll();
    expect(clock.armed.size).toBe(0);
    dispatch(lifecycle, state, { name: 'test_fn_start', test: none });
    expect(clock.armed.size).toBe(0);
    expect(log()).toEqual([
      'unit_started test own timeout',
      'unit_timed_out test own timeout',
      'unit_ended test own timeout timed_out',
      'unit_started test file timeout',
      'unit_ended test file timeout passed',
      'unit_started test no timeout',
    ]);
    expect(events[2]).toMatchObject({ error: { message: expect.stringMatching(/^Exceeded/) } });
    expect(events.map((event) => (event as { unit?: Unit }).unit?.timeoutMs)).toEqual([
      250,
      250,
      250,
      1000,
      1000,
      Infinity,
    ]);
  });

  test('one timer watches the deadlines of many units: ended ones are never announced', () => {
    const { lifecycle, log, clock } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const [first, second, third] = ['first', 'second', 'third'].map((name) =>
      testEntry(name, root),
    );
    const state = circusState(root, 1000);
    dispatch(lifecycle, state, { name: 'test_fn_start', test: first });
    dispatch(lifecycle, state, { name: 'test_fn_success', test: first });
    dispatch(lifecycle, state, { name: 'test_fn_start', test: second });
    dispatch(lifecycle, state, { name: 'test_fn_success', test: second });
    dispatch(lifecycle, state, { name: 'test_fn_start', test: third });
    expect([...clock.armed.values()].map(({ ms }) => ms)).toEqual([1000]);
    clock.fireAll();
    expect(log().filter((line) => line.startsWith('unit_timed_out'))).toEqual([
      'unit_timed_out test third',
    ]);
    expect(clock.armed.size).toBe(0);
    // The file's end stops a timer still armed.
    dispatch(lifecycle, state, { name: 'test_fn_start', test: first });
    expect(clock.armed.size).toBe(1);
    dispatch(lifecycle, state, { name: 'run_finish' });
    expect(clock.armed.size).toBe(0);
  });

  test('a retried test runs again as a new unit that knows its attempt', () => {
    const { lifecycle, log, events } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const test = testEntry('flaky', root);
    const state = circusState(root);
    dispatch(
      lifecycle,
      state,
      { name: 'test_fn_start', test },
      { name: 'test_fn_failure', test, error: new Error('no') },
      { name: 'test_retry', test },
      { name: 'test_fn_start', test },
      { name: 'test_fn_success', test },
    );
    expect(log()).toEqual([
      'unit_started test flaky',
      'unit_ended test flaky failed',
      'test_retried',
      'unit_started test flaky',
      'unit_ended test flaky passed',
    ]);
    const first = (events[0] as { unit: Unit }).unit;
    const second = (events[3] as { unit: Unit }).unit;
    expect(second).not.toBe(first);
    expect([first.attempt, second.attempt]).toEqual([0, 1]);
  });

  test('a concurrent test owns what it creates from its declaration on', () => {
    const { lifecycle, events } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const state = circusState(root);
    const fn = () => undefined;
    const test = testEntry('together', root, { fn, concurrent: true });
    dispatch(lifecycle, state, { name: 'add_test', fn, concurrent: true, testName: 'together' });
    const declared = test.fn;
    expect(declared).not.toBe(fn);
    expect(originalFunction(declared)).toBe(fn);
    dispatch(lifecycle, state, { name: 'test_fn_start', test });
    expect((events[0] as { unit: Unit }).unit).toMatchObject({ kind: 'test', timeoutMs: 5000 });
  });

  test('what runs while the file loads is the module unit; afterwards only own units count', () => {
    const { lifecycle } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const state = circusState(root);
    const foreign = { kind: 'test' };
    expect(lifecycle.ownerOf(foreign)).toBe(lifecycle.moduleUnit);
    expect(lifecycle.moduleUnit).toMatchObject({ kind: 'module', name: '/project/a.test.js' });
    dispatch(lifecycle, state, { name: 'run_start' });
    expect(lifecycle.ownerOf(foreign)).toBeUndefined();
    const test = testEntry('t', root);
    dispatch(lifecycle, state, { name: 'test_fn_start', test });
    const unit = [...lifecycle.running()][0];
    expect(lifecycle.ownerOf(unit)).toBe(unit);
  });

  test("a unit's function runs as its work and throws what must fail it when it returns", () => {
    const { lifecycle } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const state = circusState(root);
    const test = testEntry('t', root, { fn: () => 42 });
    dispatch(lifecycle, state, { name: 'test_fn_start', test });
    const unit = [...lifecycle.running()][0];
    unit.failOnReturn = [new Error('lock order inverted')];
    expect(() => (test.fn as unknown as Fn)()).toThrow('lock order inverted');
    expect(unit.returned).toBe(42);
    expect((test.fn as unknown as Fn)()).toBe(42);
  });

  test('an ended unit lets go of what its function returned, after its subscribers were told', async () => {
    const lifecycle = new Lifecycle('/p/a.test.js', manualTimers().timers);
    const seenAtEnd: unknown[] = [];
    let finishWaiting = () => undefined as void;
    lifecycle.subscribe(part(), (event) => {
      if (event.name !== 'unit_ended') return undefined;
      // A subscriber that waits (a report being written) still sees the value until it is done.
      return new Promise<void>((resolve) => {
        finishWaiting = () => {
          seenAtEnd.push(event.unit.returned);
          resolve();
        };
      });
    });
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const state = circusState(root);
    // A supertest request, say: it holds the app and its server for as long as it is reachable.
    const request = { app: 'holds the server' };
    const test = testEntry('t', root, { fn: () => request });
    dispatch(lifecycle, state, { name: 'test_fn_start', test });
    const unit = [...lifecycle.running()][0];
    (test.fn as unknown as Fn)();
    expect(unit.returned).toBe(request);
    const ended = lifecycle.handleTestEvent(
      { name: 'test_fn_success', test } as Circus.Event,
      state,
    );
    finishWaiting();
    await ended;
    expect(seenAtEnd).toEqual([request]);
    expect(unit.returned).toBeUndefined();
    expect(unit.abort).toBeUndefined();
  });

  test('an error thrown in a callback is kept on the one done-style unit waiting', () => {
    const { lifecycle } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const state = circusState(root);
    const test = testEntry('t', root, { fn: (done: unknown) => done });
    dispatch(lifecycle, state, { name: 'test_fn_start', test });
    const thrown = new Error('expect(received).toBe(expected)');
    dispatch(lifecycle, state, { name: 'error', error: thrown });
    expect([...lifecycle.running()][0].callbackErrors).toEqual([thrown]);
  });
});

describe('recording a failure on a unit', () => {
  function started(kind: 'test' | 'beforeAll' | 'afterEach') {
    const { lifecycle, events } = recorded();
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const block = describeBlock('db', root);
    const first = testEntry('first', block);
    const second = testEntry('second', block);
    const state = circusState(root);
    if (kind === 'test') dispatch(lifecycle, state, { name: 'test_fn_start', test: first });
    else {
      if (kind === 'afterEach') state.currentlyRunningTest = first;
      dispatch(lifecycle, state, { name: 'hook_start', hook: hookEntry(kind, block) });
    }
    return { lifecycle, unit: (events[0] as { unit: Unit }).unit, state, first, second };
  }

  test("a test's failure goes to its errors, once", () => {
    const { lifecycle, unit, state, first } = started('test');
    const error = new Error('blocked the loop');
    lifecycle.recordFailure(unit, error);
    lifecycle.recordFailure(unit, error);
    expect(first.errors).toEqual([[error, error]]);
    expect(state.unhandledErrors).toEqual([]);
  });

  test("a per-test hook's failure goes to its test; a describe-level hook's to the file", () => {
    const each = started('afterEach');
    each.lifecycle.recordFailure(each.unit, new Error('each'));
    expect(each.first.errors).toHaveLength(1);
    const all = started('beforeAll');
    const error = new Error('all');
    all.lifecycle.recordFailure(all.unit, error);
    expect(all.state.unhandledErrors).toEqual([error]);
    expect(all.first.errors).toEqual([]);
  });

  test('a replacement takes the place of the error circus recorded, everywhere it did', () => {
    const { lifecycle, unit, state, first, second } = started('beforeAll');
    const timeout = new Error('Exceeded timeout of 1000 ms for a hook.');
    const asyncError = new Error('declared');
    // Circus fans a beforeAll failure out to every test of its block.
    (first.errors as unknown[]).push([timeout, asyncError]);
    (second.errors as unknown[]).push([timeout, asyncError]);
    const report = new Error('HangError: beforeAll hook of describe "db" hung');
    lifecycle.recordFailure(unit, report, timeout);
    expect(first.errors).toEqual([[report, asyncError]]);
    expect(second.errors).toEqual([[report, asyncError]]);
    expect(state.unhandledErrors).toEqual([]);
  });

  test('a failure of the file (a leak found at its end) is the file’s', () => {
    const { lifecycle, state } = started('test');
    const leak = new Error('left open');
    lifecycle.recordFailure('file', leak);
    expect(state.unhandledErrors).toEqual([leak]);
  });
});

describe('subscribers', () => {
  test('are told in the order they subscribed, each event before the next', () => {
    const lifecycle = new Lifecycle('/p/a.test.js', manualTimers().timers);
    const calls: string[] = [];
    for (const name of ['locks', 'session', 'loop']) {
      lifecycle.subscribe(part(), (event) => void calls.push(`${name}:${event.name}`));
    }
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const test = testEntry('t', root);
    dispatch(lifecycle, circusState(root), { name: 'test_fn_start', test });
    dispatch(lifecycle, circusState(root), { name: 'test_fn_success', test });
    expect(calls).toEqual([
      'locks:unit_started',
      'session:unit_started',
      'loop:unit_started',
      'locks:unit_ended',
      'session:unit_ended',
      'loop:unit_ended',
    ]);
  });

  test('circus waits for what a subscriber returns at the end of a test', async () => {
    const lifecycle = new Lifecycle('/p/a.test.js', manualTimers().timers);
    let settled = false;
    lifecycle.subscribe(part(), (event) =>
      event.name === 'test_done'
        ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => void (settled = true))
        : undefined,
    );
    const root = describeBlock('ROOT_DESCRIBE_BLOCK');
    const test = testEntry('t', root);
    expect(
      lifecycle.handleTestEvent({ name: 'test_fn_start', test } as Circus.Event, circusState(root)),
    ).toBeUndefined();
    await lifecycle.handleTestEvent({ name: 'test_done', test } as Circus.Event, circusState(root));
    expect(settled).toBe(true);
  });

  test('an internal error in a subscriber switches its part off, says so once, and never reaches the test', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const lifecycle = new Lifecycle('/p/a.test.js', manualTimers().timers);
      const stopped: string[] = [];
      const broken = part(() => stopped.push('broken'));
      const calls: string[] = [];
      lifecycle.subscribe(broken, (event) => {
        calls.push(`first:${event.name}`);
        if (event.name === 'unit_started') throw new Error('a bug');
      });
      // The same part's other subscribers are off with it.
      lifecycle.subscribe(broken, (event) => void calls.push(`second:${event.name}`));
      lifecycle.subscribe(part(), (event) => void calls.push(`other:${event.name}`));
      const rejecting = part(() => stopped.push('rejecting'));
      lifecycle.subscribe(rejecting, (event) =>
        event.name === 'test_done' ? Promise.reject(new Error('an async bug')) : undefined,
      );
      const root = describeBlock('ROOT_DESCRIBE_BLOCK');
      const test = testEntry('t', root);
      const state = circusState(root);
      for (const event of [
        { name: 'test_fn_start', test },
        { name: 'test_fn_success', test },
      ]) {
        expect(() => lifecycle.handleTestEvent(event as Circus.Event, state)).not.toThrow();
      }
      await expect(
        lifecycle.handleTestEvent({ name: 'test_done', test } as Circus.Event, state),
      ).resolves.toBeUndefined();
      expect(calls).toEqual([
        'first:unit_started',
        'other:unit_started',
        'other:unit_ended',
        'other:test_done',
      ]);
      expect(stopped).toEqual(['broken', 'rejecting']);
      expect(broken.disabled && rejecting.disabled).toBe(true);
      expect(test.errors).toEqual([]);
      expect(state.unhandledErrors).toEqual([]);
      const lines = stderr.mock.calls.map(([text]) => String(text));
      expect(lines).toEqual([
        'hangwatch: internal error (a bug) in a test part\n',
        'hangwatch: internal error (an async bug) in a test part\n',
      ]);
      // The same failure in the next file of this process says nothing new.
      const next = new Lifecycle('/p/b.test.js', manualTimers().timers);
      next.subscribe(part(), () => {
        throw new Error('a bug');
      });
      next.handleTestEvent({ name: 'run_start' } as Circus.Event, state);
      expect(stderr).toHaveBeenCalledTimes(2);
    } finally {
      stderr.mockRestore();
    }
  });
});
