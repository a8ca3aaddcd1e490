import type { BlockedLoopFinding, Frame, LoopAdvice, OwnerRef } from '../model';
import { REPORT_SCHEMA_VERSION } from '../model';
import { errorStack, toCreationSite } from '../stack';
import type { NativeCallInfo } from './native-calls';

export { renderBlockedLoopText } from '../render-text';
export { blockedLoopHeadline } from '../render/sections';

export type { NativeCallInfo };

export type { BlockedLoopFinding };

/** The test or hook a block happened in, as the report names it. */
export interface LoopUnit {
  kind: Exclude<OwnerRef['kind'], 'module'>;
  /** Full test name, or the describe path of a `beforeAll`/`afterAll` hook. */
  name: string;
  /** For `beforeEach`/`afterEach`: the test they ran for. */
  forTest?: string;
  testPath: string;
  rootDir: string;
  timeoutMs: number;
}

export function buildBlockedLoopFinding(
  unit: LoopUnit,
  block: {
    blockedMs: number;
    frames: Frame[];
    frozen: boolean;
    severity: 'warning' | 'error';
    nativeCall?: NativeCallInfo;
    childEnded?: boolean;
  },
  advice: LoopAdvice[] = [],
): BlockedLoopFinding {
  const nativeCall = block.nativeCall
    ? {
        api: block.nativeCall.api,
        args: block.nativeCall.args,
        ...(block.childEnded ? { childEnded: true } : {}),
      }
    : undefined;
  const site = toCreationSite(block.frames);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'blocked-loop',
    testName: unit.name,
    testPath: unit.testPath,
    phase: unit.kind,
    ...(unit.forTest ? { forTest: unit.forTest } : {}),
    blockedMs: Math.round(block.blockedMs),
    timeoutMs: unit.timeoutMs,
    frozen: block.frozen,
    severity: block.severity,
    ...(site ? { site } : {}),
    stack: block.frames,
    ...(nativeCall ? { nativeCall } : {}),
    advice,
  };
}

/**
 * The failure of a unit that blocked the loop. Its stack starts at the loop's line, so Jest's code
 * frame points there; `finding` carries the report as data.
 */
export class BlockedLoopError extends Error {
  override name = 'BlockedLoopError';
  readonly finding: BlockedLoopFinding;

  constructor(message: string, finding: BlockedLoopFinding) {
    super(message);
    this.finding = finding;
    const frames = finding.stack.filter((frame) => frame.origin === 'user');
    this.stack = errorStack(this.name, message, frames);
  }
}
