// `lvskeeper ipvs list` end to end: a real control socket (src/daemon/control.ts) serving a real driver's table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { fetchTableFromDaemon, NoDaemonError } from '../../src/cli/daemon-client.js';
import { registerIpvsCommands } from '../../src/cli/ipvs-list.js';
import { ControlServer } from '../../src/daemon/control.js';
import { DryRunIpvsDriver } from '../../src/ipvs/driver-dryrun.js';
import { formatIpvsadm } from '../../src/ipvs/format-ipvsadm.js';
import type { IpvsTable } from '../../src/ipvs/types.js';
import { silentLogger } from '../../src/log.js';
import { repoRoot } from '../support/tier.js';

const table: IpvsTable = {
  services: [
    {
      service: { key: { family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 }, scheduler: 'rr', flags: {}, persistenceTimeoutS: 0, persistenceNetmask: 0xffffffff },
      stats: { conns: 12345678901234n, inPkts: 1n, outPkts: 2n, inBytes: 3n, outBytes: 4n, cps: 5n, inPps: 6n, outPps: 7n, inBps: 8n, outBps: 9n },
      dests: [{ dest: { family: 'inet', address: '192.0.2.21', port: 80, forward: 'NAT', weight: 3, upperThreshold: 0, lowerThreshold: 0 }, activeConns: 2, inactiveConns: 1 }],
    },
  ],
};

test('fetchTableFromDaemon reads the table over the control socket, bigints intact; ipvs list prints it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsku-ctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'control.sock');
  const driver = new DryRunIpvsDriver(silentLogger(), table);
  const server = new ControlServer(path, { commands: { 'ipvs-table': async () => ({ table }) }, subscribe: () => () => undefined }, silentLogger());
  await server.listen();
  t.after(() => server.close());
  t.after(() => driver.close());
  const got = await fetchTableFromDaemon(path);
  assert.deepEqual(got, table);

  for (const [flag, format] of [[[], 'plain'], [['--stats'], 'stats'], [['--rate'], 'rate']] as const) {
    let out = '';
    const program = new Command('lvskeeper').exitOverride();
    registerIpvsCommands(program, { source: (o) => fetchTableFromDaemon(o.socket), syncDaemons: async () => [], write: (s) => (out += s) });
    await program.parseAsync(['ipvs', 'list', ...flag, '--socket', path], { from: 'user' });
    assert.equal(out, formatIpvsadm(table, format));
  }
});

test('no daemon: a clear error, and the CLI exits 1', async () => {
  const missing = join(tmpdir(), 'lvsku-absent', 'control.sock');
  await assert.rejects(fetchTableFromDaemon(missing), (err: unknown) => err instanceof NoDaemonError && err.message === `no running lvskeeper (no status socket at ${missing})`);
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist/bin/lvskeeper.js'), 'ipvs', 'list', '--socket', missing], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no running lvskeeper \(no status socket at .*lvsku-absent\/control\.sock\)/);
});
