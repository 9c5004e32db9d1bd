// Runs inside the IPVS VM (started by bench/ipvs.ts): times NetlinkIpvsDriver against ipvsadm-restore on the same
// table, 1,000 services × 10 destinations, then a 10% weight change.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { NetlinkIpvsDriver } from '../src/ipvs/driver-netlink.js';
import type { Destination, IpvsOp, Service, ServiceKey } from '../src/ipvs/types.js';

const SERVICES = Number(process.env['LVSK_BENCH_SERVICES'] ?? 1000);
const DESTS = 10;

const keys: ServiceKey[] = [];
for (let i = 0; i < SERVICES; i++) keys.push({ family: 'inet', protocol: 'tcp', address: `203.0.113.${1 + (i >> 2)}`, port: 80 + (i & 3) });
const dest = (j: number, weight: number): Destination => ({
  family: 'inet', address: `192.0.2.${10 + j}`, port: 8080, forward: 'NAT', weight, upperThreshold: 0, lowerThreshold: 0,
});
const service = (key: ServiceKey): Service => ({ key, scheduler: 'wlc', flags: {}, persistenceTimeoutS: 0, persistenceNetmaskBits: 32 });

const addOps: IpvsOp[] = keys.flatMap((key) => [
  { kind: 'addService', service: service(key) } as const,
  ...Array.from({ length: DESTS }, (_, j) => ({ kind: 'addDest', key, dest: dest(j, 1) }) as const),
]);
// 10% of the destinations: the first one of every service.
const editOps: IpvsOp[] = keys.map((key) => ({ kind: 'editDest', key, dest: dest(0, 5) }));

const svcArg = (k: ServiceKey): string => `-t ${k.address}:${k.port}`;
const restoreAdd = keys.map((k) => [`-A ${svcArg(k)} -s wlc`, ...Array.from({ length: DESTS }, (_, j) => `-a ${svcArg(k)} -r 192.0.2.${10 + j}:8080 -m -w 1`)].join('\n')).join('\n') + '\n';
const restoreEdit = keys.map((k) => `-e ${svcArg(k)} -r 192.0.2.10:8080 -m -w 5`).join('\n') + '\n';

const time = async (fn: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
const ipvsadm = (args: string[], input?: string): string => {
  try {
    return execFileSync(args[0]!, args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string };
    throw new Error(`${args.join(' ')} failed: ${(err.stderr ?? '').split('\n').slice(0, 3).join(' | ')}`);
  }
};
const count = (): string => ipvsadm(['ipvsadm', '-Ln']).split('\n').filter((l) => l.includes('->') && !l.includes('RemoteAddress')).length.toString();

const driver = NetlinkIpvsDriver.open();
await driver.apply({ kind: 'flush' });
const ours = await time(() => driver.applyMany(addOps));
const oursDests = count();
const oursEdit = await time(() => driver.applyMany(editOps));
const table = await driver.dump();
const dumpMs = await time(() => driver.dump());
const edited = table.services.filter((s) => s.dests.some((d) => d.dest.weight === 5)).length;
await driver.apply({ kind: 'flush' });
const oneByOne = await time(async () => { for (const op of addOps) await driver.apply(op); });
await driver.apply({ kind: 'flush' });

const theirs = await time(() => ipvsadm(['ipvsadm-restore'], restoreAdd));
const theirsDests = count();
// ipvsadm-restore clears the table first (ipvsadm -C), so the edit goes to `ipvsadm -R`, which it wraps.
const theirsEdit = await time(() => ipvsadm(['ipvsadm', '-R'], restoreEdit));
ipvsadm(['ipvsadm', '-C']);
await driver.close();

const ms = (x: number): string => x.toFixed(1).padStart(9);
console.log(`table: ${SERVICES} services x ${DESTS} destinations (${addOps.length} requests); kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}, qemu TCG`);
console.log(`driver applyMany, empty -> full   ${ms(ours)} ms   (${oursDests} dests in kernel)`);
console.log(`driver apply one by one            ${ms(oneByOne)} ms`);
console.log(`ipvsadm-restore, empty -> full     ${ms(theirs)} ms   (${theirsDests} dests in kernel)`);
console.log(`ratio driver / ipvsadm-restore         ${(ours / theirs).toFixed(2)}x`);
console.log(`driver 10% weight change           ${ms(oursEdit)} ms   (${edited} services edited)`);
console.log(`ipvsadm -R 10% weight change       ${ms(theirsEdit)} ms`);
console.log(`ratio driver / ipvsadm -R              ${(oursEdit / theirsEdit).toFixed(2)}x`);
console.log(`driver dump() of the full table    ${ms(dumpMs)} ms   (${table.services.length} services)`);
