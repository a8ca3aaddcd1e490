import { formatDuration } from '../format';
import type { BlockedLoopFinding, Frame, OwnerRef } from '../model';
import { REPORT_SCHEMA_VERSION } from '../model';
import { displayPath, errorStack, toCreationSite } from '../stack';
import { unitLabel } from '../wording';
import type { NativeCallInfo } from './native-calls';

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
  notes: string[] = [],
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
    notes,
  };
}

function where(finding: BlockedLoopFinding, rootDir: string): string {
  const top = finding.site?.top;
  const call = finding.nativeCall;
  if (call) {
    const at = top ? ` at ${displayPath(top.file, rootDir)}:${top.line}:${top.column}` : '';
    return ` in a native call, ${call.api}(${call.args}),${at}`;
  }
  if (!top) {
    return finding.stack.length === 0
      ? ' outside JavaScript (a synchronous native call: execSync, Atomics.wait, a sync fs call...)'
      : ' in code that is not the project’s own';
  }
  return ` at ${displayPath(top.file, rootDir)}:${top.line}:${top.column}`;
}

/** "test "x" blocked the event loop for 2.5 s at loop.test.js:4:3" */
export function blockedLoopHeadline(finding: BlockedLoopFinding, rootDir: string): string {
  if (finding.frozen) {
    return `${unitLabel(finding)} froze the event loop: blocked for ${formatDuration(finding.blockedMs)}, past its ${formatDuration(finding.timeoutMs)} timeout,${where(finding, rootDir)}.`;
  }
  return `${unitLabel(finding)} blocked the event loop for ${formatDuration(finding.blockedMs)}${where(finding, rootDir)}.`;
}

/** Plain text, like the hang report: headline, the loop's source line, the stack, notes. */
export function renderBlockedLoopText(finding: BlockedLoopFinding, rootDir: string): string {
  const lines = [blockedLoopHeadline(finding, rootDir)];
  if (finding.site?.sourceLine) lines.push(`    ${finding.site.sourceLine}`);
  const shown = finding.stack.filter((frame) => frame.origin !== 'internal');
  if (shown.length > 0) {
    lines.push(
      finding.nativeCall
        ? 'Where the test made the call (most recent call first):'
        : 'Stack of the test when the watchdog looked (most recent call first):',
    );
    for (const frame of shown) lines.push(`  ${frameLine(frame, rootDir)}`);
  }
  lines.push(...finding.notes);
  return lines.join('\n');
}

function frameLine(frame: Frame, rootDir: string): string {
  const location = `${displayPath(frame.file, rootDir)}:${frame.line}:${frame.column}`;
  // Not "at ...": Jest takes lines that start so in a failure message for the error's own stack.
  return frame.functionName ? `- ${frame.functionName} (${location})` : `- ${location}`;
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
