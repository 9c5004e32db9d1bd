// keepalived 2.2.7's daemon and lvskeeper's on the same config full of numbers with junk after their digits, in twin
// namespaces (test/vrrp/twin-support.ts): where the keyword's handler passes ignore_error both log the same
// `WARNING - invalid number` lines and run with the digits (lib/parser.c read_int_func / read_unsigned_func /
// read_decimal_unsigned_long_func); where it does not (priority), both refuse the value. Under -t both refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { Proc, waitFor } from '../vrrp/netns-support.js';
import { SIDES, Twin, logLines, type Side } from '../vrrp/twin-support.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

function ready(t: Parameters<typeof needRoot>[0]): boolean {
  return needRoot(t) && needCommand(t, 'tcpdump') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)');
}

// version 3x: VRRPv3 (read_int with ignore_error). advert_int 3.00000x: strtoull reads "300000x" µs, 0.3 s.
// garp_master_repeat 2x: two GARPs. The VIP's /24x: /24 (parse_ipaddress's read_unsigned). priority 150x:
// vrrp_prio_handler passes no ignore_error, so 100 stays, with the handler's own line.
const VRRP = [
  'vrrp_instance VI_1 {',
  '  state MASTER',
  '  interface eth0',
  '  virtual_router_id 51',
  '  priority 150x',
  '  version 3x',
  '  advert_int 3.00000x',
  '  garp_master_delay 0',
  '  garp_master_repeat 2x',
  '  virtual_ipaddress {',
  '    10.0.0.100/24x',
  '  }',
  '}',
  '',
].join('\n');

// real_server weight 3x: weight 3; quorum, the checker's retry and connect_timeout: taken with their warnings.
const LVS = [
  'virtual_server 203.0.113.10 80 {',
  '  delay_loop 5',
  '  lb_algo rr',
  '  lb_kind DR',
  '  protocol TCP',
  '  quorum 1x',
  '  real_server 203.0.113.2 80 {',
  '    weight 3x',
  '    TCP_CHECK {',
  '      retry 2x',
  '      connect_timeout 2x',
  '    }',
  '  }',
  '}',
  '',
].join('\n');

/** A config line's messages, `LINE: message`, from keepalived's `(FILE: Line N) message` or lvskeeper's `FILE:N: message`. */
function configLines(log: string): string[] {
  const out = new Set<string>();
  for (const l of logLines(log, /Line \d+\) |\.conf:\d+: /)) {
    const m = /\((?:\S+: )?Line (\d+)\) (.*)$/.exec(l) ?? /\.conf:(\d+): (.*)$/.exec(l);
    if (m) out.add(`${m[1]}: ${m[2]}`);
  }
  return [...out].sort();
}

test("the daemons on numbers with junk: the same WARNING lines, and both run VRRP with the digits keepalived's daemon takes", { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('nr');
  try {
    const conf = twin.writeConfig(VRRP);
    const p0 = { ka: await twin.capture('ka', 'p0', 'arp or proto 112'), lk: await twin.capture('lk', 'p0', 'arp or proto 112') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const adverts = (side: Side): string[] => p0[side].lines.filter((l) => /VRRP/.test(l));
    for (const side of SIDES) {
      assert.ok(await waitFor(() => logLines(procs[side].log, /Entering MASTER STATE/).length > 0, 15_000), `${side} never MASTER:\n${procs[side].log}`);
      assert.ok(await waitFor(() => adverts(side).length >= 4 && p0[side].garps('10.0.0.100').length >= 2, 5000), `${side}:\n${p0[side].lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    const expected = [
      "11: WARNING - invalid number '24x'",
      '5: (VI_1) Priority not valid! must be between 1 & 255. Using default 100',
      "5: invalid number '150x'",
      "6: WARNING - invalid number '3x'",
      "7: WARNING - invalid number '3.00000x'",
      "9: WARNING - invalid number '2x'",
    ];
    for (const side of SIDES) {
      assert.deepEqual(configLines(procs[side].log), expected, `${side}:\n${procs[side].log}`);
      assert.deepEqual(twin.addrs(side, 'eth0'), ['10.0.0.1/24', '10.0.0.100/24'], side);
      // tcpdump: "VRRPv3, Advertisement, vrid 51, prio 100, intvl 30cs, length 12".
      for (const a of adverts(side)) assert.match(a, /VRRPv3, Advertisement, vrid 51, prio 100, intvl 30cs/, side);
      assert.equal(p0[side].garps('10.0.0.100').length, 2, `${side}: garp_master_repeat 2x is 2:\n${p0[side].lines.join('\n')}`);
    }
  } finally {
    await twin.destroy();
  }
});

test('the checker side on numbers with junk: the same WARNING lines, and the real server installed with the digits', { timeout: 60_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('nc');
  const procs: Proc[] = [];
  try {
    const conf = twin.writeConfig(LVS);
    const start = (side: Side): Proc => {
      const f = (name: string): string => join(twin.dir, `${side}-${name}`);
      const args = side === 'ka'
        ? ['/usr/sbin/keepalived', '-n', '-l', '-D', '-C', '-f', conf, '-p', f('pid'), '-c', f('chk.pid')]
        : [process.execPath, join(repoRoot, 'dist/bin/lvskeeper.js'), '-C', '-n', '-l', '-D', '--ipvs-driver', 'dry-run', '-f', conf,
          '-p', f('pid'), '-c', f('chk.pid'), '--control-socket', f('sock'), '--state-file', f('state.json')];
      const p = new Proc(spawn('ip', ['netns', 'exec', twin.ns(side), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), f('log'));
      procs.push(p);
      return p;
    };
    const ka = start('ka');
    const lk = start('lk');
    // This host has no IPVS: keepalived's checker process stops at "Initializing ipvs", after reading the config.
    assert.ok(await waitFor(() => /Initializing ipvs/.test(ka.log), 15_000), ka.log);
    assert.ok(await waitFor(() => /IPVS op: ipvsadm -a -t 203\.0\.113\.10:80 -r 203\.0\.113\.2:80/.test(lk.log), 15_000), lk.log);
    const expected = [
      "10: WARNING - invalid number '2x'",
      "11: WARNING - invalid number '2x'",
      "6: WARNING - invalid number '1x'",
      "8: WARNING - invalid number '3x'",
    ];
    assert.deepEqual(configLines(ka.log), expected, ka.log);
    assert.deepEqual(configLines(lk.log), expected, lk.log);
    assert.match(lk.log, /IPVS op: ipvsadm -a -t 203\.0\.113\.10:80 -r 203\.0\.113\.2:80 -g -w 3\b/);
  } finally {
    for (const p of procs) p.killHard();
    await Promise.all(procs.map((p) => p.exited()));
    await twin.destroy();
  }
});

test('-t on the same configs: keepalived 2.2.7 and lvskeeper refuse the same numbers, with the same lines and status', (t) => {
  withConfigTestNamespace(t, 'lvskp-nrt', (inNs) => assert.deepEqual(dashTDifferences(inNs, [['VRRP', VRRP], ['LVS', LVS]]), []));
});
