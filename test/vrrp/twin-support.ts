// Twin namespaces for comparing lvskeeper with keepalived 2.2.7 on the same config: each side is a router namespace
// with eth0 (10.0.0.1/24, the VRRP link) and eth1 (203.0.113.1/24, the "public" link), each a veth whose far end
// (p0, p1) sits in the side's peer namespace, where tcpdump sees what the router puts on the wire. The same event is
// applied to both sides and the observable state compared: `ip -j addr`, captured ARP frames, log lines.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Proc, waitFor } from './netns-support.js';

export const SIDES = ['ka', 'lk'] as const;
export type Side = (typeof SIDES)[number];

function sh(args: string[]): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Lines tcpdump printed on one peer interface (`-l -n -e`), read as they come. */
export class Capture {
  private out = '';
  private err = '';

  constructor(readonly proc: Proc['child']) {
    proc.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.err += d.toString()));
  }

  /** Resolves once tcpdump has its socket open (it says so on stderr). */
  ready(): Promise<boolean> {
    return waitFor(() => this.err.includes('listening on'), 5000);
  }

  get lines(): string[] {
    return this.out.split('\n').filter((l) => l.length > 0);
  }

  /** Capture times (ms since midnight) of the gratuitous ARPs for any of `addresses`, in order. */
  garpTimes(addresses: readonly string[]): number[] {
    return this.lines.flatMap((l) => {
      const m = /^(\d\d):(\d\d):(\d\d\.\d+) .*Request who-has (\S+) \(ff:ff:ff:ff:ff:ff\) tell (\S+),/.exec(l);
      if (!m || m[4] !== m[5] || !addresses.includes(m[4]!)) return [];
      return [(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000];
    });
  }

  /** Gratuitous ARPs (sender = target = address) for `address`, with the Ethernet source of each. */
  garps(address: string): string[] {
    const re = new RegExp(`^\\S+ ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff, ethertype ARP .*Request who-has ${address.replace(/\./g, '\\.')} \\(ff:ff:ff:ff:ff:ff\\) tell ${address.replace(/\./g, '\\.')},`);
    return this.lines.flatMap((l) => re.exec(l)?.[1] ?? []);
  }
}

export class Twin {
  readonly dir = mkdtempSync(join(tmpdir(), 'lvskt-'));
  private readonly procs: Proc[] = [];
  private readonly captures: Capture[] = [];

  constructor(private readonly tag: string) {
    this.destroyNamespaces();
    for (const side of SIDES) {
      const ns = this.ns(side);
      const peer = this.peer(side);
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', 'netns', 'add', peer]);
      for (const [i, addr] of [[0, '10.0.0'], [1, '203.0.113']] as const) {
        sh(['ip', 'link', 'add', `eth${i}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', peer]);
        sh(['ip', '-n', ns, 'addr', 'add', `${addr}.1/24`, 'dev', `eth${i}`]);
        sh(['ip', '-n', peer, 'addr', 'add', `${addr}.2/24`, 'dev', `p${i}`]);
        sh(['ip', '-n', ns, 'link', 'set', `eth${i}`, 'up']);
        sh(['ip', '-n', peer, 'link', 'set', `p${i}`, 'up']);
      }
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
  }

  ns(side: Side): string {
    return `lvskt-${this.tag}-${side}`;
  }

  peer(side: Side): string {
    return `lvskt-${this.tag}-${side}p`;
  }

  private destroyNamespaces(): void {
    for (const side of SIDES) for (const n of [this.ns(side), this.peer(side)]) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  }

  writeConfig(text: string): string {
    const path = join(this.dir, 'keepalived.conf');
    writeFileSync(path, text);
    return path;
  }

  /**
   * keepalived 2.2.7 (VRRP only, -D) on the ka side; lvskeeper's shipped binary (-P -D) on the lk side. `fromRoot`:
   * started in the root namespace, the config's net_namespace taking it into the side's namespace, with the pid
   * files at their default (namespaced) paths. `extra`: more command-line words for the daemon; `env`: its environment
   * (a TMPDIR for its dumps), this process's by default.
   */
  start(side: Side, config: string, repoRoot: string, fromRoot = false, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Proc {
    const pid = join(this.dir, `${side}.pid`);
    const pids = fromRoot ? [] : ['-p', pid, ...(side === 'ka' ? ['-r', join(this.dir, 'ka-vrrp.pid')] : [])];
    const args =
      side === 'ka'
        ? ['/usr/sbin/keepalived', '-n', '-l', '-D', '-P', '-f', config, ...pids]
        : [process.execPath, join(repoRoot, 'dist/bin/lvskeeper.js'), '-P', '-n', '-l', '-D', '-f', config, ...pids,
          '--control-socket', join(this.dir, 'lk.sock'), '--state-file', join(this.dir, 'lk-state.json')];
    args.push(...extra);
    const child = fromRoot
      ? spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn('ip', ['netns', 'exec', this.ns(side), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const p = new Proc(child, join(this.dir, `${side}.log`));
    if (side === 'ka') p.vrrpPidFile = fromRoot ? `/run/keepalived/${this.ns(side)}/vrrp.pid` : join(this.dir, 'ka-vrrp.pid');
    const bfd = extra.indexOf('-b');
    if (bfd >= 0 && extra[bfd + 1] !== undefined) p.childPidFiles.push(extra[bfd + 1]!);
    this.procs.push(p);
    return p;
  }

  /** keepalived 2.2.7 in the side's peer namespace (on p0 and p1), as another router on the links. */
  startPeerKeepalived(side: Side, config: string): Proc {
    const f = (suffix: string): string => join(this.dir, `${side}-peer${suffix}`);
    const child = spawn('ip', ['netns', 'exec', this.peer(side), '/usr/sbin/keepalived', '-n', '-l', '-D', '-P', '-f', config, '-p', f('.pid'), '-r', f('-vrrp.pid')],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new Proc(child, f('.log'));
    p.vrrpPidFile = f('-vrrp.pid');
    this.procs.push(p);
    return p;
  }

  /** Runs a command in the side's peer namespace; its exit status (0 = success). */
  execPeer(side: Side, ...cmd: string[]): number {
    return spawnSync('ip', ['netns', 'exec', this.peer(side), ...cmd], { stdio: 'ignore' }).status ?? -1;
  }

  /** tcpdump on a peer interface (p0 faces eth0, p1 faces eth1). */
  async capture(side: Side, ifname: 'p0' | 'p1', filter = 'arp'): Promise<Capture> {
    const child = spawn('ip', ['netns', 'exec', this.peer(side), 'tcpdump', '-l', '-n', '-e', '-i', ifname, filter], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = new Capture(child);
    this.captures.push(c);
    if (!(await c.ready())) throw new Error(`tcpdump on ${this.peer(side)}/${ifname} did not start`);
    return c;
  }

  /** Runs `ip ARGS` in the side's router namespace. */
  ip(side: Side, ...args: string[]): string {
    return sh(['ip', '-n', this.ns(side), ...args]);
  }

  /** Runs a command in the side's router namespace and returns its stdout. */
  exec(side: Side, ...cmd: string[]): string {
    return sh(['ip', 'netns', 'exec', this.ns(side), ...cmd]);
  }

  /** The IPv4 addresses on a router interface, as `ip -j addr` lists them (address/prefix, sorted). */
  addrs(side: Side, dev: string): string[] {
    const j = JSON.parse(this.ip(side, '-j', '-4', 'addr', 'show', 'dev', dev)) as { addr_info: { local: string; prefixlen: number }[] }[];
    return (j[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`).sort();
  }

  mac(side: Side, dev: string): string {
    return (JSON.parse(this.ip(side, '-j', 'link', 'show', 'dev', dev)) as { address: string }[])[0]!.address;
  }

  /** Applies the same event to both sides. */
  both(fn: (side: Side) => void): void {
    for (const side of SIDES) fn(side);
  }

  async destroy(): Promise<void> {
    for (const c of this.captures) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    for (const p of this.procs) p.killHard();
    await Promise.all(this.procs.map((p) => p.exited()));
    this.destroyNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The log lines matching `re`, with the timestamp keepalived and lvskeeper put in front of each taken off. */
export function logLines(log: string, re: RegExp): string[] {
  return log.split('\n').map((l) => l.replace(/^.*?\d\d:\d\d:\d\d(?: \d{4})?: /, '')).filter((l) => re.test(l));
}
