// Test helper: two network namespaces joined by a veth pair, and child processes run inside them.
// Names carry the lvskw- prefix plus the pid so parallel runs never collide; dispose() deletes everything.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot } from '../support/tier.js';

export interface VethPair {
  readonly nsA: string;
  readonly nsB: string;
  readonly ifA: string;
  readonly ifB: string;
  /** Runs `ip ARGS` in a namespace and returns stdout. */
  ip(ns: string, ...args: string[]): string;
  ifindex(ns: string, ifname: string): number;
  dispose(): void;
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A = 192.0.2.1/24, 2001:db8::1/64; B = 192.0.2.2/24, 2001:db8::2/64 (IPv6 without DAD so it is usable at once). */
export async function createVethPair(tag: string): Promise<VethPair> {
  const id = `${tag}${process.pid % 100000}`;
  const nsA = `lvskw-${id}a`;
  const nsB = `lvskw-${id}b`;
  const ifA = `lvskw${id}a`.slice(0, 15);
  const ifB = `lvskw${id}b`.slice(0, 15);
  const dispose = (): void => {
    for (const ns of [nsA, nsB]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  };
  dispose();
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    for (const ns of [nsA, nsB]) {
      // No DAD: link-local addresses are usable at once (VRRPv3 sends from them); interfaces copy `default`.
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0']);
    }
    ip('link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB);
    for (const [ns, ifn, n] of [[nsA, ifA, '1'], [nsB, ifB, '2']] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `192.0.2.${n}/24`, 'dev', ifn);
      ip('-n', ns, 'addr', 'add', `2001:db8::${n}/64`, 'dev', ifn, 'nodad');
      ip('-n', ns, 'link', 'set', ifn, 'up');
    }
    // Carrier comes up asynchronously and only then does the kernel add the link-local address (VRRPv3's source).
    for (let i = 0; ; i++) {
      const ready = [[nsA, ifA], [nsB, ifB]].every(([ns, ifn]) =>
        /inet6 fe80::\S+ scope link\s*$/m.test(ip('-n', ns!, '-6', 'addr', 'show', 'dev', ifn!)),
      );
      if (ready) break;
      if (i === 100) throw new Error('veth link-local addresses did not appear within 5 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return {
    nsA, nsB, ifA, ifB, dispose,
    ip: (ns, ...args) => ip('-n', ns, ...args),
    ifindex: (ns, ifname) => (JSON.parse(ip('-n', ns, '-j', 'link', 'show', ifname)) as { ifindex: number }[])[0]!.ifindex,
  };
}

export interface Child {
  readonly proc: ChildProcess;
  /** Resolves with the next JSON line matching `pred`, or rejects after `ms`. */
  next(pred: (o: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(): void;
}

/** Runs `node dist/<script> ARGS` inside namespace `ns`, reading its JSON lines. */
export function runIn(ns: string, script: string, ...args: string[]): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, `${repoRoot}dist/${script}`, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(JSON.parse(l) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      exitedFlag = true;
      resolve(code);
      for (const w of waiters.splice(0)) w();
    }),
  );
  return {
    proc,
    exited,
    kill: () => {
      if (!exitedFlag) proc.kill('SIGKILL');
    },
    next: (pred, ms = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching line from ${script} within ${ms} ms: ${JSON.stringify(lines)}`)), ms);
        const check = (): void => {
          const i = lines.findIndex(pred);
          if (i >= 0) {
            clearTimeout(timer);
            resolve(lines.splice(i, 1)[0]!);
          } else if (exitedFlag) {
            clearTimeout(timer);
            reject(new Error(`${script} exited without a matching line: ${JSON.stringify(lines)}`));
          } else waiters.push(check);
        };
        check();
      }),
  };
}
