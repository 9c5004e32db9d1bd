import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DryRunIpvsDriver } from '../../src/ipvs/driver-dryrun.js';
import { ownedDestId, reconcile, type DesiredTable } from '../../src/ipvs/reconcile.js';
import { serviceKeyId } from '../../src/ipvs/desired.js';
import type { Destination, IpvsOp, Service, ServiceKey } from '../../src/ipvs/types.js';
import { silentLogger } from '../../src/log.js';
import * as U from '../../src/ipvs/uapi.js';
import { fullNetmask } from '../../src/ipvs/types.js';

const key = (address: string, port = 80): ServiceKey => ({ family: address.includes(':') ? 'inet6' : 'inet', protocol: 'tcp', address, port });
const svc = (k: ServiceKey, over: Partial<Service> = {}): Service => ({
  key: k, scheduler: 'wlc', flags: {}, persistenceTimeoutS: 0, persistenceNetmask: fullNetmask(k.family), ...over,
});
const dest = (address: string, weight = 1, over: Partial<Destination> = {}): Destination => ({
  family: address.includes(':') ? 'inet6' : 'inet', address, port: 80, forward: 'NAT', weight, upperThreshold: 0, lowerThreshold: 0, ...over,
});
const describe = (ops: IpvsOp[]): string[] =>
  ops.map((o) => {
    if (o.kind === 'addService' || o.kind === 'editService') return `${o.kind} ${o.service.key.address}`;
    if (o.kind === 'delService') return `delService ${o.key.address}`;
    if (o.kind === 'flush' || o.kind === 'setTimeouts') return o.kind;
    return `${o.kind} ${o.key.address} ${o.dest.address}`;
  });

/** Everything in `desired` counts as ours, as the manager records after applying it. */
function ownedOf(t: DesiredTable): Set<string> {
  const s = new Set<string>();
  for (const e of t.services) {
    const k = serviceKeyId(e.service.key);
    s.add(k);
    for (const d of e.dests) s.add(ownedDestId(k, d));
  }
  return s;
}

async function applied(t: DesiredTable): Promise<DryRunIpvsDriver> {
  const drv = new DryRunIpvsDriver(silentLogger());
  for (const op of reconcile(t, { services: [] }, new Set())) await drv.apply(op);
  return drv;
}

const base: DesiredTable = {
  services: [
    { service: svc(key('192.0.2.10')), dests: [dest('192.0.2.21'), dest('192.0.2.22', 2)] },
    { service: svc(key('2001:db8::10'), { persistenceTimeoutS: 360, persistenceNetmask: 64 }), dests: [dest('2001:db8::21')] },
  ],
};

test('initial pass: each service before its destinations', () => {
  assert.deepEqual(describe(reconcile(base, { services: [] }, new Set())), [
    'addService 192.0.2.10', 'addDest 192.0.2.10 192.0.2.21', 'addDest 192.0.2.10 192.0.2.22',
    'addService 2001:db8::10', 'addDest 2001:db8::10 2001:db8::21',
  ]);
});

test('no-change pass against a dump is zero ops (hashed flag, IPv6 text, netmask of non-persistent services)', async () => {
  const drv = await applied(base);
  assert.deepEqual(reconcile(base, await drv.dump(), ownedOf(base)), []);
  const spelled: DesiredTable = {
    services: [
      { service: svc(key('192.0.2.10'), { persistenceNetmask: 0xffffff00 }), dests: [dest('192.0.2.21'), dest('192.0.2.22', 2)] },
      { service: svc(key('2001:DB8:0::10'), { persistenceTimeoutS: 360, persistenceNetmask: 64 }), dests: [dest('2001:0db8::21')] },
    ],
  };
  assert.deepEqual(reconcile(spelled, await drv.dump(), ownedOf(base)), []);
});

test('a weight change is exactly one editDest; a scheduler change one editService', async () => {
  const drv = await applied(base);
  const changed: DesiredTable = {
    services: [
      { service: svc(key('192.0.2.10'), { scheduler: 'rr' }), dests: [dest('192.0.2.21'), dest('192.0.2.22', 5)] },
      base.services[1]!,
    ],
  };
  const ops = reconcile(changed, await drv.dump(), ownedOf(base));
  assert.deepEqual(describe(ops), ['editService 192.0.2.10', 'editDest 192.0.2.10 192.0.2.22']);
  const e = ops[1];
  assert.ok(e?.kind === 'editDest' && e.dest.weight === 5);
});

test('persistence, flags and forwarding changes are edits in place', async () => {
  const drv = await applied(base);
  const changed: DesiredTable = {
    services: [
      { service: svc(key('192.0.2.10'), { persistenceTimeoutS: 60, flags: { schedFlags: U.IP_VS_SVC_F_SCHED1 } }), dests: [dest('192.0.2.21', 1, { forward: 'DR' }), dest('192.0.2.22', 2)] },
      { service: svc(key('2001:db8::10'), { persistenceTimeoutS: 360, persistenceNetmask: 48 }), dests: [dest('2001:db8::21')] },
    ],
  };
  assert.deepEqual(describe(reconcile(changed, await drv.dump(), ownedOf(base))), [
    'editService 192.0.2.10', 'editDest 192.0.2.10 192.0.2.21', 'editService 2001:db8::10',
  ]);
});

test('removed RS → delDest; removed VS → its dests, then the service, before any add', async () => {
  const drv = await applied(base);
  const next: DesiredTable = {
    services: [
      { service: svc(key('192.0.2.10')), dests: [dest('192.0.2.21'), dest('192.0.2.23')] },
    ],
  };
  assert.deepEqual(describe(reconcile(next, await drv.dump(), ownedOf(base))), [
    'delDest 2001:db8::10 2001:db8::21', 'delService 2001:db8::10',
    'addDest 192.0.2.10 192.0.2.23', 'delDest 192.0.2.10 192.0.2.22',
  ]);
});

test('foreign services and foreign destinations are left alone; flush clears everything first', async () => {
  const drv = await applied(base);
  await drv.apply({ kind: 'addService', service: svc(key('198.51.100.1')) });
  await drv.apply({ kind: 'addDest', key: key('198.51.100.1'), dest: dest('198.51.100.2') });
  await drv.apply({ kind: 'addDest', key: key('192.0.2.10'), dest: dest('203.0.113.9') });
  assert.deepEqual(reconcile(base, await drv.dump(), ownedOf(base)), []);
  assert.deepEqual(reconcile({ services: [] }, await drv.dump(), ownedOf(base)).filter((o) => o.kind === 'delService').length, 2);
  const flushed = reconcile(base, await drv.dump(), ownedOf(base), { flush: true });
  assert.deepEqual(describe(flushed).slice(0, 2), ['flush', 'addService 192.0.2.10']);
  assert.equal(flushed.length, 6);
});

test('applying the ops makes the table equal to desired', async () => {
  const drv = await applied(base);
  const next: DesiredTable = {
    services: [{ service: svc(key('192.0.2.11'), { scheduler: 'sh', flags: { schedFlags: U.IP_VS_SVC_F_SCHED_SH_PORT } }), dests: [dest('192.0.2.30', 3)] }],
  };
  for (const op of reconcile(next, await drv.dump(), ownedOf(base))) await drv.apply(op);
  const t = await drv.dump();
  assert.deepEqual(t.services.map((s) => [s.service.key.address, s.service.scheduler, s.dests.map((d) => `${d.dest.address}=${d.dest.weight}`)]), [
    ['192.0.2.11', 'sh', ['192.0.2.30=3']],
  ]);
  assert.deepEqual(reconcile(next, t, ownedOf(next)), []);
});

test('a service named twice in desired (overlapping groups) is added once', () => {
  const twice: DesiredTable = { services: [base.services[0]!, { service: svc(key('192.0.2.10')), dests: [dest('192.0.2.29')] }] };
  assert.deepEqual(describe(reconcile(twice, { services: [] }, new Set())), [
    'addService 192.0.2.10', 'addDest 192.0.2.10 192.0.2.21', 'addDest 192.0.2.10 192.0.2.22',
  ]);
});
