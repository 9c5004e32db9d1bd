// The isolation scenario shared by test/daemon/isolation.test.ts and bench/isolation.ts: lvskeeper as VRRPv3 MASTER
// in namespace a with tens of thousands of real servers, keepalived 2.2.7 as BACKUP in namespace b, and what the
// scenario needs around them: backends in a, a capture of a's adverts on b's interface, and the counting of b's
// transitions.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ADDR, Topology, VIP, vrrpConfig, waitFor, type Proc } from '../vrrp/netns-support.js';

export const ACCEPT_PORT = 8080;
export const ENDLESS_PORT = 8089;

export interface LargeConfigOpts {
  readonly advertInt: string;
  readonly virtualServers: number;
  readonly realServersPerVs: number;
  readonly delayLoop: number;
  /** One more virtual server whose single HTTP_GET real server streams its body without end. */
  readonly endlessBackend?: boolean;
}

/**
 * VI_1 (v3, priority 150) and `virtualServers` × `realServersPerVs` TCP_CHECK real servers, each a distinct
 * 127/8 address on ACCEPT_PORT (one listener in the namespace answers them all), so every check is its own probe.
 */
export function largeConfig(o: LargeConfigOpts): string {
  const out: string[] = [
    'global_defs {', '  vrrp_garp_master_delay 0', '}',
    'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', '  virtual_router_id 51', '  priority 150',
    `  advert_int ${o.advertInt}`, '  version 3', '  virtual_ipaddress {', `    ${VIP}/24`, '  }', '}',
  ];
  let k = 0;
  for (let v = 0; v < o.virtualServers; v++) {
    out.push(`virtual_server 198.18.${v >> 8}.${v & 255} 80 {`, `  delay_loop ${o.delayLoop}`, '  lb_algo wrr', '  lb_kind NAT', '  protocol TCP');
    for (let r = 0; r < o.realServersPerVs; r++, k++) {
      out.push(`  real_server 127.${1 + (k >> 16)}.${(k >> 8) & 255}.${k & 255} ${ACCEPT_PORT} {`, '    weight 1', '    TCP_CHECK {', '      connect_timeout 3', '    }', '  }');
    }
    out.push('}');
  }
  if (o.endlessBackend) {
    out.push('virtual_server 198.19.0.1 80 {', '  delay_loop 1', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP',
      `  real_server 127.0.0.1 ${ENDLESS_PORT} {`, '    HTTP_GET {', '      url {', '        path /', '        digest 00000000000000000000000000000000', '      }',
      '      connect_timeout 2', '      retry 0', '    }', '  }', '}');
  }
  return out.join('\n') + '\n';
}

/** Accepts every TCP connection on ACCEPT_PORT (all of 127/8 routes to lo) and closes it. */
const ACCEPTOR = `require('net').createServer((s) => { s.on('error', () => {}); s.end(); }).listen(${ACCEPT_PORT}, '0.0.0.0');`;

/** Answers 200 and then sends its body for ever, as fast as the peer reads it. */
const ENDLESS = [
  "const chunk = Buffer.alloc(65536, 'x');",
  "require('http').createServer((req, res) => {",
  "  res.writeHead(200, { 'content-type': 'text/plain' });",
  "  const pump = () => { while (res.write(chunk)); };",
  "  res.on('drain', pump); res.on('error', () => {}); pump();",
  `}).listen(${ENDLESS_PORT}, '127.0.0.1');`,
].join('\n');

export function startBackend(topo: Topology, kind: 'acceptor' | 'endless'): ChildProcess {
  return spawn('ip', ['netns', 'exec', topo.ns.a, process.execPath, '-e', kind === 'acceptor' ? ACCEPTOR : ENDLESS], { stdio: 'ignore' });
}

/** Adverts from a as b's interface sees them, timestamped by the kernel (tcpdump -tt). */
export class AdvertCapture {
  readonly times: number[] = [];
  private readonly child: ChildProcess;
  private stderr = '';
  readonly ready: Promise<void>;

  constructor(topo: Topology) {
    // A 16 MiB capture buffer: on a loaded machine the default one drops frames, which would read as missing adverts.
    this.child = spawn('ip', ['netns', 'exec', topo.ns.b, 'tcpdump', '-i', 'eth0', '-B', '16384', '-l', '-n', '-tt', '-p', `ip proto 112 and src host ${ADDR.a}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.ready = new Promise((resolve) => {
      this.child.stderr!.on('data', (d: Buffer) => {
        this.stderr += d.toString();
        if (this.stderr.includes('listening on')) resolve();
      });
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      // `1733250000.123456 IP 192.0.2.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 150, …`: priority 0 is a stop.
      const m = /^(\d+\.\d+) IP .* prio (\d+)/.exec(line);
      if (m && m[2] !== '0') this.times.push(Number(m[1]) * 1000);
    });
  }

  /** Gaps between consecutive adverts (ms) from `fromMs` on. */
  gaps(fromMs = 0): number[] {
    const t = this.times.filter((x) => x >= fromMs);
    return t.slice(1).map((x, i) => x - t[i]!);
  }

  /** Stops the capture; resolves with the frames the kernel dropped (tcpdump's count), which the gaps do not show. */
  async stop(): Promise<number> {
    const closed = new Promise((r) => this.child.once('close', r));
    this.child.kill('SIGTERM');
    await closed;
    return Number(/(\d+) packets? dropped by kernel/.exec(this.stderr)?.[1] ?? NaN);
  }
}

/** How many times keepalived has entered MASTER: the peer's takeovers. */
export function masterEntries(p: Proc): number {
  return (p.log.match(/\(VI_1\) Entering MASTER STATE/g) ?? []).length;
}

export function pidIn(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

/** The daemon's own lines (processes, reloads, errors), without the checkers' per-check lines. */
export function daemonLines(p: Proc): string {
  return p.log.split('\n').filter((l) => /child process|Reload|ERROR|WARN|cannot|Entering|Stopp/.test(l)).slice(-60).join('\n');
}

/** Waits for `cond`; on a timeout the error carries the daemon's lines from `log`. */
export async function until(what: string, ms: number, cond: () => boolean, log?: Proc): Promise<void> {
  if (!(await waitFor(cond, ms))) throw new Error(`timed out after ${ms} ms waiting for ${what}${log ? `\n${daemonLines(log)}` : ''}`);
}

/**
 * keepalived as BACKUP (priority 100) in b, then lvskeeper in a on `lvskConfig` with its files in the topology's
 * directory; resolves once lvskeeper is MASTER and keepalived has backed off.
 */
export async function startPair(
  topo: Topology,
  lvskConfig: string,
  o: { readonly advertInt: string; readonly args?: readonly string[]; readonly env?: NodeJS.ProcessEnv; readonly repoRoot: string },
): Promise<{ ka: Proc; lvsk: Proc }> {
  const ka = topo.startKeepalived('b', topo.writeConfig('ka.conf', vrrpConfig({ priority: 100, version: 3, advertInt: o.advertInt })));
  await until('keepalived to start', 10_000, () => /Entering (BACKUP|MASTER) STATE/.test(ka.log));
  const conf = topo.writeConfig('lvsk.conf', lvskConfig);
  const args = ['-n', '-l', '--ipvs-driver', 'dry-run', '-f', conf, ...topo.daemonFiles('a'), ...(o.args ?? [])];
  const lvsk = topo.startDaemon('a', args, o.repoRoot, { ...process.env, ...o.env });
  await until('lvskeeper to become MASTER', 180_000, () => /\(VI_1\) Entering MASTER STATE/.test(lvsk.log), lvsk);
  await until('keepalived to back off', 10_000, () => topo.holds('a') && !topo.holds('b'), ka);
  // The supervisor holds -c until the checker process has started (every real server installed), then writes its pid.
  const checkers = join(topo.dir, 'lvsk-a-checkers.pid');
  if (lvskConfig.includes('virtual_server')) {
    await until('the checker process to start', 300_000, () => existsSync(checkers) && pidIn(checkers) !== lvsk.child.pid, lvsk);
  }
  return { ka, lvsk };
}
