import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let collect: (() => void) | undefined | null;

/**
 * A full garbage collection, so finalizers of what became unreachable run (a lock's dropped
 * release function). Node exposes `gc` only with --expose-gc: the flag is set just long enough
 * to make one private context that has it, and unset at once, so no other context (a test
 * file's) gains a `gc` global. Returns false when this Node refuses.
 */
export function collectGarbage(): boolean {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
    if (typeof collect !== 'function') collect = null;
  }
  if (!collect) return false;
  collect();
  return true;
}
