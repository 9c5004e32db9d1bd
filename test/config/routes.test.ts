// virtual_routes / static_routes and virtual_rules / static_rules read into the route and rule model (config/routes.ts,
// keepalived 2.2.7's alloc_route / alloc_rule), with keepalived's config-time lines; and the netlink requests built from
// the model (net/rtnl-route.ts netlink_route / netlink_rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { FR_ACT_BLACKHOLE, FR_ACT_GOTO, FR_ACT_TO_TBL, RTAX, RTN_BLACKHOLE, RTN_UNICAST, RTNH_F_ONLINK, RTPROT_KEEPALIVED } from '../../src/config/routes.js';
import { routeRequest, ruleRequest, RTM_DELROUTE, RTM_NEWROUTE, RTM_NEWRULE } from '../../src/net/rtnl-route.js';

const instance = (body: string): string =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  priority 100\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n${body}}\n`;

function load(text: string): ReturnType<typeof parseConfigText> {
  return parseConfigText(text, { file: 'k.conf' });
}
const errors = (r: ReturnType<typeof load>): string[] => r.diagnostics.map((d) => `${d.line}: ${d.message}`);

test('routes: destination, type, via, src, dev, table, metric, scope, protocol, metrics with lock, IPv6 and nexthops', () => {
  const r = load(instance(`  virtual_routes {
    198.51.100.0/24 via 10.0.0.254 dev eth0 table 100 metric 7 src 10.0.0.1
    blackhole 198.51.100.128/25 dev eth0 table main
    to 192.0.2.0/24 dev eth1 scope link mtu lock 1400 advmss 1360 no_track protocol static
    2001:db8:1::/64 via 2001:db8::fe dev eth0 pref high
    203.0.113.0/24 nexthop via 10.0.0.253 dev eth0 weight 2 nexthop via 10.0.0.252 dev eth0 onlink
    192.0.2.128/25 table 4000 dev eth0
  }
`));
  // keepalived tracks a route through its own `dev` only; a nexthop's does not count.
  assert.deepEqual(errors(r), ['13: Warning - cannot track route 203.0.113.0/24 with no interface specified, not tracking']);
  const [a, b, c, d, e, f] = r.config.vrrpInstances[0]!.virtualRoutes;
  assert.deepEqual(
    { family: a!.family, dst: a!.dst, via: a!.via, dev: a!.dev, table: a!.table, metric: a!.metric, prefSrc: a!.prefSrc, protocol: a!.protocol, type: a!.type, noTrack: a!.noTrack },
    { family: 4, dst: { address: '198.51.100.0', prefixlen: 24 }, via: { family: 4, address: '10.0.0.254' }, dev: 'eth0', table: 100, metric: 7, prefSrc: '10.0.0.1', protocol: RTPROT_KEEPALIVED, type: RTN_UNICAST, noTrack: false },
  );
  assert.equal(b!.type, RTN_BLACKHOLE);
  assert.equal(b!.typeSet, true);
  assert.equal(b!.table, 254);
  assert.deepEqual([c!.scope, c!.protocol, c!.noTrack, c!.lock, c!.metrics], [253, 4, true, 1 << RTAX.MTU, [[RTAX.MTU, 1400], [RTAX.ADVMSS, 1360]]]);
  assert.deepEqual([d!.family, d!.dst, d!.pref], [6, { address: '2001:db8:1::', prefixlen: 64 }, 1]);
  assert.deepEqual(e!.nexthops, [
    { via: { family: 4, address: '10.0.0.253' }, dev: 'eth0', hops: 1, flags: 0 },
    { via: { family: 4, address: '10.0.0.252' }, dev: 'eth0', flags: RTNH_F_ONLINK },
  ]);
  assert.equal(f!.table, 4000);
});

test("routes: keepalived's config-time lines, and which routes are dropped", () => {
  const r = load(instance(`  virtual_routes {
    198.51.100.0/24 gw 10.0.0.254 dev eth0
    198.51.100.0/25 via 10.0.0.254
    198.51.100.0/26 via 10.0.0.999 dev eth0
    198.51.100.0/27 table nosuch dev eth0
    198.51.100.0/28 dev eth0 protocol boot
    198.51.100.0/29 via 10.0.0.1 or 10.0.0.2 dev eth0
    bogus dev eth0
    2001:db8::/64 via 10.0.0.1 dev eth0
  }
`));
  assert.deepEqual(errors(r), [
    '9: "gw" for routes is deprecated. Please use "via"',
    '10: Warning - cannot track route 198.51.100.0/25 with no interface specified, not tracking',
    '11: VRRP parsed invalid IP 10.0.0.999. skipping IP...',
    '11: invalid route via address 10.0.0.999',
    '12: Routing table nosuch not found for route',
    '13: Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol',
    '14: "or" for routes is deprecated. Please use "nexthop"',
    '15: VRRP parsed invalid IP bogus. skipping IP...',
    '15: unknown route keyword bogus',
    '16: Cannot mix IPv4 and IPv6 addresses for route',
  ]);
  const routes = r.config.vrrpInstances[0]!.virtualRoutes;
  assert.deepEqual(routes.map((x) => x.dst.prefixlen), [24, 25, 28, 29]);
  assert.equal(routes[1]!.noTrack, true);
  assert.equal(routes[2]!.protocol, RTPROT_KEEPALIVED);
  assert.deepEqual(routes[3]!.nexthops.map((n) => n.via?.address), ['10.0.0.1', '10.0.0.2']);
});

test('rules: actions, preferences handed out per family in file order, fwmark/mask, uidrange, ports, l3mdev', () => {
  const r = load(`static_rules {
    from 192.0.2.0/24 table 100
    to 2001:db8::/32 lookup 200
    from all fwmark 0x10/0xff iif eth0 blackhole priority 300
  }
${instance(`  virtual_rules {
    from 10.0.0.100 table 100 priority 100
    to 198.51.100.0/24 goto 500 preference 400
    uidrange 1000-2000 sport 1000-2000 dport 80 ipproto tcp oif eth1 table main priority 50
    from 10.0.0.7 table 100
    l3mdev priority 1000 no_track
  }
`)}`);
  assert.deepEqual(errors(r), [
    '2: Rule has no preference specified - setting to 16384. This is probably not what you want.',
    '3: Rule has no preference specified - setting to 16384. This is probably not what you want.',
    '16: invalid dport range 80',
    '17: Rule has no preference specified - setting to 16383. This is probably not what you want.',
  ]);
  const [s1, s2, s3] = r.config.staticRules;
  assert.deepEqual([s1!.family, s1!.priority, s1!.action, s1!.table], [4, 16384, FR_ACT_TO_TBL, 100]);
  assert.deepEqual([s2!.family, s2!.priority, s2!.to], [6, 16384, { address: '2001:db8::', prefixlen: 32 }]);
  assert.deepEqual([s3!.action, s3!.fwmark, s3!.fwmask, s3!.iif, s3!.from], [FR_ACT_BLACKHOLE, 16, 255, 'eth0', { address: '0.0.0.0', prefixlen: 0 }]);
  const [v1, v2, v3, , v5] = r.config.vrrpInstances[0]!.virtualRules;
  assert.deepEqual([v1!.priority, v1!.protocol], [100, RTPROT_KEEPALIVED]);
  assert.deepEqual([v2!.action, v2!.gotoTarget], [FR_ACT_GOTO, 500]);
  assert.deepEqual([v3!.uidRange, v3!.sport, v3!.dport, v3!.ipProto, v3!.oif, v3!.table], [[1000, 2000], [1000, 2000], undefined, 6, 'eth1', 254]);
  assert.deepEqual([v5!.l3mdev, v5!.noTrack, v5!.protocol], [true, true, undefined]);
});

test("rules: keepalived's refusals", () => {
  const r = load(instance(`  virtual_rules {
    from 10.0.0.1 priority 10
    from 10.0.0.1 table 0 priority 10
    from 10.0.0.1 goto 5 priority 10
    from 10.0.0.1 table 100 blackhole priority 10
    from 10.0.0.300 table 100 priority 10
    from 10.0.0.1 to 2001:db8::1 table 100 priority 10
  }
`));
  assert.deepEqual(errors(r), [
    '9: No action specified for rule - ignoring',
    '10: Table 0 is not valid',
    '11: Invalid rule - preference 10 >= goto target 5',
    '12: Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule',
    '13: VRRP parsed invalid IP 10.0.0.300. skipping IP...',
    '13: Invalid rule from address 10.0.0.300',
    '14: rule specification has mixed IPv4 and IPv6',
  ]);
  assert.deepEqual(r.config.vrrpInstances[0]!.virtualRules, []);
});

test('static_ipaddress is kept as VIPs are; options lvskeeper does not install are named, the rest is not', () => {
  const r = load(`static_ipaddress {
    192.0.2.200/32 dev eth0
  }
static_routes {
  192.0.2.0/24 dev eth0 encap ip id 1 dst 10.0.0.1
  198.51.100.0/24 dev eth0
}
${instance('')}`);
  assert.deepEqual(r.config.staticAddresses.map((a) => `${a.address}/${a.prefixLen} ${a.dev}`), ['192.0.2.200/32 eth0']);
  assert.deepEqual(r.config.staticRoutes.map((x) => x.dst.address), ['198.51.100.0']);
  assert.deepEqual(r.diagnostics.map((d) => `${d.line}: ${d.message}`), ["5: lvskeeper does not implement 'static_routes encap' - ignored"]);
});

test('route requests: rtmsg as netlink_route fills it, RTA_TABLE past 255, RTA_MULTIPATH hops, scope and type on delete', () => {
  const r = load(instance(`  virtual_routes {
    198.51.100.0/24 via 10.0.0.254 dev eth0 table 4000 metric 7
    blackhole 198.51.100.128/25 dev eth0
    203.0.113.0/24 nexthop via 10.0.0.253 dev eth0 weight 3 nexthop via 10.0.0.252 dev eth1
  }
`));
  const [a, b, c] = r.config.vrrpInstances[0]!.virtualRoutes;
  const ifindex = (n: string): number | undefined => ({ eth0: 2, eth1: 3 })[n];
  const add = routeRequest(a!, 'add', ifindex);
  assert.equal(add.type, RTM_NEWROUTE);
  assert.equal(add.flags, 0x400, 'NLM_F_CREATE only: ip route prepend');
  // family AF_INET, dst_len 24, src_len 0, tos 0, table RT_TABLE_UNSPEC, RTPROT_KEEPALIVED, RT_SCOPE_UNIVERSE, RTN_UNICAST
  assert.deepEqual([...add.body.subarray(0, 8)], [2, 24, 0, 0, 0, 18, 0, 1]);
  // RTA_TABLE (15) first: len 8, 4000.
  assert.deepEqual([add.body.readUInt16LE(12), add.body.readUInt16LE(14), add.body.readUInt32LE(16)], [8, 15, 4000]);
  const del = routeRequest(b!, 'del', ifindex);
  assert.equal(del.type, RTM_DELROUTE);
  assert.deepEqual([...del.body.subarray(0, 8)], [2, 25, 0, 0, 254, 18, 255, RTN_BLACKHOLE], 'RT_SCOPE_NOWHERE, and the type given');
  const mp = routeRequest(c!, 'add', ifindex).body;
  // RTA_DST (8 bytes) then RTA_MULTIPATH (9): two rtnexthop, hops = weight - 1, ifindex 2 and 3, each with RTA_GATEWAY.
  const at = 12 + 8;
  assert.equal(mp.readUInt16LE(at + 2), 9);
  assert.deepEqual([mp.readUInt16LE(at + 4), mp.readUInt8(at + 7), mp.readInt32LE(at + 8)], [16, 2, 2]);
  assert.deepEqual([mp.readUInt16LE(at + 20), mp.readUInt8(at + 23), mp.readInt32LE(at + 24)], [16, 0, 3]);
  assert.throws(() => routeRequest(a!, 'add', () => undefined), /eth0 does not exist/);
});

test('rule requests: fib_rule_hdr as netlink_rule fills it, FRA_PRIORITY and FRA_PROTOCOL', () => {
  const r = load(instance(`  virtual_rules {
    from 10.0.0.100/32 table 100 priority 100
    not to 198.51.100.0/24 table 300 priority 101
  }
`));
  const [a, b] = r.config.vrrpInstances[0]!.virtualRules;
  const add = ruleRequest(a!, 'add');
  assert.equal(add.type, RTM_NEWRULE);
  assert.equal(add.flags, 0x600, 'NLM_F_CREATE | NLM_F_EXCL');
  // family, dst_len, src_len 32, tos, table 100, res1, res2, FR_ACT_TO_TBL; flags 0
  assert.deepEqual([...add.body.subarray(0, 12)], [2, 0, 32, 0, 100, 0, 0, 1, 0, 0, 0, 0]);
  const hasAttr = (body: Buffer, type: number, value: number): boolean => {
    for (let off = 12; off < body.length; off += (body.readUInt16LE(off) + 3) & ~3) {
      if (body.readUInt16LE(off + 2) === type) return (body.readUInt16LE(off) === 5 ? body.readUInt8(off + 4) : body.readUInt32LE(off + 4)) === value;
    }
    return false;
  };
  assert.ok(hasAttr(add.body, 6, 100), 'FRA_PRIORITY');
  assert.ok(hasAttr(add.body, 21, RTPROT_KEEPALIVED), 'FRA_PROTOCOL');
  const inv = ruleRequest(b!, 'add').body;
  assert.deepEqual([inv.readUInt8(1), inv.readUInt8(4), inv.readUInt32LE(8)], [24, 0, 2], 'FIB_RULE_INVERT; table 300 as FRA_TABLE');
  assert.ok(hasAttr(inv, 15, 300), 'FRA_TABLE');
});
