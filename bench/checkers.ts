// `npm run bench:checkers`: N backends on loopback (BENCH_BACKENDS processes, each on its own port, N addresses
// in 127.1/16), one checker per real server at delay_loop 1, for BENCH_SECONDS (30). Only the checker's own CPU
// (process.cpuUsage) and HAProxy's (/proc/<pid>/stat) are counted; the two run one after the other, BENCH_ROUNDS (3)
// times. Prints achieved vs configured checks/s, lateness against schedule, the young generation's collections, CPU
// per 1,000 checks and peak RSS; then HAProxy (`check inter 1s`) checks the same backends for the same time and its
// CPU per 1,000 checks, the round's ratio, and at the end the median ratio with its range.
// BENCH_KIND, one or more of http,tcp,ssl (default http), each measured against its HAProxy counterpart in turn:
// http is HTTP_GET against `option httpchk`, tcp TCP_CHECK against a plain `check` (connect only), ssl SSL_GET against
// `check-ssl` with `option httpchk` and `no-ssl-reuse` (each SSL_GET makes a full handshake, as keepalived's does; an
// ECDSA P-256 certificate made by openssl for the run). BENCH_N defaults to 5,200 for http and tcp and 1,000 for ssl,
// where the backend's handshakes would otherwise take more than the CPU it is given. BENCH_ENDLESS=K points K more real servers at a health URL that answers 200 and then streams without end,
// checked with a digest (so each check reads to the 1 MiB body cap): the lines then show what such backends cost the
// other checks (lateness, the event loop's longest stall by monitorEventLoopDelay, RSS).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { CheckerEngine } from '../checkers/engine.js';
import { parseConfigText } from '../src/config/load.js';
import type { Config } from '../src/config/model.js';

// keepalived starts delay_loop when a check completes, so N checkers at delay_loop 1 give N / (1 s + lateness + check
// time) checks per second: with 5,100 real servers runs gave 4,966-5,033/s, so 5,200 are what a sustained 5,000/s takes.
type Kind = 'http' | 'tcp' | 'ssl';
const KINDS = (process.env['BENCH_KIND'] ?? 'http').split(',').map((k) => {
  if (k !== 'http' && k !== 'tcp' && k !== 'ssl') throw new Error(`BENCH_KIND: ${k} is not http, tcp or ssl`);
  return k as Kind;
});
const nFor = (kind: Kind): number => Number(process.env['BENCH_N'] ?? (kind === 'ssl' ? 1000 : 5200));
const CHECKER: Record<Kind, string> = { http: 'HTTP_GET', tcp: 'TCP_CHECK', ssl: 'SSL_GET' };
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
/**
 * Rounds per kind, each measuring both sides. On this shared 2-CPU machine one round's http ratio ranged 0.96-1.34
 * over three runs of the same build, so the median of several is printed with its range.
 */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** Measurement starts after the warmup spread (first checks within 1 s + warmup) has settled. */
const SETTLE_S = 3;
/**
 * Backend processes. One serves 5,000+ connections/s at well under a core and leaves the other core to the process
 * measured; their CPU is printed so a saturated backend shows.
 */
const BACKENDS = Number(process.env['BENCH_BACKENDS'] ?? 1);
const ENDLESS = Number(process.env['BENCH_ENDLESS'] ?? 0);
const CLK_TCK = 100;

const rsAddress = (i: number): string => `127.1.${(i >> 8) & 255}.${(i & 255) + 0}`;

/** Each backend process's plain and TLS ports. */
interface Ports {
  readonly plain: number;
  readonly tls: number;
}

const rsPort = (ports: Ports[], kind: Kind, i: number): number => {
  const p = ports[i % ports.length]!;
  return kind === 'ssl' ? p.tls : p.plain;
};

function generate(ports: Ports[], kind: Kind, n: number): Config {
  const out = ['virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n delay_loop 1\n'];
  const url = kind === 'tcp' ? '' : '   url {\n    path /health\n   }\n';
  for (let i = 0; i < n; i++) {
    out.push(` real_server ${rsAddress(i)} ${rsPort(ports, kind, i)} {\n  ${CHECKER[kind]} {\n${url}   connect_timeout 2\n   warmup 1\n  }\n }\n`);
  }
  for (let i = n; i < n + ENDLESS; i++) {
    const endless = '   url {\n    path /endless\n    digest 00000000000000000000000000000000\n   }\n';
    out.push(` real_server ${rsAddress(i)} ${rsPort(ports, 'http', i)} {\n  HTTP_GET {\n${endless}   connect_timeout 2\n   warmup 1\n  }\n }\n`);
  }
  out.push('}\n');
  const r = parseConfigText(out.join(''));
  const bad = r.diagnostics.find((d) => d.severity === 'error' || d.severity === 'fatal');
  if (bad) throw new Error(`generated config rejected: ${bad.message}`);
  return r.config;
}

class Backend {
  private readonly lines: AsyncIterator<string>;
  constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }
  async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error('backend exited');
    return r.value;
  }
  async served(): Promise<number> {
    this.child.stdin!.write('\n');
    return Number((await this.next()).split(' ')[1]);
  }
}

/** CPU seconds (user+sys) the backends used so far. */
function backendCpuS(backends: Backend[]): number {
  let total = 0;
  for (const b of backends) {
    const c = procCpuS(b.child.pid!);
    total += c.user + c.sys;
  }
  return total;
}

/** Requests served so far by all backends. */
async function servedBy(backends: Backend[]): Promise<number> {
  let total = 0;
  for (const n of await Promise.all(backends.map((b) => b.served()))) total += n;
  return total;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number): Promise<void> => new Promise((d) => setTimeout(d, ms));

/** utime and stime of a process in seconds, from /proc. */
function procCpuS(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK };
}

async function runEngine(ports: Ports[], backends: Backend[], kind: Kind): Promise<{ cpuPer1k: number }> {
  const N = nFor(kind);
  const config = generate(ports, kind, N);
  let late: number[] = [];
  let completed = 0;
  let failed = 0;
  let measuring = true;
  const engine = new CheckerEngine(config, {
    onAttempt: (s) => {
      if (!measuring) return;
      completed++;
      if (!s.ok) failed++;
      late.push(s.lateMs);
    },
  });
  engine.start();
  await sleep(SETTLE_S * 1000);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // The young generation's collections: what the checks' short-lived objects cost besides making them.
  let scavenges = 0;
  let scavengeMs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as { detail?: { kind?: number } }).detail?.kind !== perfConstants.NODE_PERFORMANCE_GC_MINOR) continue;
      scavenges++;
      scavengeMs += e.duration;
    }
  });
  gcs.observe({ entryTypes: ['gc'] });
  late = [];
  completed = 0;
  failed = 0;
  const served0 = await servedBy(backends);
  const backendCpu0 = backendCpuS(backends);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const elapsedS = (performance.now() - t0) / 1000;
  measuring = false;
  loop.disable();
  gcs.disconnect();
  const backendCpu = backendCpuS(backends) - backendCpu0;
  const served = (await servedBy(backends)) - served0;
  await engine.stop();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  late.sort((a, b) => a - b);
  const cpuPer1k = (cpuS / completed) * 1000;
  const endless = ENDLESS > 0 ? ` (+ ${ENDLESS} against endless bodies, digest)` : '';
  console.log(`lvskeeper: ${N} ${CHECKER[kind]} checkers${endless}, delay_loop 1 s, ${elapsedS.toFixed(1)} s measured`);
  console.log(`  checks/s achieved ${(completed / elapsedS).toFixed(0)} vs configured ${N} (backends served ${(served / elapsedS).toFixed(0)}/s using ${((backendCpu / elapsedS) * 100).toFixed(0)}% CPU, failed ${failed})`);
  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  console.log(`  event loop, gap between 5 ms ticks: p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms`);
  console.log(`  lateness p50 ${percentile(late, 50).toFixed(1)} ms, p99 ${percentile(late, 99).toFixed(1)} ms, max ${late.at(-1)?.toFixed(1)} ms`);
  console.log(`  young-generation collections ${scavenges} (${((scavenges / completed) * 1000).toFixed(2)} per 1,000 checks), ${scavengeMs.toFixed(0)} ms in all`);
  console.log(`  CPU ${cpuS.toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, sys ${(cpu.system / 1e6).toFixed(2)}) = ${cpuPer1k.toFixed(3)} CPU s per 1,000 checks; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  return { cpuPer1k };
}

/** HAProxy's counterpart of each kind: its server options and whether it sends `option httpchk`'s GET. */
const HAPROXY: Record<Kind, { server: string; httpchk: boolean; says: string }> = {
  http: { server: 'check inter 1s', httpchk: true, says: 'check inter 1s, option httpchk' },
  tcp: { server: 'check inter 1s', httpchk: false, says: 'check inter 1s (connect only)' },
  ssl: { server: 'check inter 1s check-ssl verify none no-ssl-reuse', httpchk: true, says: 'check inter 1s, check-ssl no-ssl-reuse, option httpchk' },
};

async function runHaproxy(ports: Ports[], backends: Backend[], kind: Kind): Promise<{ cpuPer1k: number } | undefined> {
  const N = nFor(kind);
  const h = HAPROXY[kind];
  if (spawnSync('sh', ['-c', 'command -v haproxy'], { stdio: 'ignore' }).status !== 0) {
    console.log('haproxy: not installed (apt-get install haproxy); comparison skipped');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lvskc-bench-'));
  const cfg = join(dir, 'haproxy.cfg');
  const lines = [
    'global',
    '  maxconn 4096',
    'defaults',
    `  mode ${kind === 'tcp' ? 'tcp' : 'http'}`,
    '  timeout connect 2s',
    '  timeout check 2s',
    '  timeout client 5s',
    '  timeout server 5s',
    // HAProxy refuses to start without a listener; a unix socket takes no port.
    'frontend fe',
    `  bind unix@${join(dir, 'fe.sock')}`,
    '  default_backend pool',
    'backend pool',
    ...(h.httpchk ? ['  option httpchk GET /health'] : []),
    `  default-server ${h.server}`,
  ];
  for (let i = 0; i < N; i++) lines.push(`  server s${i} ${rsAddress(i)}:${rsPort(ports, kind, i)}`);
  writeFileSync(cfg, lines.join('\n') + '\n');
  const hap = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((d) => hap.once('exit', d));
  try {
    await sleep(SETTLE_S * 1000);
    if (hap.exitCode !== null) throw new Error(`haproxy exited with status ${hap.exitCode}`);
    const served0 = await servedBy(backends);
    const cpu0 = procCpuS(hap.pid!);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const cpu1 = procCpuS(hap.pid!);
    const user = cpu1.user - cpu0.user;
    const sys = cpu1.sys - cpu0.sys;
    const cpuS = user + sys;
    const elapsedS = (performance.now() - t0) / 1000;
    // HAProxy's connect-only check leaves its handshake's last ACK unsent (TCP_QUICKACK off) and resets at once, so
    // the connection never reaches a backend's accept queue: its checks are taken as scheduled, N per inter (its
    // checks run on a fixed period, not after the last one completed).
    const served = h.httpchk ? (await servedBy(backends)) - served0 : N * elapsedS;
    const cpuPer1k = (cpuS / served) * 1000;
    console.log(`haproxy ${N} servers, ${h.says}: ${(served / elapsedS).toFixed(0)} checks/s${h.httpchk ? '' : ' (as scheduled)'}, CPU ${cpuS.toFixed(2)} s (user ${user.toFixed(2)}, sys ${sys.toFixed(2)}) = ${cpuPer1k.toFixed(3)} CPU s per 1,000 checks`);
    return { cpuPer1k };
  } finally {
    if (hap.exitCode === null && hap.signalCode === null) hap.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A throwaway ECDSA P-256 key and self-signed certificate for the TLS backends (key.pem, cert.pem in `dir`). */
function makeCert(dir: string): string[] {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=lvskc.bench', '-keyout', key, '-out', cert], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`openssl req failed (apt-get install openssl): ${r.stderr?.toString() ?? r.error?.message}`);
  return [key, cert];
}

async function main(): Promise<void> {
  const script = new URL('./checkers-backend.js', import.meta.url).pathname;
  const certDir = mkdtempSync(join(tmpdir(), 'lvskc-bench-cert-'));
  const certArgs = KINDS.includes('ssl') ? makeCert(certDir) : [];
  const children = Array.from({ length: BACKENDS }, () => spawn(process.execPath, [script, ...certArgs], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const backends = children.map((c) => new Backend(c));
  try {
    const ports = await Promise.all(backends.map(async (b): Promise<Ports> => {
      const [, plain, secure] = (await b.next()).split(' ');
      return { plain: Number(plain), tls: Number(secure) };
    }));
    const shown = ports.map((p) => (p.tls ? `${p.plain}+tls ${p.tls}` : `${p.plain}`)).join(',');
    console.log(`bench:checkers ${KINDS.join(',')}, ${SECONDS} s per side, ${BACKENDS} backend processes on ports ${shown}`);
    for (const kind of KINDS) {
      const ratios: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        // By turns, each side first every other round, so a drift of the shared machine's speed favours neither.
        let ours: { cpuPer1k: number };
        let theirs: { cpuPer1k: number } | undefined;
        if (round % 2 === 1) {
          ours = await runEngine(ports, backends, kind);
          theirs = await runHaproxy(ports, backends, kind);
        } else {
          theirs = await runHaproxy(ports, backends, kind);
          ours = await runEngine(ports, backends, kind);
        }
        if (!theirs) break;
        ratios.push(ours.cpuPer1k / theirs.cpuPer1k);
        if (ROUNDS > 1) console.log(`round ${round} of ${ROUNDS}: lvskeeper/haproxy ${ratios.at(-1)!.toFixed(2)}`);
      }
      if (ratios.length === 0) continue;
      const sorted = [...ratios].sort((a, b) => a - b);
      const spread = ratios.length > 1 ? ` (${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)} over ${ratios.length} rounds)` : '';
      const median = (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
      console.log(`ratio ${kind} lvskeeper/haproxy CPU per check: median ${median.toFixed(2)}${spread} (target <= 1)`);
    }
  } finally {
    for (const c of children) {
      c.stdin!.end();
      c.kill('SIGTERM');
    }
    rmSync(certDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  console.error(`bench:checkers failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
}
