// `npm run bench:reconcile`: the reconciler's CPU cost on generated configs, against the dry-run driver.
// 1,000 services × 10 destinations: initial op list, then the no-change pass (must be 0 ops);
// 3,000 × 10 (30,000 real servers): a no-change reload (pool diff + desired table + one dump + reconcile), one that
// changes every weight; 300 × 100, as bench:reload has them: one that changes 1% of the weights.
import { performance } from 'node:perf_hooks';
import { systemClock } from '../src/clock.js';
import { parseConfigText } from '../src/config/load.js';
import type { Config } from '../src/config/model.js';
import { DryRunIpvsDriver } from '../src/ipvs/driver-dryrun.js';
import { IpvsManager } from '../src/ipvs/manager.js';
import { VsPool } from '../src/ipvs/pool.js';
import { reconcile, type DesiredTable } from '../src/ipvs/reconcile.js';
import { serviceFor, serviceKeysFor } from '../src/ipvs/desired.js';
import { silentLogger } from '../src/log.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

/** `heavier(v, r)`: the real servers given weight 2 instead of `weight`. */
function generate(services: number, perService: number, weight = 1, heavier?: (v: number, r: number) => boolean): Config {
  const out: string[] = [];
  for (let v = 0; v < services; v++) {
    out.push(`virtual_server 10.${v >> 8}.${v & 255}.1 80 {\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n`);
    for (let r = 0; r < perService; r++) {
      const address = perService <= 16 ? `172.${16 + (v >> 12)}.${(v >> 4) & 255}.${((v & 15) << 4) + r}` : `172.${16 + (v >> 8)}.${v & 255}.${r + 1}`;
      out.push(`  real_server ${address} 8080 {\n    weight ${heavier?.(v, r) ? 2 : weight}\n    TCP_CHECK {\n    }\n  }\n`);
    }
    out.push('}\n');
  }
  const r = parseConfigText(out.join(''));
  const bad = r.diagnostics.find((d) => d.severity === 'error' || d.severity === 'fatal');
  if (bad) throw new Error(`generated config rejected: ${bad.message}`);
  return r.config;
}

function desiredOf(cfg: Config): DesiredTable {
  const services = [];
  for (const vs of cfg.virtualServers) {
    const pool = new VsPool(vs);
    pool.start();
    const dests = pool.destinations().map((d) => d.dest);
    for (const key of serviceKeysFor(vs, cfg.virtualServerGroups)) services.push({ service: serviceFor(vs, key), dests });
  }
  return { services };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function main(): Promise<void> {
  const small = generate(1000, 10);
  const initial: number[] = [];
  const noChange: number[] = [];
  let initialOps = 0;
  let noChangeOps = -1;
  for (let i = 0; i < RUNS; i++) {
    const a = await timed(() => reconcile(desiredOf(small), { services: [] }, new Set()));
    initial.push(a.ms);
    initialOps = a.value.length;
    const drv = new DryRunIpvsDriver(silentLogger());
    const m = new IpvsManager(small, { driver: drv, clock: systemClock, log: silentLogger() });
    await m.start();
    const b = await timed(() => m.sync());
    noChange.push(b.ms);
    noChangeOps = b.value.ops;
    await m.stop();
  }
  console.log(`1,000 services x 10 dests: initial op list ${median(initial).toFixed(1)} ms (${initialOps} ops, incl. pools + desired table)`);
  console.log(`1,000 services x 10 dests: no-change pass ${median(noChange).toFixed(1)} ms, ${noChangeOps} ops (dump + desired + reconcile)`);

  const big = generate(3000, 10);
  const same = generate(3000, 10);
  const reload: number[] = [];
  let reloadOps = -1;
  const drv = new DryRunIpvsDriver(silentLogger());
  const m = new IpvsManager(big, { driver: drv, clock: systemClock, log: silentLogger() });
  await m.start();
  for (let i = 0; i < RUNS; i++) {
    const r = await timed(() => m.reload(i % 2 === 0 ? same : big));
    reload.push(r.ms);
    reloadOps = r.value.ops;
  }
  const changed = generate(3000, 10, 2);
  const w = await timed(() => m.reload(changed));
  await m.stop();
  // bench:reload's shape, 300 services x 100: 1% is one real server in each service, changed and changed back by turns.
  const wide = generate(300, 100);
  const onePercent = generate(300, 100, 1, (_v, r) => r === 50);
  const reweighed: number[] = [];
  let reweighedOps = -1;
  const wm = new IpvsManager(wide, { driver: new DryRunIpvsDriver(silentLogger()), clock: systemClock, log: silentLogger() });
  await wm.start();
  for (let i = 0; i < RUNS * 2; i++) {
    const r = await timed(() => wm.reload(i % 2 === 0 ? onePercent : wide));
    reweighed.push(r.ms);
    reweighedOps = r.value.ops;
  }
  await wm.stop();
  console.log(`30,000 real servers: no-change reload ${median(reload).toFixed(1)} ms, ${reloadOps} ops (config parse excluded)`);
  console.log(`30,000 real servers: reload with every weight changed ${w.ms.toFixed(1)} ms, ${w.value.ops} ops`);
  console.log(`30,000 real servers in 300 services: reload with 1% of weights changed ${median(reweighed).toFixed(1)} ms, ${reweighedOps} ops`);
  console.log(`median of ${RUNS} runs; node ${process.version}`);
}

await main();
