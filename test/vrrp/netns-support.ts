// Shared by the VRRP namespace tests and bench/failover: three namespaces (a, b: routers; c: client) on a bridge
// in a fourth, and starting/stopping lvskeeper (the shipped binary) or keepalived inside them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const NODES = ['a', 'b', 'c'] as const;
export type Node = (typeof NODES)[number];
export const ADDR: Record<Node, string> = { a: '192.0.2.1', b: '192.0.2.2', c: '192.0.2.3' };
export const ADDR6: Record<Node, string> = { a: '2001:db8::1', b: '2001:db8::2', c: '2001:db8::3' };
export const VIP = '192.0.2.100';
export const VIP6 = '2001:db8::100';

export function sh(args: string[]): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export class Topology {
  readonly dir = mkdtempSync(join(tmpdir(), 'lvskv-'));
  private readonly procs: ChildProcess[] = [];
  private readonly samplers = new Set<NodeJS.Timeout>();
  readonly ns: Record<Node | 'br', string>;

  constructor(tag: string) {
    this.ns = { a: `lvskv-${tag}a`, b: `lvskv-${tag}b`, c: `lvskv-${tag}c`, br: `lvskv-${tag}br` };
    this.destroyNamespaces();
    sh(['ip', 'netns', 'add', this.ns.br]);
    sh(['ip', '-n', this.ns.br, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', this.ns.br, 'link', 'set', 'br0', 'up']);
    for (const n of NODES) {
      sh(['ip', 'netns', 'add', this.ns[n]]);
      const peer = `v${tag}${n}`;
      sh(['ip', 'link', 'add', peer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns[n]]);
      sh(['ip', 'link', 'set', peer, 'netns', this.ns.br]);
      sh(['ip', '-n', this.ns.br, 'link', 'set', peer, 'master', 'br0', 'up']);
      sh(['ip', 'netns', 'exec', this.ns[n], 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.eth0.accept_dad=0']);
      sh(['ip', '-n', this.ns[n], 'addr', 'add', `${ADDR[n]}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', this.ns[n], 'addr', 'add', `${ADDR6[n]}/64`, 'dev', 'eth0', 'nodad']);
      sh(['ip', '-n', this.ns[n], 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', this.ns[n], 'link', 'set', 'lo', 'up']);
    }
  }

  private destroyNamespaces(): void {
    for (const n of [...NODES, 'br'] as const) spawnSync('ip', ['netns', 'del', this.ns[n]], { stdio: 'ignore' });
  }

  writeConfig(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** Starts the shipped binary as a VRRP-only daemon (`lvskeeper -P`) in a namespace, with files of its own. */
  startLvskeeper(node: Node, config: string, repoRoot: string): Proc {
    const p = this.startDaemon(node, ['-P', '-n', '-l', '-f', config, ...this.daemonFiles(node)], repoRoot);
    p.vrrpPidFile = join(this.dir, `lvsk-${node}-vrrp.pid`);
    return p;
  }

  /** Pid files, control socket and state file per node: the namespaces share one filesystem. */
  daemonFiles(node: Node): string[] {
    const f = (suffix: string): string => join(this.dir, `lvsk-${node}${suffix}`);
    return ['-p', f('.pid'), '-r', f('-vrrp.pid'), '-c', f('-checkers.pid'), '--control-socket', f('.sock'), '--state-file', f('.state')];
  }

  /** Starts the lvskeeper daemon (bin/lvskeeper) in a namespace with the given arguments. */
  startDaemon(node: Node, args: readonly string[], repoRoot: string, env: NodeJS.ProcessEnv = process.env): Proc {
    const log = join(this.dir, `daemon-${node}.log`);
    const child = spawn('ip', ['netns', 'exec', this.ns[node], process.execPath, join(repoRoot, 'dist/bin/lvskeeper.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    return this.track(child, log);
  }

  /** Starts keepalived 2.2.7 (foreground; VRRP only unless `withCheckers`) in a namespace with pid files of its own. */
  startKeepalived(node: Node, config: string, opts: { readonly withCheckers?: boolean } = {}): Proc {
    const log = join(this.dir, `ka-${node}.log`);
    const which = opts.withCheckers ? ['-c', join(this.dir, `ka-${node}-checkers.pid`)] : ['-P'];
    const child = spawn(
      'ip',
      ['netns', 'exec', this.ns[node], '/usr/sbin/keepalived', '-n', '-l', '-D', ...which, '-f', config,
        '-p', join(this.dir, `ka-${node}.pid`), '-r', join(this.dir, `ka-${node}-vrrp.pid`)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const p = this.track(child, log);
    p.vrrpPidFile = join(this.dir, `ka-${node}-vrrp.pid`);
    return p;
  }

  private track(child: ChildProcess, log: string): Proc {
    this.procs.push(child);
    const p = new Proc(child, log);
    return p;
  }

  /** Whether a node holds an address on eth0. */
  holds(node: Node, address = VIP): boolean {
    const out = sh(['ip', '-n', this.ns[node], '-o', 'addr', 'show', 'dev', 'eth0']);
    return out.split('\n').some((l) => l.includes(` ${address}/`));
  }

  /** The MAC the client currently has for an address (after pinging it). */
  clientMacFor(address = VIP): string | undefined {
    spawnSync('ip', ['netns', 'exec', this.ns.c, 'ping', '-c', '1', '-W', '1', address], { stdio: 'ignore' });
    const out = sh(['ip', '-n', this.ns.c, 'neigh', 'show', address]);
    return /lladdr ([0-9a-f:]+)/.exec(out)?.[1];
  }

  macOf(node: Node): string {
    return /link\/ether ([0-9a-f:]+)/.exec(sh(['ip', '-n', this.ns[node], 'link', 'show', 'eth0']))?.[1] ?? '';
  }

  setLink(node: Node, up: boolean): void {
    sh(['ip', '-n', this.ns[node], 'link', 'set', 'eth0', up ? 'up' : 'down']);
  }

  /**
   * Runs `fn` every `ms` until the returned stop() or destroy(), whichever is first: a sampler of the namespaces left
   * running by a failed assertion would otherwise go on throwing from its timer once they are gone, and hold the test
   * file open until node's file timeout, which reports the file cancelled.
   */
  every(ms: number, fn: () => void): () => void {
    const timer = setInterval(fn, ms);
    this.samplers.add(timer);
    return () => {
      clearInterval(timer);
      this.samplers.delete(timer);
    };
  }

  async destroy(): Promise<void> {
    for (const timer of this.samplers) clearInterval(timer);
    this.samplers.clear();
    for (const p of this.procs) {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    // A VRRP child outlives a SIGKILL of `ip netns exec` → the parent; kill what the pid files name.
    for (const f of ['a', 'b'].flatMap((n) => [`ka-${n}.pid`, `ka-${n}-vrrp.pid`, `ka-${n}-checkers.pid`, `lvsk-${n}-vrrp.pid`, `lvsk-${n}-checkers.pid`])) {
      try {
        process.kill(Number(readFileSync(join(this.dir, f), 'utf8').trim()), 'SIGKILL');
      } catch {
        // not running
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    this.destroyNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class Proc {
  vrrpPidFile?: string;
  /** keepalived's other children (-b's BFD process): each outlives a SIGKILL of its parent and keeps its stdout open. */
  readonly childPidFiles: string[] = [];
  private out = '';

  constructor(readonly child: ChildProcess, readonly logPath: string) {
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
  }

  get log(): string {
    return this.out;
  }

  /** Sends a signal to the daemon itself (`ip netns exec` execs it, so the child pid is the daemon's). */
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  private get pidFiles(): string[] {
    return [...(this.vrrpPidFile ? [this.vrrpPidFile] : []), ...this.childPidFiles];
  }

  /**
   * SIGKILL of the whole process family (parent, VRRP child and any other), as a crash would. The parent is stopped
   * first: keepalived starts a child it sees die again at once (bfd_daemon.c bfd_respawn_thread), and a child forked
   * just as its parent dies can miss the PR_SET_PDEATHSIG SIGTERM and live on, holding our stdout. Killed first, the
   * parent would have its children told (PDEATHSIG) and leave gracefully, which a crash does not let them do.
   */
  killHard(): void {
    this.child.kill('SIGSTOP');
    for (const f of this.pidFiles) {
      const pid = pidIn(f);
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.child.kill('SIGKILL');
  }

  /**
   * Resolves when the process (and its children) are gone, so a restart finds no live pid file. A child its pid file
   * still names 5 s after the parent's exit is killed: one left alive keeps this test process from ending.
   */
  async exited(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((r) => this.child.once('exit', () => r()));
    }
    const alive = (f: string): number | undefined => {
      const pid = pidIn(f);
      try {
        if (pid !== undefined) process.kill(pid, 0);
        return pid;
      } catch {
        return undefined;
      }
    };
    for (const f of this.pidFiles) {
      // Read again at each look: a child started again as its parent died writes its pid file late.
      if (!(await waitFor(() => alive(f) === undefined, 5000))) {
        await waitFor(() => {
          const pid = alive(f);
          if (pid !== undefined) process.kill(pid, 'SIGKILL');
          return pid === undefined;
        }, 5000);
      }
      rmSync(f, { force: true });
    }
  }
}

/** The pid a pid file names; none while it is missing or not yet written (0 would signal our own process group). */
function pidIn(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `cond` every 10 ms until true or until `ms` have passed; returns whether it became true. */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

export interface InstanceOpts {
  readonly priority: number;
  readonly version?: 2 | 3;
  readonly advertInt?: string;
  readonly vrid?: number;
  readonly pass?: string;
  readonly nopreempt?: boolean;
  readonly preemptDelay?: number;
  readonly trackScript?: string;
  readonly trackInterface?: string;
  /** A track_file block `tf` with weight 0 (non-zero value → FAULT). */
  readonly trackFile?: string;
  readonly unicast?: { src: string; peer: string };
  readonly vip?: string;
  /** More virtual_ipaddress lines after the first. */
  readonly moreVips?: readonly string[];
  readonly garpDelay?: number;
}

/** A keepalived.conf with one vrrp_instance VI_1 on eth0, read by both daemons. */
export function vrrpConfig(o: InstanceOpts): string {
  const lines = ['global_defs {', `  vrrp_garp_master_delay ${o.garpDelay ?? 0}`, '}'];
  if (o.trackFile) lines.push('track_file tf {', `  file "${o.trackFile}"`, '  weight 0', '}');
  if (o.trackScript) lines.push('vrrp_script chk {', `  script "${o.trackScript}"`, '  interval 1', '  weight 0', '}');
  lines.push('vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', `  virtual_router_id ${o.vrid ?? 51}`, `  priority ${o.priority}`);
  lines.push(`  advert_int ${o.advertInt ?? '1'}`, `  version ${o.version ?? 2}`);
  if (o.pass) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${o.pass}`, '  }');
  if (o.nopreempt) lines.push('  nopreempt');
  if (o.preemptDelay !== undefined) lines.push(`  preempt_delay ${o.preemptDelay}`);
  if (o.trackScript) lines.push('  track_script {', '    chk', '  }');
  if (o.trackFile) lines.push('  track_file {', '    tf', '  }');
  if (o.trackInterface) lines.push('  track_interface {', `    ${o.trackInterface}`, '  }');
  if (o.unicast) lines.push(`  unicast_src_ip ${o.unicast.src}`, '  unicast_peer {', `    ${o.unicast.peer}`, '  }');
  lines.push('  virtual_ipaddress {', `    ${o.vip ?? `${VIP}/24`}`, ...(o.moreVips ?? []).map((v) => `    ${v}`), '  }', '}');
  return lines.join('\n') + '\n';
}
