// `npm run bench:spawn`: the event-loop stall of starting one script (issue #19), child_process.spawn (libuv forks,
// copying the page tables) against spawnScript (src/exec/spawn.ts: clone(CLONE_VM | CLONE_VFORK) in the lvsk_spawn
// addon), in a process of about 50 MB and one grown to about 500 MB RSS by a retained array of small objects, as the
// checker's heap is (the checker process at 30,000 real servers is 300–550 MB). Each (size, path) runs BENCH_RUNS
// (default 3) times in a fresh process that starts /bin/true BENCH_SPAWNS (default 20) times one after another.
// Per spawn: the time the call holds the event loop (it is synchronous on both paths: libuv waits for the child's
// exec on a CLOEXEC pipe, a vfork parent until the exec) and this process's CPU time in it. Both paths wait for the
// child to run, so on a loaded machine the stall is mostly the child's wait for a CPU: the first table runs the
// worker (and its children) at SCHED_RR 1 (chrt, root), which shows the cost itself; the second as an ordinary
// process. Printed per (size, path): the median of the runs' medians, each run's median, their spread, the worst
// single spawn, and the load average (the machine is shared).
import { spawn as cpSpawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { spawnScript, type ScriptProcess } from '../src/exec/spawn.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SPAWNS = Number(process.env['BENCH_SPAWNS'] ?? 20);
const SIZES_MB = [50, 500];
const PATHS = ['child_process.spawn', 'spawnScript'] as const;
type Path = (typeof PATHS)[number];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Module-level, so it stays reachable while the spawns are timed. */
const retained: { i: number; s: string }[][] = [];

const rssMb = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

interface RunResult {
  readonly rssMb: number;
  readonly stallsMs: number[];
  /** This process's CPU time during the spawn call: the copy itself, without the waits a busy machine adds. */
  readonly cpuMs: number[];
}

const start = (path: Path): ScriptProcess => path === 'spawnScript'
  ? spawnScript('/bin/true', [], { env: process.env })
  : cpSpawn('/bin/true', [], { detached: true, stdio: 'ignore', env: process.env });

const exited = (child: ScriptProcess): Promise<void> => new Promise((resolve) => child.once('exit', () => resolve()));

/** One run, in this (fresh) process: grow to `targetMb`, then time SPAWNS starts of /bin/true on `path`. */
async function worker(targetMb: number, path: Path): Promise<RunResult> {
  while (rssMb() < targetMb) retained.push(Array.from({ length: 100_000 }, (_, i) => ({ i, s: `x${i}` })));
  const stallsMs: number[] = [];
  const cpuMs: number[] = [];
  // Untimed: the first call loads the addon.
  await exited(start(path));
  for (let i = 0; i < SPAWNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const child = start(path);
    stallsMs.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
    await exited(child);
  }
  return { rssMb: rssMb(), stallsMs, cpuMs };
}

if (process.argv[2] === '--worker') {
  const r = await worker(Number(process.argv[3]), process.argv[4] as Path);
  process.stdout.write(JSON.stringify(r));
} else {
  const self = fileURLToPath(import.meta.url);
  const rr = process.getuid?.() === 0 && spawnSync('chrt', ['-r', '1', 'true']).status === 0;
  if (!rr) process.stdout.write('SCHED_RR table skipped: needs root and chrt (util-linux)\n');
  for (const sched of rr ? ['SCHED_RR 1', 'SCHED_OTHER'] : ['SCHED_OTHER']) {
    process.stdout.write(`== worker at ${sched}\n`);
    for (const size of SIZES_MB) {
      for (const path of PATHS) {
        const runs: RunResult[] = [];
        const loads: string[] = [];
        for (let i = 0; i < RUNS; i++) {
          loads.push(loadavg()[0]!.toFixed(2));
          const argv = [process.execPath, self, '--worker', String(size), path];
          const [cmd, ...args] = sched === 'SCHED_RR 1' ? ['chrt', '-r', '1', ...argv] : argv;
          const out = spawnSync(cmd!, args, { encoding: 'utf8' });
          if (out.status !== 0) throw new Error(`worker failed: ${out.stderr}`);
          runs.push(JSON.parse(out.stdout) as RunResult);
        }
        const rss = runs.map((r) => r.rssMb.toFixed(0)).join('/');
        const figure = (what: string, per: (r: RunResult) => number[]): string => {
          const perRun = runs.map((r) => median(per(r)));
          const f = (x: number): string => x.toFixed(2);
          return `${what} median ${f(median(perRun))} ms (runs ${perRun.map(f).join(', ')}; ` +
            `spread ${f(Math.max(...perRun) - Math.min(...perRun))} ms; worst single spawn ${f(Math.max(...runs.flatMap(per)))} ms)`;
        };
        process.stdout.write(`${path} at ${rss} MB RSS (load ${loads.join(', ')}):\n` +
          `  ${figure('event-loop stall per spawn', (r) => r.stallsMs)}\n` +
          `  ${figure('CPU time of that call', (r) => r.cpuMs)}\n`);
      }
    }
  }
}
