// Flows surviving a director's death on the kernel data plane: the BGP ECMP topology (test/announce/bgp-topology.ts)
// inside the IPVS VM, with LVS-DR, `lb_algo mh` and net.ipv4.vs.sloppy_tcp on three directors. When the router drops
// a SIGKILLed director's path, the connections it carried are hashed to the other directors, which never saw their
// SYN: sloppy_tcp lets them take the connection mid-stream and Maglev picks the same real server, so every
// connection still answers, from the same real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { need } from '../support/tier.js';
import { runInVm, VM_CACHE, vmMissing } from './harness.js';

interface GuestConn {
  readonly id: number;
  readonly ok: boolean;
  readonly rs?: string;
  readonly director?: string;
  readonly directorAfter?: string;
  readonly okAfter: boolean;
  readonly rsAfter?: string;
}

test('kernel IPVS, DR + mh + sloppy_tcp: connections moved off a killed director keep their real server', { timeout: 900_000 }, async (t) => {
  const missing = vmMissing();
  if (!need(t, missing === undefined, missing ?? '')) return;
  if (!need(t, existsSync('/usr/lib/frr/bgpd'), "needs FRR's zebra and bgpd (apt-get install frr)")) return;
  const r = await runInVm([
    `for m in veth bridge; do modprobe -d '${VM_CACHE}/k' $m; done`,
    'node dist/test/vm/bgp-ecmp-guest.js',
  ].join('\n'), { timeoutMs: 840_000, memoryMb: 2048 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result (exit ${r.exitCode})\n${r.stdout}\n${r.stderr}\n${r.console.slice(-3000)}`);
  const res = JSON.parse(line.slice('RESULT '.length)) as { upMs?: number; paths: string[]; removedMs?: number; pathsAfter: string[]; conns: GuestConn[]; log: string[] };
  assert.deepEqual(res.paths, ['10.20.0.11', '10.20.0.12', '10.20.0.13'], res.log.join('\n'));
  assert.ok(res.removedMs !== undefined, `path of the killed director never went: ${res.pathsAfter.join(', ')}`);
  assert.deepEqual(res.pathsAfter, ['10.20.0.11', '10.20.0.12']);
  assert.ok(res.conns.every((c) => c.ok), JSON.stringify(res.conns));
  const moved = res.conns.filter((c) => c.director !== c.directorAfter);
  assert.ok(moved.some((c) => c.director === '10.20.0.13'), `no connection was on the killed director: ${JSON.stringify(res.conns)}`);
  const broken = res.conns.filter((c) => !c.okAfter || c.rsAfter !== c.rs);
  assert.deepEqual(broken, [], 'connections cut or answered by another real server');
  t.diagnostic(`3 paths after ${res.upMs?.toFixed(0)} ms; path removed ${res.removedMs.toFixed(0)} ms after SIGKILL; `
    + `${moved.length} of ${res.conns.length} connections moved to another director, all still answering from their real server`);
});
