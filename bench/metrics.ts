// `npm run bench:metrics`: /metrics scraped from a daemon checking 30,000 real servers (HTTP_GET at delay_loop 10, 3,000
// checks a second, loopback backends in a separate process): each scrape's time and size and whether every real server
// is in it, the supervisor's longest stall while it ran (bench/loop-probe.ts: the loop that also runs the data plane and
// the control socket), the share of checks the checker process started over 50 ms late while scraped back to back
// against a quiet stretch (from its own lvskeeper_checker_start_delay_seconds), and each process's RSS before and
// after. No peer is measured: keepalived exports no Prometheus metrics.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoopProbeRecord } from './loop-probe.js';
import { startBackend } from './backend.js';
import { cleanUp, config, Daemon, HTTP, installed, sleep } from './lvsk-daemon.js';
import { rssBreakdown } from './proc.js';
import { describeFloor, StallProbe } from './stall-probe.js';

const RS = 30_000;
const PORT = 19792;
const SCRAPES = Number(process.env['BENCH_SCRAPES'] ?? 5);
const QUIET_S = 20;

interface Scrape {
  readonly ms: number;
  readonly bytes: number;
  readonly servers: number;
  /** [start, end] in absolute ms (performance.timeOrigin based), for the loop probe. */
  readonly window: readonly [number, number];
  /** The checker's lvskeeper_checker_start_delay_seconds for HTTP_GET: checks started, and those within 50 ms. */
  readonly started: number;
  readonly within50ms: number;
}

async function scrape(): Promise<Scrape> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${PORT}/metrics`);
  const text = await res.text();
  const t1 = performance.now();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text}`);
  const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  return {
    ms: t1 - t0,
    bytes: text.length,
    servers: text.match(/^lvskeeper_realserver_up\{/gm)?.length ?? 0,
    window: [performance.timeOrigin + t0, performance.timeOrigin + t1],
    started: value(/^lvskeeper_checker_start_delay_seconds_count\{type="HTTP_GET"\} (\d+)$/m),
    within50ms: value(/^lvskeeper_checker_start_delay_seconds_bucket\{type="HTTP_GET",le="0\.05"\} (\d+)$/m),
  };
}

/** The share of checks started between two scrapes' readings that started over 50 ms late, in %. */
const lateShare = (a: Scrape, b: Scrape): string => {
  if (Number.isNaN(a.started) || Number.isNaN(b.started)) return 'not known (a scrape came without the checker process\'s families)';
  const started = b.started - a.started;
  return `${((100 * (started - (b.within50ms - a.within50ms))) / started).toFixed(2)} % of ${started}`;
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const probeOut = join(tmpdir(), `lvskd-metrics-loop-${process.pid}.json`);
const backend = await startBackend();
try {
  console.log(`lvskeeper /metrics bench (node ${process.version}, ${RS.toLocaleString('en')} HTTP_GET real servers at delay_loop 10, dry-run IPVS driver)`);
  const d = new Daemon('metrics', config(RS, backend.port, HTTP, 10), ['--metrics', `127.0.0.1:${PORT}`], { loopProbe: probeOut });
  await d.waitFor(installed(RS), 0, 120_000);
  await sleep(15_000);
  const floor = await StallProbe.start();
  const before = rssBreakdown(d.pid);
  const first = await scrape();
  await sleep(QUIET_S * 1000);
  const quiet = await scrape();
  const scrapes = [quiet];
  for (let k = 0; k < SCRAPES; k++) scrapes.push(await scrape());
  const after = rssBreakdown(d.pid);
  const machine = await floor.stop();
  await d.stop();
  const { late } = JSON.parse(readFileSync(probeOut, 'utf8')) as LoopProbeRecord;
  const stall = (s: Scrape): number => Math.max(0, ...late.filter(([t]) => t >= s.window[0] && t <= s.window[1] + 2).map(([, ms]) => ms));

  const timed = scrapes.slice(1);
  const ms = timed.map((s) => s.ms);
  const whole = timed.filter((s) => s.servers === RS).length;
  console.log(`scrape of ${RS.toLocaleString('en')} real servers: median ${median(ms).toFixed(0)} ms (range ${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}, ${timed.length} back to back), ` +
    `${(median(timed.map((s) => s.bytes)) / 1e6).toFixed(1)} MB, every real server in ${whole} of ${timed.length}; ` +
    `supervisor stall max ${Math.max(...timed.map(stall)).toFixed(1)} ms (target 20 ms)`);
  console.log(`checks started over 50 ms late: ${lateShare(first, quiet)} in ${QUIET_S} s with one scrape, ${lateShare(quiet, scrapes.at(-1)!)} while scraped back to back`);
  console.log(`RSS before the scrapes: ${before}; after: ${after}`);
  console.log(`the machine meanwhile: ${describeFloor(machine)}`);
} finally {
  backend.child.kill('SIGTERM');
  rmSync(probeOut, { force: true });
  cleanUp();
}
