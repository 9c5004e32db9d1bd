// bench:bfd's load part: one lvskeeper daemon in the lk namespace holds a 3 × 50 ms session with FRR's bfdd in the
// peer namespace (test/bfd/bfd-netns.ts) while its checker process runs TCP_CHECK on 5,200 real servers at delay_loop
// 1 (~5,000 checks a second, as bench/checkers.ts sizes it) against a backend in the same namespace, and SIGHUP
// reloads that config every 10 s. Counted over the window: the session's Down events (nobody provokes one: bfdd runs
// throughout) by diagnostic — lvskeeper's detection expired (bfdd's packets late) or bfdd's (lvskeeper's late) — and
// how many fell inside a reload; bfdd's view at the end, the checks the backend answered, the reloads done.
// bfdd shares this machine's CPUs with the load: BENCH_BFDD_RT=1 runs it at SCHED_RR 1, as lvskeeper's BFD process
// runs by default (src/daemon/scheduling.ts), so that a starved peer is not counted against lvskeeper.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { BfdLink } from '../test/bfd/bfd-netns.js';
import { waitFor } from '../test/vrrp/netns-support.js';
import { frr, lastDetect, lastUp, session } from './bfd-detect.js';
import { config, TCP } from './lvsk-daemon.js';

const REAL_SERVERS = 5200;
const RELOAD_S = 10;
const DOWN = /\(b1\) Entering Down state \(Local diagnostic - ([^,]+),/;

export async function underLoad(seconds: number): Promise<void> {
  const link = new BfdLink('hAload');
  // The backend answers each check, and on a line on stdin says how many it has accepted (bench/checkers-backend.ts).
  const backend = spawn('ip', ['netns', 'exec', link.ns.lk, process.execPath, join(new URL('.', import.meta.url).pathname, 'checkers-backend.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: backend.stdout! })[Symbol.asyncIterator]();
  const served = async (): Promise<number> => {
    backend.stdin!.write('\n');
    return Number(/(\d+)/.exec(String((await lines.next()).value))![1]);
  };
  try {
    const port = Number(/port (\d+)/.exec(String((await lines.next()).value))![1]);
    const bfdd = link.startFrr(frr(50));
    const rt = process.env['BENCH_BFDD_RT'] === '1';
    // `ip netns exec` execs bfdd: the spawned pid is bfdd's; -a for each of its threads.
    if (rt) spawnSync('chrt', ['-a', '-r', '-p', '1', String(bfdd.child.pid)], { stdio: 'inherit' });
    await waitFor(() => link.frrPeer() !== undefined, 10_000);
    const lk = link.startLvskeeper(session(50) + config(REAL_SERVERS, port, TCP), 'lk', 'lk', ['--ipvs-driver', 'dry-run']);
    const ready = (): boolean => link.frrPeer()?.status === 'up' && lastUp(lk.log) && lastDetect(lk.log) === 150_000;
    if (!(await waitFor(ready, 60_000))) throw new Error(`no session\n${lk.log.slice(-3000)}`);
    // The checks' start-up spread settles first.
    await waitFor(() => false, 10_000);
    // Lines timestamped as they arrive (the log's own stamps are whole seconds): Downs, reload starts and ends.
    const events: { at: number; line: string }[] = [];
    createInterface({ input: lk.child.stdout! }).on('line', (line) => {
      if (DOWN.test(line) || /Reloading$|Reload done in/.test(line)) events.push({ at: performance.now(), line });
    });
    const served0 = await served();
    const t0 = performance.now();
    let reloads = 0;
    while (performance.now() - t0 < seconds * 1000) {
      await waitFor(() => false, Math.min(RELOAD_S * 1000, seconds * 1000 - (performance.now() - t0)));
      if (performance.now() - t0 >= seconds * 1000) break;
      lk.signal('SIGHUP');
      reloads++;
    }
    const elapsed = (performance.now() - t0) / 1000;
    const checks = (await served()) - served0;
    const done = events.flatMap((e) => /Reload done in (\d+) ms/.exec(e.line)?.[1] ?? []).map(Number);
    const diag = new Map<string, number>();
    let inReload = 0;
    let reloading = false;
    for (const e of events) {
      if (/Reloading$/.test(e.line)) reloading = true;
      else if (/Reload done in/.test(e.line)) reloading = false;
      else {
        const d = DOWN.exec(e.line)![1]!;
        diag.set(d, (diag.get(d) ?? 0) + 1);
        if (reloading) inReload++;
      }
    }
    const downs = [...diag.values()].reduce((a, b) => a + b, 0);
    const peer = link.frrPeer();
    process.stdout.write(`load 3 x 50 ms session to bfdd${rt ? ' (bfdd SCHED_RR 1)' : ''}, ${REAL_SERVERS} TCP_CHECK real servers: ${(checks / elapsed).toFixed(0)} checks/s, ` +
      `${reloads} reloads asked (every ${RELOAD_S} s), ${done.length} done (longest ${Math.max(0, ...done)} ms) over ${elapsed.toFixed(0)} s: ` +
      `unprovoked Down ${downs}${downs > 0 ? ` (${[...diag].map(([d, k]) => `${k} ${d}`).join(', ')}; ${inReload} during a reload)` : ''}; bfdd sees the peer ${peer?.status ?? 'missing'}\n`);
  } finally {
    backend.kill('SIGKILL');
    await link.destroy();
  }
}
