// bfd_instance, track_bfd (instance and sync group) and their bad input: `-t` lines and exit status against
// keepalived 2.2.7's (bfd/bfd_parser.c, bfd_data.c alloc_bfd, vrrp/vrrp_track.c alloc_track_bfd, vrrp.c
// vrrp_complete_instance and sync_group_tracking_init), and what the model keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

const bfd = (name: string, ...lines: string[]): string => `bfd_instance ${name} {\n ${lines.join('\n ')}\n}\n`;
const instance = (lines: string, prio = 100): string =>
  `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority ${prio}\n ${lines}\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n`;
const group = (lines: string): string => `vrrp_sync_group G {\n group {\n  VI_1\n }\n ${lines}\n}\n`;
const B1 = bfd('b1', 'neighbor_ip 10.0.0.2');

const CASES: Record<string, string> = {
  'all keywords': bfd('b1', 'neighbor_ip 10.0.0.2', 'source_ip 10.0.0.1', 'min_rx 50', 'min_tx 50.5', 'idle_tx 1500', 'multiplier 3', 'passive', 'ttl 250', 'max_hops 2', 'weight -20 reverse', 'vrrp', 'checker'),
  'neighbour spelling carries on': bfd('b1', 'neighbour_ip 10.0.0.2') + bfd('b2'),
  'no neighbor': bfd('b1', 'min_rx 5'),
  'malformed neighbor': bfd('b1', 'neighbor_ip 10.0.0.300', 'min_rx x'),
  'malformed source': bfd('b1', 'neighbor_ip 10.0.0.2', 'source_ip nope'),
  'mixed families': bfd('b1', 'neighbor_ip 10.0.0.2', 'source_ip fe80::1'),
  'duplicate neighbor': B1 + bfd('b2', 'neighbor_ip 10.0.0.2'),
  'duplicate source/neighbor': bfd('b1', 'neighbor_ip 10.0.0.2', 'source_ip 10.0.0.1') + bfd('b2', 'neighbor_ip 10.0.0.2', 'source_ip 10.0.0.1'),
  'other source is no duplicate': bfd('b1', 'neighbor_ip 10.0.0.2', 'source_ip 10.0.0.1') + bfd('b2', 'neighbor_ip 10.0.0.2', 'source_ip 10.0.0.3'),
  'duplicate name': B1 + bfd('b1', 'neighbor_ip 10.0.0.3'),
  'name too long': bfd('b'.repeat(32), 'neighbor_ip 10.0.0.2'),
  'name of 31': bfd('b'.repeat(31), 'neighbor_ip 10.0.0.2'),
  'bad intervals': bfd('b1', 'neighbor_ip 10.0.0.2', 'min_rx 0', 'min_tx -1', 'idle_tx 999', 'min_rx 4294968', 'min_tx 1.2345'),
  'bad multiplier and ttl': bfd('b1', 'neighbor_ip 10.0.0.2', 'multiplier 0', 'multiplier 256', 'ttl 0', 'hoplimit 300'),
  'max_hops': bfd('b1', 'neighbor_ip 10.0.0.2', 'max_hops -2') + bfd('b2', 'neighbor_ip fe80::2', 'max_hops 100') + bfd('b3', 'neighbor_ip 10.0.0.3', 'ttl 10', 'max_hops 20'),
  'max_hops -1 on IPv6': bfd('b1', 'neighbor_ip fe80::2', 'max_hops -1'),
  'bad weight': bfd('b1', 'neighbor_ip 10.0.0.2', 'weight 254') + bfd('b2', 'neighbor_ip 10.0.0.3', 'weight x') + bfd('b3', 'neighbor_ip 10.0.0.4', 'weight 5 rev'),
  'track_bfd': B1 + bfd('b2', 'neighbor_ip 10.0.0.3', 'weight 10') + instance('track_bfd {\n  b1\n  b2 weight -5 reverse\n }'),
  'track_bfd before the bfd_instance': instance('track_bfd {\n  b1\n }') + B1,
  'track_bfd of a checker-only bfd': bfd('b1', 'neighbor_ip 10.0.0.2', 'checker') + instance('track_bfd {\n  b1\n }'),
  'track_bfd of a bfd without neighbor': bfd('b1') + instance('track_bfd {\n  b1\n }'),
  'track_bfd bad entries': B1 + instance('track_bfd {\n  b1 weight\n  b1 foo\n  b1 weight 300\n  b1 weight 5 x\n  b1 weight 5 noreverse\n  b1\n  nope\n }'),
  'track_bfd weighted in a sync group member': B1 + instance('track_bfd {\n  b1 weight 5\n }') + group(''),
  'track_bfd weighted on an address owner': B1 + instance('track_bfd {\n  b1 weight 5\n }', 255),
  'track_bfd in a sync group': B1 + instance('') + group('track_bfd {\n  b1 weight 5 reverse\n }'),
  'track_bfd in a sync group with an owner': B1 + instance('', 255) + group('track_bfd {\n  b1 weight 5\n }'),
};

test('bfd_instance and track_bfd, good and bad: the lines and exit status of keepalived -t', (t) => {
  withConfigTestNamespace(t, 'lkbfd-dasht', (inNs) => {
    assert.deepEqual(dashTDifferences(inNs, Object.entries(CASES), { sorted: true, unique: true }), []);
  });
});

test('the model: sessions with keepalived\'s defaults, track_bfd weights resolved from the instance', () => {
  const c = parseConfigText(
    bfd('b1', 'neighbor_ip 10.0.0.2', 'weight 10 reverse') + bfd('b6', 'neighbor_ip fe80::2', 'min_rx 50', 'min_tx 20.5', 'passive', 'vrrp') +
      bfd('b7', 'neighbor_ip 10.0.0.7', 'checker') + instance('track_bfd {\n  b1\n  b6 weight -3\n  b7\n }'),
    { file: 'k.conf' },
  ).config;
  assert.deepEqual(c.bfdInstances.map(({ src: _src, ...b }) => b), [
    { name: 'b1', family: 'inet', neighbor: '10.0.0.2', minRxUs: 10_000, minTxUs: 10_000, idleTxUs: 1_000_000, detectMult: 5, passive: false, ttl: 255, maxHops: 0, vrrp: true, checker: true },
    { name: 'b6', family: 'inet6', neighbor: 'fe80::2', minRxUs: 50_000, minTxUs: 20_500, idleTxUs: 1_000_000, detectMult: 5, passive: true, ttl: 64, maxHops: 0, vrrp: true, checker: false },
    { name: 'b7', family: 'inet', neighbor: '10.0.0.7', minRxUs: 10_000, minTxUs: 10_000, idleTxUs: 1_000_000, detectMult: 5, passive: false, ttl: 255, maxHops: 0, vrrp: false, checker: true },
  ]);
  assert.deepEqual(c.vrrpInstances[0]!.trackBfds, [{ name: 'b1', weight: 10, reverse: true }, { name: 'b6', weight: -3, reverse: false }]);
});
