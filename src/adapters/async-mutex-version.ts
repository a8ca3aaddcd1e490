/**
 * The async-mutex versions this adapter was tested with: it relies on Semaphore internals
 * (`_queue`, `_dispatchItem`, `_newReleaser`, `_couldLockImmediately`) that a minor release of
 * a 0.x package may change. Outside them its locks run uninstrumented, and one line says so.
 */
export const TESTED_VERSIONS = { from: [0, 5, 0], below: [0, 6, 0] } as const;

export function isTestedVersion(version: string): boolean {
  // A prerelease (0.6.0-beta) is a version nobody tested either.
  const parsed = /^(\d+)\.(\d+)\.(\d+)(?:\+[\w.-]*)?$/.exec(version)?.slice(1).map(Number);
  if (!parsed) return false;
  const compare = (bound: readonly number[]) => {
    for (let at = 0; at < 3; at++) if (parsed[at] !== bound[at]) return parsed[at] - bound[at];
    return 0;
  };
  return compare(TESTED_VERSIONS.from) >= 0 && compare(TESTED_VERSIONS.below) < 0;
}

export function describeTestedVersions(): string {
  return `>=${TESTED_VERSIONS.from.join('.')} <${TESTED_VERSIONS.below.join('.')}`;
}
