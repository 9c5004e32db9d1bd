import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationFor, destKeyId, expandRange, sameDestKey, serviceFor, serviceKeysFor, sorryDestinationFor } from '../../src/ipvs/desired.js';
import { config, realServers } from './pool-fixtures.js';
import { parseConfigText } from '../../src/config/load.js';
import * as U from '../../src/ipvs/uapi.js';

test('virtual_server_group expands ranges, CIDR and fwmark entries', () => {
  const cfg = config(`
virtual_server_group G {
  192.0.2.1-3 80
  198.51.100.0/30 80
}
virtual_server_group M {
  fwmark 7
  fwmark 8 inet6
}
virtual_server group M {
  lb_algo rr
  lb_kind DR
  real_server 2001:db8::21 {
    TCP_CHECK {
      connect_port 80
    }
  }
}
virtual_server group G {
  lb_algo rr
  lb_kind DR
  protocol TCP
  persistence_timeout
${realServers(['192.0.2.21'])}
}
`);
  const vs = cfg.virtualServers.find((v) => v.displayName.startsWith('[G]'))!;
  const keys = serviceKeysFor(vs, cfg.virtualServerGroups);
  assert.deepEqual(keys.map((k) => (k.fwmark !== undefined ? `fwm ${k.fwmark} ${k.family}` : `${k.address}:${k.port}`)), [
    '192.0.2.1:80', '192.0.2.2:80', '192.0.2.3:80',
    '198.51.100.0:80', '198.51.100.1:80', '198.51.100.2:80', '198.51.100.3:80',
  ]);
  const marks = serviceKeysFor(cfg.virtualServers.find((v) => v.displayName.startsWith('[M]'))!, cfg.virtualServerGroups);
  assert.deepEqual(marks, [{ family: 'inet6', fwmark: 7 }, { family: 'inet6', fwmark: 8 }], 'fwmark entry without family: the RSs decide');
  const s = serviceFor(vs, keys[0]!);
  assert.equal(s.persistenceTimeoutS, 360, 'bare persistence_timeout = 360 s');
  assert.equal(s.persistenceNetmask, 0xffffffff);
});

test('IPv6 ranges expand and come out in canonical text', () => {
  assert.deepEqual(expandRange('inet6', '2001:DB8::fe', '2001:db8::101'), ['2001:db8::fe', '2001:db8::ff', '2001:db8::100', '2001:db8::101']);
  assert.throws(() => expandRange('inet', '10.0.0.0', '10.255.255.255'), /exceeds/);
});

test('persistence_granularity: one rule (check_parser.c pgr_handler) from -t to the kernel netmask', () => {
  const vs = (head: string, g: string, rs = '192.0.2.21'): string =>
    `virtual_server ${head} {\n  lb_algo rr\n  lb_kind NAT\n${head.startsWith('fwmark') ? '' : '  protocol TCP\n'}  persistence_granularity ${g}\n${realServers([rs], head.startsWith('fwmark') ? 0 : 80)}\n}\n`;
  const netmask = (head: string, g: string, rs?: string): number => {
    const v = config(vs(head, g, rs)).virtualServers[0]!;
    return serviceFor(v, serviceKeysFor(v, [])[0]!).persistenceNetmask;
  };
  // What keepalived 2.2.7 installs (ipvsadm -Ln in the IPVS VM: lvs-differential.test.ts checks the same on both).
  assert.equal(netmask('192.0.2.10 80', '255.255.255.0'), 0xffffff00);
  assert.equal(netmask('192.0.2.10 80', '24'), 24, 'inet_aton reads 24 as 0.0.0.24, not a prefix');
  assert.equal(netmask('192.0.2.10 80', '255.0.255.0'), 0xff00ff00, 'no solid mask required');
  assert.equal(netmask('192.0.2.10 80', '0.0.0.0'), 0);
  assert.equal(netmask('192.0.2.10 80', '0x10.0377.1'), 0x10ff0001, 'hex and octal parts, the last filling the rest');
  assert.equal(netmask('2001:db8::10 80', '64', '2001:db8::21'), 64);
  assert.equal(netmask('fwmark 5', '255.255.0.0'), 0xffff0000, "a '.' picks IPv4 while the family is unknown");
  // keepalived -t's lines for each (read_unsigned's own first for IPv6).
  const refused = (head: string, g: string, messages: string[], rs?: string): void => {
    const r = parseConfigText(vs(head, g, rs));
    assert.deepEqual(r.diagnostics.map((d) => d.message), messages, `${head} ${g}`);
    const v = r.config.virtualServers[0]!;
    assert.equal(serviceFor(v, serviceKeysFor(v, [])[0]!).persistenceNetmask, v.key.kind === 'ip' && v.key.family === 'inet6' ? 128 : 0xffffffff);
  };
  refused('2001:db8::10 80', '129', ["number '129' outside range [1, 128]", 'Invalid IPv6 persistence_granularity specified - 129'], '2001:db8::21');
  refused('2001:db8::10 80', 'ffff::', ["invalid number 'ffff::'", 'Invalid IPv6 persistence_granularity specified - ffff::'], '2001:db8::21');
  refused('192.0.2.10 80', '256.0.0.0', ['Invalid IPv4 persistence_granularity specified - 256.0.0.0']);
  refused('192.0.2.10 80', '1.2.3.4.5', ['Invalid IPv4 persistence_granularity specified - 1.2.3.4.5']);
});

test('service flags, engine and granularity from a virtual_server', () => {
  const cfg = config(`
virtual_server 192.0.2.10 53 {
  lb_algo sh
  sh-port
  sh-fallback
  ops
  lb_kind NAT
  protocol UDP
  persistence_granularity 255.255.255.0
  persistence_engine sip
${realServers(['192.0.2.21'], 53)}
}
`);
  const vs = cfg.virtualServers[0]!;
  const [k] = serviceKeysFor(vs, []);
  assert.deepEqual(k, { family: 'inet', protocol: 'udp', address: '192.0.2.10', port: 53 });
  const s = serviceFor(vs, k!);
  assert.equal(s.scheduler, 'sh');
  assert.deepEqual(s.flags, { onePacket: true, schedFlags: U.IP_VS_SVC_F_SCHED_SH_FALLBACK | U.IP_VS_SVC_F_SCHED_SH_PORT });
  assert.equal(s.persistenceTimeoutS, 360, 'granularity implies 360 s');
  assert.equal(s.persistenceNetmask, 0xffffff00);
  assert.equal(s.persistenceEngine, 'sip');
});

test('sh-port, sh-fallback, mh-port, mh-fallback each set the kernel flag of that name (IP_VS_SVC_F_SCHED_*)', () => {
  const vsFor = (algo: string, words: string): string => `virtual_server 192.0.2.10 80 {
  lb_algo ${algo}
  ${words}
  lb_kind NAT
  protocol TCP
${realServers(['192.0.2.21'])}
}
`;
  const flagsOf = (algo: string, words: string): number | undefined => {
    const vs = config(vsFor(algo, words)).virtualServers[0]!;
    return serviceFor(vs, serviceKeysFor(vs, [])[0]!).flags.schedFlags;
  };
  assert.equal(flagsOf('sh', 'sh-port'), U.IP_VS_SVC_F_SCHED_SH_PORT);
  assert.equal(flagsOf('sh', 'sh-fallback'), U.IP_VS_SVC_F_SCHED_SH_FALLBACK);
  assert.equal(flagsOf('mh', 'mh-port'), U.IP_VS_SVC_F_SCHED_MH_PORT);
  assert.equal(flagsOf('mh', 'mh-fallback'), U.IP_VS_SVC_F_SCHED_MH_FALLBACK);
  assert.equal(flagsOf('rr', 'flag-2\n  flag-3'), U.IP_VS_SVC_F_SCHED2 | U.IP_VS_SVC_F_SCHED3);
  // check_parser.c lbflags_handler: the other scheduler's words are silently ignored.
  assert.equal(flagsOf('sh', 'mh-port\n  hashed'), undefined);
  assert.equal(flagsOf('mh', 'sh-fallback'), undefined);
});

test('destinations: per-RS lb_kind, tunnel options, thresholds; a DR sorry server on port 0 under a fwmark, a NAT one on its own', () => {
  const cfg = config(`
virtual_server fwmark 9 {
  lb_algo wrr
  lb_kind DR
  sorry_server 192.0.2.99
  real_server 192.0.2.21 {
    weight 4
    uthreshold 100
    lthreshold 10
    TCP_CHECK {
      connect_port 80
    }
  }
  real_server 192.0.2.22 {
    lvs_method TUN type gue port 6080 nocsum
    TCP_CHECK {
      connect_port 80
    }
  }
}
`);
  const vs = cfg.virtualServers[0]!;
  assert.deepEqual(serviceKeysFor(vs, []), [{ family: 'inet', fwmark: 9 }]);
  const [a, b] = vs.realServers;
  assert.deepEqual(destinationFor(a!, 4), { family: 'inet', address: '192.0.2.21', port: 0, forward: 'DR', weight: 4, upperThreshold: 100, lowerThreshold: 10 });
  assert.deepEqual(destinationFor(b!, 1), {
    family: 'inet', address: '192.0.2.22', port: 0, forward: 'TUN', weight: 1, upperThreshold: 0, lowerThreshold: 0,
    tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: { noCsum: true },
  });
  assert.equal(sorryDestinationFor(vs.sorryServer!, 1).port, 0);
  // A NAT sorry server keeps its port under a fwmark, as keepalived installs it (found by the generated differential).
  const nat = parseConfigText('virtual_server fwmark 9 {\n  lb_algo rr\n  lb_kind NAT\n  sorry_server 192.0.2.99 80\n  real_server 192.0.2.21 80 {\n  }\n}\n', { file: 'k.conf' }).config.virtualServers[0]!;
  assert.equal(sorryDestinationFor(nat.sorryServer!, 1).port, 80);
});

test('sameDestKey agrees with comparing destKeyId strings', () => {
  type Key = Parameters<typeof destKeyId>[0];
  const keys: Key[] = [
    { family: 'inet', address: '10.0.0.1', port: 80 },
    { family: 'inet', address: '10.0.0.1', port: 81 },
    { family: 'inet', address: '10.0.0.2', port: 80 },
    { family: 'inet6', address: '2001:db8::1', port: 80 },
    // The same address as the one before, written otherwise: one destination to the kernel.
    { family: 'inet6', address: '2001:DB8:0::1', port: 80 },
    { family: 'inet6', address: '2001:db8::2', port: 80 },
    { family: 'inet6', address: '::ffff:10.0.0.1', port: 80 },
  ];
  let same = 0;
  for (const a of keys) {
    for (const b of keys) {
      assert.equal(sameDestKey(a, b), destKeyId(a) === destKeyId(b), `${JSON.stringify(a)} / ${JSON.stringify(b)}`);
      if (a !== b && sameDestKey(a, b)) same++;
    }
  }
  assert.equal(same, 2);
});
