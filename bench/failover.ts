// VRRP failover time, lvskeeper vs keepalived 2.2.7, in network namespaces (needs root and /usr/sbin/keepalived).
// Each router namespace runs a UDP responder that answers with its own name; the client namespace probes the
// VIP every 10 ms. A trial stops the current master (kill -9, or SIGTERM) and measures until the VIP answers
// from the other router. Both routers have the same priority, so the restarted one stays BACKUP and the next
// trial stops the other. Trials per scenario: BENCH_TRIALS (default 20).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Topology, VIP, vrrpConfig, waitFor, type Node, type Proc } from '../test/vrrp/netns-support.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 20);
const PORT = 9;

const responder = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(process.argv[1],r.port,r.address));s.bind(${PORT});`;
const prober = `const s=require('dgram').createSocket('udp4');s.on('message',(m)=>process.stdout.write(Date.now()+' '+m+'\\n'));setInterval(()=>s.send('p',${PORT},'${VIP}'),10);`;

interface Scenario {
  readonly label: string;
  readonly version: 2 | 3;
  readonly advertInt: string;
  readonly stop: 'kill' | 'term';
  /** What the target compares against: Master_Down_Interval (kill) or Skew_Time (SIGTERM), in ms. */
  readonly expectedMs: number;
}

const ONLY = process.env['BENCH_ONLY'];
const SCENARIOS: Scenario[] = [
  { label: 'v2 advert_int 1, kill -9', version: 2, advertInt: '1', stop: 'kill', expectedMs: 3000 + (156 * 1000) / 256 },
  { label: 'v3 advert_int 0.1, kill -9', version: 3, advertInt: '0.1', stop: 'kill', expectedMs: 300 + (156 * 100) / 256 },
  { label: 'v2 advert_int 1, SIGTERM', version: 2, advertInt: '1', stop: 'term', expectedMs: (156 * 1000) / 256 },
];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
}

async function runScenario(impl: 'lvskeeper' | 'keepalived', sc: Scenario): Promise<number[]> {
  const topo = new Topology(impl === 'lvskeeper' ? 'Bl' : 'Bk');
  const helpers: ChildProcess[] = [];
  try {
    for (const n of ['a', 'b'] as const) {
      helpers.push(spawn('ip', ['netns', 'exec', topo.ns[n], process.execPath, '-e', responder, n], { stdio: 'ignore' }));
    }
    const conf = topo.writeConfig('r.conf', vrrpConfig({ priority: 100, version: sc.version, advertInt: sc.advertInt }));
    const start = (n: Node): Proc => (impl === 'lvskeeper' ? topo.startLvskeeper(n, conf, repoRoot) : topo.startKeepalived(n, conf));
    const procs: Record<'a' | 'b', Proc> = { a: start('a'), b: start('b') };
    const probe = spawn('ip', ['netns', 'exec', topo.ns.c, process.execPath, '-e', prober], { stdio: ['ignore', 'pipe', 'ignore'] });
    helpers.push(probe);
    let last: { at: number; from: string } | undefined;
    const replies: { at: number; from: string }[] = [];
    createInterface({ input: probe.stdout! }).on('line', (l) => {
      const [at, from] = l.split(' ');
      last = { at: Number(at), from: from ?? '' };
      replies.push(last);
    });
    const downMs = sc.expectedMs + 3000;
    if (!(await waitFor(() => last !== undefined, 15_000))) throw new Error(`${impl}: the VIP never answered`);
    const times: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      // Let the pair settle: one master answering, the other BACKUP and listening.
      await new Promise((r) => setTimeout(r, sc.version === 3 ? 800 : 2000));
      const master = last!.from as 'a' | 'b';
      const other = master === 'a' ? 'b' : 'a';
      replies.length = 0;
      const t0 = Date.now();
      if (sc.stop === 'kill') procs[master].killHard();
      else procs[master].signal('SIGTERM');
      const ok = await waitFor(() => replies.some((r) => r.from === other), downMs + 5000);
      if (!ok) throw new Error(`${impl} ${sc.label}: ${other} never answered (trial ${i + 1})\n${procs[other].log.slice(-2000)}`);
      times.push(replies.find((r) => r.from === other)!.at - t0);
      await procs[master].exited();
      // A crashed router's VIP is left behind, as after a real crash: clear it before the router comes back.
      if (topo.holds(master)) spawn('ip', ['-n', topo.ns[master], 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
      procs[master] = start(master);
    }
    return times;
  } finally {
    for (const h of helpers) h.kill('SIGKILL');
    await topo.destroy();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:failover needs root (network namespaces)');
  console.log(`bench:failover — ${TRIALS} trials per scenario; time from stopping the master until the VIP answers from the backup`);
  console.log('scenario                       target(ms)  lvskeeper p50/p99 (ms)  keepalived p50/p99 (ms)  ratio p50/p99');
  for (const sc of SCENARIOS.filter((x) => ONLY === undefined || x.label.includes(ONLY))) {
    const lv = await runScenario('lvskeeper', sc);
    const ka = await runScenario('keepalived', sc);
    const f = (x: number): string => x.toFixed(0).padStart(5);
    const [l50, l99, k50, k99] = [quantile(lv, 0.5), quantile(lv, 0.99), quantile(ka, 0.5), quantile(ka, 0.99)];
    console.log(
      `${sc.label.padEnd(30)} ${f(sc.expectedMs)}       ${f(l50)} / ${f(l99)}          ${f(k50)} / ${f(k99)}          ${(l50 / k50).toFixed(2)} / ${(l99 / k99).toFixed(2)}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
