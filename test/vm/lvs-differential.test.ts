// keepalived 2.2.7 and lvskeeper run the same configs on the same IPVS kernel (one VM boot, differential.ts):
// the tables ipvsadm -Ln shows, the log lines keepalived users grep for, and who runs the check scripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../support/tier.js';
import { vmMissing } from './harness.js';
import { logMessages, runDifferential, tableRows, type ScenarioResult } from './differential.js';
import { checkerLog, checkScripts, groupPorts, haSuspend, persistenceGranularity, reloadWeights, schedulerFlags } from './lvs-scenarios.js';

const SCENARIOS = [schedulerFlags, persistenceGranularity, groupPorts, checkerLog, checkScripts, haSuspend, reloadWeights];

/** Lines a keepalived user greps for in the checker process's log. */
const GREPPED = /^(Activating healthchecker for service|Gained quorum|Lost quorum|Starting with quorum|Shutting down |Removing service|Adding service)|(CHECK on service .* failed( after \d+ retries)?\.)$/;

const grepped = (log: string): string[] => logMessages(log).filter((l) => GREPPED.test(l)).sort();

/** Script calls as `uid argv…`, the work directory's path made the same for both sides. */
const calls = (r: ScenarioResult['keepalived']): string[] => r.collected.split('\n').filter((l) => l !== '');

test('IPVS VM: lvskeeper installs, logs and runs scripts as keepalived 2.2.7 does on the same configs', { timeout: 900_000 }, async (t) => {
  const missing = vmMissing();
  if (!need(t, missing === undefined, missing ?? '')) return;
  const run = await runDifferential(SCENARIOS, 840_000);
  assert.equal(run.vm.exitCode, 0, `guest failed:\n${run.vm.stderr}\n${run.vm.console.slice(-3000)}`);
  const get = (name: string): ScenarioResult => {
    const r = run.results.get(name);
    assert.ok(r, name);
    return r;
  };
  const why = (r: ScenarioResult): string => `keepalived log:\n${r.keepalived.log}\nlvskeeper log:\n${r.lvskeeper.log}`;

  await t.test('sh-port/sh-fallback/mh-port/mh-fallback/flag-N: the same IP_VS_SVC_F_SCHED_* flags', () => {
    const r = get(schedulerFlags.name);
    const k = tableRows(r.keepalived.tables.get('start'));
    assert.ok(k.includes('TCP 192.0.2.10:80 sh (sh-port)') && k.includes('TCP 192.0.2.13:80 mh (mh-fallback)'), k.join('\n'));
    assert.deepEqual(tableRows(r.lvskeeper.tables.get('start')), k, why(r));
  });

  await t.test('persistence_granularity: the same netmask in the kernel, solid or not, IPv4 and IPv6', () => {
    const r = get(persistenceGranularity.name);
    const k = tableRows(r.keepalived.tables.get('start'));
    assert.ok(k.includes('TCP 192.0.2.21:80 rr persistent 50 mask 0.0.0.24'), k.join('\n'));
    assert.deepEqual(tableRows(r.lvskeeper.tables.get('start')), k, why(r));
  });

  await t.test('virtual_server_group with mixed ports: DR/TUN destinations take each member port', () => {
    const r = get(groupPorts.name);
    const k = tableRows(r.keepalived.tables.get('start'));
    assert.ok(k.includes('  -> 192.0.2.50:8080 Route 1'), k.join('\n'));
    assert.deepEqual(tableRows(r.lvskeeper.tables.get('start')), k, why(r));
  });

  await t.test('checker and IPVS log lines: activation, quorum at start, failures, shutdown of every real server', () => {
    const r = get(checkerLog.name);
    assert.deepEqual(tableRows(r.lvskeeper.tables.get('start')), tableRows(r.keepalived.tables.get('start')), why(r));
    const k = grepped(r.keepalived.log);
    for (const expected of ['Activating healthchecker for service', 'Gained quorum', 'Shutting down service']) {
      assert.ok(k.some((l) => l.startsWith(expected)), `keepalived logged no ${expected}`);
    }
    assert.deepEqual(grepped(r.lvskeeper.log), k, why(r));
  });

  await t.test('check scripts: once each, as script_user, MISC_CHECK too; an unsafe root script is disabled', () => {
    const r = get(checkScripts.name);
    const notify = (c: string[]): string[] => c.filter((l) => !l.includes(' misc ')).sort();
    const misc = (c: string[]): string[] => [...new Set(c.filter((l) => l.includes(' misc ')))];
    const k = calls(r.keepalived);
    assert.deepEqual(notify(k), ['65534 quorum-down', '65534 quorum-up', '65534 rs-down 8091'], 'keepalived runs each notify once as nobody');
    assert.deepEqual(notify(calls(r.lvskeeper)), notify(k), why(r));
    assert.deepEqual(misc(k), ['65534 misc 8092']);
    assert.deepEqual(misc(calls(r.lvskeeper)), misc(k), why(r));
    const unsafe = (w: string): string => `Unsafe permissions found for script '/tmp/lvskd/check-scripts/${w}/unsafe' - disabling.`;
    assert.ok(r.keepalived.log.includes(unsafe('keepalived')));
    assert.ok(r.lvskeeper.log.includes(unsafe('lvskeeper')), why(r));
  });

  await t.test('ha_suspend: the same tables whatever the address, the same checker lines in the same order, no check while suspended', () => {
    const r = get(haSuspend.name);
    const steps = ['start', ...(haSuspend.steps ?? []).map((s) => s.name)];
    const k = steps.map((s) => [s, tableRows(r.keepalived.tables.get(s))]);
    assert.ok((k[0]![1] as string[]).includes('TCP 192.0.2.80:80 rr'), 'keepalived installs the service without its address');
    assert.deepEqual(steps.map((s) => [s, tableRows(r.lvskeeper.tables.get(s))]), k, why(r));
    const switched = (log: string): string[] =>
      logMessages(log).filter((l) => /^((Activating|Deactivating|Suspending) healthchecker for service |Netlink reflector reports IP )/.test(l));
    const kl = switched(r.keepalived.log);
    for (const what of ['Deactivating', 'Activating', 'Suspending']) assert.ok(kl.some((l) => l.startsWith(`${what} healthchecker for service [192.0.2.1]:tcp:8101`)), `keepalived: no ${what}`);
    assert.ok(kl.includes('Netlink reflector reports IP 192.0.2.81 added'), 'keepalived -D reports the address its dump finds');
    assert.deepEqual(switched(r.lvskeeper.log), kl, why(r));
    // Checks of 192.0.2.80's servers between the marks only; 192.0.2.81's all along.
    for (const side of ['keepalived', 'lvskeeper'] as const) {
      const hits = r[side].collected.split('\n').filter((l) => l !== '');
      const added = hits.indexOf('mark added');
      const removed = hits.indexOf('mark removed');
      assert.ok(added > 0 && removed > added, `${side}: ${hits.join(',')}`);
      const of80 = (part: string[]): number => part.filter((l) => l === 'hit 8101' || l === 'hit 8102').length;
      assert.equal(of80(hits.slice(0, added)), 0, `${side}: checked before the address came`);
      assert.ok(of80(hits.slice(added, removed)) > 0, `${side}: no check with the address here`);
      assert.equal(of80(hits.slice(removed)), 0, `${side}: checked after the address went`);
      assert.ok(hits.slice(0, added).includes('hit 8103'), `${side}: 192.0.2.81 checked from the start`);
    }
  });

  await t.test('reloads that move weights, remove servers and reorder the virtual servers: the same table after each, the sorry server in and out with the quorum, the lines in keepalived\'s order', () => {
    const r = get(reloadWeights.name);
    const steps = ['start', ...(reloadWeights.steps ?? []).map((s) => s.name)];
    const k = steps.map((s) => [s, tableRows(r.keepalived.tables.get(s))] as const);
    const at = (step: string): readonly string[] => k.find(([s]) => s === step)![1];
    assert.ok(at('weights').includes('  -> 192.0.2.61:80 Masq 3') && at('start').includes('  -> 192.0.2.61:80 Masq 1'), 'keepalived took the new weight');
    assert.notDeepEqual(at('quorum-lost'), at('weights'), 'keepalived: the weight that took the quorum changed the table');
    assert.deepEqual(steps.map((s) => [s, tableRows(r.lvskeeper.tables.get(s))]), k, why(r));
    const quorum = (log: string): string[] => logMessages(log).filter((l) => /quorum|sorry server|alive servers|^Changing weight|^Activating healthchecker|no longer exist|^Removing service/.test(l));
    assert.ok(quorum(r.keepalived.log).some((l) => l.startsWith('Adding sorry server')), 'keepalived brought the sorry server in');
    assert.ok(quorum(r.keepalived.log).includes('service [192.0.2.63]:tcp:80 no longer exist'), 'keepalived removed the server');
    const gone = (ip: string): number => quorum(r.keepalived.log).indexOf(`service [${ip}]:tcp:80 no longer exist`);
    assert.ok(gone('192.0.2.72') >= 0 && gone('192.0.2.72') < gone('192.0.2.62'), 'keepalived walked the reordered config: the group first');
    assert.deepEqual(quorum(r.lvskeeper.log), quorum(r.keepalived.log), why(r));
  });

  await t.test('both stop with an empty table', () => {
    for (const s of SCENARIOS) {
      const r = get(s.name);
      assert.deepEqual(tableRows(r.keepalived.tables.get('stopped')), [], `${s.name} keepalived`);
      assert.deepEqual(tableRows(r.lvskeeper.tables.get('stopped')), [], `${s.name} lvskeeper`);
    }
  });
});
