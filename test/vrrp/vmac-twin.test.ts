// use_vmac and use_ipvlan: lvskeeper against keepalived 2.2.7 in twin namespaces (twin-support.ts). After start,
// as MASTER, as BACKUP to a higher-priority peer (keepalived in the peer namespace), and after stop, both sides'
// devices (`ip -j -d link`: kind, macvlan mode, MAC, state), addresses (`ip -j addr`), the sysctls keepalived sets and
// the GARP/NA and advert frames on the wire are compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { Proc, waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Capture, type Side } from './twin-support.js';

function ready(t: Parameters<typeof needRoot>[0]): boolean {
  return needRoot(t) && needCommand(t, 'tcpdump') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)');
}

interface JLink {
  ifname: string;
  address: string;
  flags: string[];
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string; flags?: string } };
  inet6_addr_gen_mode?: string;
}

/** What of a device the two must agree on. */
function device(twin: Twin, side: Side, name: string): unknown {
  const all = JSON.parse(twin.ip(side, '-j', '-d', 'link', 'show')) as JLink[];
  const l = all.find((x) => x.ifname === name);
  if (!l) return undefined;
  return {
    ifname: l.ifname, address: l.address, up: l.flags.includes('UP'), lowerUp: l.flags.includes('LOWER_UP'), link: l.link,
    kind: l.linkinfo?.info_kind, mode: l.linkinfo?.info_data?.mode, ipvlanFlags: l.linkinfo?.info_data?.flags,
    addrGenMode: l.inet6_addr_gen_mode,
  };
}

/** A veth's link-local address (from its random MAC). */
function linkLocal(twin: Twin, side: Side, dev: 'eth0' | 'eth1'): string {
  const all = JSON.parse(twin.ip(side, '-j', 'addr', 'show', 'dev', dev)) as { addr_info: { local: string }[] }[];
  return all[0]?.addr_info.find((a) => a.local.startsWith('fe80'))?.local ?? '';
}

const eth0LinkLocal = (twin: Twin, side: Side): string => linkLocal(twin, side, 'eth0');

/** `ip -j addr` of a device, without the lifetimes that count down; eth0's and eth1's link-locals named as such. */
function addresses(twin: Twin, side: Side, name: string): unknown[] {
  const all = JSON.parse(twin.ip(side, '-j', 'addr', 'show')) as { ifname: string; addr_info: Record<string, unknown>[] }[];
  const infos = all.find((x) => x.ifname === name)?.addr_info ?? [];
  const named = new Map((['eth0', 'eth1'] as const).map((d) => [linkLocal(twin, side, d), `${d} link-local`]));
  return infos
    .map((a) => ({ family: a.family, local: named.get(String(a.local)) ?? a.local, prefixlen: a.prefixlen, scope: a.scope, nodad: a.nodad, deprecated: a.deprecated, label: a.label }))
    .sort((x, y) => String(x.local).localeCompare(String(y.local)));
}

const SYSCTLS = [
  'ipv4/conf/all/rp_filter', 'ipv4/conf/default/rp_filter',
  ...['eth0', 'eth1', 'DEV'].flatMap((d) => ['arp_ignore', 'arp_filter', 'accept_local', 'rp_filter', 'promote_secondaries'].map((k) => `ipv4/conf/${d}/${k}`)),
  ...['eth0', 'eth1', 'DEV'].flatMap((d) => ['disable_ipv6', 'addr_gen_mode'].map((k) => `ipv6/conf/${d}/${k}`)),
];

function sysctls(twin: Twin, side: Side, devs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dev of devs) {
    for (const s of SYSCTLS) {
      const path = `/proc/sys/net/${s.replace('DEV', dev)}`;
      try {
        out[path] = twin.exec(side, 'cat', path).trim();
      } catch {
        out[path] = 'absent';
      }
    }
  }
  return out;
}

/** A snapshot of everything compared, for the devices given. */
function state(twin: Twin, side: Side, devs: readonly string[]): unknown {
  return {
    devices: devs.map((d) => device(twin, side, d)),
    addrs: Object.fromEntries(['eth0', 'eth1', ...devs].map((d) => [d, addresses(twin, side, d)])),
    sysctls: sysctls(twin, side, devs),
  };
}

/** Frames on p0 sent from `mac`, reduced to what must match (no times). */
function framesFrom(c: Capture, mac: string): string[] {
  return c.lines
    .filter((l) => l.split(' ')[1] === mac)
    .map((l) => l.replace(/^\S+ /, '').replace(/, length \d+(?=:)/, '').replace(/seq \d+/, ''));
}

const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];

/** keepalived in a side's peer namespace on p0: the higher-priority router that takes MASTER from the side. */
function startPeer(twin: Twin, side: Side, conf: string): Proc {
  const args = ['/usr/sbin/keepalived', '-n', '-l', '-D', '-P', '-f', conf, '-p', join(twin.dir, `${side}-peer.pid`), '-r', join(twin.dir, `${side}-peer-vrrp.pid`)];
  const p = new Proc(spawn('ip', ['netns', 'exec', twin.peer(side), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), join(twin.dir, `${side}-peer.log`));
  p.vrrpPidFile = join(twin.dir, `${side}-peer-vrrp.pid`);
  return p;
}

const instance = (name: string, vrid: number, extra: readonly string[], vips: readonly string[], iface = 'eth0', prio = 100): string =>
  [`vrrp_instance ${name} {`, '  state BACKUP', `  interface ${iface}`, `  virtual_router_id ${vrid}`, `  priority ${prio}`, '  advert_int 1',
    ...extra.map((x) => `  ${x}`), '  virtual_ipaddress {', ...vips.map((v) => `    ${v}`), '  }', '}', ''].join('\n');

const GLOBALS = 'global_defs {\n  vrrp_garp_master_delay 0\n}\n';

test('use_vmac, IPv4 and IPv6 on one VRID: devices vrrp.51 and vrrp6.51, sysctls, addresses, GARPs/NAs and adverts at start, MASTER, BACKUP and stop — as keepalived', { timeout: 120_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('vm-m');
  const peers: Proc[] = [];
  try {
    const conf = twin.writeConfig(GLOBALS + instance('VI_4', 51, ['use_vmac'], ['10.0.0.100/24']) + instance('VI_6', 51, ['use_vmac'], ['fd00::100/64']));
    const peerConf = join(twin.dir, 'peer.conf');
    writeFileSync(peerConf, GLOBALS + instance('P_4', 51, [], ['10.0.0.100/24'], 'p0', 200) + instance('P_6', 51, [], ['fd00::100/64'], 'p0', 200));
    const cap = { ka: await twin.capture('ka', 'p0', 'arp or icmp6 or proto 112'), lk: await twin.capture('lk', 'p0', 'arp or icmp6 or proto 112') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const count = (side: Side, re: RegExp): number => logLines(log(side), re).length;
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, /Entering MASTER STATE/) >= 2, 15_000), `${side} never MASTER:\n${log(side)}`);
    const V4 = '00:00:5e:00:01:33';
    const V6 = '00:00:5e:00:02:33';
    for (const side of SIDES) {
      assert.ok(await waitFor(() => framesFrom(cap[side], V4).filter((l) => /who-has 10\.0\.0\.100/.test(l)).length >= 5 &&
        framesFrom(cap[side], V6).filter((l) => /neighbor advertisement/.test(l)).length >= 5, 5000), `${side}: GARP/NA missing\n${cap[side].lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    const devs = ['vrrp.51', 'vrrp6.51'];
    const master = { ka: state(twin, 'ka', devs), lk: state(twin, 'lk', devs) };
    assert.deepEqual(master.lk, master.ka);
    // Not vacuous: the devices are there as keepalived makes them.
    assert.deepEqual(device(twin, 'ka', 'vrrp.51'), { ifname: 'vrrp.51', address: V4, up: true, lowerUp: true, link: 'eth0', kind: 'macvlan', mode: 'private', ipvlanFlags: undefined, addrGenMode: 'none' });
    assert.equal((device(twin, 'ka', 'vrrp6.51') as { address: string }).address, V6);
    for (const side of SIDES) {
      const eth0Mac = twin.mac(side, 'eth0');
      // The same frames from each VMAC: adverts from the base's addresses, 5 GARPs and 5 NAs.
      const f4 = framesFrom(cap[side], V4);
      const f6 = framesFrom(cap[side], V6);
      assert.deepEqual(f4.filter((l) => /ARP/.test(l)), Array(5).fill(`${V4} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806): Request who-has 10.0.0.100 (ff:ff:ff:ff:ff:ff) tell 10.0.0.100, length 28`), side);
      assert.equal(f6.filter((l) => /neighbor advertisement, tgt is fd00::100/.test(l)).length, 5, side);
      assert.deepEqual(uniq(f4.filter((l) => /VRRP/.test(l)).map((l) => l.replace(/prio \d+/, 'prio N'))), [`${V4} > 01:00:5e:00:00:12, ethertype IPv4 (0x0800): 10.0.0.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio N, authtype none, intvl 1s, length 20`], side);
      const ll = eth0LinkLocal(twin, side);
      assert.deepEqual(uniq(f6.filter((l) => /VRRP/.test(l)).map((l) => l.replace(/prio \d+/, 'prio N'))), [`${V6} > 33:33:00:00:00:12, ethertype IPv6 (0x86dd): ${ll} > ff02::12: VRRPv3, Advertisement, vrid 51, prio N, intvl 100cs, length 24`], side);
      assert.deepEqual(framesFrom(cap[side], eth0Mac).filter((l) => /VRRP|who-has 10\.0\.0\.100|tgt is fd00::100/.test(l)), [], `${side}: nothing VRRP from eth0's own MAC`);
    }

    // A higher-priority router appears on the link: BACKUP, VIPs off the VMACs, the devices stay up.
    for (const side of SIDES) peers.push(startPeer(twin, side, peerConf));
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, /Entering BACKUP STATE/) >= 4, 15_000), `${side} never BACKUP:\n${log(side)}`);
    await new Promise((r) => setTimeout(r, 500));
    const backup = { ka: state(twin, 'ka', devs), lk: state(twin, 'lk', devs) };
    assert.deepEqual(backup.lk, backup.ka);
    assert.deepEqual((backup.ka as { addrs: Record<string, unknown[]> }).addrs['vrrp.51'], []);
    for (const p of peers) p.signal('SIGTERM');
    await Promise.all(peers.map((p) => p.exited()));

    // Stop: the devices go; the base keeps the arp_ignore/arp_filter keepalived gave it.
    for (const side of SIDES) procs[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => procs[s].exited()));
    const stopped = { ka: state(twin, 'ka', devs), lk: state(twin, 'lk', devs) };
    assert.deepEqual(stopped.lk, stopped.ka);
    assert.deepEqual((stopped.ka as { devices: unknown[] }).devices, [undefined, undefined]);
    // Sorted: which instance sees the peer's advert first is the wire's choice.
    const lines = (side: Side): string[] => logLines(log(side), /VMAC interface|Entering/).sort();
    assert.deepEqual(lines('lk'), lines('ka'));
  } finally {
    for (const p of peers) p.killHard();
    await twin.destroy();
  }
});

test('use_vmac_addr: a VIP on another interface and an eVIP of the other family each on a VMAC of their own (vrrp.61 on eth1, vrrp6.61 on eth0), their GARP/NA, and stop — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('vm-a');
  try {
    const evip = ['virtual_ipaddress_excluded {', '  fd00::61/64', '}'];
    const conf = twin.writeConfig(GLOBALS + instance('VI_1', 61, ['use_vmac_addr', ...evip], ['10.0.0.61/24', '203.0.113.61/24 dev eth1']));
    const filter = 'arp or icmp6 or proto 112';
    const cap = {
      ka: { p0: await twin.capture('ka', 'p0', filter), p1: await twin.capture('ka', 'p1', filter) },
      lk: { p0: await twin.capture('lk', 'p0', filter), p1: await twin.capture('lk', 'p1', filter) },
    };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const V4 = '00:00:5e:00:01:3d';
    const V6 = '00:00:5e:00:02:3d';
    for (const side of SIDES) {
      assert.ok(await waitFor(() => /Entering MASTER STATE/.test(log(side)) && cap[side].p1.garps('203.0.113.61').length >= 5 &&
        framesFrom(cap[side].p0, V6).filter((l) => /neighbor advertisement, tgt is fd00::61/.test(l)).length >= 5, 15_000), `${side}:\n${log(side)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    const devs = ['vrrp.61', 'vrrp6.61'];
    assert.deepEqual(state(twin, 'lk', devs), state(twin, 'ka', devs));
    // Not vacuous: keepalived made both, each holding its address.
    assert.deepEqual(device(twin, 'ka', 'vrrp.61'), { ifname: 'vrrp.61', address: V4, up: true, lowerUp: true, link: 'eth1', kind: 'macvlan', mode: 'private', ipvlanFlags: undefined, addrGenMode: 'none' });
    assert.equal((device(twin, 'ka', 'vrrp6.61') as { address: string; link: string }).link, 'eth0');
    assert.deepEqual(addresses(twin, 'ka', 'vrrp.61').map((a) => (a as { local: string }).local), ['203.0.113.61']);
    assert.ok(addresses(twin, 'ka', 'vrrp6.61').some((a) => (a as { local: string }).local === 'fd00::61'));
    for (const side of SIDES) {
      // The VIP on eth0 from eth0's MAC; the one on the VMAC from the VMAC's; the eVIP's NAs from the IPv6 VMAC's.
      assert.deepEqual(uniq(cap[side].p0.garps('10.0.0.61')), [twin.mac(side, 'eth0')], side);
      assert.deepEqual(uniq(cap[side].p1.garps('203.0.113.61')), [V4], side);
      assert.equal(framesFrom(cap[side].p0, twin.mac(side, 'eth0')).filter((l) => /tgt is fd00::61/.test(l)).length, 0, side);
    }
    for (const side of SIDES) procs[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => procs[s].exited()));
    const stopped = { ka: state(twin, 'ka', devs), lk: state(twin, 'lk', devs) };
    assert.deepEqual(stopped.lk, stopped.ka);
    assert.deepEqual((stopped.ka as { devices: unknown[] }).devices, [undefined, undefined]);
    const lines = (side: Side): string[] => logLines(log(side), /VMAC interface|Entering/);
    assert.deepEqual(lines('lk'), lines('ka'));
  } finally {
    await twin.destroy();
  }
});

/**
 * Both daemons on one config until MASTER; the named devices compared, `check` run against keepalived's side (what
 * it made, so that the comparison is not vacuous), then the VMAC and state lines up to the stop. Returns the logs.
 */
async function twinToMaster(name: string, text: string, devs: readonly string[], check: (twin: Twin) => void): Promise<Record<Side, string>> {
  const twin = new Twin(name);
  try {
    const conf = twin.writeConfig(text);
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    for (const side of SIDES) {
      assert.ok(await waitFor(() => /Entering MASTER STATE/.test(procs[side].log), 15_000), `${side}:\n${procs[side].log}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(state(twin, 'lk', devs), state(twin, 'ka', devs));
    check(twin);
    for (const side of SIDES) procs[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => procs[s].exited()));
    const lines = (side: Side): string[] => logLines(procs[side].log, /VMAC interface|Entering/);
    assert.deepEqual(lines('lk'), lines('ka'));
    return { ka: procs.ka.log, lk: procs.lk.log };
  } finally {
    await twin.destroy();
  }
}

const linksOf = (twin: Twin, devs: readonly string[]): (string | undefined)[] =>
  devs.map((d) => (device(twin, 'ka', d) as { link?: string } | undefined)?.link);

test('vmac_prefix and vmac_addr_prefix: the made-up names, a long prefix cut to fit IFNAMSIZ (vrrp.c create_vmac_name) — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const globals = 'global_defs {\n  vrrp_garp_master_delay 0\n  vmac_prefix lvskpverylongprefix\n  vmac_addr_prefix kpa\n  vmac_prefix other\n}\n';
  const devs = ['lvskpverylon.62', 'kpa.62'];
  const logs = await twinToMaster('vm-p', globals + instance('VI_1', 62, ['use_vmac', 'use_vmac_addr'], ['10.0.0.62/24', '203.0.113.62/24 dev eth1']), devs,
    (twin) => assert.deepEqual(linksOf(twin, devs), ['eth0', 'eth1']));
  // The second vmac_prefix refused in keepalived's words (the config line's prefix is each daemon's own).
  for (const side of SIDES) assert.match(logs[side], /(\(Line 5\) |:5: )vmac prefix has already been specified - ignoring other/, side);
});

test("an address's own use_vmac: a VIP of the instance's family on its interface, and one on another, each on a VMAC of its own (the instance has none) — as keepalived", { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const devs = ['vrrp.63', 'vrrp1.63'];
  await twinToMaster('vm-o', GLOBALS + instance('VI_1', 63, [], ['10.0.0.63/24', '10.0.0.64/24 use_vmac', '203.0.113.63/24 dev eth1 use_vmac']), devs, (twin) => {
    // 10.0.0.64 on a VMAC above eth0, 203.0.113.63 on one above eth1; 10.0.0.63 stays on eth0.
    const where = (dev: string): string[] => addresses(twin, 'ka', dev).map((a) => (a as { local: string }).local);
    assert.deepEqual(linksOf(twin, devs), ['eth0', 'eth1']);
    assert.deepEqual([where('vrrp.63'), where('vrrp1.63')], [['10.0.0.64'], ['203.0.113.63']]);
  });
});

test('use_vmac NAME and vmac_xmit_base; an existing device of that name with the wrong MAC is updated — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('vm-x');
  try {
    twin.both((side) => twin.ip(side, 'link', 'add', 'link', 'eth0', 'name', 'vmx', 'address', '02:00:00:00:00:01', 'type', 'macvlan', 'mode', 'private'));
    const conf = twin.writeConfig(GLOBALS + instance('VI_1', 60, ['use_vmac vmx', 'vmac_xmit_base'], ['10.0.0.60/24']));
    const cap = { ka: await twin.capture('ka', 'p0', 'arp or proto 112'), lk: await twin.capture('lk', 'p0', 'arp or proto 112') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    for (const side of SIDES) assert.ok(await waitFor(() => /Entering MASTER STATE/.test(log(side)) && cap[side].garps('10.0.0.60').length >= 5, 15_000), `${side}:\n${log(side)}`);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(state(twin, 'lk', ['vmx']), state(twin, 'ka', ['vmx']));
    assert.equal((device(twin, 'ka', 'vmx') as { address: string }).address, '00:00:5e:00:01:3c');
    for (const side of SIDES) {
      // vmac_xmit_base: adverts from eth0's MAC; GARPs from the VMAC's.
      const adverts = uniq(cap[side].lines.filter((l) => /VRRP/.test(l)).map((l) => l.split(' ')[1]!));
      assert.deepEqual(adverts, [twin.mac(side, 'eth0')], side);
      assert.deepEqual(uniq(cap[side].garps('10.0.0.60')), ['00:00:5e:00:01:3c'], side);
    }
    // Not the nftables line: the firewall rule keepalived adds for a VMAC is the part not implemented (schema).
    const lines = (side: Side): string[] => logLines(log(side), /VMAC|vmac/).filter((l) => !/no firewall configured/.test(l));
    assert.deepEqual(lines('lk'), lines('ka'));
    for (const side of SIDES) procs[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => procs[s].exited()));
    assert.deepEqual(state(twin, 'lk', ['vmx']), state(twin, 'ka', ['vmx']));
  } finally {
    await twin.destroy();
  }
});

test('use_ipvlan ADDR/PREFIX private: the ipvlan device (or the failure to make one, where the kernel has no ipvlan), its address and the instance state — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('vm-i');
  try {
    const conf = twin.writeConfig(GLOBALS + instance('VI_1', 53, ['use_ipvlan 10.0.0.53/24 private'], ['10.0.0.153/24']));
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const settled = (side: Side): boolean => /Entering MASTER STATE|entering FAULT state/i.test(log(side));
    for (const side of SIDES) assert.ok(await waitFor(() => settled(side), 15_000), `${side}:\n${log(side)}`);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(state(twin, 'lk', ['vrrp.53']), state(twin, 'ka', ['vrrp.53']));
    const outcome = (side: Side): unknown => ({
      unable: logLines(log(side), /Unable to create ipvlan/),
      master: /Entering MASTER STATE/.test(log(side)),
      fault: /entering FAULT state/i.test(log(side)),
    });
    assert.deepEqual(outcome('lk'), outcome('ka'));
    for (const side of SIDES) procs[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => procs[s].exited()));
    assert.deepEqual(state(twin, 'lk', ['vrrp.53']), state(twin, 'ka', ['vrrp.53']));
  } finally {
    await twin.destroy();
  }
});

test('garp_group on the base interface paces the GARPs of the VMAC above it — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('vm-g');
  try {
    const group = 'garp_group {\n  garp_interval 0.5\n  interface eth0\n}\n';
    const conf = twin.writeConfig(GLOBALS + group + instance('VI_1', 51, ['use_vmac', 'garp_master_repeat 2'], ['10.0.0.100/24', '10.0.0.101/24']));
    const cap = { ka: await twin.capture('ka', 'p0'), lk: await twin.capture('lk', 'p0') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const vips = ['10.0.0.100', '10.0.0.101'];
    for (const side of SIDES) assert.ok(await waitFor(() => cap[side].garpTimes(vips).length >= 3, 20_000), `${side}:\n${procs[side].log}`);
    await new Promise((r) => setTimeout(r, 2000));
    // The GARPs in order (the burst's repeats collapse while queued, as keepalived's one pending flag per address).
    const sequence = (side: Side): string[] => cap[side].lines.flatMap((l) => /who-has (\S+) \(ff:ff:ff:ff:ff:ff\) tell \1,/.exec(l)?.[1] ?? []);
    const gaps = (side: Side): number[] => {
      const ts = cap[side].garpTimes(vips);
      return ts.slice(1).map((x, i) => x - ts[i]!);
    };
    assert.deepEqual(sequence('lk'), sequence('ka'));
    assert.ok(gaps('ka').some((g) => g >= 480), `keepalived paced nothing: ${gaps('ka').join(', ')} ms`);
    // Each gap as keepalived's: 0 where it sends at once, 500 ms where it waits (the scheduler of a loaded machine may add some).
    const paced = (side: Side): boolean[] => gaps(side).map((g) => g >= 480);
    assert.deepEqual(paced('lk'), paced('ka'), `gaps ka ${gaps('ka').join(', ')} lk ${gaps('lk').join(', ')}`);
    for (const side of SIDES) assert.deepEqual(uniq(cap[side].garps('10.0.0.100')), ['00:00:5e:00:01:33'], side);
  } finally {
    await twin.destroy();
  }
});

/**
 * The GARPs and NAs a capture saw, by address: each as "+Ns FROM LINE", N the seconds (rounded) since the address's
 * first one, FROM the sender's MAC (the side's own eth0/eth1 named so), LINE the rest without time and length; the
 * first `windowS` seconds after the first.
 */
function announcements(c: Capture, macs: ReadonlyMap<string, string>, windowS: number): Record<string, string[]> {
  const out: Record<string, { t: number; text: string }[]> = {};
  for (const l of c.lines) {
    const m = /^(\d\d):(\d\d):(\d\d\.\d+) (\S+) > (.*)$/.exec(l);
    const address = /who-has (\S+) \(ff:ff:ff:ff:ff:ff\) tell \1,|neighbor advertisement, tgt is ([^,]+),/.exec(l);
    if (!m || !address) continue;
    const t = (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000;
    (out[address[1] ?? address[2]!] ??= []).push({ t, text: `${macs.get(m[4]!) ?? m[4]} > ${m[5]!.replace(/, length \d+/g, '')}` });
  }
  return Object.fromEntries(Object.entries(out).map(([a, xs]) => [a, xs
    .filter((x) => x.t - xs[0]!.t <= windowS * 1000)
    .map((x) => `+${Math.round((x.t - xs[0]!.t) / 1000)}s ${x.text}`)]));
}

test('garp_extra_if / vmac_garp_intvl: while MASTER, every N s a GARP/NA on each VMAC (use_vmac_addr), with `all` on the other interfaces, with vmac_xmit_base on the own VMAC; none without a VMAC or `all` — as keepalived', { timeout: 120_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('we-gx');
  try {
    const globals = 'global_defs {\n  vrrp_garp_master_delay 0\n  vrrp_garp_extra_if 2\n}\n';
    const conf = twin.writeConfig(globals +
      // The own VMAC (vmac_xmit_base) on eth0 and eth1 under `all`: 10.0.0.71 and 203.0.113.71.
      instance('VI_X', 71, ['use_vmac', 'vmac_xmit_base', 'garp_extra_if 2 all'], ['10.0.0.71/24', '203.0.113.71/24 dev eth1', '203.0.113.171/24 dev eth1']) +
      // A VMAC of an address (vrrp.72 on eth1): 203.0.113.72 every 3 s; eth0's VIP not.
      instance('VI_A', 72, ['use_vmac_addr', 'vmac_garp_intvl 3'], ['10.0.0.72/24', '203.0.113.72/24 dev eth1']) +
      // IPv6 on a VMAC of an address (on eth1), from the global setting.
      instance('VI_6', 73, ['use_vmac_addr'], ['fd00:1::73/64 dev eth1']) +
      // use_vmac without `all` and no VMAC but its own: nothing after the first GARPs.
      instance('VI_N', 74, ['use_vmac', 'garp_extra_if 2'], ['10.0.0.74/24', '203.0.113.74/24 dev eth1']));
    const filter = 'arp or icmp6';
    const cap = {
      ka: { p0: await twin.capture('ka', 'p0', filter), p1: await twin.capture('ka', 'p1', filter) },
      lk: { p0: await twin.capture('lk', 'p0', filter), p1: await twin.capture('lk', 'p1', filter) },
    };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    for (const side of SIDES) {
      assert.ok(await waitFor(() => logLines(log(side), /Entering MASTER STATE/).length >= 4, 20_000), `${side} never MASTER:\n${log(side)}`);
    }
    // 8.5 s of MASTER: the extra ones at 2, 4, 6 and 8 s (every 3 s: 3 and 6).
    await new Promise((r) => setTimeout(r, 9000));
    const seen = (side: Side): unknown => {
      const macs = new Map([[twin.mac(side, 'eth0'), 'eth0'], [twin.mac(side, 'eth1'), 'eth1']]);
      return { p0: announcements(cap[side].p0, macs, 7.5), p1: announcements(cap[side].p1, macs, 7.5) };
    };
    const ka = seen('ka');
    assert.deepEqual(seen('lk'), ka);
    // Not vacuous: keepalived sent the extra ones where the source says, and only there.
    const { p0, p1 } = ka as Record<'p0' | 'p1', Record<string, string[]>>;
    const at = (lines: readonly string[] | undefined): string[] => uniq((lines ?? []).map((l) => l.split(' ')[0]!));
    assert.deepEqual(at(p0['10.0.0.71']), ['+0s', '+2s', '+4s', '+6s']);
    assert.equal(p0['10.0.0.71']!.at(-1), `+6s 00:00:5e:00:01:47 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806): Request who-has 10.0.0.71 (ff:ff:ff:ff:ff:ff) tell 10.0.0.71`);
    assert.deepEqual(at(p1['203.0.113.71']), ['+0s', '+2s', '+4s', '+6s']);
    assert.match(p1['203.0.113.71']!.at(-1)!, /^\+6s eth1 > /);
    // One per interface: the second VIP on eth1 only in the first burst.
    assert.deepEqual(at(p1['203.0.113.171']), ['+0s']);
    assert.deepEqual(at(p1['203.0.113.72']), ['+0s', '+3s', '+6s']);
    assert.match(p1['203.0.113.72']!.at(-1)!, /^\+6s 00:00:5e:00:01:48 > /);
    assert.deepEqual(at(p0['10.0.0.72']), ['+0s']);
    assert.deepEqual(at(p1['fd00:1::73']), ['+0s', '+2s', '+4s', '+6s']);
    assert.match(p1['fd00:1::73']!.at(-1)!, /^\+6s 00:00:5e:00:02:49 > .*neighbor advertisement/);
    assert.deepEqual([at(p0['10.0.0.74']), at(p1['203.0.113.74'])], [['+0s'], ['+0s']]);
    // The -D lines saying what each sends.
    const sending = (side: Side): string[] => logLines(log(side), /Sending\/queueing/).sort();
    assert.deepEqual(uniq(sending('lk')), uniq(sending('ka')));
  } finally {
    await twin.destroy();
  }
});
