// `ipvsadm -Ln` rendering. No kernel IPVS on the test host, so the expected text is built by hand from ipvsadm
// 1.31's printf formats (read from its source and confirmed in the strings of Debian's /usr/sbin/ipvsadm 1:1.31-1):
// the test-only printf below applies those formats verbatim, and the first case is also spelled out literally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpvsadm } from '../../src/ipvs/format-ipvsadm.js';
import type { Destination, DestinationEntry, IpvsTable, Service, ServiceEntry, Stats } from '../../src/ipvs/types.js';
import * as U from '../../src/ipvs/uapi.js';
import { fullNetmask } from '../../src/ipvs/types.js';

/** Just %s, %d, %u with optional '-' and width: what ipvsadm's list formats use. */
function printf(fmt: string, ...args: (string | number | bigint)[]): string {
  let i = 0;
  return fmt.replace(/%(-?)(\d*)[sdu]/g, (_m, left: string, width: string) => {
    const v = String(args[i++]);
    const w = Number(width || 0);
    return left ? v.padEnd(w) : v.padStart(w);
  });
}

const TITLE = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];

function svc(partial: Partial<Service> & Pick<Service, 'key'>): Service {
  return { scheduler: 'wlc', flags: {}, persistenceTimeoutS: 0, persistenceNetmask: fullNetmask(partial.key.family), ...partial };
}

function rs(address: string, port: number, extra: Partial<Destination> = {}, counts: Partial<DestinationEntry> = {}): DestinationEntry {
  const family = address.includes(':') ? 'inet6' : 'inet';
  return { dest: { family, address, port, forward: 'NAT', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...extra }, ...counts };
}

test('plain listing: literal golden text for one persistent TCP service', () => {
  const table: IpvsTable = {
    services: [
      {
        service: svc({ key: { family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 }, persistenceTimeoutS: 360 }),
        dests: [rs('192.0.2.21', 80, {}, { activeConns: 3, inactiveConns: 1 }), rs('192.0.2.20', 8080, { forward: 'DR', weight: 100 })],
      },
    ],
  };
  assert.equal(
    formatIpvsadm(table),
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      'TCP  192.0.2.10:80 wlc persistent 360\n' +
      '  -> 192.0.2.20:8080              Route   100    0          0         \n' +
      '  -> 192.0.2.21:80                Masq    1      3          1         \n',
  );
});

test('plain listing: sort order, IPv6, fwmark, masks, scheduler flags, ops, forward names', () => {
  const services: ServiceEntry[] = [
    { service: svc({ key: { family: 'inet6', fwmark: 8 }, scheduler: 'rr' }), dests: [rs('2001:db8::21', 0, { forward: 'TUN' })] },
    { service: svc({ key: { family: 'inet', fwmark: 7 }, scheduler: 'wrr', flags: { onePacket: true } }), dests: [] },
    {
      service: svc({ key: { family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 443 }, scheduler: 'sh', flags: { schedFlags: U.IP_VS_SVC_F_SCHED_SH_FALLBACK | U.IP_VS_SVC_F_SCHED_SH_PORT }, persistenceTimeoutS: 60, persistenceNetmask: 64 }),
      dests: [rs('2001:db8::22', 443, { weight: 2 })],
    },
    { service: svc({ key: { family: 'inet', protocol: 'udp', address: '192.0.2.10', port: 53 }, scheduler: 'rr', flags: { schedFlags: U.IP_VS_SVC_F_SCHED3 } }), dests: [] },
    { service: svc({ key: { family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, persistenceTimeoutS: 300, persistenceNetmask: 0xffffff00 }), dests: [] },
    { service: svc({ key: { family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 }, scheduler: 'mh', flags: { schedFlags: U.IP_VS_SVC_F_SCHED_MH_PORT } }), dests: [] },
  ];
  const dest = (name: string, fwd: string, w: number, a = 0, i = 0): string => printf('  -> %-28s %-7s %-6d %-10u %-10u', name, fwd, w, a, i);
  const expected = [
    ...TITLE,
    // ipvsadm compares addresses with a wrapping int subtraction: 10.0.0.1 - 192.0.2.10 is positive, so 10/8 sorts last.
    'TCP  192.0.2.10:80 mh (mh-port)',
    'TCP  10.0.0.1:80 wlc persistent 300 mask 255.255.255.0',
    'UDP  192.0.2.10:53 rr (flag-3)',
    'TCP  [2001:db8::1]:443 sh (sh-fallback,sh-port) persistent 60 mask 64',
    dest('[2001:db8::22]:443', 'Masq', 2),
    'FWM  7 wrr ops',
    'FWM  8 IPv6 rr',
    dest('[2001:db8::21]:0', 'Tunnel', 1),
  ];
  assert.equal(formatIpvsadm({ services }), expected.join('\n') + '\n');
});

const stats = (n: bigint): Stats => ({ conns: n, inPkts: n * 10n, outPkts: n * 9n, inBytes: n * 1000n, outBytes: n * 123_456_789n, cps: n, inPps: n * 2n, outPps: n * 3n, inBps: n * 400n, outBps: n * 500_000_000n });

test('--stats and --rate columns, with print_largenum abbreviations', () => {
  const table: IpvsTable = {
    services: [
      {
        service: svc({ key: { family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 } }),
        stats: stats(1000n),
        dests: [{ ...rs('192.0.2.21', 80), stats: stats(7n) }],
      },
    ],
  };
  const head = (cols: string[]): string[] => ['IP Virtual Server version 1.2.1 (size=4096)', printf('%-33s %8s %8s %8s %8s %8s', 'Prot LocalAddress:Port', ...cols), '  -> RemoteAddress:Port'];
  // print_largenum: %9llu below 1e8, then %8lluK below 1e9, %8lluM below 1e11, %8lluG below 1e14.
  assert.equal(
    formatIpvsadm(table, 'stats'),
    [
      ...head(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes']),
      printf('%-33s', 'TCP  192.0.2.10:80') + printf('%9u%9u%9u%9u', 1000, 10000, 9000, 1000000) + printf('%8uG', 123),
      printf('  -> %-28s', '192.0.2.21:80') + printf('%9u%9u%9u%9u', 7, 70, 63, 7000) + printf('%8uK', 864197),
    ].join('\n') + '\n',
  );
  assert.equal(
    formatIpvsadm(table, 'rate'),
    [
      ...head(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS']),
      printf('%-33s', 'TCP  192.0.2.10:80') + printf('%9u%9u%9u%9u', 1000, 2000, 3000, 400000) + printf('%8uG', 500),
      printf('  -> %-28s %8u %8u %8u', '192.0.2.21:80', 7, 14, 21) + printf('%9u', 2800) + printf('%8uM', 3500),
    ].join('\n') + '\n',
  );
});

test('an empty table prints only the headers', () => {
  assert.equal(formatIpvsadm({ services: [] }), TITLE.join('\n') + '\n');
});
