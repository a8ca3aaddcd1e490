import { currentAsyncContext } from '../../src/core/async-context';
import { declaresDone, wrapUnitFunction } from '../../src/jest/unit-functions';
import type { Unit } from '../../src/jest/units';

function newUnit(): Unit {
  return {
    id: 1,
    kind: 'test',
    name: 'a test',
    startedAt: 0,
    timeoutMs: 0,
    attempt: 0,
    running: true,
  };
}

/** Frames between `inner` and `outer` in a stack string. */
function framesBetween(stack: string, inner: string, outer: string): number {
  const lines = stack.split('\n').slice(1);
  return (
    lines.findIndex((line) => line.includes(outer)) -
    lines.findIndex((line) => line.includes(inner)) -
    1
  );
}

test('a test function runs as its unit, with its this, and two frames above its caller', () => {
  const unit = newUnit();
  const context = { name: 'circus test context' };
  let seen: { stack: string; owner: unknown; self: unknown } | undefined;
  function userTest(this: unknown) {
    seen = { stack: new Error().stack ?? '', owner: currentAsyncContext()?.owner, self: this };
    return 'returned';
  }
  const wrapped = wrapUnitFunction(userTest, unit);
  function circusCaller() {
    return wrapped.call(context);
  }
  expect(circusCaller()).toBe('returned');
  expect(seen?.owner).toBe(unit);
  expect(seen?.self).toBe(context);
  // AsyncLocalStorage's run and the wrapper: what every stack a test reads carries.
  expect(framesBetween(seen!.stack, 'userTest', 'circusCaller')).toBe(2);
  expect(unit.returned).toBe('returned');
});

test('a done-style function keeps its arity and gets a done that ends it', () => {
  const unit = newUnit();
  let owner: unknown;
  const userTest = (done: (error?: unknown) => void) => {
    owner = currentAsyncContext()?.owner;
    done();
  };
  const wrapped = wrapUnitFunction(userTest, unit);
  expect(declaresDone(wrapped)).toBe(true);
  const done = jest.fn();
  wrapped(done);
  expect(owner).toBe(unit);
  expect(done).toHaveBeenCalledWith(undefined);
});
