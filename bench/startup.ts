// bench:startup — boots the IPVS VM (test/vm/harness.ts) and runs bench/startup-guest.ts inside it: keepalived's and
// lvskeeper's start-up to the last of 30,000 real servers in the kernel's table, in the same boot.
import { loadavg } from 'node:os';
import { runInVm, vmMissing } from '../test/vm/harness.js';

const missing = vmMissing();
if (missing) {
  console.error(`bench:startup cannot run: ${missing}`);
  process.exit(1);
}
const env: Record<string, string> = {};
for (const k of ['LVSK_BENCH_RS', 'LVSK_BENCH_ROUNDS']) if (process.env[k]) env[k] = process.env[k];
const vm = await runInVm('node dist/bench/startup-guest.js', { timeoutMs: 3_000_000, memoryMb: 3072, env });
process.stdout.write(vm.stdout);
console.log(`host load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (qemu TCG: a busy host slows both daemons)`);
if (vm.exitCode !== 0) {
  console.error(vm.stderr.slice(0, 4000), vm.console.slice(-2000));
  process.exit(1);
}
