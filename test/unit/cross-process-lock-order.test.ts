import type { CreationSite } from '../../src/core/model';
import type { PublishedLockOrder } from '../../src/jest/findings-channel';
import { lockOrderFindingText } from '../../src/core/render/locks';
import { crossProcessInversions } from '../../src/report/cross-process-lock-order';

const site = (line: number): CreationSite => ({
  top: { file: '/repo/store.js', line, column: 3, origin: 'user' },
  frames: [{ file: '/repo/store.js', line, column: 3, origin: 'user' }],
});

let sequence = 0;
/** Process `source` saw `first` taken, then `second`, in `test`. */
function order(source: string, first: string, second: string, test = 'a test'): PublishedLockOrder {
  return {
    sequence: sequence++,
    source,
    lockOrder: {
      edge: {
        held: { key: `name:${first}`, name: first, site: site(1) },
        taken: { key: `name:${second}`, name: second, site: site(2) },
        flow: 'flow #1',
      },
      testName: test,
      testPath: `/repo/${test}.test.js`,
    },
  };
}

describe('lock orders across processes', () => {
  test('opposite orders seen by two processes are one inversion, naming both tests', () => {
    const findings = crossProcessInversions([
      order('1.jsonl', 'users', 'orders', 'checkout'),
      order('2.jsonl', 'orders', 'users', 'refund'),
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'lock-order',
      severity: 'warning',
      testName: 'refund',
      firstOrderSeenIn: { testName: 'checkout', testPath: '/repo/checkout.test.js' },
    });
    expect(lockOrderFindingText(findings[0], { rootDir: '/repo' })).toContain(
      'Seen across test processes: "users" then "orders" in checkout.test.js (test "checkout"), the opposite order in refund.test.js (test "refund")',
    );
  });

  test('an inversion one process saw whole was reported there: not again, whatever the file order', () => {
    const whole = [order('2.jsonl', 'orders', 'users'), order('2.jsonl', 'users', 'orders')];
    expect(crossProcessInversions([order('1.jsonl', 'orders', 'users'), ...whole])).toEqual([]);
    expect(crossProcessInversions([...whole, order('3.jsonl', 'users', 'orders')])).toEqual([]);
  });

  test('a longer cycle across three processes is found; one order everywhere never is', () => {
    const ring = crossProcessInversions([
      order('1', 'a', 'b'),
      order('2', 'b', 'c'),
      order('3', 'c', 'a'),
    ]);
    expect(ring).toHaveLength(1);
    const consistent = crossProcessInversions([
      order('1', 'a', 'b'),
      order('2', 'b', 'c'),
      order('3', 'a', 'c'),
      order('4', 'a', 'b'),
    ]);
    expect(consistent).toEqual([]);
  });
});
