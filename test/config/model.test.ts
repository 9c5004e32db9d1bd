// Fixture configs → resolved model: defaults, inheritance and keepalived's corrections, asserted field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor, loadConfig as loadAll, parseConfigText as parseAll, UNIMPLEMENTED_PREFIX } from '../../src/config/load.js';
import { repoRoot } from '../support/tier.js';
import type { Config, Diagnostic, HttpChecker, MiscChecker, PingChecker, SmtpChecker, UdpChecker } from '../../src/config/model.js';

const fixture = (name: string): string => `${repoRoot}test/fixtures/conf/${name}`;

/**
 * keepalived's own lines only: what lvskeeper does not implement is named in lines of its own, asserted in
 * unimplemented.test.ts.
 */
function keepalivedLines<T extends { diagnostics: Diagnostic[] }>(r: T): T {
  return { ...r, diagnostics: r.diagnostics.filter((d) => !d.message.startsWith(UNIMPLEMENTED_PREFIX)) };
}
const loadConfig = (...a: Parameters<typeof loadAll>): ReturnType<typeof loadAll> => keepalivedLines(loadAll(...a));
const parseConfigText = (...a: Parameters<typeof parseAll>): ReturnType<typeof parseAll> => keepalivedLines(parseAll(...a));

function load(name: string, configId = 'lvskp-a'): { config: Config; diagnostics: Diagnostic[]; messages: string[] } {
  const r = loadConfig(fixture(name), { configId, checkInterfaces: false });
  return { ...r, messages: r.diagnostics.map((d) => d.message) };
}

test('MASTER side: globals, weighted vrrp_script, auth truncated to 8, notify scripts split into argv', () => {
  const { config, diagnostics, messages } = load('vrrp-master.conf');
  const g = config.global;
  assert.equal(g.routerId, 'lb-a');
  assert.deepEqual(g.notificationEmail, ['ops@example.com', 'noc@example.com']);
  assert.deepEqual(g.smtpServer, { host: '192.0.2.25', port: 2525 });
  assert.equal(g.smtpConnectTimeoutMs, 10_000);
  assert.equal(g.enableScriptSecurity, true);
  assert.equal(g.scriptUser, 'root');
  const [s] = config.vrrpScripts;
  assert.deepEqual(s?.script.argv, ['/bin/true', '--check', 'two words']);
  assert.deepEqual([s?.intervalMs, s?.timeoutMs, s?.weight, s?.rise, s?.fall], [2000, 3000, -20, 2, 3]);
  const [vi] = config.vrrpInstances;
  assert.ok(vi);
  assert.deepEqual([vi.initialState, vi.interface, vi.vrid, vi.priority, vi.advertIntMs, vi.version], ['MASTER', 'eth0', 51, 150, 1000, 2]);
  // src: where auth_type was read, for the line refusing AH at start (config/start-refusals.ts).
  assert.deepEqual(vi.authentication, { type: 'PASS', pass: 's3cretpa', src: { file: fixture('vrrp-master.conf'), line: 31 } });
  assert.deepEqual(vi.virtualIpaddresses.map((v) => [v.address, v.prefixLen, v.dev, v.label]), [
    ['192.0.2.100', 24, 'eth0', 'eth0:1'],
    ['192.0.2.101', 32, undefined, undefined],
  ]);
  assert.deepEqual(vi.trackScripts, [{ name: 'chk_web', reverse: false }]);
  assert.deepEqual(vi.notify.master?.argv, ['/bin/echo', 'master']);
  assert.deepEqual(vi.notify.generic?.argv, ['/bin/echo']);
  assert.equal(vi.preempt, true);
  assert.equal(vi.mcastDstIp, '224.0.0.18');
  assert.deepEqual([vi.garpMasterDelayMs, vi.garpMasterRepeat, vi.garpLowerPrioDelayMs], [5000, 5, 5000]);
  assert.deepEqual(messages, ['Truncating auth_pass to 8 characters']);
  assert.equal(diagnostics[0]?.line, 32);
  assert.equal(exitCodeFor(diagnostics), 5);
});

test('BACKUP side: nopreempt, unicast peers with TTLs, per-instance garp defaults from globals, own interface not tracked', () => {
  const { config, messages } = load('vrrp-backup.conf');
  const vi = config.vrrpInstances[0]!;
  assert.equal(vi.preempt, false);
  assert.equal(vi.advertIntMs, 2000);
  assert.equal(vi.unicastSrcIp, '192.0.2.2');
  assert.deepEqual(vi.unicastPeers, [{ address: '192.0.2.1' }, { address: '192.0.2.3', minTtl: 250, maxTtl: 255 }]);
  assert.deepEqual([vi.garpMasterDelayMs, vi.garpMasterRepeat, vi.garpLowerPrioRepeat], [2000, 3, 3]);
  assert.deepEqual(vi.trackScripts, [{ name: 'chk_web', weight: 10, reverse: true }]);
  assert.deepEqual(vi.trackInterfaces, []);
  assert.deepEqual(messages, ['(VI_1) Ignoring track_interface eth0 since own interface']);
});

test('dual master, v3 centisecond adverts, owner priority clears nopreempt, sync group membership', () => {
  const { config, messages } = load('dual-master.conf');
  const [a, b, c, d] = config.vrrpInstances;
  assert.deepEqual([a?.initialState, a?.priority, b?.initialState, b?.priority], ['MASTER', 200, 'BACKUP', 100]);
  assert.deepEqual([c?.version, c?.advertIntMs, c?.family, c?.priority, c?.initialState], [3, 500, 'inet', 100, 'BACKUP']);
  assert.deepEqual(c?.virtualIpaddressesExcluded.map((v) => [v.family, v.address, v.prefixLen]), [['inet6', '2001:db8::12', 64]]);
  assert.deepEqual([d?.priority, d?.initialState, d?.preempt], [255, 'MASTER', true]);
  assert.deepEqual(config.vrrpSyncGroups.map((g) => [g.name, g.members]), [['SG_1', ['VI_C', 'VI_D']]]);
  assert.deepEqual([c?.syncGroup, a?.syncGroup], ['SG_1', undefined]);
  assert.deepEqual(messages, ['(VI_D) nopreempt is incompatible with priority 255. resetting nopreempt']);
});

test('LVS-DR: timer inheritance VS → RS → checker, per-type defaults, DR port reset, digest, sorry server', () => {
  const { config, messages } = load('lvs-dr.conf');
  const vs = config.virtualServers[0]!;
  assert.equal(vs.displayName, '[192.0.2.10]:tcp:80');
  assert.deepEqual([vs.lbAlgo, vs.lbKind, vs.protocol, vs.persistenceTimeoutS, vs.delayLoopMs, vs.quorum, vs.hysteresis], ['wrr', 'DR', 'tcp', 50, 6000, 2, 1]);
  assert.deepEqual(vs.sorryServer && [vs.sorryServer.address, vs.sorryServer.port, vs.sorryServer.forward], ['192.0.2.250', 80, 'DR']);
  const [r1, r2, r3] = vs.realServers;
  assert.deepEqual([r1?.displayName, r1?.weight, r2?.displayName, r2?.inhibitOnFailure, r3?.port], ['[192.0.2.21]:tcp:80', 3, '[192.0.2.22]:tcp:80', true, 80]);
  const http = r1!.checkers[0] as HttpChecker;
  assert.equal(http.type, 'HTTP_GET');
  assert.deepEqual([http.retry, http.delayBeforeRetryMs, http.connectTimeoutMs, http.delayLoopMs, http.warmupMs], [4, 2000, 3000, 6000, 6000]);
  assert.deepEqual(http.urls.map((u) => [u.path, u.digest, u.statusCodes]), [
    ['/health', '9b3a0c85a887a256d6939da88aabd8cd', [[200, 299]]],
    ['/status', undefined, [[200, 200], [301, 302]]],
  ]);
  assert.equal(http.virtualhost, 'www.example.com');
  assert.deepEqual([http.connectIp, http.connectPort, http.httpProtocol], ['192.0.2.21', 80, '1.0']);
  const [tcp, misc] = r2!.checkers;
  assert.deepEqual([tcp?.type, tcp && 'connectPort' in tcp ? tcp.connectPort : 0], ['TCP_CHECK', 22]);
  assert.deepEqual(tcp && 'retry' in tcp ? [tcp.retry, tcp.delayBeforeRetryMs] : [], [1, 1000]);
  const m = misc as MiscChecker;
  assert.deepEqual([m.miscPath.argv, m.miscTimeoutMs, m.miscDynamic, m.retry, m.delayBeforeRetryMs], [['/bin/true', '-x'], 5000, true, 0, 1000]);
  const ssl = r3!.checkers[0] as HttpChecker;
  assert.deepEqual([ssl.type, ssl.httpProtocol, ssl.enableSni, ssl.delayBeforeRetryMs], ['SSL_GET', '1.1', true, 3000]);
  assert.deepEqual(r3!.notifyUp?.argv, ['/bin/echo', 'up']);
  assert.deepEqual(messages, [
    "WARNING - virtual server [192.0.2.10]:tcp:80 and real server [192.0.2.22]:tcp:8080 ports don't match - resetting",
    "WARNING - virtual server [192.0.2.10]:tcp:80 and sorry server ports don't match - resetting",
  ]);
});

test('virtual_server_group ranges, fwmark RS port cleared, IPv6 TUN, UDP ops with NAT default port', () => {
  const { config, messages } = load('lvs-groups.conf');
  const [grp] = config.virtualServerGroups;
  assert.deepEqual(grp?.entries.map((e) => (e.kind === 'range' ? [e.first, e.last, e.port] : [e.fwmark])), [
    ['192.0.2.30', '192.0.2.35', 80],
    ['192.0.2.64', '192.0.2.67', 80],
    [7],
  ]);
  const [g, fw, v6, dns] = config.virtualServers;
  assert.deepEqual([g?.displayName, g?.key], ['[WEB]:0', { kind: 'group', name: 'WEB' }]);
  assert.deepEqual([fw?.displayName, fw?.persistenceTimeoutS, fw?.realServers[0]?.port], ['FWM 42', 360, 0]);
  assert.deepEqual([v6?.displayName, v6?.lbKind, v6?.tunnel, v6?.realServers[0]?.displayName], ['[2001:db8::10]:tcp:443', 'TUN', { type: 'gre' }, '[2001:db8::21]:tcp:443']);
  assert.deepEqual([dns?.protocol, dns?.ops, dns?.realServers[0]?.port], ['udp', true, 53]);
  const d = dns?.realServers[0]?.checkers[0];
  assert.deepEqual(d?.type === 'DNS_CHECK' ? [d.queryType, d.name, d.retry, d.delayBeforeRetryMs] : [], ['A', 'example.com', 3, 60_000]);
  assert.deepEqual(messages, ['WARNING - fwmark virtual server FWM 42, real server [192.0.2.41]:none:80 has port specified - clearing']);
});

test('a DR group member on another port is named as check_data.c format_vsge writes it: ADDR[-END],PORT', () => {
  // Found by the generated differential in the VM: lvskeeper wrote ADDR:PORT, keepalived 2.2.7 writes a comma.
  const text = 'virtual_server_group grp {\n  10.100.66.10 8080\n  10.100.66.20-21 81\n}\n' +
    'virtual_server group grp {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 10.200.66.2 80 {\n  }\n}\n' +
    'virtual_server_group grp6 {\n  2001:db8::30-31 82\n}\n' +
    'virtual_server group grp6 {\n  lb_algo rr\n  lb_kind TUN\n  protocol TCP\n  real_server 2001:db8::2 80 {\n  }\n}\n';
  const { diagnostics } = parseConfigText(text, { file: '/etc/keepalived/keepalived.conf' });
  assert.deepEqual(diagnostics.map((d) => d.message), [
    "virtual server [grp]:0:[10.100.66.10,8080] and real server [10.200.66.2]:tcp:80 ports don't match",
    "virtual server [grp]:0:[10.100.66.20-10.100.66.21,81] and real server [10.200.66.2]:tcp:80 ports don't match",
    "virtual server [grp6]:0:[2001:db8::30-2001:db8::31,82] and real server [2001:db8::2]:tcp:80 ports don't match",
  ]);
});

test("a group's port warnings in keepalived 2.2.7's order: every server against the fwmarks, then each address entry (sorry server last)", () => {
  // Found by the generated differential in the VM; the list is keepalived -t's output for this config.
  const text = 'virtual_server_group grp {\n  10.100.66.10 8080\n  fwmark 7\n  10.100.66.20-21 81\n}\n' +
    'virtual_server group grp {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  sorry_server 10.201.0.1 90\n' +
    '  real_server 10.200.66.2 80 {\n  }\n  real_server 10.200.66.3 81 {\n  }\n}\n';
  const { diagnostics } = parseConfigText(text, { file: '/etc/keepalived/keepalived.conf' });
  assert.deepEqual(diagnostics.map((d) => d.message), [
    'WARNING - fwmark virtual server [grp]:0, real server [10.200.66.2]:tcp:80 has port specified - port will be ignored',
    'WARNING - fwmark virtual server [grp]:0, real server [10.200.66.3]:tcp:81 has port specified - port will be ignored',
    'WARNING - fwmark virtual server [grp]:0, sorry server has port specified - port will be ignored',
    "virtual server [grp]:0:[10.100.66.10,8080] and real server [10.200.66.2]:tcp:80 ports don't match",
    "virtual server [grp]:0:[10.100.66.10,8080] and real server [10.200.66.3]:tcp:81 ports don't match",
    'WARNING - virtual server [grp]:0, sorry server has port specified - port will be ignored',
    "virtual server [grp]:0:[10.100.66.20-10.100.66.21,81] and real server [10.200.66.2]:tcp:80 ports don't match",
    'WARNING - virtual server [grp]:0, sorry server has port specified - port will be ignored',
  ]);
});

test('every checker type, track_file, VS retry inherited by checkers', () => {
  const { config, diagnostics } = load('checkers.conf');
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(config.trackFiles.map((t) => [t.name, t.file, t.weight, t.reverse, t.initFile]), [
    ['tf_web', '/var/run/lvskp-weight', 2, true, { value: 5, overwrite: true }],
  ]);
  const cs = config.virtualServers[0]!.realServers[0]!.checkers;
  assert.deepEqual(cs.map((c) => c.type), ['SMTP_CHECK', 'UDP_CHECK', 'FILE_CHECK', 'BFD_CHECK', 'DNS_CHECK']);
  const [smtp, udp, file, bfd, dns] = cs;
  assert.deepEqual(smtp?.type === 'SMTP_CHECK' ? [smtp.heloName, smtp.retry, smtp.delayLoopMs] : [], ['mx.example.com', 2, 10_000]);
  assert.deepEqual(udp?.type === 'UDP_CHECK' ? [udp.connectPort, udp.payload, udp.requireReply, udp.minReplyLength, udp.maxReplyLength] : [], [9999, '0a0b', '0aXX', 0, 64]);
  assert.deepEqual(file, { src: file?.src, type: 'FILE_CHECK', trackFile: 'tf_web', weight: 3, reverse: false });
  assert.deepEqual(bfd?.type === 'BFD_CHECK' ? [bfd.name, bfd.alpha] : [], ['bfd_web', false]);
  assert.deepEqual(dns?.type === 'DNS_CHECK' ? [dns.queryType, dns.name, dns.retry, dns.delayBeforeRetryMs] : [], ['SOA', '.', 2, 10_000]);
});

test('global_defs: every modelled keyword and derived defaults', () => {
  const { config, diagnostics } = load('global-full.conf');
  assert.deepEqual(diagnostics, []);
  const g = config.global;
  assert.deepEqual(
    [g.smtpHeloName, g.smtpAlert, g.smtpAlertVrrp, g.smtpAlertChecker, g.noEmailFaults, g.checkerLogAllFailures],
    ['helo.example.com', true, false, true, true, true],
  );
  assert.deepEqual([g.vrrpMcastGroup4, g.vrrpMcastGroup6], ['224.0.0.19', 'ff02::13']);
  assert.deepEqual(
    [g.vrrpGarpMasterDelayMs, g.vrrpGarpMasterRepeat, g.vrrpGarpMasterRefreshMs, g.vrrpGarpMasterRefreshRepeat, g.vrrpGarpLowerPrioDelayMs, g.vrrpGarpLowerPrioRepeat],
    [3000, 2, 60_000, 2, 1000, 2],
  );
  assert.deepEqual([g.vrrpGarpIntervalMs, g.vrrpGnaIntervalMs, g.vrrpMinGarp, g.vrrpVersion, g.vrrpStartupDelayMs, g.vrrpDownTimerAdverts], [1, 500, true, 3, 5500, 4]);
  assert.deepEqual([g.vrrpCheckUnicastSrc, g.vrrpSkipCheckAdvAddr, g.vrrpLowerPrioNoAdvert, g.vrrpHigherPrioSendAdvert], [true, true, true, true]);
  assert.deepEqual([g.lvsFlush, g.lvsFlushOnStop, g.lvsTimeouts], [true, 'vs', { tcpS: 900, tcpFinS: 120, udpS: 300 }]);
  assert.deepEqual({ ...g.lvsSyncDaemon, src: undefined }, { interface: 'eth0', instance: 'VI_1', syncId: 5, raw: 'eth0 VI_1 id 5', src: undefined });
  assert.deepEqual([g.rsInitNotifies, g.defaultInterface, g.dynamicInterfaces], [true, 'eth0', true]);
  assert.deepEqual(g.other, { enable_snmp_vrrp: '', max_auto_priority: '50' });
});

test('includes, variables, @id and generators resolve into the model', () => {
  const a = load('advanced/main.conf', 'lvskp-a');
  const vi = a.config.vrrpInstances[0]!;
  assert.deepEqual([vi.name, vi.initialState, vi.priority], ['VI_lvskp-a', 'MASTER', 200]);
  assert.deepEqual(vi.virtualIpaddresses.map((v) => v.address), ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.10', '192.0.2.20']);
  assert.deepEqual(vi.virtualIpaddressesExcluded.map((v) => v.address), ['2001:db8::a', '2001:db8::c', '2001:db8::e']);
  assert.deepEqual(a.config.virtualServers[0]?.realServers.map((r) => r.address), ['192.0.2.91', '192.0.2.10', '192.0.2.12', '192.0.2.14']);
  assert.equal(a.config.global.routerId, 'lvskp-a');
  assert.equal(a.config.global.notificationEmailFrom, 'a#b@example.com');
  assert.equal(a.config.files.length, 5);
  const b = load('advanced/main.conf', 'other-node');
  assert.deepEqual([b.config.vrrpInstances[0]?.initialState, b.config.vrrpInstances[0]?.priority], ['BACKUP', 100]);
});

test('keepalived corrections: missing lb_algo/lb_kind/protocol, duplicate RS, quorum and hysteresis clamps, VS without RS', () => {
  const { config, diagnostics } = load('bad-lvs.conf');
  assert.equal(exitCodeFor(diagnostics), 5);
  assert.deepEqual(config.virtualServers.map((v) => v.displayName), ['[192.0.2.10]:udp:80', '[192.0.2.12]:tcp:0']);
  const [a, b] = config.virtualServers;
  assert.deepEqual([a?.lbAlgo, a?.lbKind, a?.protocol, a?.realServers.length, a?.realServers[0]?.port], ['wlc', 'NAT', 'udp', 1, 8080]);
  assert.deepEqual([b?.quorum, b?.hysteresis, b?.persistenceTimeoutS, b?.realServers[0]?.port], [2, 1, 360, 0]);
  assert.ok(diagnostics.every((d) => d.severity === 'error'));
});

test('a VRID out of range leaves it unset: chk_min_cfg stops the VRRP side at VI_1, VI_2 is never reported; script without security is rc 6', () => {
  const v = load('bad-vrrp.conf');
  assert.deepEqual(v.config.vrrpInstances, []);
  assert.deepEqual(v.messages, [
    "number '300' outside range [1, 255]", "(VI_1): VRID '300' not valid - must be between 1 & 255", 'Truncating auth_pass to 8 characters',
    '(VI_1) the virtual router id must be set',
  ]);
  assert.equal(v.config.vrrpStop, `${fixture('bad-vrrp.conf')}:1: (VI_1) the virtual router id must be set`);
  const s = load('bad-security.conf');
  assert.equal(exitCodeFor(s.diagnostics), 6);
  assert.deepEqual(s.messages, ['SECURITY VIOLATION - scripts are being executed but script_security not enabled.']);
});

test('unknown keyword brace quirk: the unknown block\'s } closes global_defs', () => {
  const { config, diagnostics } = load('bad-unknown-quirk.conf');
  assert.equal(config.global.routerId, 'X');
  assert.equal(config.global.notificationEmailFrom, `keepalived@${config.global.smtpHeloName}`);
  assert.deepEqual(diagnostics.map((d) => [d.line, d.message]), [
    [3, "Unknown keyword 'not_a_keyword'"],
    [3, "Unexpected '{' - ignoring"],
    [4, "Unknown keyword 'bar'"],
    [6, "Unknown keyword 'notification_email_from'"],
    [7, "Unknown keyword '}'"],
  ]);
});

test('braces: extra }, missing {, unclosed block', () => {
  const extra = parseConfigText('global_defs {\n router_id A\n}\n}\n');
  assert.deepEqual(extra.diagnostics.map((d) => [d.line, d.message]), [[4, "Extra '}' found"], [4, "Unknown keyword '}'"]]);
  const missing = parseConfigText('global_defs\n router_id A\n}\n');
  assert.deepEqual(missing.diagnostics.map((d) => [d.line, d.message]), [
    [2, "Missing '{' at beginning of configuration block"],
    [2, "Unknown keyword 'router_id'"],
    [3, "Extra '}' found"],
    [3, "Unknown keyword '}'"],
  ]);
  const unclosed = parseConfigText('global_defs {\n router_id A\n');
  assert.equal(unclosed.config.global.routerId, 'A');
  assert.deepEqual(unclosed.diagnostics.map((d) => d.message), ["There are 1 missing '}'s or extra '{'s"]);
  const nextLine = parseConfigText('global_defs\n{\n router_id B }\n');
  assert.deepEqual([nextLine.config.global.routerId, nextLine.diagnostics], ['B', []]);
});

test('interfaces are checked against the host when asked: missing is an error, loopback refused', () => {
  const r = loadConfig(fixture('bad-interface.conf'), { checkInterfaces: true });
  assert.deepEqual(r.diagnostics.map((d) => d.message), [
    "WARNING - interface lvskpnosuch0 for vrrp_instance VI_1 doesn't exist",
    '(VI_2) cannot use a loopback interface (lo) for vrrp - ignoring',
    // Once the file is read (vrrp_daemon.c start_vrrp); VI_2 without an interface is never completed.
    'Non-existent interface specified in configuration',
  ]);
  assert.equal(exitCodeFor(r.diagnostics), 5);
});

test('number and timer validation keep the default and report like keepalived', () => {
  const r = parseConfigText('global_defs {\n smtp_connect_timeout abc\n vrrp_startup_delay 1.1234567\n vrrp_version 4\n}\n');
  assert.equal(r.config.global.smtpConnectTimeoutMs, 30_000);
  // lib/parser.c read_decimal_unsigned_long_func rounds on the seventh decimal.
  assert.equal(r.config.global.vrrpStartupDelayMs, 1123.457);
  assert.equal(r.config.global.vrrpVersion, 2);
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.severity, d.message]), [
    [2, 'error', "invalid number 'abc'"],
    [2, 'error', "smtp_connect_timeout 'abc' must be in [0, 4294] - ignoring"],
    [3, 'error', "number '1.1234567' has too many decimal places"],
    [4, 'error', "number '4' outside range [2, 3]"],
    [4, 'error', 'VRRP Error: Version must be either 2 or 3'],
  ]);
});

test('an unmatched double quote is reported and runs to the end of the line', () => {
  const r = parseConfigText('global_defs {\n router_id "abc\n}\n');
  // parser.c decomment reports the open quote, then alloc_strvec the unmatched one
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.message]), [[2, `Unterminated quote 'router_id "abc'`], [2, `Unmatched quote: 'router_id "abc'`]]);
  assert.equal(exitCodeFor(r.diagnostics), 5);
});

test('real_server smtp_alert: own setting, else smtp_alert_checker, else smtp_alert, else on (not the VS value)', () => {
  // keepalived 2.2.7 check_data.c: an RS without smtp_alert takes the global checker/alert setting and otherwise
  // defaults to on "to maintain backwards compatibility", unlike the VS, which defaults to off.
  const vs = (globals: string): string => `${globals}
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    smtp_alert off
    real_server 192.0.2.21 80 {
    }
    real_server 192.0.2.22 80 {
        smtp_alert off
    }
    real_server 192.0.2.23 80 {
        smtp_alert
    }
}
`;
  const alerts = (globals: string): [boolean, boolean[]] => {
    const r = parseConfigText(vs(globals));
    assert.deepEqual(r.diagnostics, []);
    const v = r.config.virtualServers[0]!;
    return [v.smtpAlert, v.realServers.map((rs) => rs.smtpAlert)];
  };
  assert.deepEqual(alerts(''), [false, [true, false, true]]);
  assert.deepEqual(alerts('global_defs {\n    smtp_alert off\n}'), [false, [false, false, true]]);
  assert.deepEqual(alerts('global_defs {\n    smtp_alert off\n    smtp_alert_checker on\n}'), [false, [true, false, true]]);
  // A global_defs after the virtual_server still counts: defaults are applied once the whole file is read.
  const late = parseConfigText(`${vs('')}global_defs {\n    smtp_alert_checker off\n}\n`);
  assert.deepEqual(late.config.virtualServers[0]!.realServers.map((rs) => rs.smtpAlert), [false, false, true]);
});

test('notify_deleted: accepted in vrrp_instance, an unknown keyword in vrrp_sync_group (as keepalived 2.2.7)', () => {
  const { config, diagnostics } = load('regress/sync-group-notify-deleted.conf');
  assert.deepEqual(diagnostics.map((d) => [d.line, d.message]), [[7, "Unknown keyword 'notify_deleted'"]]);
  assert.equal(exitCodeFor(diagnostics), 5);
  assert.equal(config.vrrpInstances.find((i) => i.name === 'VI_1')?.notify.deleted, true);
  assert.deepEqual(config.vrrpSyncGroups[0]?.notify, {});
});

test('IPv6 zones: invalid in every config address but smtp_server; bindto checked for syntax and family (as keepalived 2.2.7)', () => {
  const rs = load('regress/zone-real-server.conf');
  assert.deepEqual(rs.diagnostics.map((d) => [d.line, d.message]), [[6, 'Invalid real server ip address/port fe80::20%eth0/80 - skipping']]);
  assert.deepEqual(rs.config.virtualServers[0]?.realServers.map((r) => r.address), ['2001:db8::21']);
  const ping = load('regress/zone-connect-ip.conf');
  assert.deepEqual(ping.messages, ['Invalid connect_ip address fe80::2%eth0 - ignoring']);
  assert.equal((ping.config.virtualServers[0]?.realServers[0]?.checkers[0] as PingChecker).connectIp, '2001:db8::20');
  const vip = load('regress/zone-vip.conf');
  assert.deepEqual(vip.messages, ['VRRP parsed invalid IP fe80::99%eth0. skipping IP...']);
  assert.deepEqual(vip.config.vrrpInstances[0]?.virtualIpaddresses.map((v) => v.address), ['2001:db8::99']);
  const smtp = load('regress/zone-smtp-server.conf');
  assert.deepEqual([smtp.diagnostics, smtp.config.global.smtpServer], [[], { host: 'fe80::25%eth0', port: 25 }]);
  const bind = load('regress/bindto-invalid.conf');
  assert.deepEqual(bind.diagnostics.map((d) => [d.line, d.keyword, d.message]), [
    [9, 'bindto', 'Invalid bindto address fe80::2%eth0 - ignoring'],
    [15, 'bindto', 'Invalid bindto address localhost - ignoring'],
    [18, 'bindto', 'bindto address 192.0.2.1 does not match address family of connect_ip - skipping'],
  ]);
  assert.deepEqual(bind.config.virtualServers[0]?.realServers[0]?.checkers.map((c) => (c as PingChecker).bindto), [
    undefined, undefined, undefined, '192.0.2.1', '192.0.2.1',
  ]);
  assert.equal(exitCodeFor(bind.diagnostics), 5);
});

test("bare keywords and checks on parsed-only blocks are reported in keepalived 2.2.7's words", () => {
  const messages = (name: string): string[] => load(`regress/${name}.conf`).messages;
  assert.deepEqual(messages('bare-reported'), [
    'startup script missing',
    'No vrrp process priority specified',
    'SSL password missing',
    'real server virtualhost missing',
    'UDP_CHECK payload requires a payload',
  ]);
  assert.deepEqual(messages('regex-offset-bare'), []);
  assert.deepEqual(messages('sync-group-one-member'), [
    "Virtual router VI_GONE specified in sync group G1 doesn't exist - ignoring",
    "Sync group G1 has only 1 virtual router(s) - this probably isn't what you want",
    'Sync group G2 has no virtual router(s). removing',
  ]);
  assert.deepEqual(load('regress/sync-group-one-member.conf').config.vrrpSyncGroups.map((g) => [g.name, g.members]), [['G1', ['VI_1']]]);
  assert.deepEqual(messages('global-tracking'), ['(G1) global_tracking is deprecated. Use track_interface/script/file on the sync group']);
  const unicast = load('regress/unicast-without-peers.conf');
  // The first as the block closes (vrrp_parser.c vrrp_end_handler), the second once the file is read (vrrp.c
  // vrrp_complete_instance).
  assert.deepEqual(unicast.messages, [
    '(VI_1): Cannot use unicast_ttl without unicast peers - resetting',
    '(VI_1) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.',
  ]);
  assert.equal(unicast.config.vrrpInstances[0]?.unicastTtl, 255);
  assert.deepEqual(messages('parsed-only-checks'), [
    'No weight specified for track process P - ignoring',
    "track process 'P' process name not specified",
    'Configuration error: BFD instance B has no neighbor address set, disabling instance',
    '(VI_1) vmac_xmit_base is only valid with a vmac',
  ]);
  const noInstance = load('regress/vrrp-script-without-instance.conf');
  assert.deepEqual([noInstance.messages, exitCodeFor(noInstance.diagnostics)], [[], 0]);
});

test('FILE_CHECK and BFD_CHECK find only blocks declared above them; UDP_CHECK hex spans every word', () => {
  const later = load('regress/track-file-declared-later.conf');
  assert.deepEqual(later.diagnostics.map((d) => [d.line, d.message]), [
    [12, 'track_file later not found'],
    // keepalived 2.2.7 -t reports it at the block's `}` (check_file.c file_end_handler).
    [13, 'FILE_CHECK has no track_file specified - ignoring'],
  ]);
  assert.deepEqual(later.config.virtualServers[0]?.realServers[0]?.checkers.map((c) => c.type), ['BFD_CHECK']);
  const udp = load('regress/udp-check-hex.conf');
  assert.deepEqual(udp.messages, ['Invalid hex string for UDP_CHECK payload']);
  const [a, b] = (udp.config.virtualServers[0]?.realServers ?? []).map((rs) => rs.checkers[0] as UdpChecker);
  assert.deepEqual([a?.payload, a?.requireReply, b?.payload], [undefined, '0a x', '0a 0b']);
});

test('SMTP_CHECK host blocks: one more checker each, its connection over the checker own, checked like it', () => {
  const rs = (inner: string): string =>
    `virtual_server 192.0.2.10 25 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 192.0.2.11 25 {\n  SMTP_CHECK {\n   helo_name lb.example\n   connect_timeout 7\n${inner}  }\n }\n}\n`;
  const r = parseConfigText(rs('   host {\n    connect_ip 192.0.2.30\n    connect_port 2525\n   }\n   host {\n    connect_ip 192.0.2.31\n    fwmark x\n   }\n'));
  const checkers = r.config.virtualServers[0]?.realServers[0]?.checkers as SmtpChecker[];
  assert.deepEqual(checkers.map((c) => [c.connectIp, c.connectPort, c.connectTimeoutMs, c.heloName, c.fwmark]), [
    ['192.0.2.11', 25, 7000, 'lb.example', undefined],
    ['192.0.2.30', 2525, 7000, 'lb.example', undefined],
    ['192.0.2.31', 25, 7000, 'lb.example', undefined],
  ]);
  assert.deepEqual(r.diagnostics.map((d) => d.message), ["invalid number 'x'", "Invalid fwmark connection value 'x'"]);
});
