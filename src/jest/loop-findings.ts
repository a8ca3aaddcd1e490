import { channel } from 'node:diagnostics_channel';
import type { BlockedLoopFinding } from '../core/loop-watchdog/report';

/**
 * Where blocked-loop findings leave the environment for reporters. Published on the
 * `hangwatch:blocked-loop` diagnostics channel of the test process; when the findings channel
 * (`src/jest/findings-channel.ts`) lands, this is the one call to switch to its `publishFinding`.
 */
const blockedLoopChannel = channel('hangwatch:blocked-loop');

export function publishLoopFinding(finding: BlockedLoopFinding): void {
  if (blockedLoopChannel.hasSubscribers) blockedLoopChannel.publish(finding);
}
