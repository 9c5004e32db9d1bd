// `npm run bench:heap` (issue #19): where the bytes go at 30,000 HTTP_GET real servers. The daemon of bench:daemon's
// large case runs until settled; then each process collects its garbage and writes a heap snapshot
// (bench/heap-probe.ts), and this prints, per process, its RSS, its V8 heap's live size and the structures that hold
// it (bench/heap-structures.ts), with bytes per real server: BENCH_HEAP_ROWS rows each (16 unless given). A change to
// the model shows here row by row.
import { readFileSync } from 'node:fs';
import { startBackend } from './backend.js';
import { heapStructures } from './heap-structures.js';
import { cleanUp, config, Daemon, HTTP, installed, sleep } from './lvsk-daemon.js';
import { rssBreakdown } from './proc.js';

const REAL_SERVERS = 30_000;
const ROWS = Number(process.env['BENCH_HEAP_ROWS'] ?? 16);
const mb = (n: number): string => (n / 2 ** 20).toFixed(2);

const backend = await startBackend();
try {
  const d = new Daemon('heap', config(REAL_SERVERS, backend.port, HTTP, 10), [], { heapProbe: true, heapSnapshots: true });
  await d.waitFor(installed(REAL_SERVERS), 0, 120_000);
  await sleep(15_000);
  console.log(`lvskeeper heap bench (node ${process.version}, ${REAL_SERVERS.toLocaleString('en')} HTTP_GET real servers at delay_loop 10, dry-run IPVS driver)`);
  console.log(`RSS: ${rssBreakdown(d.pid)}`);
  console.log(`live heap after a full collection: ${await d.liveHeap()}`);
  for (const { process: name, file } of d.heapSnapshotFiles()) {
    const { total, rows } = heapStructures(readFileSync(file, 'utf8'));
    console.log(`\n${name}: ${mb(total)} MB in the snapshot; its ${ROWS} largest structures (MB, count, bytes per real server):`);
    for (const r of rows.slice(0, ROWS)) {
      console.log(`${mb(r.bytes).padStart(8)} ${String(r.count).padStart(8)} ${(r.bytes / REAL_SERVERS).toFixed(1).padStart(7)}  ${r.what}`);
    }
  }
  await d.stop();
} finally {
  backend.child.kill('SIGTERM');
  cleanUp();
}
