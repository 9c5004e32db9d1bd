// What the checker process keeps once started. The checker process writes a heap snapshot on SIGWINCH
// (bench/heap-probe.ts, as bench:heap loads it), and the strings in it are counted.
// - Its `Activating healthchecker` lines are logged and let go. A closure the engine or the IPVS manager holds for
//   good keeps the whole context of the scope it was made in; made in the checker process's start, those closures
//   kept every line (about 130 bytes a real server: 4 MB at 30,000). The lines are counted as flat strings, or as the
//   concatenations V8 builds a template literal into.
// - An HTTP_GET server's success line is kept once: by the probe, with the engine and the telemetry holding that same
//   string, not a copy each (80 bytes a real server).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DaemonUnderTest } from './daemon-setup.js';
import { type Running, until } from './drain-harness.js';
import { repoRoot } from '../support/tier.js';

const SERVERS = 2000;
const LINE = 'Activating healthchecker for service ';
const SUCCESS = 'HTTP status code success to ';

/** `servers` real servers on 127.42.0.0/16, 100 to a virtual server, each with `checker`. */
function config(servers: number, port: number, checker: string, delayLoop: number): string {
  const out: string[] = [];
  for (let v = 0; v < servers / 100; v++) {
    out.push(`virtual_server 198.51.100.${v + 1} 80 {`, `  delay_loop ${delayLoop}`, '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let i = 1; i <= 100; i++) out.push(`  real_server 127.42.${v}.${i} ${port} {`, '    weight 1', checker, '  }');
    out.push('}');
  }
  return out.join('\n') + '\n';
}

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]]; readonly edge_fields: string[]; readonly edge_types: [string[]] } };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

/** Strings in the snapshot that read as one of the lines: flat, or a concatenation of pieces. */
function linesHeld(s: Snapshot): number {
  const { node_fields: nf, node_types: [types], edge_fields: ef, edge_types: [edgeTypes] } = s.snapshot.meta;
  const at = (f: string): number => nf.indexOf(f);
  const [TYPE, NAME, EDGES] = [at('type'), at('name'), at('edge_count')];
  const [E_TYPE, E_NAME, E_TO] = [ef.indexOf('type'), ef.indexOf('name_or_index'), ef.indexOf('to_node')];
  const CONS = types.indexOf('concatenated string');
  const STRING = types.indexOf('string');
  const SLICED = types.indexOf('sliced string');
  const INTERNAL = edgeTypes.indexOf('internal');
  const n = s.nodes.length / nf.length;
  const firstEdge = new Int32Array(n);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += s.nodes[i * nf.length + EDGES]! * ef.length;
  }
  /** A concatenation's pieces: its internal edges named first and second. */
  const piece = (i: number, name: 'first' | 'second'): number | undefined => {
    for (let k = 0, e = firstEdge[i]!; k < s.nodes[i * nf.length + EDGES]!; k++, e += ef.length) {
      if (s.edges[e + E_TYPE] === INTERNAL && s.strings[s.edges[e + E_NAME]!] === name) return s.edges[e + E_TO]! / nf.length;
    }
    return undefined;
  };
  // The top of each concatenation: a piece of another is counted with it.
  const inner = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (s.nodes[i * nf.length + TYPE] !== CONS) continue;
    for (const p of [piece(i, 'first'), piece(i, 'second')]) if (p !== undefined) inner.add(p);
  }
  const text = (i: number | undefined): string => {
    if (i === undefined) return '';
    const type = s.nodes[i * nf.length + TYPE];
    if (type === CONS) return text(piece(i, 'first')) + text(piece(i, 'second'));
    return type === STRING || type === SLICED ? s.strings[s.nodes[i * nf.length + NAME]!]! : '';
  };
  const WORD = LINE.split(' ')[0]!;
  let held = 0;
  for (let i = 0; i < n; i++) {
    const type = s.nodes[i * nf.length + TYPE];
    if ((type !== STRING && type !== CONS) || inner.has(i)) continue;
    // Read whole only when its first piece could begin a line: other concatenations can run thousands of pieces deep.
    let first: number | undefined = i;
    while (first !== undefined && s.nodes[first * nf.length + TYPE] === CONS) first = piece(first, 'first');
    if (!text(first).startsWith(WORD)) continue;
    if (text(i).startsWith(LINE)) held++;
  }
  return held;
}

/** Flat strings in the snapshot that begin with `prefix`. */
function flatHeld(s: Snapshot, prefix: string): number {
  const { node_fields: nf, node_types: [types] } = s.snapshot.meta;
  const [TYPE, NAME] = [nf.indexOf('type'), nf.indexOf('name')];
  const STRING = types.indexOf('string');
  let held = 0;
  for (let i = 0; i < s.nodes.length; i += nf.length) if (s.nodes[i + TYPE] === STRING && s.strings[s.nodes[i + NAME]!]!.startsWith(prefix)) held++;
  return held;
}

/** A daemon whose checker process writes a heap snapshot on SIGWINCH. */
async function probedDaemon(t: TestContext, text: string): Promise<{ run: Running; snapshot: () => Promise<Snapshot> }> {
  const d = new DaemonUnderTest(t, text);
  const probe = `${repoRoot}dist/bench/heap-probe.js`;
  const run = d.start([], ['env', `NODE_OPTIONS=--expose-gc --import ${probe}`, `LVSK_HEAP_PROBE_DIR=${d.dir}`, 'LVSK_HEAP_PROBE_SNAPSHOT=1']);
  const started = await run.waitFor(/Starting Healthcheck child process, pid=\d+/, 20_000);
  const pid = Number(/pid=(\d+)/.exec(run.lines[started]!)![1]);
  const file = join(d.dir, `${pid}.heapsnapshot`);
  const written = join(d.dir, `${pid}.json`);
  const snapshot = async (): Promise<Snapshot> => {
    rmSync(written, { force: true });
    process.kill(pid, 'SIGWINCH');
    await until("the checker process's heap snapshot", 60_000, () => (existsSync(written) ? true : undefined));
    return JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  };
  return { run, snapshot };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the checker process lets its activation lines go once it has logged them', { timeout: 120_000 }, async (t) => {
  const { run, snapshot } = await probedDaemon(t, config(SERVERS, 19491, '    TCP_CHECK {\n      connect_timeout 1\n    }', 600));
  await until(`${SERVERS} activation lines`, 60_000, () => (run.lines.filter((l) => l.includes(LINE)).length === SERVERS ? true : undefined));
  // The start goes on after the lines (the first pass installs the table), and holds them until it ends: a snapshot
  // is asked for again, a second apart, until the lines are gone or five have shown them held.
  let held = SERVERS;
  for (let i = 0; i < 5 && held >= SERVERS / 100; i++) {
    if (i > 0) await pause(1000);
    held = linesHeld(await snapshot());
  }
  assert.equal(await run.stop(), 0);
  assert.ok(held < SERVERS / 100, `the checker process still holds ${held} of its ${SERVERS} activation lines`);
});

test("the checker process keeps one copy of each HTTP_GET server's success line", { timeout: 120_000 }, async (t) => {
  const servers = 500;
  const backend = createServer((_req, res) => res.end('ok')).listen(0, '0.0.0.0');
  t.after(() => backend.close());
  await new Promise((r) => backend.once('listening', r));
  const port = (backend.address() as AddressInfo).port;
  const { run, snapshot } = await probedDaemon(t, config(servers, port, '    HTTP_GET {\n      url {\n        path /\n      }\n      connect_timeout 2\n    }', 1));
  // Until every server has passed a check: its line is then kept, once or more.
  let held = 0;
  for (let i = 0; i < 20 && held < servers; i++) {
    await pause(1000);
    held = flatHeld(await snapshot(), SUCCESS);
  }
  assert.equal(await run.stop(), 0);
  assert.equal(held, servers, `${held} success lines held for ${servers} servers`);
});
