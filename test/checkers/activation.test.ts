// Which checkers check (checkers/activation.ts), against keepalived 2.2.7's check_api.c register_checkers_thread and
// update_checker_activity: configuration and address events in, lines and suspended servers out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckerActivation, usesHaSuspend, type HostAddress } from '../../checkers/activation.js';
import type { Config } from '../../src/config/model.js';
import { parseConfigText } from '../../src/config/load.js';

function parse(body: string): Config {
  const { config, diagnostics } = parseConfigText(`global_defs { router_id lvskc }\n${body}`, { file: '/nonexistent/keepalived.conf' });
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error' || d.severity === 'fatal'), [], 'test config must parse');
  return config;
}

const TCP = ' TCP_CHECK {\n }\n';
const rs = (addr: string, checkers: string): string => ` real_server ${addr} 80 {\n${checkers} }\n`;
const vs = (addr: string, body: string): string => `virtual_server ${addr} 80 {\n lb_algo rr\n lb_kind DR\n protocol TCP\n${body}}\n`;
const at = (address: string, ifindex = 2, prefixlen = 32): HostAddress => ({ ifindex, family: address.includes(':') ? 6 : 4, address, prefixlen });

const VS = '[192.0.2.10]:tcp:80';
const line = (what: string, rsAddr: string, vsName = VS): string => `${what} healthchecker for service [${rsAddr}]:tcp:80 for VS ${vsName}`;

test('start: one `Activating healthchecker` line per launched checker, in configuration order; none for FILE_CHECK', () => {
  const a = new CheckerActivation();
  const config = parse(`track_file f {\n file /nonexistent/f\n}\n` +
    vs('192.0.2.10', rs('192.0.2.21', `${TCP} HTTP_GET {\n url {\n path /\n }\n }\n FILE_CHECK {\n track_file f\n }\n`) + rs('192.0.2.22', '')) +
    vs('192.0.2.11', rs('192.0.2.23', TCP)));
  assert.equal(usesHaSuspend(config), false);
  assert.deepEqual(a.load(config).info, [
    line('Activating', '192.0.2.21'),
    line('Activating', '192.0.2.21'),
    line('Activating', '192.0.2.23', '[192.0.2.11]:tcp:80'),
  ]);
  assert.deepEqual([...a.suspended()], []);
  assert.deepEqual(a.status(), []);
});

test('ha_suspend: `Deactivating` at start without the address, `Activating` with it', () => {
  const config = parse(vs('192.0.2.10', ` ha_suspend\n${rs('192.0.2.21', TCP)}`));
  assert.equal(usesHaSuspend(config), true);
  const absent = new CheckerActivation();
  absent.address('new', at('192.0.2.99'));
  assert.deepEqual(absent.load(config).info, [line('Deactivating', '192.0.2.21')]);
  assert.deepEqual([...absent.suspended()], [VS]);
  assert.deepEqual(absent.status(), [{ vsId: VS, addresses: 0, suspended: true }]);
  const present = new CheckerActivation();
  present.address('new', at('192.0.2.10'));
  assert.deepEqual(present.load(config).info, [line('Activating', '192.0.2.21')]);
  assert.deepEqual([...present.suspended()], []);
});

test('ha_suspend: counted per interface; the checkers start on the first address and stop when the last goes', () => {
  const a = new CheckerActivation();
  a.load(parse(vs('192.0.2.10', ` ha_suspend\n${rs('192.0.2.21', TCP)}${rs('192.0.2.22', TCP)}`) + vs('192.0.2.11', rs('192.0.2.23', TCP))));
  assert.deepEqual(a.address('new', at('192.0.2.10', 2)).info, [line('Activating', '192.0.2.21'), line('Activating', '192.0.2.22')]);
  assert.deepEqual([...a.suspended()], []);
  assert.deepEqual(a.address('new', at('192.0.2.10', 3, 24)).info, []);
  assert.deepEqual(a.status(), [{ vsId: VS, addresses: 2, suspended: false }]);
  assert.deepEqual(a.address('del', at('192.0.2.10', 2)).info, [], 'still on interface 3');
  assert.deepEqual(a.address('del', at('192.0.2.10', 3, 24)).info, [line('Suspending', '192.0.2.21'), line('Suspending', '192.0.2.22')]);
  assert.deepEqual([...a.suspended()], [VS]);
  assert.deepEqual(a.status(), [{ vsId: VS, addresses: 0, suspended: true }]);
});

test('ha_suspend: another address, another family or a repeated notification of one address moves nothing', () => {
  const a = new CheckerActivation();
  a.load(parse(vs('2001:DB8:0::10', ` ha_suspend\n real_server 2001:db8::21 80 {\n${TCP} }\n`)));
  const v6 = '[2001:db8::10]:tcp:80';
  assert.deepEqual(a.address('new', at('2001:db8::11', 2, 64)).info, []);
  assert.deepEqual(a.address('new', at('192.0.2.10')).info, []);
  assert.deepEqual(a.address('new', at('2001:db8::10', 2, 64)).info, [line('Activating', '2001:db8::21', v6)]);
  // IPv6 duplicate address detection reports the address again once it is no longer tentative.
  assert.deepEqual(a.address('new', at('2001:db8::10', 2, 64)).info, []);
  assert.deepEqual(a.address('del', at('2001:db8::10', 4, 64)).info, [], 'never added on interface 4');
  assert.deepEqual(a.address('del', at('2001:db8::10', 2, 64)).info, [line('Suspending', '2001:db8::21', v6)]);
});

test('ha_suspend: a FILE_CHECK starts enabled (it has no thread), so only the address\'s removal switches it', () => {
  const a = new CheckerActivation();
  assert.deepEqual(a.load(parse(`track_file f {\n file /nonexistent/f\n}\n` + vs('192.0.2.10', ` ha_suspend\n${rs('192.0.2.21', `${TCP} FILE_CHECK {\n track_file f\n }\n`)}`))).info,
    [line('Deactivating', '192.0.2.21')]);
  assert.deepEqual(a.address('new', at('192.0.2.10')).info, [line('Activating', '192.0.2.21')]);
  assert.deepEqual(a.address('del', at('192.0.2.10')).info, [line('Suspending', '192.0.2.21'), line('Suspending', '192.0.2.21')]);
  assert.deepEqual(a.address('new', at('192.0.2.10')).info, [line('Activating', '192.0.2.21'), line('Activating', '192.0.2.21')]);
});

test('ha_suspend on a virtual_server_group: addr_matches never matches a group, so its checkers stay off', () => {
  const a = new CheckerActivation();
  const config = parse(`virtual_server_group G {\n 192.0.2.10 80\n}\nvirtual_server group G {\n lb_algo rr\n lb_kind DR\n protocol TCP\n ha_suspend\n${rs('192.0.2.21', TCP)}}\n`);
  a.address('new', at('192.0.2.10'));
  assert.deepEqual(a.load(config).info, [line('Deactivating', '192.0.2.21', '[G]:0')]);
  assert.deepEqual(a.address('new', at('192.0.2.10', 3)).info, []);
  assert.deepEqual([...a.suspended()], ['[G]:0']);
});

test('reload: every checker\'s line again, the counts kept; a server the reload adds counts the addresses already here', () => {
  const a = new CheckerActivation();
  const one = vs('192.0.2.10', ` ha_suspend\n${rs('192.0.2.21', TCP)}`);
  a.load(parse(one));
  a.address('new', at('192.0.2.10', 2));
  a.address('new', at('192.0.2.10', 3));
  a.address('new', at('192.0.2.12', 2));
  const lines = a.load(parse(one + vs('192.0.2.12', ` ha_suspend\n${rs('192.0.2.22', TCP)}`) + vs('192.0.2.13', ` ha_suspend\n${rs('192.0.2.23', TCP)}`))).info;
  assert.deepEqual(lines, [
    line('Activating', '192.0.2.21'), line('Activating', '192.0.2.22', '[192.0.2.12]:tcp:80'), line('Deactivating', '192.0.2.23', '[192.0.2.13]:tcp:80'),
  ]);
  assert.deepEqual(a.status().map((s) => s.addresses), [2, 1, 0]);
  assert.deepEqual(a.address('del', at('192.0.2.10', 2)).info, []);
  assert.deepEqual(a.address('del', at('192.0.2.10', 3)).info, [line('Suspending', '192.0.2.21')]);
});

test('resync: a fresh dump replaces the addresses, and the differences move the checkers', () => {
  const a = new CheckerActivation();
  a.load(parse(vs('192.0.2.10', ` ha_suspend\n${rs('192.0.2.21', TCP)}`) + vs('192.0.2.11', ` ha_suspend\n${rs('192.0.2.22', TCP)}`)));
  a.address('new', at('192.0.2.10'));
  assert.deepEqual(a.resync([at('192.0.2.11'), at('192.0.2.1', 2, 24)]).info, [
    line('Suspending', '192.0.2.21'), line('Activating', '192.0.2.22', '[192.0.2.11]:tcp:80'),
  ]);
  assert.deepEqual([...a.suspended()], [VS]);
  assert.deepEqual(a.resync([at('192.0.2.11'), at('192.0.2.1', 2, 24)]).info, []);
});

test('-D: `Netlink reflector reports IP …` for an address an ha_suspend server has, at the dump and as it changes', () => {
  const a = new CheckerActivation();
  a.address('new', at('192.0.2.10', 2));
  a.address('new', at('192.0.2.99', 2));
  const config = parse(vs('192.0.2.10', ` ha_suspend\n${rs('192.0.2.21', TCP)}`));
  assert.deepEqual(a.load(config, true).detail, ['Netlink reflector reports IP 192.0.2.10 added']);
  assert.deepEqual(a.load(config).detail, [], 'no dump at this reload');
  assert.deepEqual(a.address('new', at('192.0.2.10', 3)), { detail: ['Netlink reflector reports IP 192.0.2.10 added'], info: [] });
  assert.deepEqual(a.address('del', at('192.0.2.99', 2)).detail, [], 'no server has 192.0.2.99');
  assert.deepEqual(a.address('del', at('192.0.2.10', 3)).detail, ['Netlink reflector reports IP 192.0.2.10 removed']);
});
