// `npm run bench:dump`: SIGUSR1 data dumps of a daemon with 30,000 TCP_CHECK real servers (delay_loop 600, so the
// checks stay out of the way): each dump's time from the signal to its "Wrote data dump" line, the file's size, and
// the supervisor's longest stall while it was written (bench/loop-probe.ts: the loop that also runs the data plane
// and the control socket; the target is the reload's 20 ms). No peer is measured: keepalived writes its dump from
// the process that owns the state, and exposes no loop to probe.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoopProbeRecord } from './loop-probe.js';
import { startBackend } from './backend.js';
import { cleanUp, config, Daemon, installed, sleep, TCP } from './lvsk-daemon.js';
import { describeFloor, StallProbe } from './stall-probe.js';

const RS = 30_000;
const DUMPS = Number(process.env['BENCH_DUMPS'] ?? 5);
const GAP_MS = 3000;

const probeOut = join(tmpdir(), `lvskd-dump-loop-${process.pid}.json`);
// The daemon writes its dumps to $TMPDIR (lib/utils.c set_tmp_dir): the bench's own directory.
const dumpDir = mkdtempSync(join(tmpdir(), 'lvskd-dump-'));
process.env['TMPDIR'] = dumpDir;
const backend = await startBackend();
try {
  console.log(`lvskeeper SIGUSR1 dump bench (node ${process.version}, ${RS.toLocaleString('en')} TCP_CHECK real servers at delay_loop 600, dry-run IPVS driver)`);
  const d = new Daemon('dump', config(RS, backend.port, TCP, 600), [], { loopProbe: probeOut });
  await d.waitFor(installed(RS), 0, 120_000);
  await sleep(6000);
  const floor = new StallProbe();
  const dumps: { ms: number; window: [number, number] }[] = [];
  for (let k = 0; k < DUMPS; k++) {
    const from = d.lines.length;
    const t0 = performance.now();
    process.kill(d.pid, 'SIGUSR1');
    await d.waitFor(/Wrote data dump to /, from, 30_000);
    const t1 = performance.now();
    dumps.push({ ms: t1 - t0, window: [performance.timeOrigin + t0, performance.timeOrigin + t1] });
    await sleep(GAP_MS);
  }
  const machine = await floor.stop();
  const bytes = statSync(join(dumpDir, 'lvskeeper.data')).size;
  await d.stop();
  const { late } = JSON.parse(readFileSync(probeOut, 'utf8')) as LoopProbeRecord;
  const stalls = dumps.map((s) => Math.max(0, ...late.filter(([t]) => t >= s.window[0] && t <= s.window[1] + 2).map(([, ms]) => ms)));
  const ms = dumps.map((s) => s.ms);
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(`each dump, signal to "Wrote data dump": ${ms.map((x) => x.toFixed(0)).join(', ')} ms; the file ${(bytes / 1e6).toFixed(1)} MB`);
  console.log(`data dump of ${RS.toLocaleString('en')} real servers: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms; ` +
    `supervisor stall max per dump ${stalls.map((x) => x.toFixed(1)).join(', ')} ms (target 20 ms)`);
  console.log(`the machine meanwhile: ${describeFloor(machine)}`);
} finally {
  backend.child.kill('SIGTERM');
  rmSync(probeOut, { force: true });
  rmSync(dumpDir, { recursive: true, force: true });
  cleanUp();
}
