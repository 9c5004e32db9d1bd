// The generated differential's comparator on hand-written logs: which lines it keys per real server, and which
// lines a phase with simultaneous changes leaves open. Runs without the VM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GenScenario } from './scenario-generator.js';
import { eventsOf, racyPhases } from './timeline-compare.js';

const scenario = (states: string[][], config = ''): GenScenario => ({
  seed: 1, index: 7, name: 'g1-7', tag: 's7', config, serviceKeys: ['10.100.7.1:80'],
  realServers: states.map((s, k) => ({
    addr: `10.200.7.${k + 1}`, port: 80, checker: 'TCP_CHECK', logKey: `[10.200.7.${k + 1}]:tcp:80`, body: '',
    states: s as GenScenario['realServers'][number]['states'],
  })),
});

test('a phase is racy when two checked servers change verdict or dynamic weight in it', () => {
  assert.deepEqual([...racyPhases(scenario([['up', 'down', 'down', 'up'], ['up', 'up', 'down', 'up']]), 4)], [3]);
  // Phase 0 against the assumed start: up, or down under alpha.
  assert.deepEqual([...racyPhases(scenario([['down', 'slow'], ['slow', 'down']]), 2)], [0]);
  assert.deepEqual([...racyPhases(scenario([['up', 'up'], ['up', 'up']], '  alpha\n'), 2)], [0]);
  // Both fail from the start (phase 0); then a 503 after a refused connect is still a failure, exit 1 after 3 too.
  assert.deepEqual([...racyPhases(scenario([['down', 'status'], ['exit:3', 'exit:1']]), 2)], [0]);
  // A misc_dynamic status is another weight.
  assert.deepEqual([...racyPhases(scenario([['exit:0', 'exit:4'], ['exit:2', 'exit:7']]), 2)], [1]);
});

test("MISC_CHECK's [[ADDR]:tcp:PORT VS …] lines are the server's, not the VS's", () => {
  const s = scenario([['up'], ['up']]);
  const log = 'Misc check for [[10.200.7.2]:tcp:80 VS [10.100.7.1]:tcp:80] by [/x] succeeded.\n';
  assert.deepEqual([...eventsOf(log, [Infinity], s, new Set()).keys()], ['10.200.7.2']);
});

test('quorum lines are left out in a racy phase and the one after it, and only there', () => {
  const s = scenario([['up'], ['up']]);
  const lines = ['Gained quorum 1+0=1 <= 2 for VS [10.100.7.1]:tcp:80', 'Lost quorum 1-0=1 > 0 for VS [10.100.7.1]:tcp:80',
    'Enabling sorry server [10.201.7.1]:tcp:80 to VS [10.100.7.1]:tcp:80', 'Gained quorum 1+0=1 <= 3 for VS [10.100.7.1]:tcp:80'];
  const log = `${lines.join('\n')}\n`;
  const at = (n: number): number => lines.slice(0, n).reduce((a, l) => a + l.length + 1, 0);
  // Phases 0, 1, 1, 2 by offset; phase 1 racy, so lines of phases 1 and 2 are left out.
  const logAt = [at(1), at(3), at(4), at(4)];
  assert.deepEqual(eventsOf(log, logAt, s, new Set([1])).get('vs'), [lines[0]]);
  assert.deepEqual(eventsOf(log, logAt, s, new Set()).get('vs'), lines);
});
