import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationFor, expandRange, granularityBits, serviceFor, serviceKeysFor, sorryDestinationFor } from '../../src/ipvs/desired.js';
import { config, realServers } from './pool-fixtures.js';

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
  assert.equal(s.persistenceNetmaskBits, 32);
});

test('IPv6 ranges expand and come out in canonical text', () => {
  assert.deepEqual(expandRange('inet6', '2001:DB8::fe', '2001:db8::101'), ['2001:db8::fe', '2001:db8::ff', '2001:db8::100', '2001:db8::101']);
  assert.throws(() => expandRange('inet', '10.0.0.0', '10.255.255.255'), /exceeds/);
});

test('persistence_granularity: IPv4 mask or prefix, IPv6 prefix, bad values rejected', () => {
  assert.equal(granularityBits('inet', '255.255.255.0'), 24);
  assert.equal(granularityBits('inet', '255.255.0.0'), 16);
  assert.equal(granularityBits('inet', '24'), 24);
  assert.equal(granularityBits('inet', '255.255.255.255'), 32);
  assert.equal(granularityBits('inet6', '64'), 64);
  assert.equal(granularityBits('inet6', undefined), 128);
  assert.throws(() => granularityBits('inet', '255.0.255.0'), /contiguous/);
  assert.throws(() => granularityBits('inet6', '129'), /range/);
  assert.throws(() => granularityBits('inet6', 'ffff::'), /netmask or prefix/);
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
  assert.deepEqual(s.flags, { onePacket: true, schedFlag1: true, schedFlag2: true });
  assert.equal(s.persistenceTimeoutS, 360, 'granularity implies 360 s');
  assert.equal(s.persistenceNetmaskBits, 24);
  assert.equal(s.persistenceEngine, 'sip');
});

test('destinations: per-RS lb_kind, tunnel options, thresholds; fwmark sorry server on port 0', () => {
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
  assert.equal(sorryDestinationFor(vs, vs.sorryServer!, 1).port, 0);
});
