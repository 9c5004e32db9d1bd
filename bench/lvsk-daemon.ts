// A daemon under benchmark (bench/daemon.ts, bench/console.ts, bench/flaps.ts): the built CLI, a supervisor and its child processes,
// with a generated config of N real servers on distinct loopback addresses, measured from outside through /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { memoryLine, rssBreakdown, treeCpuS, treeRssMb } from './proc.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lvskd-bench-'));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The index of the first line from `from` on that matches, as the lines arrive. Each line is tested once: the bench
 * shares the machine's CPUs with the daemon it measures, and a reload logs 30,000 lines.
 */
export async function waitForLine(lines: readonly string[], re: RegExp, from: number, limitMs: number): Promise<number> {
  const end = performance.now() + limitMs;
  for (let i = from; ; await sleep(2)) {
    for (; i < lines.length; i++) if (re.test(lines[i]!)) return i;
    if (performance.now() > end) throw new Error(`no line matching ${re} within ${limitMs} ms`);
  }
}

/** Removes the daemons' files. */
export function cleanUp(): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The real servers: 127.b.c.d (distinct addresses, all reaching the one backend port). */
export function config(rsCount: number, backendPort: number, checker: string, delayLoopS = 1): string {
  const perVs = 100;
  const out = ['global_defs {', '  router_id bench', '}'];
  for (let v = 0; v * perVs < rsCount; v++) {
    out.push(`virtual_server 198.51.100.${1 + (v % 250)} ${10000 + Math.floor(v / 250)} {`, `  delay_loop ${delayLoopS}`, '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let i = v * perVs; i < Math.min(rsCount, (v + 1) * perVs); i++) {
      const n = i + 1;
      out.push(`  real_server 127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255} ${backendPort} {`, '    weight 1', checker, '  }');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** The log line that says real server number `n` (1-based) is installed. */
export const installed = (n: number): RegExp => new RegExp(`ipvsadm -a .*127\\.${(n >> 16) & 255}\\.${(n >> 8) & 255}\\.${n & 255}:`);

export const HTTP = '    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_timeout 2\n    }';
export const TCP = '    TCP_CHECK {\n      connect_timeout 2\n    }';

export class Daemon {
  readonly child: ChildProcess;
  readonly lines: string[] = [];

  /** `extra`: more command-line options (`--http 127.0.0.1:9000`). */
  constructor(name: string, text: string, extra: readonly string[] = []) {
    const conf = join(dir, `${name}.conf`);
    writeFileSync(conf, text);
    this.child = spawn(process.execPath, [join(root, 'dist/bin/lvskeeper.js'), '-n', '-l', '--ipvs-driver', 'dry-run',
      '--pid', join(dir, `${name}.pid`), '--control-socket', join(dir, `${name}.sock`), '--state-file', join(dir, `${name}.state`), ...extra, '-f', conf],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => this.lines.push(l));
  }

  get pid(): number {
    return this.child.pid!;
  }

  waitFor(re: RegExp, from: number, limitMs: number): Promise<number> {
    return waitForLine(this.lines, re, from, limitMs);
  }

  /** RSS at the end (total and by process) and CPU share over a window. */
  async sample(windowS: number): Promise<{ rss: number; cpu: number; each: string; memory: string }> {
    const c0 = treeCpuS(this.pid);
    await sleep(windowS * 1000);
    return { rss: treeRssMb(this.pid), cpu: (treeCpuS(this.pid) - c0) / windowS, each: rssBreakdown(this.pid), memory: memoryLine(this.pid) };
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('exit', r));
  }
}
