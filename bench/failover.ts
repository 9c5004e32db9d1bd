// VRRP failover time, lvskeeper vs keepalived 2.2.7, in network namespaces (needs root and /usr/sbin/keepalived).
// Each router namespace runs a UDP responder that answers with its own name; the client namespace probes the
// VIP every 10 ms. A trial stops the current master (kill -9, or SIGTERM) and measures until the VIP answers
// from the other router. Both routers have the same priority, so the restarted one stays BACKUP and the next
// trial stops the other. Trials per scenario: BENCH_TRIALS (default 20); BENCH_ONLY=text runs the scenarios whose
// label contains it.
// Both implementations get exactly the same treatment: before each trial the standby must have logged
// `Entering BACKUP STATE` and then heard at least one advert interval; the stop then comes at a pseudo-random
// phase of the master's advert schedule (counted from its first answer), from the same seeded sequence for both. (Stopping at a fixed delay after the
// restart measured the restarted router's start-up time, not failover, whenever start-up took longer than that
// delay; and a fixed phase relative to the master's adverts measures one point of the failover range only.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ADDR, Topology, VIP, vrrpConfig, waitFor, type Node, type Proc } from '../test/vrrp/netns-support.js';
import { seededRandom } from '../test/support/seeded-random.js';
import { describeFloor, StallProbe, type Floor } from './stall-probe.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 20);
const PORT = 9;

const responder = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(process.argv[1],r.port,r.address));s.bind(${PORT});`;
// The client also listens to the adverts on the wire (224.0.0.18), so each trial can be measured from the
// master's last advert as well: that figure is Master_Down_Interval (or Skew_Time) plus the take-over latency,
// whatever the phase of the stop.
const prober = [
  "import { createSocket } from 'node:dgram';",
  "import { readFileSync } from 'node:fs';",
  `import { openVrrpSocket } from '${repoRoot}dist/src/net/rawsock.js';`,
  "const out = (l) => process.stdout.write(Date.now() + ' ' + l + '\\n');",
  "const s = createSocket('udp4');",
  's.on("message", (m) => out(String(m)));',
  `setInterval(() => s.send('p', ${PORT}, '${VIP}'), 10);`,
  "const ifindex = Number(readFileSync('/sys/class/net/eth0/ifindex', 'utf8'));",
  "const v = openVrrpSocket({ family: 4, ifindex, device: 'eth0', groups: ['224.0.0.18'] });",
  "v.on('message', (m) => out('advert ' + m.src + ' ' + m.data[2]));",
].join('\n');

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
  // VRRPv3's floor (RFC 5798 §5.2.7: 1 cs); the client probes every 10 ms, so both figures carry up to 10 ms of that.
  { label: 'v3 advert_int 0.01, kill -9', version: 3, advertInt: '0.01', stop: 'kill', expectedMs: 30 + (156 * 10) / 256 },
  { label: 'v2 advert_int 1, SIGTERM', version: 2, advertInt: '1', stop: 'term', expectedMs: (156 * 1000) / 256 },
];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
}

interface Result {
  readonly times: number[];
  /** The same trials measured from the stopped master's last advert seen on the wire. */
  readonly fromAdvert: number[];
  /** Longest time a restarted router took to log BACKUP (excluded from the figures, shown for context). */
  readonly slowestStartMs: number;
  /** The machine's own stalls meanwhile (bench/stall-probe.ts). */
  readonly floor: Floor;
}

async function runScenario(impl: 'lvskeeper' | 'keepalived', sc: Scenario): Promise<Result> {
  const topo = new Topology(impl === 'lvskeeper' ? 'Bl' : 'Bk');
  const helpers: ChildProcess[] = [];
  const stalls = await StallProbe.start();
  try {
    for (const n of ['a', 'b'] as const) {
      helpers.push(spawn('ip', ['netns', 'exec', topo.ns[n], process.execPath, '-e', responder, n], { stdio: 'ignore' }));
    }
    const conf = topo.writeConfig('r.conf', vrrpConfig({ priority: 100, version: sc.version, advertInt: sc.advertInt }));
    const start = (n: Node): Proc => (impl === 'lvskeeper' ? topo.startLvskeeper(n, conf, repoRoot) : topo.startKeepalived(n, conf));
    const procs: Record<'a' | 'b', Proc> = { a: start('a'), b: start('b') };
    const probe = spawn('ip', ['netns', 'exec', topo.ns.c, process.execPath, '--input-type=module', '-e', prober], { stdio: ['ignore', 'pipe', 'ignore'] });
    helpers.push(probe);
    let last: { at: number; from: string } | undefined;
    const replies: { at: number; from: string }[] = [];
    const adverts: { at: number; src: string }[] = [];
    createInterface({ input: probe.stdout! }).on('line', (l) => {
      const [at, from, src] = l.split(' ');
      if (from === 'advert') {
        adverts.push({ at: Number(at), src: src ?? '' });
        return;
      }
      last = { at: Number(at), from: from ?? '' };
      replies.push(last);
    });
    const downMs = sc.expectedMs + 3000;
    const intervalMs = Number(sc.advertInt) * 1000;
    // One seeded sequence, so both implementations see the same stop phases.
    const phase = seededRandom(20261122);
    let slowestStartMs = 0;
    if (!(await waitFor(() => last !== undefined, 15_000))) throw new Error(`${impl}: the VIP never answered`);
    // When the current master took over (its first answer): its adverts follow at whole intervals from about then.
    let masterSince = last!.at;
    const times: number[] = [];
    const fromAdvert: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      // The standby is up (BACKUP) and has heard the master for at least one interval; then a random phase.
      for (const n of ['a', 'b'] as const) {
        if (!(await waitFor(() => procs[n].log.includes('Entering BACKUP STATE') || procs[n].log.includes('Entering MASTER STATE'), 15_000))) {
          throw new Error(`${impl}: ${n} never started\n${procs[n].log}`);
        }
      }
      const earliest = Date.now() + intervalMs + 50;
      const stopAt = masterSince + Math.ceil((earliest - masterSince) / intervalMs) * intervalMs + phase() * intervalMs;
      await new Promise((r) => setTimeout(r, stopAt - Date.now()));
      const master = last!.from as 'a' | 'b';
      const other = master === 'a' ? 'b' : 'a';
      replies.length = 0;
      const t0 = Date.now();
      if (sc.stop === 'kill') procs[master].killHard();
      else procs[master].signal('SIGTERM');
      const ok = await waitFor(() => replies.some((r) => r.from === other), downMs + 5000);
      if (!ok) throw new Error(`${impl} ${sc.label}: ${other} never answered (trial ${i + 1})\n${procs[other].log.slice(-2000)}`);
      masterSince = replies.find((r) => r.from === other)!.at;
      times.push(masterSince - t0);
      // kill -9: the last regular advert; SIGTERM: the priority-0 one sent while stopping.
      const lastAdvert = adverts.filter((a) => a.src === ADDR[master] && a.at <= masterSince).at(-1);
      fromAdvert.push(lastAdvert === undefined ? NaN : masterSince - lastAdvert.at);
      await procs[master].exited();
      // A crashed router's VIP is left behind, as after a real crash: clear it before the router comes back.
      if (topo.holds(master)) spawnSync('ip', ['-n', topo.ns[master], 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
      const restartedAt = Date.now();
      procs[master] = start(master);
      await waitFor(() => procs[master].log.includes('Entering BACKUP STATE'), 15_000);
      slowestStartMs = Math.max(slowestStartMs, Date.now() - restartedAt);
    }
    return { times, fromAdvert, slowestStartMs, floor: await stalls.stop() };
  } finally {
    void stalls.stop().catch(() => undefined);
    for (const h of helpers) h.kill('SIGKILL');
    await topo.destroy();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:failover needs root (network namespaces)');
  console.log(`bench:failover — ${TRIALS} trials per scenario; time until the VIP answers from the backup, measured from`);
  console.log('  "stop": the kill -9 / SIGTERM of the master (the issue\'s figure; at a random phase of the advert schedule)');
  console.log('  "advert": the stopped master\'s last advert on the wire (timer accuracy: target + take-over latency)');
  console.log('target: Master_Down_Interval (kill -9) or Skew_Time (SIGTERM) at priority 100; ratio = lvskeeper / keepalived');
  console.log('scenario                     from    target(ms)  lvskeeper p50/p99 (ms)  keepalived p50/p99 (ms)  ratio p50/p99');
  const f = (x: number): string => x.toFixed(0).padStart(5);
  for (const sc of SCENARIOS.filter((x) => ONLY === undefined || x.label.includes(ONLY))) {
    const lv = await runScenario('lvskeeper', sc);
    const ka = await runScenario('keepalived', sc);
    for (const [from, pick] of [['stop', (r: Result) => r.times], ['advert', (r: Result) => r.fromAdvert]] as const) {
      const [l50, l99, k50, k99] = [quantile(pick(lv), 0.5), quantile(pick(lv), 0.99), quantile(pick(ka), 0.5), quantile(pick(ka), 0.99)];
      console.log(
        `${(from === 'stop' ? sc.label : '').padEnd(28)} ${from.padEnd(7)} ${f(sc.expectedMs)}       ${f(l50)} / ${f(l99)}          ${f(k50)} / ${f(k99)}          ${(l50 / k50).toFixed(2)} / ${(l99 / k99).toFixed(2)}`,
      );
      if (process.env['BENCH_VERBOSE'] !== undefined) console.log(`    lvskeeper:  ${pick(lv).join(' ')}\n    keepalived: ${pick(ka).join(' ')}`);
    }
    console.log(`${''.padEnd(28)} slowest restart to BACKUP (not in the figures): lvskeeper ${lv.slowestStartMs} ms, keepalived ${ka.slowestStartMs} ms`);
    console.log(`${''.padEnd(28)} machine floor: during lvskeeper's trials ${describeFloor(lv.floor)}; during keepalived's ${describeFloor(ka.floor)}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
