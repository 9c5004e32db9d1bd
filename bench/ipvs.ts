// bench:ipvs — boots the IPVS VM (test/vm/harness.ts) and runs bench/ipvs-guest.ts inside it.
import { runInVm, vmMissing } from '../test/vm/harness.js';

const missing = vmMissing();
if (missing) {
  console.error(`bench:ipvs cannot run: ${missing}`);
  process.exit(1);
}
const services = process.env['LVSK_BENCH_SERVICES'];
const vm = await runInVm('node dist/bench/ipvs-guest.js', { timeoutMs: 900_000, ...(services ? { env: { LVSK_BENCH_SERVICES: services } } : {}) });
process.stdout.write(vm.stdout);
if (vm.exitCode !== 0) {
  console.error(vm.stderr.slice(0, 4000), vm.console.slice(-2000));
  process.exit(1);
}
