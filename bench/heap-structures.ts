// Where a process's live heap goes, from a V8 heap snapshot (the `.heapsnapshot` JSON that v8.writeHeapSnapshot
// writes): every node's self size summed by what it is. An object is named by its constructor and its first property
// names (`Object{vsId,rsId,vs,rs,…}`), so each model structure shows as one row however many servers share it;
// strings by representation (a concatenated or sliced string costs its own header on top of the parts it holds);
// the rest by V8's node type and name. A property that holds a number is stored in its object and has no edge in a
// snapshot, so it is not among the names. I/O-free: the bench reads the file.

export interface StructureRow {
  readonly what: string;
  readonly bytes: number;
  readonly count: number;
}

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]]; readonly edge_fields: string[]; readonly edge_types: [string[]] } };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

/** Node types whose names say nothing about the structure (an array's, a function's): one row per type. */
const BY_TYPE_ALONE = new Set(['array', 'code', 'number', 'closure']);

/** Property names shown per object row: enough to tell one model structure from another. */
const NAMES_SHOWN = 6;

export function heapStructures(json: string): { readonly total: number; readonly rows: StructureRow[] } {
  const s = JSON.parse(json) as Snapshot;
  const { node_fields: nf, node_types: [nodeTypes], edge_fields: ef, edge_types: [edgeTypes] } = s.snapshot.meta;
  const nodeWidth = nf.length;
  const edgeWidth = ef.length;
  const typeAt = nf.indexOf('type');
  const nameAt = nf.indexOf('name');
  const sizeAt = nf.indexOf('self_size');
  const edgeCountAt = nf.indexOf('edge_count');
  const edgeTypeAt = ef.indexOf('type');
  const edgeNameAt = ef.indexOf('name_or_index');
  const property = edgeTypes.indexOf('property');
  const rows = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  let edge = 0;
  for (let n = 0; n < s.nodes.length; n += nodeWidth) {
    const type = nodeTypes[s.nodes[n + typeAt]!]!;
    const name = s.strings[s.nodes[n + nameAt]!]!;
    const edges = s.nodes[n + edgeCountAt]! * edgeWidth;
    let what: string;
    // A closure's context is not named by its variables: each function's would be a row of its own.
    if (type === 'object' && name !== 'system / Context') {
      const props: string[] = [];
      for (let e = edge; e < edge + edges && props.length <= NAMES_SHOWN; e += edgeWidth) {
        if (s.edges[e + edgeTypeAt] !== property) continue;
        const p = s.strings[s.edges[e + edgeNameAt]!]!;
        if (p !== '__proto__') props.push(p);
      }
      what = props.length === 0 ? name : `${name}{${props.slice(0, NAMES_SHOWN).join(',')}${props.length > NAMES_SHOWN ? ',…' : ''}}`;
    } else if (type.endsWith('string') || BY_TYPE_ALONE.has(type)) what = `(${type})`;
    else what = `(${type}) ${name}`;
    edge += edges;
    const size = s.nodes[n + sizeAt]!;
    total += size;
    const row = rows.get(what);
    if (row) {
      row.bytes += size;
      row.count++;
    } else rows.set(what, { bytes: size, count: 1 });
  }
  return { total, rows: [...rows].map(([what, r]) => ({ what, ...r })).sort((a, b) => b.bytes - a.bytes) };
}
