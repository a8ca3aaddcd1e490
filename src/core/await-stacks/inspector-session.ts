import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { fileURLToPath } from 'node:url';
import type { Frame } from '../model';
import { parseFrameLine } from '../stack';
import { SourceMapResolver } from '../loop-watchdog/source-maps';
import type { ScriptPosition } from './heap-graph';

/**
 * A short-lived inspector session on this very thread, for a report's heap walk. Posts on a
 * same-thread session complete synchronously, so the whole walk runs in one turn: the hung test
 * cannot move under it.
 */
export class SameThreadInspector {
  private readonly session = new inspector.Session();
  private readonly scripts = new Map<string, { url: string; sourceMapURL?: string }>();
  private readonly sourceMaps = new SourceMapResolver();
  private readonly generatorLocations = new Map<number, ScriptPosition | undefined>();

  constructor() {
    this.session.connect();
  }

  post<T = unknown>(method: string, params: object = {}): T {
    let result: unknown;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params, (error, value) => {
      failure = error;
      result = value;
      answered = true;
    });
    if (!answered) throw new Error(`inspector did not answer ${method} synchronously`);
    if (failure) throw failure as Error;
    return result as T;
  }

  /**
   * The snapshot as JSON text (it starts with a full garbage collection). Written through
   * `v8.writeHeapSnapshot`, which is synchronous on every Node version (the inspector's
   * `takeHeapSnapshot` answers later from Node 22 on); its node ids are the heap profiler's, as
   * `getObjectByHeapObjectId` takes them.
   */
  heapSnapshot(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-heap-'));
    try {
      const file = writeHeapSnapshot(path.join(dir, 'await-stacks.heapsnapshot'));
      return fs.readFileSync(file, 'utf8');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Where a suspended generator (by heap id) is stopped, 0-based. Each lookup by id makes V8 mark
   * the whole heap (about 0.2 s in a Jest worker), and flows share their outer steps (the branches
   * of a `Promise.all`, the test function): each generator is looked up once per report. Nothing
   * moves meanwhile, since the walk runs in one synchronous turn.
   */
  generatorLocation(heapId: number): ScriptPosition | undefined {
    if (!this.generatorLocations.has(heapId)) {
      this.generatorLocations.set(heapId, this.lookUpGeneratorLocation(heapId));
    }
    return this.generatorLocations.get(heapId);
  }

  private lookUpGeneratorLocation(heapId: number): ScriptPosition | undefined {
    const { result } = this.post<{ result: { objectId?: string } }>(
      'HeapProfiler.getObjectByHeapObjectId',
      { objectId: String(heapId), objectGroup: 'hangwatch' },
    );
    if (!result.objectId) return undefined;
    const { internalProperties } = this.post<{
      internalProperties?: { name: string; value?: { value?: unknown } }[];
    }>('Runtime.getProperties', { objectId: result.objectId, ownProperties: true });
    const location = internalProperties?.find((p) => p.name === '[[GeneratorLocation]]')?.value
      ?.value as ScriptPosition | undefined;
    return location;
  }

  /** Script URLs and source maps: enabling the debugger replays every script once. */
  loadScripts(): void {
    const onScript = (message: {
      params: { scriptId: string; url: string; sourceMapURL?: string };
    }) => {
      const { scriptId, url, sourceMapURL } = message.params;
      this.scripts.set(scriptId, { url, ...(sourceMapURL ? { sourceMapURL } : {}) });
    };
    this.session.on('Debugger.scriptParsed', onScript);
    try {
      this.post('Debugger.enable');
      this.post('Debugger.disable');
    } finally {
      this.session.off('Debugger.scriptParsed', onScript);
    }
  }

  /** A 0-based script position as a classified, source-mapped frame. */
  frame(position: ScriptPosition, functionName?: string): Frame | undefined {
    const script = this.scripts.get(String(position.scriptId));
    if (!script?.url) return undefined;
    const file = script.url.startsWith('file:') ? fileURLToPath(script.url) : script.url;
    const mapped = this.sourceMaps.resolve(
      file,
      script.sourceMapURL,
      position.lineNumber,
      position.columnNumber,
    );
    const location = `${mapped.file}:${mapped.line}:${mapped.column}`;
    return parseFrameLine(
      functionName ? `    at ${functionName} (${location})` : `    at ${location}`,
    );
  }

  close(): void {
    try {
      this.post('Runtime.releaseObjectGroup', { objectGroup: 'hangwatch' });
    } catch {
      // closing anyway
    }
    this.session.disconnect();
  }
}
