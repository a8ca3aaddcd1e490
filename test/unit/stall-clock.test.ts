import { StallClock, type StallCheck, type StallLook } from '../../src/core/stall-clock';
import { IdleCheck } from '../../src/jest/idle-check';

/** A clock on timers the test fires by hand, one look per `tick()`. */
function manualClock() {
  let pending: (() => void) | undefined;
  const clock = new StallClock({
    setTimer: (fn) => {
      pending = fn;
      return {};
    },
    clearTimer: () => {
      pending = undefined;
    },
  });
  return {
    clock,
    tick: () => {
      const fn = pending;
      pending = undefined;
      fn?.();
    },
    ticking: () => pending !== undefined,
  };
}

function scripted(name: string, acted: string[], looks: StallLook[], acts = true) {
  const check: StallCheck & { watched: boolean } = {
    watched: true,
    watching: () => check.watched,
    look: () => looks.shift() ?? 'still',
    act: () => {
      acted.push(name);
      return acts;
    },
  };
  return check;
}

test('two still looks in a row let the first check that can explain the stall act', () => {
  const acted: string[] = [];
  const { clock, tick } = manualClock();
  clock.add(scripted('locks', acted, ['still', 'still'], false));
  clock.add(scripted('idle', acted, ['still', 'still']));
  clock.arm();
  tick();
  expect(acted).toEqual([]);
  tick();
  expect(acted).toEqual(['locks', 'idle']);
});

test('once a check acts, the checks after it are left alone', () => {
  const acted: string[] = [];
  const { clock, tick } = manualClock();
  clock.add(scripted('locks', acted, []));
  clock.add(scripted('idle', acted, []));
  clock.arm();
  tick();
  tick();
  expect(acted).toEqual(['locks']);
});

test('movement seen by any check starts the count again; a check with no say does not', () => {
  const acted: string[] = [];
  const { clock, tick } = manualClock();
  clock.add(scripted('locks', acted, ['still', 'moving', 'still', 'still']));
  clock.add(scripted('idle', acted, ['still', 'still', 'no-say', 'no-say']));
  clock.arm();
  tick();
  tick();
  tick();
  expect(acted).toEqual([]);
  tick();
  expect(acted).toEqual(['locks']);
});

test('checks that only have no say never act', () => {
  const acted: string[] = [];
  const { clock, tick } = manualClock();
  clock.add(scripted('idle', acted, ['no-say', 'no-say', 'no-say']));
  clock.arm();
  tick();
  tick();
  tick();
  expect(acted).toEqual([]);
});

test('the clock stops when no check has anything to watch, and only looks at those that do', () => {
  const acted: string[] = [];
  const { clock, tick, ticking } = manualClock();
  const locks = scripted('locks', acted, []);
  const idle = scripted('idle', acted, ['moving']);
  locks.watched = false;
  clock.add(locks);
  clock.add(idle);
  clock.arm();
  tick();
  tick();
  tick();
  expect(acted).toEqual(['idle']);
  idle.watched = false;
  expect(ticking()).toBe(true);
  tick();
  expect(ticking()).toBe(false);
  clock.arm();
  expect(ticking()).toBe(true);
  clock.dispose();
  expect(ticking()).toBe(false);
});

describe('the idle check on the clock it shares with the lock graph', () => {
  function idleSetup(
    options: { somethingElse?: boolean; fakeTimer?: boolean; lockWaits?: boolean } = {},
  ) {
    const { clock, tick } = manualClock();
    const acted: string[] = [];
    const locks = scripted('locks', acted, [], options.lockWaits ?? false);
    locks.watched = options.lockWaits ?? false;
    clock.add(locks);
    const failed: string[] = [];
    const unit = { kind: 'test', name: 'waits', timeoutMs: 5000, abort: () => undefined } as never;
    const idle = new IdleCheck(
      {
        running: () => [unit],
        somethingElsePending: () => options.somethingElse ?? false,
        fakeTimerPending: () => options.fakeTimer ?? false,
        fail: (failedUnit) => failed.push((failedUnit as { name: string }).name),
      },
      clock,
    );
    clock.add(idle);
    idle.onUnitEvent({ name: 'unit_started', unit });
    return { tick, failed, acted };
  }

  test('a test waiting on nothing that could wake it fails after two still looks', () => {
    const { tick, failed } = idleSetup();
    tick();
    expect(failed).toEqual([]);
    tick();
    expect(failed).toEqual(['waits']);
  });

  test('a pending timer or socket keeps it waiting; a pending fake timer leaves it to its timeout', () => {
    for (const pending of [{ somethingElse: true }, { fakeTimer: true }]) {
      const { tick, failed } = idleSetup(pending);
      for (let look = 0; look < 4; look++) tick();
      expect(failed).toEqual([]);
    }
  });

  test('lock waits that explain the stall are failed first, by the lock check', () => {
    const { tick, failed, acted } = idleSetup({ lockWaits: true });
    tick();
    tick();
    expect(acted).toEqual(['locks']);
    expect(failed).toEqual([]);
  });
});

test('a check that acts only as a last resort leaves the stall to a sure one first', () => {
  const { clock, tick } = manualClock();
  const acted: string[] = [];
  const lastResort = (name: string): StallCheck => ({
    watching: () => true,
    look: () => 'still',
    act: (confidence) => {
      acted.push(`${name}:${confidence}`);
      return confidence === 'last-resort';
    },
  });
  clock.add(lastResort('locks'));
  clock.add(scripted('idle', acted, []));
  clock.arm();
  tick();
  tick();
  expect(acted).toEqual(['locks:sure', 'idle']);
  // Without a sure check, the last resort acts.
  const alone = manualClock();
  alone.clock.add(lastResort('locks'));
  alone.clock.arm();
  alone.tick();
  alone.tick();
  expect(acted.slice(2)).toEqual(['locks:sure', 'locks:last-resort']);
});
