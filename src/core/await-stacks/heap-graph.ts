/**
 * A V8 heap snapshot, parsed into flat arrays with the few lookups the await walk needs: a node's
 * name, type, id and outgoing edges, incoming edges (built once, on first use), and the source
 * position the snapshot records for each function.
 */
/** The snapshot's name for a function scope (a closure's context). */
export const CONTEXT = 'system / Context';

export interface HeapEdge {
  type: string;
  /** Property name, or the index for element and hidden edges. */
  name: string | number;
  to: number;
}

interface SnapshotJson {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
      location_fields?: string[];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations?: number[];
}

export interface ScriptPosition {
  scriptId: string;
  /** 0-based, as the inspector reports positions. */
  lineNumber: number;
  columnNumber: number;
}

export class HeapGraph {
  readonly count: number;
  private readonly nodeFields: number;
  private readonly edgeFields: number;
  private readonly nodeTypes: string[];
  private readonly edgeTypes: string[];
  private readonly nodes: number[];
  private readonly edgeData: number[];
  private readonly strings: string[];
  private readonly firstEdge: Uint32Array;
  private readonly positions = new Map<number, ScriptPosition>();
  private reverse: { first: Uint32Array; from: Uint32Array; edge: Uint32Array } | undefined;

  constructor(json: string) {
    const snapshot = JSON.parse(json) as SnapshotJson;
    const meta = snapshot.snapshot.meta;
    this.nodeFields = meta.node_fields.length;
    this.edgeFields = meta.edge_fields.length;
    this.nodeTypes = meta.node_types[0];
    this.edgeTypes = meta.edge_types[0];
    this.nodes = snapshot.nodes;
    this.edgeData = snapshot.edges;
    this.strings = snapshot.strings;
    this.count = this.nodes.length / this.nodeFields;
    const edgeCountField = meta.node_fields.indexOf('edge_count');
    this.firstEdge = new Uint32Array(this.count + 1);
    let offset = 0;
    for (let node = 0; node < this.count; node++) {
      this.firstEdge[node] = offset;
      offset += this.nodes[node * this.nodeFields + edgeCountField] * this.edgeFields;
    }
    this.firstEdge[this.count] = offset;
    const locationFields = meta.location_fields?.length ?? 0;
    const locations = snapshot.locations ?? [];
    for (let at = 0; locationFields > 0 && at < locations.length; at += locationFields) {
      this.positions.set(locations[at] / this.nodeFields, {
        scriptId: String(locations[at + 1]),
        lineNumber: locations[at + 2],
        columnNumber: locations[at + 3],
      });
    }
  }

  name(node: number): string {
    return this.strings[this.nodes[node * this.nodeFields + 1]];
  }

  type(node: number): string {
    return this.nodeTypes[this.nodes[node * this.nodeFields]];
  }

  /** The id `HeapProfiler.getObjectByHeapObjectId` takes. */
  id(node: number): number {
    return this.nodes[node * this.nodeFields + 2];
  }

  /** Where a function (closure node) is defined. */
  position(node: number): ScriptPosition | undefined {
    return this.positions.get(node);
  }

  edges(node: number): HeapEdge[] {
    const out: HeapEdge[] = [];
    for (let at = this.firstEdge[node]; at < this.firstEdge[node + 1]; at += this.edgeFields) {
      out.push(this.edgeAt(at));
    }
    return out;
  }

  /** The target of the first edge named `name`. */
  follow(node: number, name: string | number): number | undefined {
    for (let at = this.firstEdge[node]; at < this.firstEdge[node + 1]; at += this.edgeFields) {
      const edge = this.edgeAt(at);
      if (edge.name === name) return edge.to;
    }
    return undefined;
  }

  /** Edges pointing at `node`, each with the node it comes from. */
  incoming(node: number): (HeapEdge & { from: number })[] {
    const reverse = (this.reverse ??= this.buildReverse());
    const out: (HeapEdge & { from: number })[] = [];
    for (let at = reverse.first[node]; at < reverse.first[node + 1]; at++) {
      out.push({ ...this.edgeAt(reverse.edge[at]), from: reverse.from[at] });
    }
    return out;
  }

  /**
   * The first of `targets` that retains one of `nodes`: a breadth-first walk up the incoming edges
   * (weak ones aside), going on only through edges `along` accepts, for at most `maxDepth` levels
   * and `maxVisits` nodes.
   */
  firstRetainer(
    nodes: number[],
    targets: { has(node: number): boolean },
    limits: {
      maxDepth?: number;
      maxVisits?: number;
      along?: (edge: HeapEdge & { from: number }) => boolean;
    },
  ): number | undefined {
    const { maxDepth = Infinity, maxVisits = Infinity, along } = limits;
    const seen = new Set<number>(nodes);
    let level = [...nodes];
    let visits = 0;
    for (let depth = 0; depth < maxDepth && level.length > 0; depth++) {
      const next: number[] = [];
      for (const node of level) {
        if (visits++ >= maxVisits) return undefined;
        for (const edge of this.incoming(node)) {
          if (edge.type === 'weak' || seen.has(edge.from)) continue;
          if (targets.has(edge.from)) return edge.from;
          seen.add(edge.from);
          if (!along || along(edge)) next.push(edge.from);
        }
      }
      level = next;
    }
    return undefined;
  }

  /** Every node with this type and name. */
  find(type: string, name: string): number[] {
    const found: number[] = [];
    for (let node = 0; node < this.count; node++) {
      if (this.name(node) === name && this.type(node) === type) found.push(node);
    }
    return found;
  }

  private edgeAt(at: number): HeapEdge {
    const type = this.edgeTypes[this.edgeData[at]];
    const raw = this.edgeData[at + 1];
    return {
      type,
      name: type === 'element' || type === 'hidden' ? raw : this.strings[raw],
      to: this.edgeData[at + 2] / this.nodeFields,
    };
  }

  private buildReverse(): { first: Uint32Array; from: Uint32Array; edge: Uint32Array } {
    const total = this.firstEdge[this.count] / this.edgeFields;
    const first = new Uint32Array(this.count + 1);
    for (let at = 0; at < this.edgeData.length; at += this.edgeFields) {
      first[this.edgeData[at + 2] / this.nodeFields + 1]++;
    }
    for (let node = 0; node < this.count; node++) first[node + 1] += first[node];
    const fill = first.slice(0, this.count);
    const from = new Uint32Array(total);
    const edge = new Uint32Array(total);
    for (let node = 0; node < this.count; node++) {
      for (let at = this.firstEdge[node]; at < this.firstEdge[node + 1]; at += this.edgeFields) {
        const slot = fill[this.edgeData[at + 2] / this.nodeFields]++;
        from[slot] = node;
        edge[slot] = at;
      }
    }
    return { first, from, edge };
  }
}
