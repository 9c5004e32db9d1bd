import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VsPool, type PoolEvent } from '../../src/ipvs/pool.js';
import { sameDest } from '../../src/ipvs/reconcile.js';
import { firstVs, realServers } from './pool-fixtures.js';

const VS = '[192.0.2.10]:tcp:80';
const rs = (n: number): string => `${VS}/[192.0.2.2${n}]:tcp:80`;
const addrs = (n: number): string[] => Array.from({ length: n }, (_, i) => `192.0.2.2${i + 1}`);

function vsText(body: string, n = 3, rsExtra = ''): string {
  return `virtual_server 192.0.2.10 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${body}\n${realServers(addrs(n), 80, rsExtra)}\n}\n`;
}

const logs = (ev: PoolEvent[]): string[] => ev.flatMap((e) => (e.kind === 'log' ? [e.msg] : []));
const dests = (p: VsPool): string[] => p.destinations().map((d) => `${d.dest.address}:${d.dest.port}=${d.dest.weight}`);

test('quorum with hysteresis: loss at W < Q-H, gain at W >= Q+H, keepalived wording', () => {
  const p = new VsPool(firstVs(vsText('  quorum 3\n  hysteresis 1\n  quorum_up "/bin/true up"\n  quorum_down "/bin/true down"', 4)));
  // init_service_vs → update_quorum_state(vs, true): quorum reached at start is logged and runs quorum_up.
  const started = p.start();
  assert.deepEqual(logs(started), [`Gained quorum 3+1=4 <= 4 for VS ${VS}`]);
  const initial = started.find((e) => e.kind === 'quorum');
  assert.ok(initial && initial.kind === 'quorum' && initial.up && initial.script?.text === '/bin/true up');
  assert.equal(p.status().quorumUp, true);
  assert.deepEqual(logs(p.setAlive(rs(1), false)), [`Removing service [192.0.2.21]:tcp:80 from VS ${VS}`]);
  assert.deepEqual(logs(p.setAlive(rs(2), false)), [`Removing service [192.0.2.22]:tcp:80 from VS ${VS}`]);
  const lost = p.setAlive(rs(3), false);
  assert.deepEqual(logs(lost), [`Removing service [192.0.2.23]:tcp:80 from VS ${VS}`, `Lost quorum 3-1=2 > 1 for VS ${VS}`]);
  const q = lost.find((e) => e.kind === 'quorum');
  assert.ok(q && q.kind === 'quorum' && !q.up && q.script?.text === '/bin/true down');
  p.setAlive(rs(1), true);
  assert.equal(p.status().quorumUp, false, 'W=2 < Q+H=4: still down');
  p.setAlive(rs(2), true);
  const gained = p.setAlive(rs(3), true);
  assert.deepEqual(logs(gained), [`Adding service [192.0.2.23]:tcp:80 to VS ${VS}`, `Gained quorum 3+1=4 <= 4 for VS ${VS}`]);
  const up = gained.find((e) => e.kind === 'quorum');
  assert.ok(up && up.kind === 'quorum' && up.up && up.script?.text === '/bin/true up');
});

test('sorry server replaces the pool on quorum loss; RS changes stay out of IPVS while it is active, logged all the same', () => {
  const p = new VsPool(firstVs(vsText('  quorum 3\n  sorry_server 192.0.2.99 8080')));
  p.start();
  const lost = p.setAlive(rs(1), false);
  assert.deepEqual(logs(lost), [
    `Removing service [192.0.2.21]:tcp:80 from VS ${VS}`,
    `Lost quorum 3-0=3 > 2 for VS ${VS}`,
    `Adding sorry server [192.0.2.99]:tcp:8080 to VS ${VS}`,
    `Removing alive servers from the pool for VS ${VS}`,
  ]);
  assert.deepEqual(dests(p), ['192.0.2.99:8080=1']);
  // ipwrapper.c perform_svr_state logs the change before deciding that IPVS does not see it.
  assert.deepEqual(logs(p.setAlive(rs(2), false)), [`Removing service [192.0.2.22]:tcp:80 from VS ${VS}`]);
  assert.deepEqual(dests(p), ['192.0.2.99:8080=1'], 'no IPVS change while the sorry server is active');
  assert.deepEqual(logs(p.setAlive(rs(2), true)), [`Adding service [192.0.2.22]:tcp:80 to VS ${VS}`]);
  const gained = p.setAlive(rs(1), true);
  assert.deepEqual(logs(gained), [
    `Adding service [192.0.2.21]:tcp:80 to VS ${VS}`,
    `Gained quorum 3+0=3 <= 3 for VS ${VS}`,
    `Removing sorry server [192.0.2.99]:tcp:8080 from VS ${VS}`,
    `Adding alive servers to the pool for VS ${VS}`,
  ]);
  assert.deepEqual(dests(p), ['192.0.2.21:80=1', '192.0.2.22:80=1', '192.0.2.23:80=1']);
  assert.equal(p.status().sorryActive, false);
});

test('sorry_server_inhibit keeps the sorry server at weight 0 and enables it on loss', () => {
  const p = new VsPool(firstVs(vsText('  quorum 2\n  sorry_server 192.0.2.99 80\n  sorry_server_inhibit', 2)));
  p.start();
  assert.deepEqual(dests(p), ['192.0.2.21:80=1', '192.0.2.22:80=1', '192.0.2.99:80=0']);
  assert.ok(logs(p.setAlive(rs(1), false)).includes(`Enabling sorry server [192.0.2.99]:tcp:80 to VS ${VS}`));
  assert.deepEqual(dests(p), ['192.0.2.99:80=1']);
  assert.ok(logs(p.setAlive(rs(1), true)).includes(`Disabling sorry server [192.0.2.99]:tcp:80 from VS ${VS}`));
  assert.deepEqual(dests(p), ['192.0.2.21:80=1', '192.0.2.22:80=1', '192.0.2.99:80=0']);
});

test('inhibit_on_failure: a failed RS stays at weight 0 (Disabling/Enabling service)', () => {
  const p = new VsPool(firstVs(vsText('  inhibit_on_failure', 2)));
  p.start();
  assert.deepEqual(logs(p.setAlive(rs(2), false)), [`Disabling service [192.0.2.22]:tcp:80 of VS ${VS}`]);
  assert.deepEqual(dests(p), ['192.0.2.21:80=1', '192.0.2.22:80=0']);
  assert.deepEqual(logs(p.setAlive(rs(2), true)), [`Enabling service [192.0.2.22]:tcp:80 of VS ${VS}`]);
  assert.deepEqual(dests(p), ['192.0.2.21:80=1', '192.0.2.22:80=1']);
});

test('alpha: RSs start down; with quorum down at start the sorry server goes in at once', () => {
  const p = new VsPool(firstVs(vsText('  alpha\n  sorry_server 192.0.2.99 80', 2)));
  const ev = p.start();
  assert.deepEqual(logs(ev), [
    `Starting with quorum down 1-0=1 > 0 for VS ${VS}`,
    `Adding sorry server [192.0.2.99]:tcp:80 to VS ${VS}`,
    `Removing alive servers from the pool for VS ${VS}`,
  ]);
  assert.deepEqual(dests(p), ['192.0.2.99:80=1']);
  const gained = p.setAlive(rs(1), true);
  assert.ok(logs(gained).includes(`Gained quorum 1+0=1 <= 1 for VS ${VS}`));
  assert.deepEqual(dests(p), ['192.0.2.21:80=1']);
});

test('alpha: a real server without checkers starts alive (check_data.c: only alpha checkers start failed)', () => {
  const p = new VsPool(firstVs(`virtual_server 192.0.2.10 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  alpha\n${realServers(['192.0.2.21'])}\n  real_server 192.0.2.22 80 {\n    weight 3\n  }\n}\n`));
  assert.deepEqual(logs(p.start()), [`Gained quorum 1+0=1 <= 3 for VS ${VS}`]);
  assert.deepEqual(dests(p), ['192.0.2.22:80=3']);
});

test('alpha with inhibit_on_failure installs failed RSs at weight 0', () => {
  const p = new VsPool(firstVs(vsText('  alpha\n  inhibit_on_failure', 2)));
  p.start();
  assert.deepEqual(dests(p), ['192.0.2.21:80=0', '192.0.2.22:80=0']);
  assert.equal(p.status().quorumUp, false);
});

test('omega: shutdown runs notify_down and the alert of each alive RS, then quorum_down whatever the quorum', () => {
  const p = new VsPool(firstVs(vsText('  omega\n  quorum_down "/bin/true qd"', 2, 'notify_down "/bin/true nd"')));
  p.start();
  const what = (ev: PoolEvent[]): string[] => ev.map((e) => (e.kind === 'rs-state' || e.kind === 'quorum' ? e.script?.text ?? e.kind : e.kind));
  assert.deepEqual(what(p.shutdownEvents(true)), ['/bin/true nd', 'rs-shut', '/bin/true nd', 'rs-shut', '/bin/true qd']);
  // With lvs_flush_on_stop keepalived clears no real server one by one: only the virtual server's notifies.
  assert.deepEqual(what(p.shutdownEvents(false)), ['/bin/true qd']);
  // ipwrapper.c update_vs_notifies(stopping) runs quorum_down even when the quorum was lost before.
  p.setAlive(rs(1), false);
  p.setAlive(rs(2), false);
  assert.deepEqual(what(p.shutdownEvents(true)), ['/bin/true qd']);
  const plain = new VsPool(firstVs(vsText('  quorum_down "/bin/true qd"', 2)));
  plain.start();
  assert.deepEqual(plain.shutdownEvents(true), []);
});

test('a reload that drops a live installed RS removes it as keepalived does: line, notify_down, alert', () => {
  const text = vsText('', 2, 'notify_down "/bin/true nd"');
  const p = new VsPool(firstVs(text));
  p.start();
  const ev = p.reconfigure(firstVs(vsText('', 1, 'notify_down "/bin/true nd"')));
  assert.deepEqual(logs(ev), [`service [192.0.2.22]:tcp:80 no longer exist`, `Removing service [192.0.2.22]:tcp:80 from VS ${VS}`]);
  assert.deepEqual(ev.filter((e) => e.kind !== 'log').map((e) => e.kind), ['rs-state', 'rs-shut']);
});

test('misc_dynamic weights change IPVS weight and re-evaluate quorum', () => {
  const p = new VsPool(firstVs(vsText('  quorum 3')));
  p.start();
  assert.deepEqual(logs(p.setDynamicWeight(rs(1), 5)), [`Changing weight from 1 to 5 for active service [192.0.2.21]:tcp:80 of VS ${VS}`]);
  assert.deepEqual(dests(p), ['192.0.2.21:80=5', '192.0.2.22:80=1', '192.0.2.23:80=1']);
  p.setDynamicWeight(rs(1), 0);
  assert.equal(p.status().quorumUp, false, 'W=2 < 3');
  p.setAlive(rs(2), false);
  assert.deepEqual(logs(p.setDynamicWeight(rs(2), 7)), [`Changing weight from 1 to 7 for inactive service [192.0.2.22]:tcp:80 of VS ${VS}`]);
  assert.deepEqual(p.setDynamicWeight(rs(2), 7), [], 'same weight: no event');
  // A failed misc_dynamic server drops its weight unlogged (check_misc.c), and only once it is out of service.
  assert.deepEqual(p.setDynamicWeight(rs(2), undefined, true), []);
  assert.equal(p.status().realServers[1]?.dynamicWeight, undefined);
  assert.deepEqual(p.setDynamicWeight(rs(1), undefined, true), [], 'alive: left to the logged path');
  assert.equal(p.status().realServers[0]?.dynamicWeight, 0);
});

test('an operator override wins over dynamic weight and survives alive/dead transitions', () => {
  const p = new VsPool(firstVs(vsText('', 2)));
  p.start();
  p.setDynamicWeight(rs(1), 4);
  p.setOverrideWeight(rs(1), 0);
  p.setAlive(rs(1), false);
  p.setAlive(rs(1), true);
  assert.deepEqual(dests(p), ['192.0.2.21:80=0', '192.0.2.22:80=1']);
  p.setOverrideWeight(rs(1), undefined);
  assert.deepEqual(dests(p), ['192.0.2.21:80=4', '192.0.2.22:80=1']);
  const st = p.status().realServers[0];
  assert.equal(st?.dynamicWeight, 4);
  assert.equal(st?.overrideWeight, undefined);
});

test('reconfigure keeps state of kept RSs, starts new ones, drops removed ones', () => {
  const p = new VsPool(firstVs(vsText('', 3)));
  p.start();
  p.setAlive(rs(2), false);
  const next = firstVs(
    `virtual_server 192.0.2.10 80 {\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n` +
      `  real_server 192.0.2.21 80 {\n    weight 3\n    TCP_CHECK {\n    }\n  }\n` +
      `${realServers(['192.0.2.22', '192.0.2.24'])}\n}\n`,
  );
  const ev = p.reconfigure(next);
  // keepalived's order: clear_diff_rs's removals before init_service_rs's weights.
  assert.deepEqual(logs(ev), [
    `service [192.0.2.23]:tcp:80 no longer exist`,
    `Removing service [192.0.2.23]:tcp:80 from VS ${VS}`,
    `Changing weight from 1 to 3 for active service [192.0.2.21]:tcp:80 of VS ${VS}`,
  ]);
  assert.deepEqual(dests(p), ['192.0.2.21:80=3', '192.0.2.24:80=1'], 'failed RS 22 is not re-added by the reload');
});

test('reconfigure with the same servers in the same order: states kept, weight changes logged and applied', () => {
  const p = new VsPool(firstVs(vsText('', 3)));
  p.start();
  p.setAlive(rs(2), false);
  p.setOverrideWeight(rs(3), 7);
  const ev = p.reconfigure(firstVs(vsText('', 3, '    weight 2\n')));
  assert.deepEqual(logs(ev), [
    `Changing weight from 1 to 2 for active service [192.0.2.21]:tcp:80 of VS ${VS}`,
    `Changing weight from 1 to 2 for inactive service [192.0.2.22]:tcp:80 of VS ${VS}`,
  ]);
  assert.deepEqual(dests(p), ['192.0.2.21:80=2', '192.0.2.23:80=7'], 'RS 22 stays down, the override on 23 stays');
  // Reordered: matched by id all the same.
  const text = vsText('', 3, '    weight 2\n');
  const reordered = firstVs(text.replace(/(  real_server 192\.0\.2\.21[^]*?\n  }\n)([^]*?\n  }\n)/, '$2$1'));
  assert.deepEqual(reordered.realServers.map((r) => r.address), ['192.0.2.22', '192.0.2.21', '192.0.2.23']);
  assert.deepEqual(logs(p.reconfigure(reordered)), []);
  assert.deepEqual(dests(p).sort(), ['192.0.2.21:80=2', '192.0.2.23:80=7']);
});

// ipwrapper.c init_service_rs sets a reload's weights without weighing the quorum (update_svr_wgt), then
// init_service_vs weighs it once with init: a loss reads as at start, and so does a sorry server added to a virtual
// server whose quorum is down; the quorum events say init, for the alert's `Starting with quorum …`.
test("a reload weighs the quorum once, after its weights, in keepalived's start-up wording", () => {
  const sorry = '  quorum 3\n  sorry_server 192.0.2.99 8080';
  const p = new VsPool(firstVs(vsText(sorry)));
  p.start();
  assert.deepEqual(logs(p.setDynamicWeight(rs(1), 0, false, false)), [`Changing weight from 1 to 0 for active service [192.0.2.21]:tcp:80 of VS ${VS}`]);
  assert.deepEqual(dests(p), ['192.0.2.21:80=0', '192.0.2.22:80=1', '192.0.2.23:80=1'], 'the quorum waits for the reconfigure');
  const ev = p.reconfigure(firstVs(vsText(sorry)));
  assert.deepEqual(logs(ev), [
    `Starting with quorum down 3-0=3 > 2 for VS ${VS}`,
    `Adding sorry server [192.0.2.99]:tcp:8080 to VS ${VS}`,
    `Removing alive servers from the pool for VS ${VS}`,
  ]);
  assert.deepEqual(ev.filter((e) => e.kind === 'quorum'), [{ kind: 'quorum', vsId: VS, up: false, threshold: 3, weightSum: 2, init: true }]);
  assert.deepEqual(dests(p), ['192.0.2.99:8080=1']);
  const gained = p.reconfigure(firstVs(vsText(sorry, 3, '    weight 2\n')));
  assert.deepEqual(logs(gained).slice(-3), [
    `Gained quorum 3+0=3 <= 4 for VS ${VS}`,
    `Removing sorry server [192.0.2.99]:tcp:8080 from VS ${VS}`,
    `Adding alive servers to the pool for VS ${VS}`,
  ]);
  assert.deepEqual(gained.flatMap((e) => (e.kind === 'quorum' ? [[e.up, e.init]] : [])), [[true, true]]);
  // A sorry server a reload adds to a virtual server already without its quorum goes in the same way.
  const q = new VsPool(firstVs(vsText('  quorum 3')));
  q.start();
  q.setAlive(rs(1), false);
  assert.deepEqual(logs(q.reconfigure(firstVs(vsText(sorry)))), [
    `Starting with quorum down 3-0=3 > 2 for VS ${VS}`,
    `Adding sorry server [192.0.2.99]:tcp:8080 to VS ${VS}`,
    `Removing alive servers from the pool for VS ${VS}`,
  ]);
});

test('reconfigure: removing an active sorry server reinstates the alive RSs', () => {
  const p = new VsPool(firstVs(vsText('  quorum 3\n  sorry_server 192.0.2.99 80')));
  p.start();
  p.setAlive(rs(3), false);
  assert.deepEqual(dests(p), ['192.0.2.99:80=1']);
  const ev = p.reconfigure(firstVs(vsText('  quorum 3')));
  assert.ok(logs(ev).includes(`Removing sorry server [192.0.2.99]:tcp:80 from VS ${VS}`));
  assert.deepEqual(dests(p), ['192.0.2.21:80=1', '192.0.2.22:80=1']);
});

test('W == 0 loses quorum even when quorum - hysteresis is 0', () => {
  const vs = { ...firstVs(vsText('', 1)), quorum: 0 };
  const p = new VsPool(vs);
  p.start();
  assert.equal(p.status().quorumUp, true);
  assert.deepEqual(logs(p.setDynamicWeight(rs(1), 0)).slice(1), [`Lost quorum 0-0=0 > 0 for VS ${VS}`]);
});

test('alpha: notify_down again for a server that stays down, no pool change (update_svr_checker_state)', () => {
  const p = new VsPool(firstVs(vsText('  alpha', 2, 'notify_down "/bin/true nd"')));
  p.start();
  const again = p.notifyDownAgain(rs(1));
  assert.deepEqual(again.map((e) => (e.kind === 'rs-state' ? [e.alive, e.script?.text, e.notifyOnly] : e.kind)), [[false, '/bin/true nd', true]]);
  assert.deepEqual(dests(p), []);
  p.setAlive(rs(1), true);
  assert.deepEqual(p.notifyDownAgain(rs(1)), [], 'an alive server has nothing to repeat');
});

test('a fwmark service names its sorry server as its real servers: protocol none, port cleared (FMT_RS with service_type 0)', () => {
  // Found by the generated differential in the VM: lvskeeper wrote the ignored protocol, [10.201.68.1]:tcp:0.
  const text = 'virtual_server fwmark 1068 {\n  lb_algo rr\n  lb_kind DR\n  sorry_server 192.0.2.99 0\n' +
    `${realServers(['192.0.2.21'], 0, '')}\n}\n`;
  const p = new VsPool(firstVs(text));
  p.start();
  assert.deepEqual(logs(p.setAlive('FWM 1068/[192.0.2.21]:none:0', false)).filter((l) => l.includes('sorry')), [
    'Adding sorry server [192.0.2.99]:none:0 to VS FWM 1068',
  ]);
});

// reweighted lets a reload compare only the destinations whose weight moved. When it gives a list and the sorry
// server stays as it was, reconfigure must change those destinations' weights and nothing else, whatever the pool's
// state (a server down, an override, a dynamic weight, the sorry server on).
test('reweighted: the servers whose weight alone reconfigure changes, or undefined', () => {
  const sorry = '  sorry_server 192.0.2.99 80';
  const variants: Record<string, string> = {
    plain: vsText(''),
    again: vsText(''),
    weight: vsText('', 3, '    weight 2\n'),
    uthreshold: vsText('', 3, '    uthreshold 100\n'),
    inhibit: vsText('', 3, '    inhibit_on_failure\n'),
    inhibitWeight: vsText('', 3, '    inhibit_on_failure\n    weight 2\n'),
    dr: vsText('', 3, '    lvs_method DR\n'),
    quorum: vsText('  quorum 3'),
    sorry: vsText(sorry),
    sorryPort: vsText('  sorry_server 192.0.2.99 8080'),
    sorryInhibit: vsText(`${sorry}\n  sorry_server_inhibit`),
    quorumSorry: vsText(`  quorum 3\n${sorry}`),
    // One server down leaves 2 of the quorum's 3 with weight 1; with weight 2 the two make it, and the sorry server goes.
    quorumSorryWeight: vsText(`  quorum 3\n${sorry}`, 3, '    weight 2\n'),
    fewer: vsText('', 2),
    // The same addresses and ports under another protocol: other ids, so reconfigure starts every server afresh.
    udp: vsText('').replace('protocol TCP', 'protocol UDP'),
  };
  const states: Record<string, (p: VsPool) => void> = {
    started: () => undefined,
    down: (p) => p.setAlive(rs(1), false),
    // Under quorumSorry the sorry server stands in, and stays with weight 2 on the one server left.
    twoDown: (p) => [1, 2].forEach((n) => p.setAlive(rs(n), false)),
    override: (p) => p.setOverrideWeight(rs(2), 0),
    dynamic: (p) => p.setDynamicWeight(rs(3), 4),
  };
  let listed = 0;
  let moving = 0;
  let sorryMoved = 0;
  for (const [from, fromText] of Object.entries(variants)) {
    for (const [to, toText] of Object.entries(variants)) {
      for (const [state, apply] of Object.entries(states)) {
        const at = `${from} -> ${to}, ${state}`;
        const p = new VsPool(firstVs(fromText));
        p.start();
        apply(p);
        const before = new Map(p.destinations().map((d) => [d.id, d.dest]));
        const sorryOn = p.sorryOn;
        const next = firstVs(toText);
        const moved = p.reweighted(next);
        p.reconfigure(next);
        if (from === to || (from === 'plain' && to === 'again') || (from === 'again' && to === 'plain')) assert.deepEqual(moved, [], at);
        if (moved === undefined) continue;
        if (p.sorryOn !== sorryOn) {
          sorryMoved++;
          continue;
        }
        listed++;
        if (moved.length > 0) moving++;
        const after = new Map(p.destinations().map((d) => [d.id, d.dest]));
        assert.deepEqual([...after.keys()], [...before.keys()], at);
        assert.ok(moved.every((id) => after.has(id)), `${at}: a server listed is in the table`);
        for (const [id, d] of after) {
          const was = before.get(id)!;
          if (!moved.includes(id)) assert.deepEqual(d, was, `${at}: ${id}`);
          else assert.ok(d.weight !== was.weight && sameDest({ ...d, weight: was.weight }, was), `${at}: ${id}`);
        }
        assert.deepEqual(p.destinationsOf(new Set(moved)), p.destinations().filter((d) => moved.includes(d.id)).map((d) => d.dest), at);
      }
    }
  }
  const fromPlain = (to: string, state: (p: VsPool) => void): string[] | undefined => {
    const p = new VsPool(firstVs(variants['plain']!));
    p.start();
    state(p);
    return p.reweighted(firstVs(variants[to]!));
  };
  assert.deepEqual(fromPlain('weight', states['started']!), [rs(1), rs(2), rs(3)]);
  // A server out of service has no weight in the table to move.
  assert.deepEqual(fromPlain('weight', states['down']!), [rs(2), rs(3)]);
  // An override on every server hides a change of configured weight.
  assert.deepEqual(fromPlain('weight', (p) => [1, 2, 3].forEach((n) => p.setOverrideWeight(rs(n), 3))), []);
  for (const to of ['uthreshold', 'inhibit', 'dr', 'quorum', 'sorry', 'fewer', 'udp']) assert.equal(fromPlain(to, states['started']!), undefined, to);
  assert.ok(listed > 4 * 15 && moving > 10 && sorryMoved > 0, `${listed} listed, ${moving} with servers, ${sorryMoved} moving the sorry server`);
});
