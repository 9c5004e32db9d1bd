// `npm run bench:isolation`: can anything the checker side does delay an advert? lvskeeper is the VRRPv3 MASTER in
// namespace a with BENCH_RS real servers (default 30,000, TCP_CHECK at a delay_loop giving 5,000 checks/s), one
// HTTP_GET backend that streams its body without end, and keepalived 2.2.7 its BACKUP in namespace b. Phases:
// steady checking, 3 unchanged reloads, 3 reloads changing 1% of the weights, the checker process SIGKILLed, then
// SIGTERM. Printed: the adverts' intervals as b's interface sees them (tcpdump timestamps), keepalived's takeovers,
// each process's longest event-loop stall and RSS, the reload times, SIGTERM to exit, and the machine's own floor
// (bench/stall-probe.ts).
// BENCH_ADVERT_INT picks one advert_int (default: both 0.1 and 0.01, VRRPv3's floor).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Topology, type Proc } from '../test/vrrp/netns-support.js';
import { AdvertCapture, largeConfig, masterEntries, pidIn, quantile, startBackend, startPair, until } from '../test/daemon/isolation-support.js';
import { rssMb, title, tree } from './proc.js';
import { describeFloor, StallProbe } from './stall-probe.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const RS = Number(process.env['BENCH_RS'] ?? 30_000);
const PER_VS = 100;
const CHECKS_PER_S = 5000;
const METRICS_PORT = 9651;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const reloadsDone = (p: Proc): number => (p.log.match(/Reload done in \d+ ms/g) ?? []).length;

function scrape(topo: Topology): string {
  const js = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
  return spawnSync('ip', ['netns', 'exec', topo.ns.a, process.execPath, '-e', js], { encoding: 'utf8' }).stdout;
}

function stalls(metrics: string): string {
  const out: string[] = [];
  for (const m of metrics.matchAll(/^lvskeeper_event_loop_delay_max_seconds\{process="(\w+)"\} (\S+)$/gm)) out.push(`${m[1]} ${(Number(m[2]) * 1000).toFixed(0)} ms`);
  return out.join(', ');
}

async function scenario(advertInt: string): Promise<void> {
  const topo = new Topology(`bi${advertInt.replace('.', '')}`);
  const backends = [startBackend(topo, 'acceptor'), startBackend(topo, 'endless')];
  try {
    const delayLoop = Math.max(1, Math.round(RS / CHECKS_PER_S));
    const vss = Math.ceil(RS / PER_VS);
    const base = largeConfig({ advertInt, virtualServers: vss, realServersPerVs: PER_VS, delayLoop, endlessBackend: true });
    const t0 = performance.now();
    const { ka, lvsk } = await startPair(topo, base, { advertInt, args: ['--metrics', String(METRICS_PORT)], repoRoot });
    const startS = (performance.now() - t0) / 1000;
    const capture = new AdvertCapture(topo);
    await capture.ready;
    const from = Date.now();
    const takeovers = masterEntries(ka);
    const probe = await StallProbe.start();

    await sleep(10_000);
    const reloadMs: number[] = [];
    const reload = async (text: string): Promise<void> => {
      topo.writeConfig('lvsk.conf', text);
      const n = reloadsDone(lvsk);
      const s = performance.now();
      lvsk.signal('SIGHUP');
      await until('Reload done', 300_000, () => reloadsDone(lvsk) > n);
      reloadMs.push(performance.now() - s);
      await sleep(3000);
    };
    for (let i = 0; i < 3; i++) await reload(base);
    // One real server in a hundred gets weight 2, then 1 again, then 2.
    let k = 0;
    const onePercent = base.replace(/weight 1/g, (w) => (k++ % 100 === 0 ? 'weight 2' : w));
    for (const text of [onePercent, base, onePercent]) await reload(text);

    const checkersPid = join(topo.dir, 'lvsk-a-checkers.pid');
    const killed = pidIn(checkersPid);
    process.kill(killed, 'SIGKILL');
    await until('respawn', 300_000, () => pidIn(checkersPid) !== killed && /\(VI_1\)/.test(lvsk.log));
    await sleep(10_000);

    const metrics = scrape(topo);
    const rss = tree(lvsk.child.pid!).map((p) => `${title(p).replace(/^lvskeeper: /, '')} ${rssMb(p).toFixed(0)}`);
    const gaps = capture.gaps(from);
    const dropped = await capture.stop();
    const floor = await probe.stop();
    // Counted before the stop: the priority-0 advert hands keepalived the VIP, as it should.
    const peerTakeovers = masterEntries(ka) - takeovers;
    const stopStart = performance.now();
    lvsk.signal('SIGTERM');
    await lvsk.exited();
    const stopMs = performance.now() - stopStart;

    const intMs = Number(advertInt) * 1000;
    console.log(`\nadvert_int ${advertInt} s, ${RS.toLocaleString('en')} real servers, delay_loop ${delayLoop} s (${Math.round(RS / delayLoop)} checks/s), endless-body backend`);
    console.log(`  start-up to MASTER: ${startS.toFixed(1)} s`);
    console.log(`  adverts seen by the peer: ${gaps.length + 1}; interval p50 ${quantile(gaps, 0.5).toFixed(1)} ms, p99 ${quantile(gaps, 0.99).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms (target ≤ ${intMs + 20} ms); frames the capture dropped: ${dropped}`);
    console.log(`  keepalived takeovers: ${peerTakeovers} (target 0)`);
    console.log(`  machine floor meanwhile: ${describeFloor(floor)}`);
    console.log(`  reloads (3 unchanged, 3 with 1% of weights changed), SIGHUP → "Reload done": ${reloadMs.map((m) => m.toFixed(0)).join(', ')} ms`);
    console.log(`  longest event-loop stall since start: ${stalls(metrics)}`);
    console.log(`  RSS (MB): ${rss.join(', ')}`);
    console.log(`  SIGTERM to exit: ${stopMs.toFixed(0)} ms (target ≤ 1000)`);
  } finally {
    for (const b of backends) b.kill('SIGKILL');
    await topo.destroy();
  }
}

const only = process.env['BENCH_ADVERT_INT'];
console.log(`lvskeeper isolation bench (node ${process.version}); peer: keepalived 2.2.7 BACKUP; driver: dry-run`);
for (const advertInt of only ? [only] : ['0.1', '0.01']) await scenario(advertInt);
