// track_interface / track_script / track_file / track_process entries as keepalived 2.2.7's allocators read them
// (vrrp_track.c alloc_track_if, alloc_track_script, alloc_track_process; track_file.c vrrp_alloc_track_file): each
// kind has its own lines, the weight range -254..254 with +/-254 made +/-253 for interfaces and scripts, an entry
// dropped for an unknown option or a missing weight (and for a file, an unknown word after the weight). Compared
// with keepalived -t, and the entries each instance keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import type { TrackRef } from '../../src/config/model.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

/** One instance per entry (a second entry for the same object would be a duplicate). */
function config(block: string, entries: readonly string[], head = ''): string {
  return head + entries.map((entry, i) =>
    `vrrp_instance VI_${i + 1} {\n  interface eth0\n  virtual_router_id ${i + 1}\n  priority 100\n` +
    `  virtual_ipaddress {\n    10.0.0.${i + 1}/24\n  }\n  ${block} {\n    ${entry}\n  }\n}\n`).join('');
}

const ENTRIES = [
  'X', 'X weight 10', 'X weight 254', 'X weight -254 reverse', 'X weight 255', 'X weight 5x', 'X weight',
  'X foo', 'X weight 7 noreverse', 'X weight 7 sideways', 'X weight 7 reverse extra',
];
const at = (kind: string): readonly string[] => ENTRIES.map((e) => e.replace('X', kind));

const CASES: Record<string, string> = {
  track_interface: config('track_interface', at('eth1')),
  track_script: config('track_script', at('chk'), 'vrrp_script chk {\n  script "/bin/true"\n  weight 3\n}\n'),
  track_file: config('track_file', at('tf'), 'track_file tf {\n  file /tmp/lvsk-track-weights\n  weight 4\n}\n'),
};

// vrrp_parser.c vrrp_vscript_weight_handler: a refused weight is still assigned (strtol's value), and only `reverse`
// may follow it.
const SCRIPT_WEIGHTS = ['300', '5x', '-300 reverse', '7 sideways', 'abc'];
const scripts = SCRIPT_WEIGHTS.map((w, i) => `vrrp_script s${i} {\n  script "/bin/true"\n  weight ${w}\n}\n`).join('');
CASES['vrrp_script weight'] = config('track_script', SCRIPT_WEIGHTS.map((_, i) => `s${i}`), scripts);

test("track_* entries: keepalived's lines and status", (t) => {
  withConfigTestNamespace(t, 'lvskp-trkw', (inNs) =>
    assert.deepEqual(dashTDifferences(inNs, Object.entries(CASES), { interfaces: true, sorted: true }), []));
});

test('track_* entries: what each instance keeps', () => {
  const kept = (text: string, pick: (i: { trackInterfaces: readonly TrackRef[]; trackScripts: readonly TrackRef[]; trackFiles: readonly TrackRef[] }) => readonly TrackRef[]): (string | null)[] =>
    parseConfigText(text, { checkInterfaces: false }).config.vrrpInstances.map((i) => {
      const [ref] = pick(i);
      return ref === undefined ? null : `${ref.weight ?? 'own'}${ref.reverse ? ' reverse' : ''}`;
    });
  // In ENTRIES' order: as written, 254 made 253, -254 made -253, 255 refused, '5x' refused under -t, no value
  // dropped, an unknown option dropped, noreverse, an unknown word after the weight, anything after reverse.
  assert.deepEqual(kept(CASES['track_interface']!, (i) => i.trackInterfaces),
    ['own', '10', '253', '-253 reverse', '0', '0', null, null, '7', '7', '7 reverse']);
  assert.deepEqual(kept(CASES['track_script']!, (i) => i.trackScripts),
    ['own', '10', '253', '-253 reverse', 'own', 'own', null, null, '7', '7', '7 reverse']);
  assert.deepEqual(kept(CASES['track_file']!, (i) => i.trackFiles),
    ['own', '10', '254', '-254 reverse', 'own', 'own', null, null, '7', null, '7 reverse']);
});

test('vrrp_script weight: a refused one is still what the script weighs', () => {
  const read = parseConfigText(CASES['vrrp_script weight']!, { checkInterfaces: false }).config.vrrpScripts.map((sc) => `${sc.weight}${sc.weightReverse ? ' reverse' : ''}`);
  assert.deepEqual(read, ['300', '5', '-300 reverse', '7', '0']);
});
