// `npm run bench:dump`: what an operator reads off a daemon with 30,000 TCP_CHECK real servers (delay_loop 600, so
// the checks stay out of the way): the SIGUSR1 data dump (signal to its "Wrote data dump" line), over the control
// socket `json-dump`, `status --json` and `ipvs list` (the embedded table), and a live page of the operator console
// (`--http`, refreshed every 2 s) held open. For each: its time, its size, and the supervisor's longest stall while it
// ran (bench/loop-probe.ts: the loop that also runs the data plane and the control socket; the target is the reload's
// 20 ms). No peer is measured: keepalived writes its dumps from the process that owns the state, and exposes no loop
// to probe.
import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { LoopProbeRecord } from './loop-probe.js';
import { startBackend } from './backend.js';
import { cleanUp, config, Daemon, installed, sleep, TCP } from './lvsk-daemon.js';
import { describeFloor, StallProbe } from './stall-probe.js';

const RS = 30_000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const GAP_MS = 2000;
const CONSOLE_PORT = 19793;
const CONSOLE_S = 10;
/** The console's read lasts the window it is held open: its time is not a figure. */
const CONSOLE = `operator console, a live page for ${CONSOLE_S} s`;
const cli = join(new URL('../../', import.meta.url).pathname, 'dist/bin/lvskeeper.js');

const probeOut = join(tmpdir(), `lvskd-dump-loop-${process.pid}.json`);
// The daemon writes its dumps to $TMPDIR (lib/utils.c set_tmp_dir): the bench's own directory.
const dumpDir = mkdtempSync(join(tmpdir(), 'lvskd-dump-'));
process.env['TMPDIR'] = dumpDir;
const backend = await startBackend();
try {
  console.log(`lvskeeper dump and status bench (node ${process.version}, ${RS.toLocaleString('en')} TCP_CHECK real servers at delay_loop 600, ` +
    `dry-run IPVS driver, ${ROUNDS} rounds)`);
  const d = new Daemon('dump', config(RS, backend.port, TCP, 600), ['--http', `127.0.0.1:${CONSOLE_PORT}`], { loopProbe: probeOut });
  await d.waitFor(installed(RS), 0, 120_000);
  await sleep(6000);
  const socket = d.socket;
  const control = (args: readonly string[]) => async (): Promise<number> =>
    (await promisify(execFile)(process.execPath, [cli, ...args, '--socket', socket], { maxBuffer: 1 << 30 })).stdout.length;
  const reads: Record<string, () => Promise<number>> = {
    'SIGUSR1 data dump': async () => {
      const from = d.lines.length;
      process.kill(d.pid, 'SIGUSR1');
      await d.waitFor(/Wrote data dump to /, from, 30_000);
      return statSync(join(dumpDir, 'lvskeeper.data')).size;
    },
    'json-dump': async () => {
      await control(['json-dump'])();
      return statSync(join(dumpDir, 'lvskeeper.json')).size;
    },
    'status --json': control(['status', '--json']),
    'ipvs list': control(['ipvs', 'list']),
    [CONSOLE]: () => new Promise((resolve, reject) => {
      let bytes = 0;
      const req = get(`http://127.0.0.1:${CONSOLE_PORT}/events`, (res) => res.on('data', (c: Buffer) => (bytes += c.length)));
      req.on('error', reject);
      setTimeout(() => {
        req.destroy();
        resolve(bytes);
      }, CONSOLE_S * 1000);
    }),
  };
  const floor = await StallProbe.start();
  const runs: { name: string; ms: number; bytes: number; window: [number, number] }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, read] of Object.entries(reads)) {
      const t0 = performance.now();
      const bytes = await read();
      const t1 = performance.now();
      runs.push({ name, ms: t1 - t0, bytes, window: [performance.timeOrigin + t0, performance.timeOrigin + t1] });
      await sleep(GAP_MS);
    }
  }
  const machine = await floor.stop();
  await d.stop();
  const { late } = JSON.parse(readFileSync(probeOut, 'utf8')) as LoopProbeRecord;
  const stall = (w: [number, number]): number => Math.max(0, ...late.filter(([t]) => t >= w[0] && t <= w[1] + 2).map(([, ms]) => ms));
  for (const name of Object.keys(reads)) {
    const mine = runs.filter((x) => x.name === name);
    const ms = mine.map((x) => x.ms).sort((a, b) => a - b);
    const time = name === CONSOLE ? '' : `median ${ms[(ms.length - 1) >> 1]!.toFixed(0)} ms (${ms[0]!.toFixed(0)}–${ms.at(-1)!.toFixed(0)}); `;
    console.log(`${name} at ${RS.toLocaleString('en')} real servers (${(mine[0]!.bytes / 1e6).toFixed(1)} MB): ${time}` +
      `supervisor stall max per round ${mine.map((x) => stall(x.window).toFixed(1)).join(', ')} ms (target 20 ms)`);
  }
  console.log(`the machine meanwhile: ${describeFloor(machine)}`);
} finally {
  backend.child.kill('SIGTERM');
  rmSync(probeOut, { force: true });
  rmSync(dumpDir, { recursive: true, force: true });
  cleanUp();
}
