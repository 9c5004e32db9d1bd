// Two namespaces on one veth for BFD sessions: `lk` (lvskeeper, 10.77.0.1 / fd77::1) and `peer` (10.77.0.2 /
// fd77::2), where keepalived 2.2.7's BFD child or FRR's bfdd (8.4, standalone with a vty socket directory of its
// own) runs as the real peer.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Proc, sh, waitFor } from '../vrrp/netns-support.js';
import { repoRoot } from '../support/tier.js';

export const LK = { v4: '10.77.0.1', v6: 'fd77::1' };
export const PEER = { v4: '10.77.0.2', v6: 'fd77::2' };
export const BFDD = '/usr/lib/frr/bfdd';

/**
 * FRR's bfdd in namespace `ns` with config `config`, its vty socket, pid and control files in `dir` (made here and
 * given to the frr user, to whom bfdd drops its privileges), so vtysh --vty_socket DIR reaches this one.
 */
export function startBfdd(ns: string, dir: string, config: string): Proc {
  mkdirSync(dir, { recursive: true });
  chownSync(dir, Number(sh(['id', '-u', 'frr']).trim()), Number(sh(['id', '-g', 'frr']).trim()));
  const conf = join(dir, 'bfdd.conf');
  writeFileSync(conf, config, { mode: 0o644 });
  const child = spawn('ip', ['netns', 'exec', ns, BFDD, '-f', conf, '--vty_socket', dir, '-i', join(dir, 'bfdd.pid'),
    '--bfdctl', join(dir, 'bfdd.sock'), '-z', join(dir, 'zserv.api'), '-P', '0', '--log', 'stdout'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new Proc(child, join(dir, 'bfdd.log'));
  // Proc.killHard kills the process its pid file names.
  p.vrrpPidFile = join(dir, 'bfdd.pid');
  return p;
}

export class BfdLink {
  readonly dir = mkdtempSync(join(tmpdir(), 'lkbfd-'));
  readonly ns: { readonly lk: string; readonly peer: string };
  private readonly procs: Proc[] = [];
  private readonly pidFiles: string[] = [];

  constructor(tag: string) {
    this.ns = { lk: `lkbfd-${tag}-lk`, peer: `lkbfd-${tag}-p` };
    this.destroyNamespaces();
    sh(['ip', 'netns', 'add', this.ns.lk]);
    sh(['ip', 'netns', 'add', this.ns.peer]);
    sh(['ip', 'link', 'add', 'eth0', 'netns', this.ns.lk, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns.peer]);
    for (const [ns, a] of [[this.ns.lk, LK], [this.ns.peer, PEER]] as const) {
      sh(['ip', '-n', ns, 'addr', 'add', `${a.v4}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', ns, 'addr', 'add', `${a.v6}/64`, 'dev', 'eth0', 'nodad']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // FRR drops privileges to its own user: its socket directory and config must be reachable.
    chmodSync(this.dir, 0o755);
  }

  private destroyNamespaces(): void {
    for (const n of [this.ns.lk, this.ns.peer]) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  }

  write(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text, { mode: 0o644 });
    return path;
  }

  private track(child: Proc['child'], name: string, pidFile: string): Proc {
    const p = new Proc(child, join(this.dir, `${name}.log`));
    // Proc.killHard kills the child its pid file names: here the BFD child.
    p.vrrpPidFile = pidFile;
    this.procs.push(p);
    this.pidFiles.push(pidFile);
    return p;
  }

  /**
   * The shipped binary (in the lk namespace unless told), BFD child pid in `lk-bfd.pid`, `extra` options after the
   * others. Each daemon leads a process group of its own (killGroup).
   */
  startLvskeeper(config: string, name = 'lk', where: 'peer' | 'lk' = 'lk', extra: readonly string[] = []): Proc {
    const f = (s: string): string => join(this.dir, `${name}${s}`);
    const child = spawn('ip', ['netns', 'exec', this.ns[where], process.execPath, join(repoRoot, 'dist/bin/lvskeeper.js'),
      '-n', '-l', '-f', this.write(`${name}.conf`, config), '-p', f('.pid'), '-r', f('-vrrp.pid'), '-c', f('-checkers.pid'), '-b', f('-bfd.pid'),
      '--control-socket', f('.sock'), '--state-file', f('.state'), '--ipvs-driver', 'userspace', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    return this.track(child, name, f('-bfd.pid'));
  }

  /** keepalived 2.2.7 (in the peer namespace unless told): with only bfd_instance blocks it runs its BFD child alone. */
  startKeepalived(config: string, name = 'ka', where: 'peer' | 'lk' = 'peer'): Proc {
    const f = (s: string): string => join(this.dir, `${name}${s}`);
    const child = spawn('ip', ['netns', 'exec', this.ns[where], '/usr/sbin/keepalived', '-n', '-l', '-D', '-f', this.write(`${name}.conf`, config),
      '-p', f('.pid'), '-r', f('-vrrp.pid'), '-c', f('-checkers.pid'), '-b', f('-bfd.pid')], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    return this.track(child, name, f('-bfd.pid'));
  }

  /**
   * SIGKILL of a daemon's whole process group — parent and every child at once, as a host crash would: killing the
   * parent alone lets keepalived's children, told of it (PR_SET_PDEATHSIG), leave gracefully with priority 0.
   */
  killGroup(p: Proc): void {
    try {
      // `ip netns exec` execs the daemon: its pid leads the group spawn's `detached` made.
      process.kill(-p.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** FRR's bfdd in the peer namespace, its vty socket in a directory of its own so vtysh reaches this one. */
  startFrr(config: string): Proc {
    const p = startBfdd(this.ns.peer, join(this.dir, 'frr'), config);
    this.procs.push(p);
    this.pidFiles.push(p.vrrpPidFile!);
    return p;
  }

  /** vtysh against this link's bfdd: each argument one command. */
  vtysh(...commands: string[]): string {
    return sh(['ip', 'netns', 'exec', this.ns.peer, 'vtysh', '--vty_socket', join(this.dir, 'frr'), '-d', 'bfdd', ...commands.flatMap((c) => ['-c', c])]);
  }

  /** bfdd's view of its one peer. */
  frrPeer(): { status: string; uptime: number; 'remote-receive-interval': number; 'remote-transmit-interval': number } | undefined {
    try {
      return (JSON.parse(this.vtysh('show bfd peers json')) as ReturnType<BfdLink['frrPeer']>[])[0];
    } catch {
      return undefined;
    }
  }

  /** SIGKILL of a daemon and its BFD child, as a crash would. */
  async kill(p: Proc): Promise<void> {
    p.killHard();
    await p.exited();
  }

  async destroy(): Promise<void> {
    for (const p of this.procs) {
      this.killGroup(p);
      p.killHard();
    }
    await Promise.all(this.procs.map((p) => p.exited()));
    for (const f of this.pidFiles) {
      try {
        process.kill(Number(readFileSync(f, 'utf8').trim()), 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.destroyNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves with the first log line matching `re` (timestamp taken off), or undefined after `ms`. */
export async function lineIn(p: Proc, re: RegExp, ms: number, from = 0): Promise<string | undefined> {
  let found: string | undefined;
  await waitFor(() => {
    found = p.log.slice(from).split('\n').map((l) => l.replace(/^.*?\d\d:\d\d:\d\d(?: \d{4})?: /, '')).find((l) => re.test(l));
    return found !== undefined;
  }, ms);
  return found;
}
