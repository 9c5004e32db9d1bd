// keepalived 2.2.7 reads a number differently when its daemon runs than under `-t` (lib/parser.c read_int_func,
// read_unsigned_func, read_decimal_unsigned_long_func): where the keyword's handler passes ignore_error, the daemon
// takes the digits before any junk with a `WARNING - ` line, `-t` refuses them. lvskeeper's daemon reads the config
// with `daemon: true`; these tests hold both readings to keepalived's, and `-t`'s to keepalived -t itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, UNIMPLEMENTED_PREFIX } from '../../src/config/load.js';
import type { Config } from '../../src/config/model.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

function read(text: string, daemon: boolean): { config: Config; lines: string[] } {
  const r = parseConfigText(text, { daemon });
  return { config: r.config, lines: r.diagnostics.filter((d) => !d.message.startsWith(UNIMPLEMENTED_PREFIX)).map((d) => `${d.line}: ${d.message}`) };
}

const instance = (lines: string): string =>
  `vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority 100\n${lines} virtual_ipaddress {\n  192.0.2.100\n }\n}\n`;

const service = (inRs: string, inVs = ''): string =>
  `virtual_server 192.0.2.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n${inVs} real_server 192.0.2.11 80 {\n${inRs} }\n}\n`;

test('ignore_error: the daemon takes the digits before junk with a WARNING line, -t refuses them', () => {
  const text = instance(' version 3x\n garp_master_repeat 7x\n') + service('  weight 3x\n  uthreshold 40x\n');
  const daemon = read(text, true);
  assert.deepEqual(daemon.lines, [
    "17: WARNING - invalid number '3x'",
    "18: WARNING - invalid number '40x'",
    "6: WARNING - invalid number '3x'",
    "7: WARNING - invalid number '7x'",
  ]);
  const inst = daemon.config.vrrpInstances[0]!;
  assert.equal(inst.version, 3);
  assert.equal(inst.garpMasterRepeat, 7);
  const rs = daemon.config.virtualServers[0]!.realServers[0]!;
  assert.equal(rs.weight, 3);
  assert.equal(rs.uthreshold, 40);

  const t = read(text, false);
  assert.deepEqual(t.lines, [
    "17: invalid number '3x'",
    '17: Real server weight 3x is outside range 0-2147483647',
    "18: invalid number '40x'",
    "18: Invalid real_server uthreshold '40x' - ignoring",
    "6: invalid number '3x'",
    '6: (VI_1): Version must be either 2 or 3',
    "7: invalid number '7x'",
    "7: (VI_1): garp_master_repeat '7x' invalid - ignoring",
  ]);
  assert.equal(t.config.vrrpInstances[0]!.version, 2);
  assert.equal(t.config.vrrpInstances[0]!.garpMasterRepeat, 5);
  assert.equal(t.config.virtualServers[0]!.realServers[0]!.weight, 1);
});

test('ignore_error: what the daemon still refuses, and which lines carry WARNING', () => {
  // read_int_func: junk before a value out of range is refused; its range line never has the prefix.
  // read_unsigned_func: its range line has it, the value is refused all the same; '-0' is 0, taken.
  const text = instance(' version 30x\n down_timer_adverts 200\n garp_lower_prio_repeat -0\n') + service('  weight 9\n');
  const daemon = read(text, true);
  assert.deepEqual(daemon.lines, [
    "6: WARNING - invalid number '30x'",
    '6: (VI_1): Version must be either 2 or 3',
    "7: WARNING - number '200' outside range [1, 100]",
    "7: (VI_1): Invalid down_timer_adverts [1:100] '200'",
    "8: WARNING - negative number '-0'",
  ]);
  assert.equal(daemon.config.vrrpInstances[0]!.garpLowerPrioRepeat, 0);
  const version5 = read(instance(' version 5\n'), true);
  assert.deepEqual(version5.lines, ["6: number '5' outside range [2, 3]", '6: (VI_1): Version must be either 2 or 3']);
});

test('handlers that pass no ignore_error refuse junk in the daemon too, without WARNING', () => {
  // vrrp_parser.c vrrp_prio_handler, vrrp_vrid_handler: read_unsigned_strvec(..., false).
  const daemon = read(instance(' priority 150x\n'), true);
  assert.deepEqual(daemon.lines, ["6: invalid number '150x'", '6: (VI_1) Priority not valid! must be between 1 & 255. Using default 100']);
  assert.equal(daemon.config.vrrpInstances[0]!.priority, 100);
});

test('timers (read_decimal_unsigned_long_func): digits before junk unpadded, rounding past 6 decimals, taken at -t too when in range', () => {
  const text = instance(' version 3\n advert_int 1.00000x\n preempt_delay 1.0000009\n') + service('  connect_timeout 2x\n  delay_loop 3\n', ' delay_loop 1x\n');
  for (const daemon of [false, true]) {
    const w = daemon ? 'WARNING - ' : '';
    const r = read(text, daemon);
    assert.deepEqual(r.lines, [
      `17: ${w}invalid number '1x'`,
      `19: ${w}invalid number '2x'`,
      `7: ${w}invalid number '1.00000x'`,
      `8: ${w}number '1.0000009' has too many decimal places`,
    ], daemon ? 'daemon' : '-t');
    const inst = r.config.vrrpInstances[0]!;
    // '1.00000x' is strtoull("100000x") µs: 0.1 s; 1.0000009 rounds up to 1.000001 s.
    assert.equal(inst.advertIntMs, 100);
    assert.equal(inst.preemptDelayMs, 1000.001);
    const vs = r.config.virtualServers[0]!;
    assert.equal(vs.delayLoopMs, 0.001);
    assert.equal(vs.realServers[0]!.connectTimeoutMs, 0.002);
  }
  // '1x' is 1 µs, below advert_int's 10 ms: refused by both, the daemon's line with WARNING.
  assert.deepEqual(read(instance(' advert_int 1x\n'), true).lines, [
    "6: WARNING - invalid number '1x'",
    '6: (VI_1) Advert interval (1x) not valid! Must be > 0 - ignoring',
  ]);
});

test('global_defs scheduling numbers: the daemon keeps the digits it takes (get_priority, get_rt_rlimit, get_cpu_affinity, get_realtime_priority)', () => {
  const text = 'global_defs {\n vrrp_priority -5x\n checker_rlimit_rttime 20000x\n vrrp_cpu_affinity 0x\n checker_cpu_affinity 0 x 0\n vrrp_rt_priority 150x\n}\n';
  const daemon = read(text, true);
  assert.deepEqual(daemon.lines, [
    "2: WARNING - invalid number '-5x'",
    "3: WARNING - invalid number '20000x'",
    "4: WARNING - invalid number '0x'",
    "5: WARNING - invalid number 'x'",
    "6: WARNING - invalid number '150x'",
    '6: vrrp process real-time priority 150 greater than maximum 99 - setting to maximum',
  ]);
  // strtol reads nothing from 'x': 0, a CPU this host has.
  const other = daemon.config.global.other;
  assert.deepEqual([other['vrrp_priority'], other['checker_rlimit_rttime'], other['vrrp_cpu_affinity'], other['checker_cpu_affinity'], other['vrrp_rt_priority']],
    ['-5', '20000', '0', '0 0 0', '99']);
  const t = read(text, false);
  assert.deepEqual(t.lines, [
    "2: invalid number '-5x'",
    '2: Invalid vrrp process priority specified',
    "3: invalid number '20000x'",
    "3: Invalid checker real-time limit - 20000x",
    "4: invalid number '0x'",
    '4: Invalid cpu_id:0 specified for vrrp process',
    "5: invalid number 'x'",
    '5: Invalid cpu_id:0 specified for checker process',
    "6: invalid number '150x'",
    "6: vrrp process real-time priority '150x' invalid",
  ]);
  assert.deepEqual([t.config.global.other['vrrp_priority'], t.config.global.other['vrrp_cpu_affinity']], [undefined, undefined]);
});

test('a number read with ignore_error under -t: keepalived 2.2.7 -t lines and status', (t) => {
  const cases: [string, string][] = [];
  for (const value of ['5x', '-0', '0', '300x', '5000', '1.00000x', '1.0000009', ' 7', '+3', 'x', '99999999999']) {
    const q = `"${value}"`;
    cases.push([`version ${value}`, instance(` version ${q}\n`)]);
    cases.push([`advert_int ${value}`, instance(` version 3\n advert_int ${q}\n`)]);
    cases.push([`garp_master_refresh_repeat ${value}`, instance(` garp_master_refresh_repeat ${q}\n`)]);
    cases.push([`real_server weight ${value}`, service(`  weight ${q}\n`)]);
    cases.push([`quorum ${value}`, service('', ` quorum ${q}\n`)]);
    cases.push([`vrrp_version ${value}`, `global_defs {\n vrrp_version ${q}\n vrrp_down_timer_adverts ${q}\n vrrp_garp_lower_prio_repeat ${q}\n smtp_connect_timeout ${q}\n}\n`]);
    cases.push([`garp delays and repeats, vrrp_script interval ${value}`,
      `global_defs {\n vrrp_garp_master_delay ${q}\n vrrp_garp_lower_prio_delay ${q}\n vrrp_garp_master_refresh_repeat ${q}\n}\n` +
      `vrrp_script chk {\n script /bin/true\n interval ${q}\n timeout ${q}\n}\n` +
      instance(` garp_master_delay ${q}\n garp_lower_prio_delay ${q}\n garp_master_repeat ${q}\n garp_lower_prio_repeat ${q}\n`)]);
    cases.push([`vrrp_priority ${value}`, `global_defs {\n vrrp_priority ${q}\n checker_rt_priority ${q}\n vrrp_cpu_affinity 0 ${q} 0 ${q}\n}\n`]);
  }
  withConfigTestNamespace(t, 'lvskp-numrd', (inNs) => assert.deepEqual(dashTDifferences(inNs, cases), []));
});
