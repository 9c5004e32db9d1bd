// `npm run bench:daemon`: the daemon as a user runs it (the built CLI: a supervisor and its child processes),
// measured from outside through /proc, summed over the processes (each one's share follows): RSS and CPU when idle,
// while checking 1,000 real servers at delay_loop 1 and 30,000 at delay_loop 10 (HTTP_GET to loopback backends in a
// separate process, bench/checkers-backend.ts), and the time from SIGHUP to `Reload done` for an unchanged
// 30,000-real-server config with the number of IPVS operations that reload made (the dry-run driver logs each one).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startBackend } from './backend.js';
import { rssBreakdown, treeCpuS, treeRssMb } from './proc.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lvskd-bench-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The real servers: 127.b.c.d (distinct addresses, all reaching the one backend port). */
function config(rsCount: number, backendPort: number, checker: string, delayLoopS = 1): string {
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

const HTTP = '    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_timeout 2\n    }';
const TCP = '    TCP_CHECK {\n      connect_timeout 2\n    }';

class Daemon {
  readonly child: ChildProcess;
  readonly lines: string[] = [];

  constructor(name: string, text: string) {
    const conf = join(dir, `${name}.conf`);
    writeFileSync(conf, text);
    this.child = spawn(process.execPath, [join(root, 'dist/bin/lvskeeper.js'), '-n', '-l', '--ipvs-driver', 'dry-run',
      '--pid', join(dir, `${name}.pid`), '--control-socket', join(dir, `${name}.sock`), '--state-file', join(dir, `${name}.state`), '-f', conf],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => this.lines.push(l));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitFor(re: RegExp, from: number, limitMs: number): Promise<number> {
    const end = performance.now() + limitMs;
    for (;;) {
      const i = this.lines.findIndex((l, idx) => idx >= from && re.test(l));
      if (i >= 0) return i;
      if (performance.now() > end) throw new Error(`no line matching ${re} within ${limitMs} ms`);
      await sleep(2);
    }
  }

  /** RSS at the end (total and by process) and CPU share over a window. */
  async sample(windowS: number): Promise<{ rss: number; cpu: number; each: string }> {
    const c0 = treeCpuS(this.pid);
    await sleep(windowS * 1000);
    return { rss: treeRssMb(this.pid), cpu: (treeCpuS(this.pid) - c0) / windowS, each: rssBreakdown(this.pid) };
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('exit', r));
  }
}

/**
 * A daemon checking `rsCount` servers with HTTP_GET, sampled over a window from `settleMs` after its last server is
 * installed; `downs`: the servers that failed a check meanwhile.
 */
async function checking(name: string, rsCount: number, delayLoopS: number, settleMs: number, windowS: number): Promise<{ rss: number; cpu: number; each: string; downs: number }> {
  const d = new Daemon(name, config(rsCount, backend.port, HTTP, delayLoopS));
  const n = rsCount;
  await d.waitFor(new RegExp(`ipvsadm -a .*127\\.${(n >> 16) & 255}\\.${(n >> 8) & 255}\\.${n & 255}:`), 0, 120_000);
  await sleep(settleMs);
  const s = await d.sample(windowS);
  const downs = d.lines.filter((l) => /Removing service/.test(l)).length;
  await d.stop();
  return { ...s, downs };
}

const backend = await startBackend();
try {
  const WINDOW_S = 10;
  console.log(`lvskeeper daemon bench (node ${process.version}, dry-run IPVS driver, ${WINDOW_S} s windows)`);

  const idle = new Daemon('idle', config(1, backend.port, ''));
  await idle.waitFor(/ipvsadm -a/, 0, 10_000);
  await sleep(2000);
  const i = await idle.sample(WINDOW_S);
  await idle.stop();
  console.log(`idle (1 VS, 1 RS, no checker):        RSS ${i.rss.toFixed(1)} MB (${i.each}), CPU ${(i.cpu * 100).toFixed(2)} %`);

  const b = await checking('busy', 1000, 1, 5000, WINDOW_S);
  console.log(`1,000 RS, HTTP_GET at delay_loop 1:   RSS ${b.rss.toFixed(1)} MB (${b.each}), CPU ${(b.cpu * 100).toFixed(1)} % (real servers that failed a check: ${b.downs})`);
  // 3,000 checks a second: every server checked, its probe state and the config kept, at a rate two shared CPUs hold.
  const l = await checking('large', 30_000, 10, 15_000, WINDOW_S);
  console.log(`30,000 RS, HTTP_GET at delay_loop 10: RSS ${l.rss.toFixed(1)} MB (${l.each}), CPU ${(l.cpu * 100).toFixed(1)} % (real servers that failed a check: ${l.downs})`);

  // delay_loop 600: the reload is measured, not 30,000 checks a second.
  const big = new Daemon('big', config(30_000, backend.port, TCP, 600));
  const t0 = performance.now();
  await big.waitFor(/ipvsadm -a .*127\.0\.117\.48/, 0, 120_000);
  const startS = (performance.now() - t0) / 1000;
  await sleep(5000);
  const times: number[] = [];
  let ops = 0;
  for (let k = 0; k < 5; k++) {
    const from = big.lines.length;
    const s = performance.now();
    big.child.kill('SIGHUP');
    await big.waitFor(/Reload done/, from, 30_000);
    times.push(performance.now() - s);
    await sleep(2000);
    ops += big.lines.slice(from).filter((l) => /ipvsadm /.test(l)).length;
  }
  const rssBig = treeRssMb(big.pid);
  const eachBig = rssBreakdown(big.pid);
  await big.stop();
  times.sort((x, y) => x - y);
  console.log(`30,000 RS (300 VS) start-up to last RS installed: ${startS.toFixed(1)} s, RSS after the reloads ${rssBig.toFixed(1)} MB (${eachBig})`);
  console.log(`30,000 RS unchanged reload, SIGHUP → "Reload done": median ${times[2]!.toFixed(0)} ms, max ${times[4]!.toFixed(0)} ms over 5; IPVS operations: ${ops}`);
} finally {
  backend.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
