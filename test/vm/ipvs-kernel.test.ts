// NetlinkIpvsDriver against a real IPVS kernel: one VM for the whole file (TCG boots are slow). The guest script
// (ipvs-roundtrip-guest.ts) applies each step and reports ipvsadm's view and our dump(); here we check that what we
// set is what the kernel holds, as ipvsadm reads it, and that dump() gives back exactly what was set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../support/tier.js';
import { runInVm, vmMissing, type VmResult } from './harness.js';
import { fullNetmask, type Destination, type IpvsTable, type IpvsTimeouts, type Service } from '../../src/ipvs/types.js';
import { intToIpv4 } from '../../src/config/address.js';
import * as U from '../../src/ipvs/uapi.js';

interface Step {
  name: string;
  expected: { service: Service; dests: Destination[] }[];
  error?: { op: string; code: string; errno: number; message: string };
  errors?: (string | null)[];
  list: string;
  thresholds: string;
  persistent: string;
  timeoutText: string;
  dump: IpvsTable;
  of: IpvsTable;
  timeouts: IpvsTimeouts;
}

/** One ipvsadm listing as a set of lines we can compare: service → dest lines, built from the three listings. */
function parseIpvsadm(list: string, thresholds: string, persistent: string): string[] {
  const rows = (text: string): [string, string[]][] => {
    const out: [string, string[]][] = [];
    for (const line of text.split('\n').slice(3)) {
      if (line.trim() === '') continue;
      const d = /^\s+-> (\S+)\s+(.*)$/.exec(line);
      if (d) out[out.length - 1]![1].push(`${d[1]} ${d[2]!.trim().split(/\s+/).join(' ')}`);
      else out.push([line.trim().split(/\s+/).join(' '), []]);
    }
    return out;
  };
  const a = rows(list), b = rows(thresholds), c = rows(persistent);
  const lines: string[] = [];
  a.forEach(([svc, dests], i) => {
    dests.forEach((d, j) => {
      const [addr, fwd, weight] = d.split(' ');
      const [, uth, lth] = b[i]![1][j]!.split(' ');
      const [, w2] = c[i]![1][j]!.split(' ');
      assert.equal(w2, weight, 'weight in --persistent-conn matches -Ln');
      lines.push(`${svc} -> ${addr} ${fwd} w=${weight} u=${uth} l=${lth}`);
    });
    if (dests.length === 0) lines.push(svc);
  });
  return lines.sort();
}

/** The same lines as ipvsadm would print them for the table we set (ipvsadm.c print_service_entry wording). */
function renderExpected(table: Step['expected']): string[] {
  const lines: string[] = [];
  for (const { service: s, dests } of table) {
    const k = s.key;
    const host = (a: string): string => (a.includes(':') ? `[${a}]` : a);
    let line = k.fwmark !== undefined ? `FWM ${k.fwmark} ${s.scheduler}` : `${k.protocol.toUpperCase()} ${host(k.address)}:${k.port} ${s.scheduler}`;
    const sf: string[] = [];
    if ((s.flags.schedFlags ?? 0) & U.IP_VS_SVC_F_SCHED_SH_FALLBACK) sf.push(`${s.scheduler}-fallback`);
    if ((s.flags.schedFlags ?? 0) & U.IP_VS_SVC_F_SCHED_SH_PORT) sf.push(`${s.scheduler}-port`);
    if (sf.length) line += ` (${sf.join(',')})`;
    if (s.persistenceTimeoutS > 0) {
      line += ` persistent ${s.persistenceTimeoutS}`;
      if (s.persistenceNetmask !== fullNetmask(k.family)) line += ` mask ${k.family === 'inet' ? intToIpv4(s.persistenceNetmask) : s.persistenceNetmask}`;
    }
    if (s.flags.onePacket) line += ' ops';
    for (const d of dests) {
      const fwd = { NAT: 'Masq', DR: 'Route', TUN: 'Tunnel' }[d.forward];
      lines.push(`${line} -> ${host(d.address)}:${d.port} ${fwd} w=${d.weight} u=${d.upperThreshold} l=${d.lowerThreshold}`);
    }
    if (dests.length === 0) lines.push(line);
  }
  return lines.sort();
}

/** dump() without what the kernel adds on its own (counters, connection counts, the HASHED flag), sorted. */
function normaliseDump(t: IpvsTable): Step['expected'] {
  return t.services.map((e) => {
    const { hashed, ...flags } = e.service.flags;
    assert.equal(hashed, true, 'the kernel reports every service it holds as hashed');
    return { service: { ...e.service, flags }, dests: e.dests.map((d) => d.dest).sort(byAddr) };
  }).sort(byKey);
}
const byAddr = (a: Destination, b: Destination): number => `${a.address}/${a.port}`.localeCompare(`${b.address}/${b.port}`);
const byKey = (a: { service: Service }, b: { service: Service }): number => JSON.stringify(a.service.key).localeCompare(JSON.stringify(b.service.key));

test('NetlinkIpvsDriver round-trips every IPVS feature through a real kernel', { timeout: 600_000 }, async (t) => {
  const missing = vmMissing();
  if (!need(t, missing === undefined, missing ?? '')) return;
  const vm: VmResult = await runInVm('node dist/test/vm/ipvs-roundtrip-guest.js', { timeoutMs: 480_000 });
  assert.equal(vm.exitCode, 0, `guest failed:\n${vm.stderr}\n${vm.console.slice(-2000)}`);
  const lines = vm.stdout.trim().split('\n').map((l) => JSON.parse(l) as Step & { unknownAttrs?: number });
  const steps = new Map(lines.map((s) => [s.name, s]));
  assert.equal(steps.get('counters')?.unknownAttrs, 0, 'a 6.1 kernel sends no attribute we do not know');

  for (const s of lines) {
    if (s.name === 'counters') continue;
    await t.test(s.name, () => {
      assert.deepEqual(parseIpvsadm(s.list, s.thresholds, s.persistent), renderExpected(s.expected), 'ipvsadm shows what we set');
      const want = s.expected.map((e) => ({ service: e.service, dests: [...e.dests].sort(byAddr) })).sort(byKey);
      assert.deepEqual(normaliseDump(s.dump), want, 'dump() returns what we set');
      assert.deepEqual(normaliseDump(s.of), want, 'entriesOf() returns each service the table holds, the absent one left out');
      const m = /Timeout \(tcp tcpfin udp\): (\d+) (\d+) (\d+)/.exec(s.timeoutText);
      assert.ok(m, s.timeoutText);
      assert.deepEqual(s.timeouts, { tcpS: Number(m[1]), tcpFinS: Number(m[2]), udpS: Number(m[3]) }, 'getTimeouts() matches ipvsadm --timeout');
    });
  }

  const twos = steps.get('scheduler-twos')!;
  if (vm.missingSchedulers.includes('twos')) {
    assert.equal(twos.error?.code, 'ENOENT', 'a scheduler the kernel lacks is refused with ENOENT');
  } else {
    assert.equal(twos.error, undefined);
  }
  for (const s of ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf']) {
    assert.ok(!vm.missingSchedulers.includes(s), `ip_vs_${s} loads`);
    assert.equal(steps.get(`scheduler-${s}`)!.error, undefined, `scheduler ${s} accepted`);
  }
  assert.deepEqual(steps.get('duplicate-dest')!.error, {
    op: 'IPVS_CMD_NEW_DEST', code: 'EEXIST', errno: 17,
    message: 'IPVS_CMD_NEW_DEST [192.0.2.32]:80 to [192.0.2.20]:tcp:80: File exists (EEXIST)',
  });
  assert.equal(steps.get('missing-service')!.error?.code, 'ESRCH');
  // One applyMany batch, only its last request asking for an ACK: each NACK lands on its own op, the rest applied.
  assert.deepEqual(steps.get('batch-nacks')!.errors, [
    null,
    'IPVS_CMD_NEW_DEST [192.0.2.32]:80 to [192.0.2.20]:tcp:80: File exists (EEXIST)',
    'IPVS_CMD_DEL_SERVICE [192.0.2.99]:tcp:1: No such process (ESRCH)',
    null,
    'IPVS_CMD_DEL_DEST [192.0.2.38]:80 from [192.0.2.20]:tcp:80: No such file or directory (ENOENT)',
  ]);
  assert.deepEqual(steps.get('timeouts')!.timeouts, { tcpS: 1000, tcpFinS: 100, udpS: 200 });
  assert.deepEqual(steps.get('timeouts-partial')!.timeouts, { tcpS: 1000, tcpFinS: 100, udpS: 250 }, '0/absent keeps a timeout');
  assert.deepEqual(steps.get('flush')!.dump, { services: [] });
  const fwd = steps.get('forwarding')!.dump.services[0]!.dests.map((d) => d.dest);
  assert.deepEqual(fwd.find((d) => d.address === '192.0.2.34'), {
    family: 'inet', address: '192.0.2.34', port: 80, forward: 'TUN', weight: 1, upperThreshold: 0, lowerThreshold: 0,
    tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: { csum: true },
  });
});
