// A daemon under benchmark (bench/daemon.ts, bench/console.ts, bench/flaps.ts): the built CLI, a supervisor and its child processes,
// with a generated config of N real servers on distinct loopback addresses, measured from outside through /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { HeapSample } from './heap-probe.js';
import { memoryLine, processName, rssBreakdown, tree, treeCpuS, treeRssMb } from './proc.js';

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
  /** Its control socket. */
  readonly socket: string;

  /** Where each process writes its live heap (bench/heap-probe.ts); none unless asked for. */
  private readonly heapDir: string | undefined;

  /**
   * `extra`: more command-line options (`--http 127.0.0.1:9000`); `heapProbe`: every process can say its live heap
   * (liveHeap()), and with `heapSnapshots` write a heap snapshot first (heapSnapshotFiles()); `loopProbe`: the
   * supervisor records its loop's late wake-ups to this file at exit (bench/loop-probe.ts).
   */
  constructor(name: string, text: string, extra: readonly string[] = [], probes: { readonly heapProbe?: boolean; readonly heapSnapshots?: boolean; readonly loopProbe?: string } = {}) {
    const conf = join(dir, `${name}.conf`);
    writeFileSync(conf, text);
    this.socket = join(dir, `${name}.sock`);
    this.heapDir = probes.heapProbe ? join(dir, `${name}.heap`) : undefined;
    if (this.heapDir) mkdirSync(this.heapDir);
    const heap = this.heapDir ? ['--expose-gc', '--import', join(root, 'dist/bench/heap-probe.js')] : [];
    const loop = probes.loopProbe ? ['--import', join(root, 'dist/bench/loop-probe.js')] : [];
    this.child = spawn(process.execPath, [...heap, ...loop, join(root, 'dist/bin/lvskeeper.js'), '-n', '-l', '--ipvs-driver', 'dry-run',
      '--pid', join(dir, `${name}.pid`), '--control-socket', this.socket, '--state-file', join(dir, `${name}.state`), ...extra, '-f', conf],
    { stdio: ['ignore', 'pipe', 'inherit'], env: {
      ...process.env,
      ...(this.heapDir ? { LVSK_HEAP_PROBE_DIR: this.heapDir } : {}),
      ...(probes.heapSnapshots ? { LVSK_HEAP_PROBE_SNAPSHOT: '1' } : {}),
      ...(probes.loopProbe ? { LVSK_LOOP_PROBE_OUT: probes.loopProbe } : {}),
    } });
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

  /** `supervisor 21.5 + checkers 82.4 MB (+ ArrayBuffers 0.0 + 46.0 MB)`: each process's heap after a full collection. */
  async liveHeap(): Promise<string> {
    const pids = tree(this.pid);
    const files = pids.map((p) => join(this.heapDir!, `${p}.json`));
    for (const f of files) rmSync(f, { force: true });
    for (const p of pids) process.kill(p, 'SIGWINCH');
    const end = performance.now() + 60_000;
    while (!files.every((f) => existsSync(f))) {
      if (performance.now() > end) throw new Error('no live heap from every process within 60 s');
      await sleep(100);
    }
    const samples = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as HeapSample);
    const mb = (n: number): string => (n / 2 ** 20).toFixed(1);
    return `${samples.map((s, i) => `${processName(pids[i]!, this.pid)} ${mb(s.heapUsed)}`).join(' + ')} MB (+ ArrayBuffers ${samples.map((s) => mb(s.arrayBuffers)).join(' + ')} MB)`;
  }

  /** Where liveHeap() had each process write its heap snapshot (a daemon started with `heapSnapshots`). */
  heapSnapshotFiles(): { readonly process: string; readonly file: string }[] {
    return tree(this.pid).map((p) => ({ process: processName(p, this.pid), file: join(this.heapDir!, `${p}.heapsnapshot`) }));
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('exit', r));
  }
}
