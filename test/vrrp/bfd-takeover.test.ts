// `--bfd-takeover` in the VRRP core (src/vrrp/fsm.ts): a BFD session to the current master going Down stands for
// Master_Down_Timer's expiry (RFC 5798 §6.4.2) while BACKUP, and for nothing else; then the option's parsing and
// its check against the config, and `lvskeeper -t` with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bfdTakeoverProblems, parseBfdTakeover } from '../../src/config/bfd-takeover.js';
import { parseConfigText } from '../../src/config/load.js';
import type { FsmConfig } from '../../src/vrrp/fsm.js';
import { tempDir } from '../support/tempdir.js';
import { repoRoot } from '../support/tier.js';
import { FsmHarness } from './fsm-harness.js';

const MASTER = '192.0.2.2';
const down = (session = 'b1', neighbor = MASTER) => ({ kind: 'bfd-down', session, neighbor }) as const;

/** A BACKUP at t = 1000 that has heard the master (priority 200, from 192.0.2.2) once. */
function backup(cfg: Partial<FsmConfig> = { bfdTakeover: ['b1'] }): FsmHarness {
  const h = new FsmHarness({ version: 3, advertIntCs: 100, ...cfg });
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(1000);
  h.advert(200, MASTER);
  return h;
}

test('BFD Down of the session to the current master: a BACKUP becomes MASTER at once, the log and cause naming BFD', () => {
  const h = backup();
  const from = h.messages().length;
  h.send(down());
  assert.equal(h.fsm.state, 'MASTER');
  // Taken over at the event, not at Master_Down_Interval (3 × 1 s + Skew_Time after the advert).
  assert.equal(h.enteredAt('MASTER'), 1000);
  assert.deepEqual(h.messages().slice(from), ['(VI_1) Entering MASTER STATE (BFD b1 to master 192.0.2.2 down)', '(VI_1) setting VIPs.']);
  const t = h.log.find((e) => e.action.kind === 'transition' && e.action.to === 'MASTER')!.action;
  assert.deepEqual(t, { kind: 'transition', from: 'BACKUP', to: 'MASTER', cause: 'BFD b1 to master 192.0.2.2 down' });
  // As at the down timer's expiry: the advert first, the VIPs, GARP, notify, and the down timer gone.
  const kinds: string[] = h.since(1000).map((a) => a.kind);
  for (const k of ['send-advert', 'add-vips', 'garp-burst', 'notify']) assert.ok(kinds.includes(k), k);
  h.clock.advance(10_000);
  assert.equal(h.log.filter((e) => e.action.kind === 'transition').length, 2, 'no further transition');
});

test('BFD Down of a session whose neighbor is not the current master: nothing', () => {
  const h = backup({ bfdTakeover: ['b1', 'b2'] });
  assert.deepEqual(h.send(down('b2', '192.0.2.3')), []);
  // The master's address written otherwise is still the master (IPv6 text forms compare as addresses).
  const v6 = new FsmHarness({ version: 3, bfdTakeover: ['b1'], ownAddress: 'fd00::1' });
  v6.send({ kind: 'start', faulty: false });
  v6.advert(200, 'fd00::2');
  assert.deepEqual(v6.send(down('b1', 'fd00::3')), []);
  v6.send(down('b1', 'fd00:0::0:2'));
  assert.equal(v6.fsm.state, 'MASTER');
  assert.equal(h.fsm.state, 'BACKUP');
});

test('BFD Down before any advert was heard: no master is known, nothing', () => {
  const h = new FsmHarness({ bfdTakeover: ['b1'] });
  h.send({ kind: 'start', faulty: false });
  assert.deepEqual(h.send(down()), []);
  assert.equal(h.fsm.state, 'BACKUP');
});

test('BFD Down while MASTER, or FAULT: nothing', () => {
  const h = backup();
  h.clock.advance(10_000);
  assert.equal(h.fsm.state, 'MASTER');
  assert.deepEqual(h.send(down()), []);
  const f = backup();
  f.send({ kind: 'fault', faulty: true });
  assert.deepEqual(f.send(down()), []);
  assert.equal(f.fsm.state, 'FAULT');
});

test('without --bfd-takeover (or for a session it does not name): nothing', () => {
  for (const cfg of [{}, { bfdTakeover: ['b2'] }]) {
    const h = backup(cfg);
    assert.deepEqual(h.send(down()), [], JSON.stringify(cfg));
    assert.equal(h.fsm.state, 'BACKUP');
  }
});

test('sync group member: BFD Down makes it want MASTER, as the down timer does; the group decides', () => {
  const h = backup({ bfdTakeover: ['b1'], inSyncGroup: true });
  const acts = h.send(down());
  assert.equal(h.fsm.state, 'BACKUP');
  assert.ok(acts.some((a) => a.kind === 'want-master'));
  assert.ok(h.fsm.wantingMaster);
  assert.ok(h.messages().includes('(VI_1) BFD b1 to master 192.0.2.2 down'));
});

test('after a takeover the old master\'s next advert decides by RFC 5798 §6.4.3: higher priority wins, lower is discarded', () => {
  // The old master (200) still advertises (BFD lost on another path): our MASTER (100) goes back to BACKUP.
  const h = backup();
  h.send(down());
  h.advert(200, MASTER);
  assert.equal(h.fsm.state, 'BACKUP');
  assert.ok(h.messages().includes('(VI_1) Master received advert from 192.0.2.2 with higher priority 200, ours 100'));
  // A lower-priority old master (accepted while nopreempt) is discarded once we are MASTER: our advert answers it.
  const n = backup({ bfdTakeover: ['b1'], preempt: false });
  n.advert(50, MASTER);
  n.send(down());
  assert.equal(n.fsm.state, 'MASTER');
  const acts = n.advert(50, MASTER);
  assert.equal(n.fsm.state, 'MASTER');
  assert.ok(acts.some((a) => a.kind === 'send-advert'));
});

test('--bfd-takeover: parsed as VRRP_INSTANCE=BFD_INSTANCE pairs; a malformed list is an error', () => {
  assert.deepEqual(parseBfdTakeover('VI_1=b1,VI_2=b2,VI_1=b3,VI_1=b1'), { VI_1: ['b1', 'b3'], VI_2: ['b2'] });
  for (const bad of ['', 'VI_1', 'VI_1=', '=b1', 'VI_1=b1,', 'VI_1=b1=b2']) {
    assert.throws(() => parseBfdTakeover(bad), /^Error: --bfd-takeover: expected VRRP_INSTANCE=BFD_INSTANCE\[,\.\.\.\], got /, bad);
  }
});

const CONF = `bfd_instance b1 {
  neighbor_ip 192.0.2.2
}
bfd_instance c1 {
  neighbor_ip 192.0.2.3
  checker
}
bfd_instance v6 {
  neighbor_ip fd00::2
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.100/32
  }
}
`;

test('--bfd-takeover checked against the config: unknown instance or session, checker-only session, other family', (t) => {
  const file = join(tempDir(t, 'lvsk-tko-'), 'k.conf');
  writeFileSync(file, CONF);
  const run = (list: string) => spawnSync(process.execPath, [join(repoRoot, 'dist/bin/lvskeeper.js'), '-t', '-f', file, '--bfd-takeover', list], { encoding: 'utf8' });
  const ok = run('VI_1=b1');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr, '');
  const bad = run('VI_1=b9,VI_9=b1,VI_1=c1,VI_1=v6');
  assert.equal(bad.status, 4);
  assert.deepEqual(bad.stderr.trim().split('\n'), [
    '--bfd-takeover VI_1=b9: no bfd_instance b9 in the configuration',
    '--bfd-takeover VI_1=c1: bfd_instance c1 sends its events to the checker process only (\'checker\' without \'vrrp\')',
    '--bfd-takeover VI_1=v6: bfd_instance v6\'s neighbor_ip fd00::2 is not of the family VI_1\'s adverts come from (inet)',
    '--bfd-takeover VI_9=b1: no vrrp_instance VI_9 in the configuration',
  ]);
  // The daemon refuses to start on the same lines (the supervisor's refusals, which a reload meets too).
  const dir = join(file, '..');
  const start = spawnSync(process.execPath, [join(repoRoot, 'dist/bin/lvskeeper.js'), '-n', '-l', '-f', file, '--bfd-takeover', 'VI_9=b1',
    '-p', join(dir, 'pid'), '--control-socket', join(dir, 'sock'), '--state-file', join(dir, 'state'), '--ipvs-driver', 'dry-run'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(start.status, 2, start.stdout + start.stderr);
  assert.match(start.stdout + start.stderr, /--bfd-takeover VI_9=b1: no vrrp_instance VI_9 in the configuration\n(.*\n)*.*configuration cannot run; exiting/);
  const syntax = run('VI_1');
  assert.equal(syntax.status, 1);
  assert.match(syntax.stderr, /^lvskeeper: --bfd-takeover: expected VRRP_INSTANCE=BFD_INSTANCE\[,\.\.\.\], got 'VI_1'\n$/);
  // The same check as the supervisor's at start and reload.
  assert.deepEqual(bfdTakeoverProblems({ VI_1: ['b1'] }, { vrrpInstances: [], bfdInstances: [] }), [
    '--bfd-takeover VI_1=b1: no vrrp_instance VI_1 in the configuration',
    '--bfd-takeover VI_1=b1: no bfd_instance b1 in the configuration',
  ]);
});

test('--bfd-takeover with IPv6: unicast only (multicast adverts come from a link-local address)', () => {
  const v6 = (unicast: string): ReturnType<typeof parseConfigText>['config'] => parseConfigText(
    `bfd_instance v6 {\n neighbor_ip fd00::2\n}\nvrrp_instance VI_6 {\n interface eth0\n virtual_router_id 52\n priority 100\n${unicast}` +
    ` virtual_ipaddress {\n  fd00::100/64\n }\n}\n`,
  ).config;
  assert.deepEqual(bfdTakeoverProblems({ VI_6: ['v6'] }, v6('')), [
    '--bfd-takeover VI_6=v6: VI_6 is IPv6 multicast, whose adverts come from a link-local address, never a bfd_instance\'s neighbor_ip (use unicast_peer)',
  ]);
  assert.deepEqual(bfdTakeoverProblems({ VI_6: ['v6'] }, v6(' unicast_src_ip fd00::1\n unicast_peer {\n  fd00::2\n }\n')), []);
});
