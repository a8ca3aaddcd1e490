import * as fs from 'node:fs';
import type { AwaitFlow, EventCycleStep } from '../model';

/** How far past a wait its function is read for the emit that would follow it. */
const LINES_AFTER_WAIT = 30;

/**
 * Flows that each wait for an event the next one would emit only after its own wait: a cycle,
 * like a lock cycle, that no outside emit will break. The emit is found in the source that
 * follows each flow's innermost await, up to the end of its function's block.
 */
export function findEventCycle(flows: AwaitFlow[]): EventCycleStep[] | undefined {
  const waits = flows.map((flow) => (flow.awaiting?.kind === 'event' ? flow.awaiting : undefined));
  const emitsAfter = flows.map((flow) => emitsAfterWait(flow));
  // next[i] = a flow whose awaited event flow i would emit after its own wait
  const next = flows.map((_, from) =>
    waits.findIndex(
      (wait, to) =>
        to !== from &&
        wait !== undefined &&
        waits[from] !== undefined &&
        emitsAfter[from].some((emit) => emit.event === wait.event),
    ),
  );
  for (let start = 0; start < flows.length; start++) {
    const path: number[] = [];
    let current = start;
    while (current !== -1 && !path.includes(current) && path.length <= flows.length) {
      path.push(current);
      current = next[current];
    }
    if (current !== start || path.length < 2) continue;
    return path.map((flow, index) => {
      const wanted = waits[path[(index + 1) % path.length]]!;
      const emit = emitsAfter[flow].find((candidate) => candidate.event === wanted.event)!;
      const own = waits[flow]!;
      return {
        flow,
        event: own.event,
        emitter: own.emitter,
        emits: wanted.event,
        emitsAt: emit.at,
        ...(emit.sourceLine ? { emitsSourceLine: emit.sourceLine } : {}),
      };
    });
  }
  return undefined;
}

interface EmitInSource {
  event: string;
  at: { file: string; line: number; column: number };
  sourceLine?: string;
}

const EMIT = /\.emit\(\s*(['"`])([^'"`]+)\1/g;

function emitsAfterWait(flow: AwaitFlow): EmitInSource[] {
  const wait = flow.steps[0]?.frame;
  if (!wait || wait.origin !== 'user') return [];
  const found: EmitInSource[] = [];
  const lines = sourceLines(wait.file);
  let depth = 0;
  for (let line = wait.line; line <= wait.line + LINES_AFTER_WAIT; line++) {
    const text = lines[line - 1];
    if (text === undefined) break;
    const from = line === wait.line ? Math.max(0, wait.column - 1) : 0;
    const code = text.slice(from);
    for (const match of code.matchAll(EMIT)) {
      // Back from `.emit(` over the emitter expression (`bus`, `this.bus`), to where it starts.
      let start = from + (match.index ?? 0);
      while (start > 0 && /[\w$.\])]/.test(text[start - 1])) start--;
      found.push({
        event: match[2],
        at: { file: wait.file, line, column: start + 1 },
        sourceLine: text.trim(),
      });
    }
    for (const char of code) {
      if (char === '{') depth++;
      else if (char === '}') depth--;
    }
    if (depth < 0) break; // the end of the waiting function's block
  }
  return found;
}

function sourceLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split(/\r?\n/);
  } catch {
    return [];
  }
}
