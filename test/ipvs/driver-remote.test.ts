// The checker process's handle on the supervisor's embedded table (driver-remote.ts), over two real Channels linked
// in this process (each message structured-cloned, as the IPC pipe does): the passes read the table's entries once
// and then the mirror, which ends as the table itself; a change the mirror did not follow makes the next pass ask
// for the entries again, and the pass repairs the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/clock.js';
import { Channel, type IpcEndpoint } from '../../src/ipc/channel.js';
import type { FromChecker, FromCheckerNotes, IpvsCall, ToChecker, ToCheckerNotes } from '../../src/ipc/protocol.js';
import { DryRunIpvsDriver } from '../../src/ipvs/driver-dryrun.js';
import { RemoteIpvsDriver, TableHost } from '../../src/ipvs/driver-remote.js';
import { IpvsManager } from '../../src/ipvs/manager.js';
import type { IpvsTable } from '../../src/ipvs/types.js';
import { silentLogger } from '../../src/log.js';
import { config, realServers } from './pool-fixtures.js';

/** Two IPC ends: what one sends, the other receives on a later turn, cloned. */
function linkedEndpoints(): [IpcEndpoint, IpcEndpoint] {
  const make = (): IpcEndpoint & { peer?: IpcEndpoint & { listeners: ((m: unknown) => void)[] }; listeners: ((m: unknown) => void)[] } => {
    const end = {
      connected: true,
      listeners: [] as ((m: unknown) => void)[],
      peer: undefined as (IpcEndpoint & { listeners: ((m: unknown) => void)[] }) | undefined,
      send(m: unknown, cb?: (err: Error | null) => void): boolean {
        const copy = structuredClone(m);
        setImmediate(() => {
          for (const l of end.peer!.listeners) l(copy);
          cb?.(null);
        });
        return true;
      },
      on(event: string, l: (m: unknown) => void) {
        if (event === 'message') end.listeners.push(l);
        return end;
      },
      off(_event: string, l: (m: unknown) => void) {
        end.listeners = end.listeners.filter((x) => x !== l);
        return end;
      },
    };
    return end;
  };
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A checker process's driver on the host's table; `full` counts the entries answers that carried the table. */
function connect(host: TableHost, counts: { full: number }): RemoteIpvsDriver {
  const [sup, child] = linkedEndpoints();
  const supervisorEnd = new Channel<ToChecker, FromChecker, ToCheckerNotes, FromCheckerNotes>(sup);
  supervisorEnd.handle('ipvs', async (c: IpvsCall) => {
    const r = await host.call(c);
    if (c.call === 'entries' && 'generation' in r && r.table !== undefined) counts.full++;
    return r;
  });
  return new RemoteIpvsDriver('dry-run', new Channel<FromChecker, ToChecker, FromCheckerNotes, ToCheckerNotes>(child));
}

function cfg(weights: readonly number[]) {
  const rs = weights.map((w, i) => realServers([`192.0.2.${21 + i}`], 80, `weight ${w}`)).join('\n');
  return config(`virtual_server 192.0.2.10 80 {\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n${rs}\n}\n`);
}

function lines(t: IpvsTable): string[] {
  return t.services.flatMap((s) => s.dests.map((d) => `${s.service.key.address} -> ${d.dest.address} w${d.dest.weight}`)).sort();
}

test('passes read the entries once, then follow their own operations; the table ends as configured', async () => {
  const table = new DryRunIpvsDriver(silentLogger());
  const counts = { full: 0 };
  const remote = connect(new TableHost(table), counts);
  const manager = new IpvsManager(cfg([1, 1, 1]), { driver: remote, clock: new FakeClock(), log: silentLogger() });
  assert.deepEqual(await manager.start(), { ops: 4, failed: 0 });
  assert.deepEqual(await manager.reload(cfg([1, 2])), { ops: 2, failed: 0 });
  assert.deepEqual(await manager.sync(), { ops: 0, failed: 0 });
  assert.equal(counts.full, 1);
  assert.deepEqual(lines(await table.dump()), ['192.0.2.10 -> 192.0.2.21 w1', '192.0.2.10 -> 192.0.2.22 w2']);
  // The mirror the passes read.
  assert.deepEqual(lines(await remote.entries()), lines(await table.dump()));
  await manager.stop();
});

test('a change the mirror did not follow (another process wrote the table) makes the next pass read the entries and repair it', async () => {
  const table = new DryRunIpvsDriver(silentLogger());
  const host = new TableHost(table);
  const counts = { full: 0 };
  const manager = new IpvsManager(cfg([1, 1]), { driver: connect(host, counts), clock: new FakeClock(), log: silentLogger() });
  await manager.start();
  const other = connect(host, { full: 0 });
  const [svc] = (await table.dump()).services;
  await other.apply({ kind: 'delDest', key: svc!.service.key, dest: svc!.dests[0]!.dest });
  assert.equal(lines(await table.dump()).length, 1);
  assert.deepEqual(await manager.sync(), { ops: 1, failed: 0 });
  assert.equal(counts.full, 2);
  assert.deepEqual(lines(await table.dump()), ['192.0.2.10 -> 192.0.2.21 w1', '192.0.2.10 -> 192.0.2.22 w1']);
  await manager.stop();
});
