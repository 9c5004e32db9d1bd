// Reload (SIGHUP) of VRRP: which instances are kept, adjusted, restarted, removed or added (reload-plan.ts, from
// configs parsed by the real parser), and how an adjusted state machine carries on (fsm.ts reconfigure) on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/model.js';
import type { FsmConfig } from '../../src/vrrp/fsm.js';
import { diffVips, planReload } from '../../src/vrrp/reload-plan.js';
import { baseFsmConfig, FsmHarness } from './fsm-harness.js';

function parse(text: string): Config {
  const dir = mkdtempSync(join(tmpdir(), 'lvskv-reload-'));
  try {
    const path = join(dir, 'keepalived.conf');
    writeFileSync(path, text);
    const { config, diagnostics } = loadConfig(path);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'fatal'), []);
    return config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Inst {
  name: string;
  vrid?: number;
  priority?: number;
  vips?: string[];
  advertInt?: number;
  extra?: string[];
}

function conf(instances: Inst[], header: string[] = []): Config {
  const lines = [...header];
  for (const i of instances) {
    lines.push(`vrrp_instance ${i.name} {`, '  interface eth0', `  virtual_router_id ${i.vrid ?? 51}`);
    lines.push(`  priority ${i.priority ?? 100}`, `  advert_int ${i.advertInt ?? 1}`, ...(i.extra ?? []));
    lines.push('  virtual_ipaddress {', ...(i.vips ?? ['192.0.2.100/24']).map((v) => `    ${v}`), '  }', '}');
  }
  return parse(lines.join('\n') + '\n');
}

test('an identical config, even with every line moved, keeps every instance', () => {
  const prev = conf([{ name: 'VI_1' }, { name: 'VI_2', vrid: 52 }]);
  const next = conf([{ name: 'VI_1' }, { name: 'VI_2', vrid: 52 }], ['# a comment', '', 'global_defs {', '}']);
  assert.notDeepEqual(prev.vrrpInstances[0]!.src, next.vrrpInstances[0]!.src);
  assert.deepEqual(planReload(prev.vrrpInstances, next.vrrpInstances), { keep: ['VI_1', 'VI_2'], adjust: [], restart: [], remove: [], add: [] });
});

test('priority, VIP list, advert_int and preempt changes adjust in place; version, VRID or ownership restart', () => {
  const prev = conf([
    { name: 'P', vrid: 1 },
    { name: 'V', vrid: 2 },
    { name: 'A', vrid: 3 },
    { name: 'N', vrid: 4 },
    { name: 'I', vrid: 5 },
    { name: 'R', vrid: 6 },
    { name: 'O', vrid: 7 },
    { name: 'GONE', vrid: 8 },
  ]);
  const next = conf([
    { name: 'P', vrid: 1, priority: 150 },
    { name: 'V', vrid: 2, vips: ['192.0.2.100/24', '192.0.2.101/24'] },
    { name: 'A', vrid: 3, advertInt: 2 },
    { name: 'N', vrid: 4, extra: ['  nopreempt'] },
    { name: 'I', vrid: 5, extra: ['  version 3'] },
    { name: 'R', vrid: 60 },
    { name: 'O', vrid: 7, priority: 255 },
    { name: 'NEW', vrid: 9 },
  ]);
  assert.deepEqual(planReload(prev.vrrpInstances, next.vrrpInstances), {
    keep: [],
    adjust: ['P', 'V', 'A', 'N'],
    restart: ['I', 'R', 'O'],
    remove: ['GONE'],
    add: ['NEW'],
  });
});

test('a VIP list change adds and removes only the addresses that differ; changed options re-add that address', () => {
  const prev = conf([{ name: 'VI_1', vips: ['192.0.2.100/24', '192.0.2.101/24', '192.0.2.102/24 label eth0:a'] }]).vrrpInstances[0]!;
  const next = conf([{ name: 'VI_1', vips: ['192.0.2.101/24', '192.0.2.102/24 label eth0:b', '192.0.2.103/24'] }]).vrrpInstances[0]!;
  const d = diffVips(prev.virtualIpaddresses, next.virtualIpaddresses);
  assert.deepEqual(d.added.map((v) => `${v.address} ${v.label ?? ''}`), ['192.0.2.102 eth0:b', '192.0.2.103 ']);
  assert.deepEqual(d.removed.map((v) => `${v.address} ${v.label ?? ''}`), ['192.0.2.100 ', '192.0.2.102 eth0:a']);
  assert.deepEqual(diffVips(prev.virtualIpaddresses, prev.virtualIpaddresses), { added: [], removed: [] });
});

// No delayed second GARP burst and no lower-priority GARPs: the reload tests look at adverts and transitions.
const reloadBase: FsmConfig = { ...baseFsmConfig, garpMasterDelayMs: 0, garpLowerPrioDelayMs: 0, garpLowerPrioRepeat: 0 };

test('reconfigured MASTER: no transition or notify; the new priority is in the next advert, the new interval after it', () => {
  const h = new FsmHarness(reloadBase);
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(4000);
  assert.equal(h.fsm.state, 'MASTER');
  const t0 = h.clock.now();
  h.clock.advance(300);
  h.fsm.reconfigure({ ...reloadBase, priority: 150, advertIntCs: 200 });
  // The service re-evaluates the trackers after a reload: that is how the new base priority arrives.
  h.send({ kind: 'priority', effective: 150 });
  h.clock.advance(5000);
  const after = h.since(t0);
  assert.ok(!after.some((a) => a.kind === 'transition' || a.kind === 'notify' || a.kind === 'add-vips' || a.kind === 'remove-vips'));
  const adverts = h.log.filter((l) => l.at >= t0 && l.action.kind === 'send-advert');
  // The advert already scheduled goes out on time (1 s after the last, at 3609 + 1000) with the new priority; then every 2 s.
  assert.deepEqual(adverts.map((l) => [l.at - t0, (l.action as { priority: number }).priority]), [[609, 150], [2609, 150], [4609, 150]]);
  assert.equal(h.fsm.state, 'MASTER');
});

test('reconfigured BACKUP keeps its master and timer; a higher new priority then preempts the lower master', () => {
  const h = new FsmHarness(reloadBase);
  h.send({ kind: 'start', faulty: false });
  h.send({ kind: 'advert', priority: 120, src: '192.0.2.2', advertIntCs: 100 });
  h.clock.advance(900);
  h.fsm.reconfigure({ ...reloadBase, priority: 130 });
  h.send({ kind: 'priority', effective: 130 });
  assert.equal(h.fsm.state, 'BACKUP');
  assert.ok(!h.log.some((l) => l.action.kind === 'transition' && l.action.to !== 'BACKUP'));
  // From now on the master's 120 is lower than ours: its adverts no longer hold us back.
  for (let i = 0; i < 5; i++) {
    h.clock.advance(1000);
    h.send({ kind: 'advert', priority: 120, src: '192.0.2.2', advertIntCs: 100 });
  }
  assert.equal(h.fsm.state, 'MASTER');
});
