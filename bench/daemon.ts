// `npm run bench:daemon`: the daemon as a user runs it (the built CLI: a supervisor and its child processes),
// measured from outside through /proc, summed over the processes (each one's share follows): RSS and CPU when idle,
// while checking 1,000 real servers at delay_loop 1 and 30,000 at delay_loop 10 (HTTP_GET to loopback backends in a
// separate process, bench/checkers-backend.ts) with each process's live heap after a full collection
// (bench/heap-probe.ts), and the time from SIGHUP to `Reload done` for an unchanged 30,000-real-server config with
// the number of IPVS operations that reload made (the dry-run driver logs each one).
import { performance } from 'node:perf_hooks';
import { SETTLE_MS } from '../src/daemon/free-memory.js';
import { startBackend } from './backend.js';
import { cleanUp, config, Daemon, HTTP, installed, sleep, TCP } from './lvsk-daemon.js';
import { rssBreakdown, treeRssMb } from './proc.js';

/**
 * A daemon checking `rsCount` servers with HTTP_GET, sampled over a window from `settleMs` after its last server is
 * installed; `downs`: the servers that failed a check meanwhile.
 */
async function checking(name: string, rsCount: number, delayLoopS: number, settleMs: number, windowS: number): Promise<{ rss: number; cpu: number; each: string; memory: string; downs: number; live: string }> {
  const d = new Daemon(name, config(rsCount, backend.port, HTTP, delayLoopS), [], { heapProbe: true });
  await d.waitFor(installed(rsCount), 0, 120_000);
  await sleep(settleMs);
  const s = await d.sample(windowS);
  const downs = d.lines.filter((l) => /Removing service/.test(l)).length;
  // After the sample: the collections it forces would move RSS.
  const live = await d.liveHeap();
  await d.stop();
  return { ...s, downs, live };
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
  console.log(`                                     ${b.memory}`);
  console.log(`                                     live heap after a full collection: ${b.live}`);
  // 3,000 checks a second: every server checked, its probe state and the config kept, at a rate two shared CPUs hold.
  // Sampled 40 s on: past the first round of checks, and past the supervisor's giving back, once quiet, the young
  // generation its start-up grew (src/daemon/young-generation.ts); a daemon stays so until its next reload.
  const l = await checking('large', 30_000, 10, 40_000, WINDOW_S);
  console.log(`30,000 RS, HTTP_GET at delay_loop 10: RSS ${l.rss.toFixed(1)} MB (${l.each}), CPU ${(l.cpu * 100).toFixed(1)} % (real servers that failed a check: ${l.downs})`);
  console.log(`                                     ${l.memory}`);
  console.log(`                                     live heap after a full collection: ${l.live}`);

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
  const rssJust = treeRssMb(big.pid);
  // Past the settle that follows a reload, where the daemon stays until the next one.
  await sleep(SETTLE_MS + 1000);
  const rssBig = treeRssMb(big.pid);
  const eachBig = rssBreakdown(big.pid);
  await big.stop();
  times.sort((x, y) => x - y);
  console.log(`30,000 RS (300 VS) start-up to last RS installed: ${startS.toFixed(1)} s, RSS 2 s after the last reload ${rssJust.toFixed(1)} MB, ${3 + SETTLE_MS / 1000} s after ${rssBig.toFixed(1)} MB (${eachBig})`);
  console.log(`30,000 RS unchanged reload, SIGHUP → "Reload done": median ${times[2]!.toFixed(0)} ms, max ${times[4]!.toFixed(0)} ms over 5; IPVS operations: ${ops}`);
} finally {
  backend.child.kill('SIGTERM');
  cleanUp();
}
