// The announcement core (src/announce/plan.ts): which VIPs are announced and why, from the virtual servers' health,
// the director drain and the stop; and the log line of each change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthOf, planAnnouncements, planChange, type VsHealth } from '../../src/announce/plan.js';
import type { VirtualServer } from '../../src/config/model.js';

const vs = (vsId: string, vip: string, o: Partial<VsHealth> = {}): VsHealth => ({
  vsId, vip, family: vip.includes(':') ? 6 : 4, quorumUp: true, suspended: false, ...o,
});
const calm = { drained: false, stopping: false };

test('a VIP is announced while every virtual server on it is healthy', () => {
  const health = [vs('[10.0.0.1]:tcp:80', '10.0.0.1'), vs('[10.0.0.1]:tcp:443', '10.0.0.1'), vs('[2001:db8::1]:tcp:80', '2001:db8::1')];
  assert.deepEqual(planAnnouncements({ health, ...calm }, []), [
    { vip: '10.0.0.1', family: 4, announced: true, reason: 'healthy', vs: ['[10.0.0.1]:tcp:80', '[10.0.0.1]:tcp:443'] },
    { vip: '2001:db8::1', family: 6, announced: true, reason: 'healthy', vs: ['[2001:db8::1]:tcp:80'] },
  ]);
});

test('one virtual server without quorum withdraws its VIP for every port, naming it', () => {
  const health = [vs('[10.0.0.1]:tcp:80', '10.0.0.1'), vs('[10.0.0.1]:tcp:443', '10.0.0.1', { quorumUp: false })];
  assert.deepEqual(planAnnouncements({ health, ...calm }, []), [
    { vip: '10.0.0.1', family: 4, announced: false, reason: 'quorum-lost', vs: ['[10.0.0.1]:tcp:443'] },
  ]);
});

test('reasons in order: stopping, director drained, checker down, ha_suspend, quorum', () => {
  const sick = [vs('a', '10.0.0.1', { quorumUp: false, suspended: true })];
  const reason = (i: Parameters<typeof planAnnouncements>[0]): string => planAnnouncements(i, sick)[0]!.reason;
  assert.equal(reason({ health: sick, drained: true, stopping: true }), 'stopping');
  assert.equal(reason({ health: sick, drained: true, stopping: false }), 'director-drained');
  assert.equal(reason({ health: undefined, drained: false, stopping: false }), 'checker-down');
  assert.equal(reason({ health: sick, ...calm }), 'ha-suspended');
  assert.equal(reason({ health: [vs('a', '10.0.0.1', { quorumUp: false })], ...calm }), 'quorum-lost');
});

test('while the checker process is down its last known VIPs are listed, withdrawn', () => {
  const known = [vs('a', '10.0.0.2'), vs('b', '10.0.0.1')];
  assert.deepEqual(planAnnouncements({ health: undefined, ...calm }, known).map((p) => [p.vip, p.announced, p.reason]), [
    ['10.0.0.1', false, 'checker-down'],
    ['10.0.0.2', false, 'checker-down'],
  ]);
});

test('a change is logged once, with the VIP as a host prefix and the reason', () => {
  const up = planAnnouncements({ health: [vs('[10.0.0.1]:tcp:80', '10.0.0.1')], ...calm }, [])[0]!;
  const down = planAnnouncements({ health: [vs('[10.0.0.1]:tcp:80', '10.0.0.1', { quorumUp: false })], ...calm }, [])[0]!;
  const drained = planAnnouncements({ health: [vs('[10.0.0.1]:tcp:80', '10.0.0.1')], drained: true, stopping: false }, [])[0]!;
  assert.equal(planChange(undefined, up), 'Announcing VIP 10.0.0.1/32 ([10.0.0.1]:tcp:80 healthy)');
  assert.equal(planChange(up, up), undefined);
  assert.equal(planChange(up, down), 'Withdrawing VIP 10.0.0.1/32 (quorum-lost: [10.0.0.1]:tcp:80)');
  assert.equal(planChange(down, drained), 'Withdrawing VIP 10.0.0.1/32 (director-drained)');
});

test('health covers virtual servers given by address, in canonical form; fwmark and group servers have no VIP', () => {
  const vss = [
    { displayName: '[2001:DB8::0:1]:tcp:80', key: { kind: 'ip', family: 'inet6', address: '2001:DB8::0:1', port: 80 } },
    { displayName: 'FWM 7', key: { kind: 'fwmark', fwmark: 7, family: 'inet' } },
    { displayName: 'grp', key: { kind: 'group', name: 'grp' } },
    { displayName: '[10.0.0.1]:tcp:80', key: { kind: 'ip', family: 'inet', address: '10.0.0.1', port: 80 } },
  ] as unknown as VirtualServer[];
  assert.deepEqual(healthOf(vss, (id) => id !== '[10.0.0.1]:tcp:80', new Set(['[2001:DB8::0:1]:tcp:80'])), [
    { vsId: '[2001:DB8::0:1]:tcp:80', vip: '2001:db8::1', family: 6, quorumUp: true, suspended: true },
    { vsId: '[10.0.0.1]:tcp:80', vip: '10.0.0.1', family: 4, quorumUp: false, suspended: false },
  ]);
});
