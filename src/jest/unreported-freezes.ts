import { readFrozenMarkers, unitKeyOf, unitOfFinding } from '../core/loop-watchdog/frozen-markers';
import { FROZEN_LOOP_EXIT_CODE } from '../core/loop-watchdog/protocol';
import type { BlockedLoopFinding, Finding } from '../core/model';

/**
 * Frozen loops no process reported. The watchdog writes a marker and ends the worker for Jest to
 * run the file again, where the unit fails at once and its finding reaches the reporter. When no
 * rerun reports it (the process died another way on its way out and Jest gave up on the file, or
 * the unit's name changed between runs and the rerun froze again), the marker is all that is left
 * of it: its finding is reported from there, with advice that says so.
 */
export function unreportedFreezes(
  published: readonly Finding[],
  markerDir: string | undefined,
): BlockedLoopFinding[] {
  if (markerDir === undefined) return [];
  const reported = new Set(
    published
      .filter((finding): finding is BlockedLoopFinding => finding.kind === 'blocked-loop')
      .filter((finding) => finding.frozen)
      .map((finding) => unitKeyOf(unitOfFinding(finding))),
  );
  return readFrozenMarkers(markerDir)
    .filter((finding) => !reported.has(unitKeyOf(unitOfFinding(finding))))
    .map(({ notes: _written, ...finding }) => ({
      ...finding,
      advice: [
        ...(finding.advice ?? []).filter((advice) => advice.code !== 'ended-process'),
        {
          code: 'rerun-missing',
          unit: finding.phase === 'test' ? 'test' : 'hook',
          exitCode: FROZEN_LOOP_EXIT_CODE,
        },
      ],
    }));
}
