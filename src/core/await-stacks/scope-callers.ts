import * as fs from 'node:fs';
import type { Frame } from '../model';
import { CONTEXT, type HeapGraph } from './heap-graph';
import type { SameThreadInspector } from './inspector-session';

/** How deep a caller may be nested below the function that receives the callback. */
const MAX_NESTING = 4;
/** How much of a caller's source is read to see whether it calls the callback. */
const MAX_FUNCTION_LINES = 40;

/** A function that would call a callback (`done`, a promise's resolve): the callback itself, or one of the user's. */
export interface ScopeCaller {
  node: number;
  /** Where the user's function is defined: none for the callback itself. */
  frame?: Frame;
}

/**
 * `callback` itself, and the user's functions in a scope that holds it as a variable (or nested
 * below), whose source names that variable: `(r) => resolve(r.value)`, `() => { ...; done(); }`.
 */
export function callersOf(
  graph: HeapGraph,
  inspector: SameThreadInspector,
  callback: number,
): ScopeCaller[] {
  const callers: ScopeCaller[] = [{ node: callback }];
  for (const edge of graph.incoming(callback)) {
    if (edge.type !== 'context' || typeof edge.name !== 'string') continue;
    if (graph.name(edge.from) !== CONTEXT) continue;
    const name = edge.name;
    for (const context of contextsBelow(graph, edge.from)) {
      for (const closureEdge of graph.incoming(context)) {
        if (closureEdge.name !== 'context' || graph.type(closureEdge.from) !== 'closure') continue;
        // A scope nested in two that hold the callback (a module's and its test's) is met twice.
        if (callers.some((caller) => caller.node === closureEdge.from)) continue;
        const position = graph.position(closureEdge.from);
        const frame = position
          ? inspector.frame(position, graph.name(closureEdge.from))
          : undefined;
        if (!frame || frame.origin !== 'user' || !namesIn(frame, name)) continue;
        callers.push({ node: closureEdge.from, frame });
      }
    }
  }
  return callers;
}

/** A scope and the scopes nested in it (their `previous` is it), a few levels down. */
function contextsBelow(graph: HeapGraph, context: number): number[] {
  const found = [context];
  for (let level = 0, from = 0; level < MAX_NESTING; level++) {
    const to = found.length;
    for (let index = from; index < to; index++) {
      for (const edge of graph.incoming(found[index])) {
        if (edge.name === 'previous' && graph.name(edge.from) === CONTEXT) found.push(edge.from);
      }
    }
    from = to;
  }
  return found;
}

/**
 * Whether a function's source uses `name` (not as a property): read from its start, to where
 * its brackets close or the expression it is part of ends.
 */
function namesIn(frame: Frame, name: string): boolean {
  const text = functionText(frame);
  if (text === undefined) return false;
  const escaped = name.replace(/[$]/g, '\\$');
  return new RegExp(`(^|[^\\w$.])${escaped}(?![\\w$])`).test(text);
}

/**
 * A few files' lines, newest last: one report reads the same test file for every function of a
 * scope it looks at (resolve's and reject's callers, done's). Forgotten after each report (see
 * `forgetSources`): in watch mode the next run may have edited them.
 */
const recentFiles = new Map<string, string[] | undefined>();
const RECENT_FILES = 8;

export function forgetSources(): void {
  recentFiles.clear();
}

function linesOf(file: string): string[] | undefined {
  if (recentFiles.has(file)) return recentFiles.get(file);
  let lines: string[] | undefined;
  try {
    lines = fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    lines = undefined;
  }
  recentFiles.set(file, lines);
  if (recentFiles.size > RECENT_FILES) recentFiles.delete(recentFiles.keys().next().value!);
  return lines;
}

function functionText(frame: Frame): string | undefined {
  const lines = linesOf(frame.file);
  if (!lines) return undefined;
  const first = lines[frame.line - 1];
  if (first === undefined) return undefined;
  // A transform's source map can place an arrow function just inside its parameters' `(`.
  const at = Math.max(0, frame.column - 1);
  const start = at > 0 && first[at - 1] === '(' && /[\w$]/.test(first[at] ?? '') ? at - 1 : at;
  const source = [
    first.slice(start),
    ...lines.slice(frame.line, frame.line - 1 + MAX_FUNCTION_LINES),
  ].join('\n');
  let depth = 0;
  let quote: string | undefined;
  for (let index = 0; index < source.length; index++) {
    const char = source[index];
    if (quote) {
      if (char === '\\') index++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      depth--;
      if (depth < 0) return source.slice(0, index);
      if (depth === 0 && char === '}') return source.slice(0, index + 1);
    } else if (depth === 0 && (char === ',' || char === ';')) return source.slice(0, index);
  }
  return source;
}
