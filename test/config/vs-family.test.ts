// A virtual server's address family as keepalived 2.2.7 settles it while reading, in config order (check_parser.c
// ip_family_handler, pgr_handler, rs_end_handler, vs_end_handler; ipwrapper.c link_vsg_to_vs): found by the
// generated differential in the IPVS VM, where `persistence_granularity 24` made keepalived drop a group of IPv4
// addresses and lvskeeper install it. Lines and status beside `keepalived -t`, then what is left to install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, parseConfigText } from '../../src/config/load.js';
import { withConfigTestNamespace } from '../support/config-test-ns.js';

const rs = (addr: string): string => `  real_server ${addr} 80 {\n    weight 1\n  }\n`;

const CONFIG = `virtual_server_group g4 {
  10.100.0.10-12 8443
}
virtual_server group g4 {
  lb_algo rr
  lb_kind TUN
  protocol TCP
  persistence_granularity 24
${rs('10.200.0.1')}}
virtual_server_group g6 {
  10.100.1.10 80
}
virtual_server group g6 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  persistence_granularity 255.255.255.0
${rs('10.200.1.1')}}
virtual_server fwmark 5 {
  lb_algo rr
  lb_kind NAT
  persistence_granularity 64
${rs('10.200.0.2')}${rs('10.200.0.3')}}
virtual_server fwmark 6 {
  lb_algo rr
  lb_kind NAT
${rs('10.200.0.4')}  ip_family inet6
  sorry_server 2001:db8::1 80
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind TUN
${rs('2001:db8::7')}}
virtual_server fwmark 8 {
  lb_algo rr
  lb_kind NAT
  persistence_granularity 255.255.0.0
${rs('10.200.0.8')}}
`;

test('VS family in config order: keepalived -t lines and status, then the services left', (t) => {
  const r = parseConfigText(CONFIG, { file: 'family.conf' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  withConfigTestNamespace(t, 'lvskp-family', (inNs) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskp-family-'));
    try {
      const file = join(dir, 'keepalived.conf');
      writeFileSync(file, CONFIG);
      const ka = inNs('keepalived', ['-t', '-f', file]);
      // Sorted: keepalived reports `has no real servers` from validate_check_config once every block is read,
      // lvskeeper as the block closes.
      assert.deepEqual(errors.sort(), ka.stderr.split('\n').filter(Boolean).map((l) => l.replace(/^\([^)]*Line \d+\) /, '')).sort());
      assert.equal(exitCodeFor(r.diagnostics), ka.status);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  // link_vsg_to_vs: the granularity without a dot made g4's virtual server IPv6; the checker drops it as it starts.
  assert.ok(r.diagnostics.some((d) => d.severity === 'warning' && d.message === "g4: address family doesn't match virtual server [g4]:0 - ignoring"));
  const keys = r.config.virtualServers.map((vs) => (vs.key.kind === 'fwmark' ? `fwmark ${vs.key.fwmark} ${vs.key.family}` : vs.key.kind === 'group' ? `group ${vs.key.name}` : 'ip'));
  // fwmark 5 lost both its IPv4 servers to the IPv6 granularity and goes; 6 keeps its server and drops the sorry
  // server; 7's tunnelled IPv6 server gives it its family; 8 is IPv4 by its dotted granularity.
  assert.deepEqual(keys, ['group g6', 'fwmark 6 inet', 'fwmark 7 inet6', 'fwmark 8 inet']);
  assert.equal(r.config.virtualServers[1]?.sorryServer, undefined);
});
