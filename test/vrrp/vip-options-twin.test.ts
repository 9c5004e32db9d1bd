// VIP options against keepalived 2.2.7 in twin namespaces (twin-support.ts): the addresses as the kernel holds them
// once both instances are MASTER — flags (nodad, home, mngtmpaddr, noprefixroute), preferred lifetimes (a /128 is
// deprecated by default, preferred_lft N, forever) — and the prefix routes they leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, type Side } from './twin-support.js';

const CONFIG = `global_defs {
  vrrp_garp_master_delay 0
}
vrrp_instance VI_4 {
  state BACKUP
  interface eth0
  virtual_router_id 60
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.60/24 home
    10.0.0.61/24 noprefixroute
  }
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority 100
  advert_int 1
  virtual_ipaddress {
    fd00:61::10/128
    fd00:61::11/64
    fd00:62::12/64 preferred_lft 30
    fd00:63::13/64 preferred_lft 0 noprefixroute
    fd00:64::14/64 -nodad
    fd00:65::15/64 home mngtmpaddr preferred_lft forever
  }
}
`;

interface AddrInfo { readonly local: string; readonly scope: string; readonly preferred_life_time?: number; readonly [flag: string]: unknown }

/** Each global address with its flags and its preferred lifetime's kind (a finite one counts down). */
function addresses(twin: Twin, side: Side): string[] {
  const [link] = JSON.parse(twin.ip(side, '-j', 'addr', 'show', 'dev', 'eth0')) as { addr_info: AddrInfo[] }[];
  return (link?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => {
    const flags = Object.entries(a).filter(([, v]) => v === true).map(([k]) => k).sort();
    const lft = a.preferred_life_time;
    const kind = lft === 4294967295 ? 'forever' : lft === 0 ? '0' : lft !== undefined && lft <= 30 ? '<=30' : String(lft);
    return `${a.local}/${String(a.prefixlen)} [${flags.join(' ')}] preferred ${kind}`;
  }).sort();
}

const routes = (twin: Twin, side: Side): string[] =>
  [...twin.ip(side, 'route', 'show', 'dev', 'eth0').split('\n'), ...twin.ip(side, '-6', 'route', 'show', 'dev', 'eth0').split('\n')]
    .map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('fe80') && !l.startsWith('multicast')).sort();

test('VIP options: nodad, -nodad, home, mngtmpaddr, noprefixroute and preferred lifetimes (a /128 deprecated by default) — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!(needRoot(t) && needCommand(t, 'tcpdump') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)'))) return;
  const twin = new Twin('vo');
  try {
    const conf = twin.writeConfig(CONFIG);
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    for (const side of SIDES) {
      assert.ok(await waitFor(() => /\(VI_4\) Entering MASTER STATE/.test(log(side)) && /\(VI_6\) Entering MASTER STATE/.test(log(side)), 20_000), `${side}:\n${log(side)}`);
    }
    // fd00:64::14 runs duplicate address detection (-nodad) on both sides: compare once it is done.
    for (const side of SIDES) assert.ok(await waitFor(() => addresses(twin, side).length === 9 && !addresses(twin, side).some((a) => /tentative/.test(a)), 10_000), `${side}: ${addresses(twin, side).join('\n')}`);
    assert.deepEqual(addresses(twin, 'lk'), addresses(twin, 'ka'));
    assert.deepEqual(routes(twin, 'lk'), routes(twin, 'ka'));
    const ka = addresses(twin, 'ka');
    assert.ok(ka.includes('fd00:61::10/128 [deprecated nodad] preferred 0'), ka.join('\n'));
    assert.ok(ka.some((a) => /^fd00:64::14\/64 \[\] preferred forever$/.test(a)), ka.join('\n'));
  } finally {
    await twin.destroy();
  }
});
