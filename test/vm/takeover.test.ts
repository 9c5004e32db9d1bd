// Connection-preserving takeover in the IPVS VM (takeover-guest.ts): two directors with lvs_sync_daemon following
// VI_1, DR real servers, a client holding plain and persistent connections through the MASTER, which is then killed
// with SIGKILL. keepalived on both directors is the reference; then lvskeeper on both, and each mixed pair, so that
// sync is shown to work both ways between the two. One boot, the four runs in sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../support/tier.js';
import { runInVm, sections, vmMissing } from './harness.js';
import { survivors, takeoverScript, type TakeoverScenario } from './takeover-guest.js';

const SCENARIOS: readonly TakeoverScenario[] = [
  { name: 'kk', d1: 'keepalived', d2: 'keepalived' },
  { name: 'll', d1: 'lvskeeper', d2: 'lvskeeper' },
  { name: 'kl', d1: 'keepalived', d2: 'lvskeeper' },
  { name: 'lk', d1: 'lvskeeper', d2: 'keepalived' },
];
const CONNS = 3;
const OPTIONS = 'mcast=eth0, syncid=7, maxlen=1400, group=224.0.0.82, port=8850, ttl=2';

/** Connections the backup's `ipvsadm -Lnc` holds: client connections per service, and persistence templates. */
function backupEntries(listing: string | undefined): { established: Record<string, number>; templates: number } {
  const established: Record<string, number> = {};
  let templates = 0;
  for (const line of (listing ?? '').split('\n')) {
    const m = /^TCP\s+\S+\s+(\S+)\s+10\.9\.0\.2:(\d+)\s+(10\.9\.0\.100:\d+)\s/.exec(line);
    if (!m) continue;
    if (m[2] === '0') templates++;
    else if (m[1] === 'ESTABLISHED') established[m[3]!] = (established[m[3]!] ?? 0) + 1;
  }
  return { established, templates };
}

test('director takeover with lvs_sync_daemon: the backup already holds every connection, and they all survive', { timeout: 1_800_000 }, async (t) => {
  const missing = vmMissing();
  if (!need(t, missing === undefined, missing ?? '')) return;
  const vm = await runInVm(takeoverScript(SCENARIOS, CONNS), { timeoutMs: 1_700_000 });
  const why = `guest output:\n${vm.stdout}\nguest log:\n${vm.stderr.slice(-20_000)}`;
  assert.equal(vm.exitCode, 0, `guest failed:\n${why}\n${vm.console.slice(-2000)}`);
  const s = sections(vm.stdout);
  const observed = SCENARIOS.map(({ name }) => {
    const lvsk = (d: string): string | undefined => s.get(`${name}/list-daemon/${d}`);
    return {
      name,
      master: s.get(`${name}/daemon/d1`),
      backup: s.get(`${name}/daemon/d2`),
      // `lvskeeper ipvs list --daemon` where lvskeeper runs, as ipvsadm printed it there
      listD1: lvsk('d1') === undefined || lvsk('d1') === s.get(`${name}/daemon/d1`),
      listD2: lvsk('d2') === undefined || lvsk('d2') === s.get(`${name}/daemon/d2`),
      backupHeld: backupEntries(s.get(`${name}/backup-conns`)),
      survived: survivors(s.get(`${name}/mid`), s.get(`${name}/post`)),
      afterTakeover: s.get(`${name}/daemon-after/d2`),
      afterStop: s.get(`${name}/daemon-stopped/d2`),
    };
  });
  const expected = SCENARIOS.map(({ name }) => ({
    name,
    master: `master sync daemon (${OPTIONS})\n`,
    backup: `backup sync daemon (${OPTIONS})\n`,
    listD1: true,
    listD2: true,
    backupHeld: { established: { '10.9.0.100:80': CONNS, '10.9.0.100:81': CONNS }, templates: 1 },
    survived: { total: 2 * CONNS, survived: 2 * CONNS },
    afterTakeover: `master sync daemon (${OPTIONS})\n`,
    afterStop: '',
  }));
  // keepalived's pair first: if the reference itself fails, the VM's network is to blame, not lvskeeper.
  assert.deepEqual(observed[0], expected[0], `the keepalived reference\n${why}`);
  assert.deepEqual(observed, expected, why);
  const lvskeeperDirectors = SCENARIOS.flatMap((x) => [x.d1, x.d2]).filter((i) => i === 'lvskeeper').length;
  assert.equal([...s.keys()].filter((k) => k.includes('/list-daemon/')).length, lvskeeperDirectors, 'one `ipvs list --daemon` per lvskeeper director');
});
