import * as fs from 'node:fs';
import * as path from 'node:path';
import { originalPositionFor, TraceMap, type SourceMapInput } from '@jridgewell/trace-mapping';
import { fileURLToPath } from 'node:url';

/** A 1-based position in a file, as stack traces show it. */
export interface Position {
  file: string;
  line: number;
  column: number;
}

/**
 * Maps positions in transformed code (babel-jest, ts-jest) back to the user's source through the
 * map the script itself points at: `sourceMappingURL`, inline (`data:`) as both transformers
 * write it, or a file next to the script.
 */
export class SourceMapResolver {
  private readonly maps = new Map<string, TraceMap | null>();

  /** `line0`/`column0` are 0-based, as the inspector reports them. */
  resolve(
    scriptFile: string,
    sourceMapURL: string | undefined,
    line0: number,
    column0: number,
  ): Position {
    const generated = { file: scriptFile, line: line0 + 1, column: column0 + 1 };
    if (!sourceMapURL) return generated;
    const map = this.load(scriptFile, sourceMapURL);
    if (!map) return generated;
    // trace-mapping (what Jest's own source-map code uses): 1-based lines, 0-based columns.
    const original = originalPositionFor(map, { line: line0 + 1, column: column0 });
    if (original.source === null || original.line === null) return generated;
    return {
      file: sourcePath(scriptFile, original.source),
      line: original.line,
      column: (original.column ?? 0) + 1,
    };
  }

  private load(scriptFile: string, sourceMapURL: string): TraceMap | null {
    const key = `${scriptFile}\n${sourceMapURL.length}\n${sourceMapURL.slice(-64)}`;
    let map = this.maps.get(key);
    if (map === undefined) {
      try {
        map = new TraceMap(readPayload(scriptFile, sourceMapURL));
      } catch {
        map = null; // unreadable or malformed: fall back to the generated position
      }
      this.maps.set(key, map);
    }
    return map;
  }
}

export function readPayload(scriptFile: string, sourceMapURL: string): SourceMapInput {
  if (sourceMapURL.startsWith('data:')) {
    const comma = sourceMapURL.indexOf(',');
    const header = sourceMapURL.slice(0, comma);
    const body = sourceMapURL.slice(comma + 1);
    const text = header.endsWith(';base64')
      ? Buffer.from(body, 'base64').toString('utf8')
      : decodeURIComponent(body);
    return JSON.parse(text) as SourceMapInput;
  }
  const mapFile = sourceMapURL.startsWith('file:')
    ? fileURLToPath(sourceMapURL)
    : path.resolve(path.dirname(scriptFile), sourceMapURL);
  return JSON.parse(fs.readFileSync(mapFile, 'utf8')) as SourceMapInput;
}

function sourcePath(scriptFile: string, source: string): string {
  if (source.startsWith('file:')) return fileURLToPath(source);
  if (path.isAbsolute(source)) return source;
  return path.resolve(path.dirname(scriptFile), source);
}
