// Active-active directors behind a BGP ECMP router, in network namespaces (shared by bgp-ecmp.test.ts and
// bench/scaleout.ts):
//
//   client c (10.10.0.2) ── router r (FRR zebra+bgpd, AS 65000, maximum-paths, timers 1/3)
//                                │ bridge bd0 10.20.0.0/24
//            ┌───────────────────┼───────────────────┐
//   director d1 (.11)     director d2 (.12)    director d3 (.13)     each: lvskeeper --announce-table 100 (userspace
//            │ eth1 10.30.0.1N   │                   │                 data plane) + FRR zebra (ip import-table 100)
//            └──────────── bridge bb0 10.30.0.0/24 ──┘                 + bgpd (AS 65001, redistribute table 100)
//                                │
//                 real servers s1 10.30.0.21, s2 10.30.0.22 (echo-server.ts)
//
// Two data planes. `userspace` (this host has no IPVS): NAT from the director's own address, so the real server sees
// which director relayed a connection. `kernel` (inside the IPVS VM, test/vm): `lb_kind DR` with `mh` and
// net.ipv4.vs.sloppy_tcp, the real servers holding the VIP on lo (arp_ignore) and answering the client through the
// router (10.30.0.1 on bb0); a connection's director is then the router's choice (pathFor).
//
// The VIP is a local route on each director's lo (`ip route add local VIP dev lo table local`), not an address: zebra
// turns an address into a connected route, which beats the imported one, and `redistribute table` only announces the
// routes zebra selects.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const VIP = '10.99.0.1';
export const TABLE = 100;
const ROUTER = '10.20.0.1';
const CLIENT = '10.10.0.2';
const RS = ['10.30.0.21', '10.30.0.22'] as const;
const FRR = '/usr/lib/frr';

export const directorAddress = (i: number): string => `10.20.0.${11 + i}`;
const backAddress = (i: number): string => `10.30.0.${11 + i}`;

function sh(args: readonly string[]): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export interface ClientConn {
  readonly id: number;
  readonly localPort: number;
  readonly ok: boolean;
  readonly rs?: string;
  readonly director?: string;
}

/** The client process (ecmp-client.ts): one JSON command a line, one reply a line. */
class Client {
  private readonly replies: ((line: string) => void)[] = [];

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.replies.shift()?.(line));
  }

  private ask(cmd: object): Promise<ClientConn[]> {
    return new Promise((resolve) => {
      // The real server sees the director's back address (10.30.0.1N); the router knows its front one (10.20.0.1N).
      const front = (c: ClientConn): ClientConn => (c.director ? { ...c, director: c.director.replace(/^10\.30\.0\./, '10.20.0.') } : c);
      this.replies.push((line) => resolve((JSON.parse(line) as { conns: ClientConn[] }).conns.map(front)));
      this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  open(n: number): Promise<ClientConn[]> {
    return this.ask({ op: 'open', n, host: VIP, port: 80 });
  }

  ping(): Promise<ClientConn[]> {
    return this.ask({ op: 'ping' });
  }

  async close(): Promise<void> {
    await this.ask({ op: 'close' });
  }
}

export type Plane = 'userspace' | 'kernel';

export class BgpTopology {
  readonly dir = mkdtempSync(join(tmpdir(), 'lkbgp-'));
  readonly ns: { readonly r: string; readonly c: string; readonly s: readonly string[]; readonly d: readonly string[] };
  private readonly procs: ChildProcess[] = [];
  private readonly daemons = new Map<number, ChildProcess>();
  private readonly logs = new Map<number, string>();
  client: Client | undefined;

  constructor(readonly tag: string, readonly directors: number, private readonly repoRoot: string, readonly plane: Plane = 'userspace') {
    const p = `lkbgp${tag}`;
    this.ns = { r: `${p}r`, c: `${p}c`, s: RS.map((_, i) => `${p}s${i + 1}`), d: Array.from({ length: directors }, (_, i) => `${p}d${i + 1}`) };
    this.destroyNamespaces();
    for (const n of this.allNs()) {
      sh(['ip', 'netns', 'add', n]);
      sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    }
    const r = this.ns.r;
    this.veth(this.ns.c, 'eth0', 'c0');
    sh(['ip', '-n', r, 'addr', 'add', '10.10.0.1/24', 'dev', 'c0']);
    sh(['ip', '-n', this.ns.c, 'addr', 'add', `${CLIENT}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', this.ns.c, 'route', 'add', 'default', 'via', '10.10.0.1']);
    for (const br of ['bd0', 'bb0']) {
      sh(['ip', '-n', r, 'link', 'add', br, 'type', 'bridge']);
      sh(['ip', '-n', r, 'link', 'set', br, 'up']);
    }
    sh(['ip', '-n', r, 'addr', 'add', `${ROUTER}/24`, 'dev', 'bd0']);
    this.ns.s.forEach((s, i) => {
      this.veth(s, 'eth0', `s${i}`, 'bb0');
      sh(['ip', '-n', s, 'addr', 'add', `${RS[i]}/24`, 'dev', 'eth0']);
      if (plane === 'userspace') return;
      // LVS-DR: the real server takes packets for the VIP without answering ARP for it, and replies through the router.
      sh(['ip', '-n', s, 'addr', 'add', `${VIP}/32`, 'dev', 'lo']);
      sh(['ip', 'netns', 'exec', s, 'sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
      sh(['ip', '-n', s, 'route', 'add', 'default', 'via', '10.30.0.1']);
    });
    if (plane === 'kernel') sh(['ip', '-n', r, 'addr', 'add', '10.30.0.1/24', 'dev', 'bb0']);
    this.ns.d.forEach((d, i) => {
      this.veth(d, 'eth0', `f${i}`, 'bd0');
      this.veth(d, 'eth1', `b${i}`, 'bb0');
      sh(['ip', '-n', d, 'addr', 'add', `${directorAddress(i)}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', d, 'addr', 'add', `${backAddress(i)}/24`, 'dev', 'eth1']);
      sh(['ip', '-n', d, 'route', 'add', 'default', 'via', ROUTER]);
      sh(['ip', '-n', d, 'route', 'add', 'local', `${VIP}/32`, 'dev', 'lo', 'table', 'local']);
    });
    // Flows spread by their addresses and ports, hashed by the router itself: policy 1 takes a packet's own L4 hash
    // when it has one, and a TCP packet from a local socket carries the socket's (sk_txhash), which the veth keeps and
    // TCP changes after a retransmission timeout (sk_rethink_txhash): `ip route get` would not name the path taken.
    // Policy 3 hashes the fields given (0x37: addresses, protocol, ports; linux ip-sysctl.rst).
    sh(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=3', 'net.ipv4.fib_multipath_hash_fields=0x37']);
  }

  private allNs(): string[] {
    return [this.ns.r, this.ns.c, ...this.ns.s, ...this.ns.d];
  }

  /** A veth from `ns` (named `inner`) to the router's namespace (named `outer`, on bridge `bridge` if given). */
  private veth(ns: string, inner: string, outer: string, bridge?: string): void {
    const tmp = `lkbgp${this.tag}${outer}`;
    sh(['ip', 'link', 'add', tmp, 'type', 'veth', 'peer', 'name', inner, 'netns', ns]);
    sh(['ip', 'link', 'set', tmp, 'netns', this.ns.r, 'name', outer]);
    sh(['ip', '-n', this.ns.r, 'link', 'set', outer, ...(bridge ? ['master', bridge] : []), 'up']);
    sh(['ip', '-n', ns, 'link', 'set', inner, 'up']);
  }

  private subdir(name: string): string {
    const d = join(this.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** zebra and bgpd in a namespace, with files of their own (the namespaces share /var/run/frr). */
  private startFrr(ns: string, name: string, conf: string): void {
    const d = this.subdir(`frr-${name}`);
    writeFileSync(join(d, 'frr.conf'), conf);
    // FRR drops to user frr, which must reach its files; its vty group is frrvty (a build-time default). lvskeeper's
    // files stay in directories of root's: it refuses a pid file in a directory another user owns.
    const [uid, gid] = ['-u', '-g'].map((f) => Number(sh(['id', f, 'frr']).trim())) as [number, number];
    chmodSync(this.dir, 0o755);
    chownSync(d, uid, gid);
    const common = ['-d', '-u', 'frr', '-g', 'frr', '-f', join(d, 'frr.conf'), '-z', join(d, 'zserv.api'), '--vty_socket', d];
    sh(['ip', 'netns', 'exec', ns, `${FRR}/zebra`, ...common, '-i', join(d, 'zebra.pid'), '--log', `file:${join(d, 'zebra.log')}`]);
    sh(['ip', 'netns', 'exec', ns, `${FRR}/bgpd`, ...common, '-i', join(d, 'bgpd.pid'), '--log', `file:${join(d, 'bgpd.log')}`]);
  }

  startRouter(): void {
    this.startFrr(this.ns.r, 'r', [
      'router bgp 65000',
      ` bgp router-id ${ROUTER}`,
      ' no bgp ebgp-requires-policy',
      ' timers bgp 1 3',
      ' neighbor D peer-group',
      ' neighbor D remote-as 65001',
      ' neighbor D advertisement-interval 0',
      ' neighbor D timers connect 1',
      ' bgp listen range 10.20.0.0/24 peer-group D',
      ' address-family ipv4 unicast',
      `  maximum-paths ${this.directors}`,
      ' exit-address-family',
      '',
    ].join('\n'));
  }

  startDirectorFrr(i: number): void {
    this.startFrr(this.ns.d[i]!, `d${i + 1}`, [
      `ip import-table ${TABLE}`,
      'router bgp 65001',
      ` bgp router-id ${directorAddress(i)}`,
      ' no bgp ebgp-requires-policy',
      ' timers bgp 1 3',
      ` neighbor ${ROUTER} remote-as 65000`,
      ` neighbor ${ROUTER} advertisement-interval 0`,
      ` neighbor ${ROUTER} timers connect 1`,
      ' address-family ipv4 unicast',
      `  redistribute table ${TABLE}`,
      ' exit-address-family',
      '',
    ].join('\n'));
  }

  /** One echo server a real server; with DR it listens on every address, the VIP included. */
  async startRealServers(): Promise<void> {
    await Promise.all(this.ns.s.map((s, i) => {
      const child = spawn('ip', ['netns', 'exec', s, process.execPath, join(this.repoRoot, 'dist/test/announce/echo-server.js'),
        `${this.plane === 'kernel' ? '0.0.0.0' : RS[i]}:80:rs${i + 1}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      this.procs.push(child);
      return new Promise<void>((resolve) => createInterface({ input: child.stdout! }).once('line', () => resolve()));
    }));
  }

  startClient(): void {
    const child = spawn('ip', ['netns', 'exec', this.ns.c, process.execPath, join(this.repoRoot, 'dist/test/announce/ecmp-client.js')],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    this.procs.push(child);
    this.client = new Client(child);
  }

  /** keepalived.conf of every director: one VS, Maglev, both real servers checked by TCP_CHECK each second. */
  static config(plane: Plane = 'userspace'): string {
    return [
      'global_defs {', '  router_id director', '}',
      `virtual_server ${VIP} 80 {`, '  delay_loop 1', '  lb_algo mh', `  lb_kind ${plane === 'kernel' ? 'DR' : 'NAT'}`, '  protocol TCP',
      ...RS.map((a) => `  real_server ${a} 80 {\n    TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }\n  }`),
      '}', '',
    ].join('\n');
  }

  private file(i: number, name: string): string {
    return join(this.subdir(`d${i + 1}`), name);
  }

  controlSocket(i: number): string {
    return this.file(i, 'control.sock');
  }

  startDaemon(i: number, extra: readonly string[] = []): void {
    const conf = this.file(i, 'keepalived.conf');
    writeFileSync(conf, BgpTopology.config(this.plane));
    // A director that never saw a connection's SYN forwards its later packets (ip_vs_proto_tcp.c tcp_conn_schedule).
    if (this.plane === 'kernel') sh(['ip', 'netns', 'exec', this.ns.d[i]!, 'sysctl', '-qw', 'net.ipv4.vs.sloppy_tcp=1']);
    const args = ['-n', '-l', '--ipvs-driver', this.plane, '-f', conf, '-p', this.file(i, 'lvsk.pid'), '-c', this.file(i, 'checkers.pid'),
      '--control-socket', this.controlSocket(i), '--state-file', this.file(i, 'state.json'), '--announce-table', String(TABLE), ...extra];
    const child = spawn('ip', ['netns', 'exec', this.ns.d[i]!, process.execPath, join(this.repoRoot, 'dist/bin/lvskeeper.js'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.logs.set(i, '');
    const append = (d: Buffer): void => void this.logs.set(i, this.logs.get(i)! + d.toString());
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.procs.push(child);
    this.daemons.set(i, child);
  }

  log(i: number): string {
    return this.logs.get(i) ?? '';
  }

  /** Runs the CLI against director i's daemon. */
  cli(i: number, args: readonly string[]): string {
    return sh([process.execPath, join(this.repoRoot, 'dist/bin/lvskeeper.js'), ...args, '--socket', this.controlSocket(i)]);
  }

  signalDaemon(i: number, sig: NodeJS.Signals): void {
    this.daemons.get(i)?.kill(sig);
  }

  running(i: number): boolean {
    const c = this.daemons.get(i);
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  daemonExited(i: number): Promise<void> {
    const c = this.daemons.get(i);
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((r) => c.once('exit', () => r()));
  }

  /** A director's machine dies: lvskeeper (supervisor and checker child) and its zebra and bgpd, all SIGKILLed. */
  killDirector(i: number): void {
    const pids = [this.file(i, 'checkers.pid'), join(this.dir, `frr-d${i + 1}`, 'zebra.pid'), join(this.dir, `frr-d${i + 1}`, 'bgpd.pid')];
    this.daemons.get(i)?.kill('SIGKILL');
    for (const f of pids) killPidFile(f);
  }

  /** SIGKILL of director i's checker child alone: the supervisor respawns it. */
  killChecker(i: number): void {
    killPidFile(this.file(i, 'checkers.pid'));
  }

  /**
   * A killed director (killDirector) boots again: what a reboot clears goes first — /run's pid files, and the routes
   * the dead processes left. Those matter: the announcement a SIGKILLed lvskeeper left in table 100 would be announced
   * by the new FRR before lvskeeper runs, and the VIP route zebra installed in the main table (proto zebra) is read by
   * the next zebra as a kernel route (distance 0) that beats the import (distance 15): FRR 8.4 then announces nothing.
   */
  rebootDirector(i: number): void {
    const d = this.ns.d[i]!;
    sh(['ip', '-n', d, 'route', 'flush', 'proto', 'zebra']);
    sh(['ip', '-n', d, 'route', 'flush', 'table', String(TABLE)]);
    for (const f of ['lvsk.pid', 'checkers.pid']) rmSync(this.file(i, f), { force: true });
    this.startDirectorFrr(i);
    this.startDaemon(i);
  }

  /** The director loses its real servers (its back link goes down): its checkers fail, its VS loses quorum. */
  cutBackLink(i: number, down = true): void {
    sh(['ip', '-n', this.ns.d[i]!, 'link', 'set', 'eth1', down ? 'down' : 'up']);
  }

  /** A director's front link: down, no packet of its leaves (its BGP session ends with the hold timer). */
  setFrontLink(i: number, up: boolean): void {
    sh(['ip', '-n', this.ns.d[i]!, 'link', 'set', 'eth0', up ? 'up' : 'down']);
    if (up) sh(['ip', '-n', this.ns.d[i]!, 'route', 'replace', 'default', 'via', ROUTER]);
  }

  /** The router's next hops for the VIP, from its kernel FIB (`ip -j route`), sorted. */
  paths(): string[] {
    const routes = JSON.parse(sh(['ip', '-n', this.ns.r, '-j', 'route', 'show', `${VIP}/32`])) as { gateway?: string; nexthops?: { gateway: string }[] }[];
    const out: string[] = [];
    for (const r of routes) {
      if (r.gateway) out.push(r.gateway);
      for (const nh of r.nexthops ?? []) out.push(nh.gateway);
    }
    return out.sort();
  }

  /** The director the router's FIB picks now for a connection of the client's from this port. */
  pathFor(localPort: number): string | undefined {
    const out = JSON.parse(sh(['ip', '-n', this.ns.r, '-j', 'route', 'get', VIP, 'from', CLIENT, 'iif', 'c0', 'ipproto', 'tcp',
      'sport', String(localPort), 'dport', '80'])) as { gateway?: string }[];
    return out[0]?.gateway;
  }

  /** The table's routes in a director (`ip -j route show table 100`). */
  announced(i: number): { dst: string; protocol: string; type?: string }[] {
    return JSON.parse(sh(['ip', '-n', this.ns.d[i]!, '-j', 'route', 'show', 'table', String(TABLE)])) as { dst: string; protocol: string; type?: string }[];
  }

  /**
   * Polls until `cond` has held for `stableMs` without a break, or `ms` pass; returns the milliseconds until it began
   * to hold, or undefined. The router's FIB passes through states of its own while FRR replaces a route (a nexthop
   * group at a time), so one poll that sees a path missing is not yet the path removed.
   */
  static async until(cond: () => boolean, ms: number, stableMs = 500): Promise<number | undefined> {
    const t0 = performance.now();
    let since: number | undefined;
    while (performance.now() - t0 < ms + stableMs) {
      const now = performance.now();
      if (!cond()) since = undefined;
      else if ((since ??= now) <= now - stableMs) return since - t0;
      else if (since - t0 > ms) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  private destroyNamespaces(): void {
    for (const n of this.allNs()) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  }

  async destroy(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const name of ['r', ...this.ns.d.map((_, i) => `d${i + 1}`)]) {
      for (const f of ['zebra.pid', 'bgpd.pid']) killPidFile(join(this.dir, `frr-${name}`, f));
      killPidFile(join(this.dir, name, 'checkers.pid'));
    }
    await new Promise((r) => setTimeout(r, 200));
    this.destroyNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killPidFile(path: string): void {
  try {
    process.kill(Number(readFileSync(path, 'utf8').trim()), 'SIGKILL');
  } catch {
    // not running, or never started
  }
}
