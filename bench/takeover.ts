// Director takeover under lvs_sync_daemon, in the IPVS VM (test/vm/takeover-guest.ts): N long-lived connections per
// service (plain and persistent) through the MASTER, the MASTER killed with SIGKILL, connections that keep working
// through the new MASTER counted; the keepalived pair and the lvskeeper pair in the same boot. Target: every
// connection survives, as with keepalived. Timing on a loaded machine says nothing; the survival count does.
// Run: npm run bench:takeover [-- N]   (default 50 per service)
import { runInVm, sections, vmMissing } from '../test/vm/harness.js';
import { survivors, takeoverScript, type TakeoverScenario } from '../test/vm/takeover-guest.js';

const n = Number(process.argv[2] ?? 50);
const missing = vmMissing();
if (missing) {
  process.stderr.write(`bench:takeover: ${missing}\n`);
  process.exit(2);
}
const pairs: readonly TakeoverScenario[] = [
  { name: 'keepalived', d1: 'keepalived', d2: 'keepalived' },
  { name: 'lvskeeper', d1: 'lvskeeper', d2: 'lvskeeper' },
];
const vm = await runInVm(takeoverScript(pairs, n), { timeoutMs: 2_400_000 });
if (vm.exitCode !== 0) {
  process.stderr.write(`guest failed (${vm.exitCode}):\n${vm.stdout}\n${vm.stderr.slice(-5000)}\n`);
  process.exit(1);
}
const s = sections(vm.stdout);
for (const { name } of pairs) {
  const r = survivors(s.get(`${name}/mid`), s.get(`${name}/post`));
  const pct = r.total === 0 ? 0 : (100 * r.survived) / r.total;
  process.stdout.write(`${name.padEnd(10)} pair: ${r.survived}/${r.total} connections survived the takeover (${pct.toFixed(1)}%)\n`);
}
