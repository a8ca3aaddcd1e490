import type { BlockedLoopFinding } from '../core/loop-watchdog/report';
import { publishFinding } from './findings-channel';

/** Where blocked-loop findings leave the environment for the run's reporter. */
export function publishLoopFinding(finding: BlockedLoopFinding): void {
  publishFinding(finding);
}
