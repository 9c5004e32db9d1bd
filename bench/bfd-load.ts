// bench:bfd's load part: one lvskeeper daemon in the lk namespace holds a 3 × 50 ms session with FRR's bfdd in the
// peer namespace (test/bfd/bfd-netns.ts) while its checker process runs TCP_CHECK on 5,200 real servers at delay_loop
// 1 (~5,000 checks a second, as bench/checkers.ts sizes it) against a backend in the same namespace, and SIGHUP
// reloads that config every 10 s. Counted over the window: the session's Down events (nobody provokes one: bfdd runs
// throughout), bfdd's view at the end, the checks the backend answered, the reloads done and the longest.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BfdLink } from '../test/bfd/bfd-netns.js';
import { waitFor } from '../test/vrrp/netns-support.js';
import { frr, lastDetect, lastUp, session } from './bfd-detect.js';
import { config, TCP } from './lvsk-daemon.js';

const REAL_SERVERS = 5200;
const RELOAD_S = 10;
const DOWN = /\(b1\) Entering Down state.*/g;

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
    link.startFrr(frr(50));
    await waitFor(() => link.frrPeer() !== undefined, 10_000);
    const lk = link.startLvskeeper(session(50) + config(REAL_SERVERS, port, TCP), 'lk', 'lk', ['--ipvs-driver', 'dry-run']);
    const ready = (): boolean => link.frrPeer()?.status === 'up' && lastUp(lk.log) && lastDetect(lk.log) === 150_000;
    if (!(await waitFor(ready, 60_000))) throw new Error(`no session\n${lk.log.slice(-3000)}`);
    // The checks' start-up spread settles first.
    await waitFor(() => false, 10_000);
    const from = lk.log.length;
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
    const window = lk.log.slice(from);
    const downs = window.match(DOWN) ?? [];
    const done = [...window.matchAll(/Reload done in (\d+) ms/g)].map((m) => Number(m[1]));
    const peer = link.frrPeer();
    process.stdout.write(`load 3 x 50 ms session to bfdd, ${REAL_SERVERS} TCP_CHECK real servers: ${(checks / elapsed).toFixed(0)} checks/s, ` +
      `${reloads} reloads asked (every ${RELOAD_S} s), ${done.length} done (longest ${Math.max(0, ...done)} ms) over ${elapsed.toFixed(0)} s: unprovoked Down ${downs.length}` +
      `${downs.length > 0 ? ` (${[...new Set(downs)].join(' | ')})` : ''}; bfdd sees the peer ${peer?.status ?? 'missing'}\n`);
  } finally {
    backend.kill('SIGKILL');
    await link.destroy();
  }
}
