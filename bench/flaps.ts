// `npm run bench:flaps` (issue #19): what real servers going down and up cost the checker process when the table is
// large. 30,000 real servers (300 virtual servers × 100, TCP_CHECK, dry-run IPVS driver); one real server of every
// virtual server (300, 1%) is checked every second on a port whose listener this bench opens and closes every
// FLAP_S seconds, so each half-period takes 300 real servers out of the table or puts them back. The other 29,700
// are checked every 600 s against a live backend, so after start-up their checks cost next to nothing.
// Reported per window: the checker process's CPU (from /proc), the transitions logged and the IPVS operations applied
// (the dry-run driver logs each), so the cost per transition can be compared before and after a change.
import { createServer, type Server } from 'node:net';
import { loadavg } from 'node:os';
import { startBackend } from './backend.js';
import { cleanUp, Daemon, installed, sleep } from './lvsk-daemon.js';
import { cpuS, title, tree } from './proc.js';

const RUNS = Math.max(1, Number(process.env['BENCH_RUNS']) || 3);
const WINDOW_S = Number(process.env['BENCH_SECONDS']) || 20;
const FLAP_S = 4;
const VS = 300;
const PER_VS = 100;
const FLAPPING_PER_VS = 1;

function config(stablePort: number, flapPort: number): string {
  const out = ['global_defs {', '  router_id bench', '}'];
  for (let s = 0; s < VS; s++) {
    out.push(`virtual_server 198.51.100.${1 + (s % 250)} ${10000 + Math.floor(s / 250)} {`, '  delay_loop 600', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let i = s * PER_VS; i < (s + 1) * PER_VS; i++) {
      const n = i + 1;
      const flapping = i - s * PER_VS < FLAPPING_PER_VS;
      out.push(`  real_server 127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255} ${flapping ? flapPort : stablePort} {`, '    weight 1',
        '    TCP_CHECK {', '      connect_timeout 1', ...(flapping ? ['      delay_loop 1', '      retry 0'] : []), '    }', '  }');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** A listener on every loopback address that this bench opens and closes: the flapping servers' health. */
class Flapper {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    await this.open();
    const toggle = async (): Promise<void> => {
      if (this.server) await this.close();
      else await this.open();
      this.timer = setTimeout(() => void toggle(), FLAP_S * 1000);
    };
    this.timer = setTimeout(() => void toggle(), FLAP_S * 1000);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.close();
  }

  private open(): Promise<void> {
    const s = createServer((c) => c.destroy());
    this.server = s;
    return new Promise((r) => s.listen(this.port, '0.0.0.0', r));
  }

  private close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    return new Promise((r) => (s ? s.close(() => r()) : r()));
  }
}

/** A free TCP port: bound once, released, then given to the flapper. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const backend = await startBackend();
const flapper = new Flapper(await freePort());
const daemon = new Daemon('flaps', config(backend.port, flapper.port));

try {
  console.log(`lvskeeper flaps bench (node ${process.version}, ${VS * PER_VS} real servers, ${VS * FLAPPING_PER_VS} flapping every ${FLAP_S} s, ${RUNS} windows of ${WINDOW_S} s)`);
  await daemon.waitFor(installed(VS * PER_VS), 0, 180_000);
  await flapper.start();
  await sleep(2 * FLAP_S * 1000);
  const checker = tree(daemon.pid).find((p) => p !== daemon.pid && /checker/.test(title(p)));
  if (checker === undefined) throw new Error('no checker process found');
  const perTransition: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const from = daemon.lines.length;
    const c0 = cpuS(checker);
    const load = loadavg()[0]!;
    await sleep(WINDOW_S * 1000);
    const cpu = cpuS(checker) - c0;
    const window = daemon.lines.slice(from);
    const transitions = window.filter((l) => /(Removing|Adding) service /.test(l)).length;
    const ops = window.filter((l) => /ipvsadm -[ad] /.test(l)).length;
    const ms = (cpu * 1000) / Math.max(1, transitions);
    perTransition.push(ms);
    console.log(`window ${run}: checker CPU ${cpu.toFixed(2)} s in ${WINDOW_S} s (${((cpu / WINDOW_S) * 100).toFixed(1)} %), ` +
      `${transitions} transitions, ${ops} IPVS operations, ${ms.toFixed(2)} ms CPU per transition (load ${load.toFixed(2)})`);
  }
  perTransition.sort((a, b) => a - b);
  console.log(`median ${perTransition[Math.floor(perTransition.length / 2)]!.toFixed(2)} ms checker CPU per transition ` +
    `(range ${perTransition[0]!.toFixed(2)}–${perTransition.at(-1)!.toFixed(2)}, ${RUNS} windows)`);
} finally {
  await daemon.stop();
  await flapper.stop();
  backend.child.kill('SIGTERM');
  cleanUp();
}
