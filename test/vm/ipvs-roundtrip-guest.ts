// Runs inside the IPVS VM (see ipvs-kernel.test.ts): applies a sequence of steps with NetlinkIpvsDriver and, after
// each, prints one JSON line with what was applied (the expected table), `ipvsadm` output and our own dump().
import { execFileSync } from 'node:child_process';
import { NetlinkIpvsDriver, NetlinkError } from '../../src/ipvs/driver-netlink.js';
import type { Destination, IpvsOp, Scheduler, Service, ServiceKey } from '../../src/ipvs/types.js';
import * as U from '../../src/ipvs/uapi.js';
import { fullNetmask } from '../../src/ipvs/types.js';

const keyId = (k: ServiceKey): string => (k.fwmark !== undefined ? `${k.family}/fwm/${k.fwmark}` : `${k.family}/${k.protocol}/${k.address}/${k.port}`);
const destId = (d: Pick<Destination, 'address' | 'port'>): string => `${d.address}/${d.port}`;

/** The table as it should be after the ops that succeeded: the reference the host compares against. */
const expected = new Map<string, { service: Service; dests: Map<string, Destination> }>();
function mirror(op: IpvsOp): void {
  switch (op.kind) {
    case 'addService': expected.set(keyId(op.service.key), { service: op.service, dests: new Map() }); break;
    case 'editService': expected.get(keyId(op.service.key))!.service = op.service; break;
    case 'delService': expected.delete(keyId(op.key)); break;
    case 'addDest': case 'editDest': expected.get(keyId(op.key))!.dests.set(destId(op.dest), op.dest); break;
    case 'delDest': expected.get(keyId(op.key))!.dests.delete(destId(op.dest)); break;
    case 'flush': expected.clear(); break;
    case 'setTimeouts': break;
  }
}

const ipvsadm = (...args: string[]): string => execFileSync('ipvsadm', args, { encoding: 'utf8' });
const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

const driver = NetlinkIpvsDriver.open();

/** `many`: the ops go through applyMany (batched), every op's error message (or null) printed in its place. */
async function step(name: string, ops: IpvsOp[], many = false): Promise<void> {
  let error: { op: string; code: string; errno: number; message: string } | undefined;
  let errors: (string | null)[] | undefined;
  if (many) {
    const got = await driver.applyMany(ops);
    got.forEach((e, i) => { if (!e) mirror(ops[i]!); });
    errors = got.map((e) => e?.message ?? null);
  }
  for (const op of many ? [] : ops) {
    try {
      await driver.apply(op);
      mirror(op);
    } catch (e) {
      if (!(e instanceof NetlinkError)) throw e;
      error = { op: e.op, code: e.code, errno: e.errno, message: e.message };
      break;
    }
  }
  const table = [...expected.values()].map((e) => ({ service: e.service, dests: [...e.dests.values()] }));
  process.stdout.write(json({
    name,
    expected: table,
    error,
    errors,
    list: ipvsadm('-Ln'),
    thresholds: ipvsadm('-Ln', '--thresholds'),
    persistent: ipvsadm('-Ln', '--persistent-conn'),
    timeoutText: ipvsadm('-Ln', '--timeout'),
    dump: await driver.dump(),
    // Every service set, and one the table never holds: a pass's read of the services it touches.
    of: await driver.entriesOf([...table.map((e) => e.service.key), v4('192.0.2.99', 1)]),
    timeouts: await driver.getTimeouts(),
  }) + '\n');
}

const v4 = (address: string, port: number, protocol: 'tcp' | 'udp' = 'tcp'): ServiceKey => ({ family: 'inet', protocol, address, port });
const svc = (key: ServiceKey, scheduler: Scheduler, extra: Partial<Service> = {}): Service => ({
  key, scheduler, flags: {}, persistenceTimeoutS: 0, persistenceNetmask: fullNetmask(key.family), ...extra,
});
const dst = (address: string, port: number, extra: Partial<Destination> = {}): Destination => ({
  family: address.includes(':') ? 'inet6' : 'inet', address, port, forward: 'NAT', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...extra,
});

const SCHEDULERS: Scheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'];

await step('flush-initial', [{ kind: 'flush' }]);
for (const [i, s] of SCHEDULERS.entries()) {
  const key = v4('192.0.2.10', 8000 + i);
  await step(`scheduler-${s}`, [{ kind: 'addService', service: svc(key, s) }, { kind: 'addDest', key, dest: dst('192.0.2.5', 80) }]);
}
await step('flush-schedulers', [{ kind: 'flush' }]);

const fwdKey = v4('192.0.2.20', 80);
await step('forwarding', [
  { kind: 'addService', service: svc(fwdKey, 'wrr') },
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.31', 8080, { forward: 'NAT', weight: 2 }) },
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.32', 80, { forward: 'DR', weight: 3 }) },
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.33', 80, { forward: 'TUN', tunnelType: 'ipip' }) },
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.34', 80, { forward: 'TUN', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: { csum: true } }) },
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.35', 80, { forward: 'TUN', tunnelType: 'gre', tunnelFlags: { csum: true } }) },
]);

const fwm: ServiceKey = { family: 'inet', fwmark: 7 };
await step('fwmark-persistent', [
  { kind: 'addService', service: svc(fwm, 'wlc', { persistenceTimeoutS: 600, persistenceNetmask: 0xffffff00 }) },
  { kind: 'addDest', key: fwm, dest: dst('192.0.2.41', 0, { forward: 'DR', weight: 10 }) },
]);

const shKey = v4('192.0.2.40', 443);
await step('sh-flags-persistence-netmask', [
  { kind: 'addService', service: svc(shKey, 'sh', { flags: { schedFlags: U.IP_VS_SVC_F_SCHED_SH_FALLBACK | U.IP_VS_SVC_F_SCHED_SH_PORT }, persistenceTimeoutS: 300, persistenceNetmask: 0xffff0000 }) },
  { kind: 'addDest', key: shKey, dest: dst('192.0.2.42', 443) },
]);

const udpKey = v4('192.0.2.50', 53, 'udp');
await step('udp-ops', [
  { kind: 'addService', service: svc(udpKey, 'rr', { flags: { onePacket: true } }) },
  { kind: 'addDest', key: udpKey, dest: dst('192.0.2.51', 53) },
]);

const v6Key: ServiceKey = { family: 'inet6', protocol: 'tcp', address: '2001:db8::10', port: 80 };
await step('ipv6', [
  { kind: 'addService', service: svc(v6Key, 'wrr', { persistenceTimeoutS: 120, persistenceNetmask: 64 }) },
  { kind: 'addDest', key: v6Key, dest: dst('2001:db8::5', 80, { weight: 3 }) },
  { kind: 'addDest', key: v6Key, dest: dst('2001:db8::6', 8080, { forward: 'DR', weight: 5 }) },
]);

await step('weights-thresholds', [
  { kind: 'editDest', key: fwdKey, dest: dst('192.0.2.31', 8080, { forward: 'NAT', weight: 7, upperThreshold: 100, lowerThreshold: 10 }) },
  { kind: 'editDest', key: v6Key, dest: dst('2001:db8::5', 80, { weight: 0, upperThreshold: 50, lowerThreshold: 5 }) },
]);

await step('edit-service', [
  { kind: 'editService', service: svc(shKey, 'wlc') },
  { kind: 'editService', service: svc(udpKey, 'rr') },
]);

await step('duplicate-dest', [{ kind: 'addDest', key: fwdKey, dest: dst('192.0.2.32', 80, { forward: 'DR' }) }]);
await step('missing-service', [{ kind: 'delService', key: v4('192.0.2.99', 1) }]);
await step('batch-nacks', [
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.36', 80) },
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.32', 80, { forward: 'DR' }) },
  { kind: 'delService', key: v4('192.0.2.99', 1) },
  { kind: 'addDest', key: fwdKey, dest: dst('192.0.2.37', 80) },
  { kind: 'delDest', key: fwdKey, dest: { family: 'inet', address: '192.0.2.38', port: 80 } },
], true);

await step('deletes', [
  { kind: 'delDest', key: fwdKey, dest: { family: 'inet', address: '192.0.2.33', port: 80 } },
  { kind: 'delDest', key: v6Key, dest: { family: 'inet6', address: '2001:db8::6', port: 8080 } },
  { kind: 'delService', key: udpKey },
  { kind: 'delService', key: fwm },
]);

await step('timeouts', [{ kind: 'setTimeouts', timeouts: { tcpS: 1000, tcpFinS: 100, udpS: 200 } }]);
await step('timeouts-partial', [{ kind: 'setTimeouts', timeouts: { udpS: 250 } }]);
await step('flush', [{ kind: 'flush' }]);
process.stdout.write(json({ name: 'counters', unknownAttrs: driver.counters.unknownAttrs }) + '\n');
await driver.close();
