// Active-active scale-out over BGP ECMP (test/announce/bgp-topology.ts: a router with FRR, N directors each running
// lvskeeper --announce-table with FRR, real servers, a client): the time from a director's failure to the router's
// removal of its path from the kernel FIB, and the share of the client's established connections that still answer
// afterwards, with 2 and 3 directors. Needs root and FRR (zebra, bgpd). BGP timers 1/3 s (keepalive/hold).
// Failures, each applied to the directors in turn:
//   kill       SIGKILL of lvskeeper (supervisor and checker process), zebra and bgpd: the kernel closes the BGP session
//   power-off  the same, and the director's link down at once: no FIN, the router waits for the hold timer
//   quorum     the director's link to its real servers cut: checkers fail, the VS loses quorum, the VIP is withdrawn
//   drain      `lvskeeper drain-director --no-wait`
// Runs per case: BENCH_RUNS (default 5); 30 connections are established before each failure.
import { existsSync } from 'node:fs';
import { BgpTopology } from '../test/announce/bgp-topology.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const CONNS = 30;
const repoRoot = new URL('../../', import.meta.url).pathname;
const FAILURES = ['kill', 'power-off', 'quorum', 'drain'] as const;
type Failure = (typeof FAILURES)[number];

interface Run {
  readonly removalMs: number | undefined;
  /** Connections still answering, of all established / of those through the surviving directors. */
  readonly survivedAll: number;
  readonly survivedOthers: number;
}

const front = (i: number): string => `10.20.0.${11 + i}`;

function fail(topo: BgpTopology, f: Failure, i: number): void {
  if (f === 'kill') topo.killDirector(i);
  else if (f === 'power-off') {
    topo.setFrontLink(i, false);
    topo.killDirector(i);
  } else if (f === 'quorum') topo.cutBackLink(i);
  else topo.cli(i, ['drain-director', '--no-wait']);
}

function restore(topo: BgpTopology, f: Failure, i: number): void {
  if (f === 'quorum') topo.cutBackLink(i, false);
  else if (f === 'drain') topo.cli(i, ['undrain-director']);
  else {
    if (f === 'power-off') topo.setFrontLink(i, true);
    topo.rebootDirector(i);
  }
}

async function runCase(topo: BgpTopology, n: number, f: Failure, run: number): Promise<Run> {
  const i = run % n;
  const opened = await topo.client!.open(CONNS);
  const before = opened.filter((c) => c.ok);

  // From the failure's first step: `drain-director` replies once the VIP is withdrawn, after a CLI start.
  const t0 = performance.now();
  fail(topo, f, i);
  const t1 = performance.now();
  const gone = await BgpTopology.until(() => !topo.paths().includes(front(i)), 30_000);
  const removalMs = gone === undefined ? undefined : t1 - t0 + gone;
  const after = new Map((await topo.client!.ping()).map((c) => [c.id, c.ok]));
  const others = before.filter((c) => c.director !== front(i));
  const share = (cs: typeof before): number => (cs.length === 0 ? 1 : cs.filter((c) => after.get(c.id)).length / cs.length);
  const result = { removalMs, survivedAll: share(before), survivedOthers: share(others) };
  await topo.client!.close();
  restore(topo, f, i);
  if ((await BgpTopology.until(() => topo.paths().length === n, 60_000)) === undefined) throw new Error(`${f}: director ${i + 1} did not come back: ${topo.paths().join(", ")}\n${topo.log(i)}\n${JSON.stringify(topo.announced(i))}`);
  return result;
}

const fmt = (xs: readonly number[], unit: string, digits = 0): string => {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)]!;
  return `${med.toFixed(digits)}${unit} (${s[0]!.toFixed(digits)}–${s[s.length - 1]!.toFixed(digits)})`;
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync('/usr/lib/frr/bgpd')) {
    process.stdout.write('bench:scaleout skipped: needs root and FRR (apt-get install frr)\n');
    return;
  }
  process.stdout.write(`BGP ECMP scale-out: failure → path removed from the router's FIB; established connections still answering (${RUNS} runs each, median (min–max))\n`);
  for (const n of [2, 3]) {
    const topo = new BgpTopology(`b${n}`, n, repoRoot);
    try {
      topo.startRouter();
      for (let i = 0; i < n; i++) topo.startDirectorFrr(i);
      await topo.startRealServers();
      for (let i = 0; i < n; i++) topo.startDaemon(i);
      topo.startClient();
      if ((await BgpTopology.until(() => topo.paths().length === n, 60_000)) === undefined) throw new Error(`${n} paths never came up`);
      for (const f of FAILURES) {
        const runs: Run[] = [];
        for (let r = 0; r < RUNS; r++) runs.push(await runCase(topo, n, f, r));
        const removed = runs.flatMap((r) => (r.removalMs === undefined ? [] : [r.removalMs]));
        const lost = runs.length - removed.length;
        process.stdout.write(`${n} directors, ${f.padEnd(9)}: path removed ${removed.length ? fmt(removed, ' ms') : '-'}${lost ? ` (${lost} never)` : ''}; `
          + `survived ${fmt(runs.map((r) => r.survivedAll * 100), '%')} of all connections, `
          + `${fmt(runs.map((r) => r.survivedOthers * 100), '%')} of those through the other directors\n`);
      }
    } finally {
      await topo.destroy();
    }
  }
}

await main();
