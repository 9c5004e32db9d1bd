// `npm run bench:process-events`: what a fork storm costs the process that counts vrrp_track_process (the supervisor,
// src/daemon/process-monitor.ts). A shell runs BENCH_PROCS (default 20,000) short processes (/bin/true) one after
// another — a fork, an exec and an exit each, every one a process event — while this process listens on the
// connector with one tracked process as the daemon would. Printed: the storm's rate, this process's CPU time per
// short process (one /proc read for each exec), and its longest event-loop stall: the work is per event and small,
// and none of it is on the VRRP child's loop, which only gets a note when a quorum changes.
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { systemClock } from '../src/clock.js';
import { ProcessMonitor } from '../src/daemon/process-monitor.js';
import { silentLogger } from '../src/log.js';

const PROCS = Number(process.env['BENCH_PROCS'] ?? 20_000);

const monitor = new ProcessMonitor([{
  src: { file: 'bench', line: 1 }, name: 'bench', process: 'np-bench', paramMatch: 'none', fullCommand: false, weight: 0,
  reverse: false, quorum: 1, quorumMax: 2 ** 32 - 1, terminateDelayMs: 0, forkDelayMs: 0,
}], systemClock, silentLogger(), () => undefined);
await monitor.start();

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise<void>((resolve) => {
  spawn('sh', ['-c', `i=0; while [ $i -lt ${PROCS} ]; do /bin/true; i=$((i+1)); done`], { stdio: 'ignore' }).on('exit', () => resolve());
});
const wall = performance.now() - t0;
// Let the socket's backlog drain.
await new Promise((r) => setTimeout(r, 500));
const cpu = process.cpuUsage(cpu0);
delay.disable();
monitor.stop();

const usPerProc = (cpu.user + cpu.system) / PROCS;
process.stdout.write(
  `${PROCS} short processes in ${(wall / 1000).toFixed(1)} s (${Math.round(PROCS / (wall / 1000))}/s)\n` +
  `process monitor CPU: ${usPerProc.toFixed(1)} µs per process (fork + exec + exit events), ` +
  `${(((cpu.user + cpu.system) / 1000) / wall * 100).toFixed(1)}% of one core during the storm\n` +
  `longest event-loop stall: ${(delay.max / 1e6).toFixed(1)} ms (p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms)\n`,
);
