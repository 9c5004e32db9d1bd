// net_namespace_ipvs at `-t`: keepalived 2.2.7's lines and status (core/global_parser.c net_namespace_ipvs_handler:
// the first one stays, a bare one names the default namespace), where the daemon makes its IPVS sockets
// (core/namespaces.c open_ipvs_namespace), and a start with the namespace missing, beside keepalived's.
// test/vm/net-namespace-ipvs.test.ts runs both daemons against a real IPVS kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import { ipvsNetnsPath } from '../../src/daemon/net-namespace.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';
import { needFile, needRoot, repoRoot } from '../support/tier.js';

const CASES = [
  ['named', 'net_namespace_ipvs lvskp-ipvs\n'],
  ['bare', 'net_namespace_ipvs\n'],
  ['twice', 'net_namespace_ipvs lvskp-one\nnet_namespace_ipvs lvskp-two\n'],
  ['bare first', 'net_namespace_ipvs\nnet_namespace_ipvs lvskp-two\n'],
] as const;
const config = (root: string): string => `${root}global_defs {\n router_id r1\n}\n`;

test("net_namespace_ipvs's forms: keepalived 2.2.7's lines and status", (t) => {
  withConfigTestNamespace(t, 'lvskp-nsipvs', (inNs) =>
    assert.deepEqual(dashTDifferences(inNs, CASES.map(([name, root]) => [name, config(root)] as const)), []));
});

test('the first net_namespace_ipvs stays; the IPVS sockets go to its namespace, else to net_namespace', () => {
  const ipvs = (root: string): string | undefined => parseConfigText(config(root), { file: 'k.conf' }).config.global.other['net_namespace_ipvs'];
  assert.deepEqual(CASES.map(([, root]) => ipvs(root)), ['lvskp-ipvs', '', 'lvskp-one', '']);
  assert.equal(ipvsNetnsPath('lvskp-ipvs', 'lvskp-a'), '/var/run/netns/lvskp-ipvs');
  assert.equal(ipvsNetnsPath('', 'lvskp-a'), '/proc/1/ns/net');
  assert.equal(ipvsNetnsPath(undefined, 'lvskp-a'), '/var/run/netns/lvskp-a');
  assert.equal(ipvsNetnsPath(undefined, undefined), undefined);
});

test('a missing net_namespace_ipvs namespace stops the daemon at start with keepalived\'s lines and status', { timeout: 60_000 }, (t) => {
  if (!needRoot(t) || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-nsipvs-'));
  try {
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(conf, `net_namespace_ipvs lvskp-missing-${process.pid}\nvirtual_server 192.0.2.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n` +
      ' real_server 192.0.2.21 80 {\n  weight 1\n }\n}\n');
    const run = (cmd: string[]): { status: number | null; lines: string[] } => {
      const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 30_000 });
      const lines = (r.stdout + r.stderr).split('\n').map((l) => l.replace(/^.*?\d\d:\d\d:\d\d(?: \d{4})?: (?:ERROR: )?/, ''));
      return { status: r.status, lines: lines.filter((l) => /namespace fds|Can't initialize ipvs/.test(l)) };
    };
    const ka = run(['/usr/sbin/keepalived', '-n', '-l', '-D', '-C', '-f', conf, '-p', join(dir, 'k.pid'), '-c', join(dir, 'c.pid')]);
    const lk = run([process.execPath, join(repoRoot, 'dist/bin/lvskeeper.js'), '-n', '-l', '-C', '-f', conf, '-p', join(dir, 'l.pid'),
      '--control-socket', join(dir, 'l.sock'), '--state-file', join(dir, 'l.json')]);
    assert.deepEqual(ka.lines, ['Failed to open namespace fds, errno 2 (No such file or directory)', 'Failed to open namespace fds, errno 2 (No such file or directory)',
      "IPVS: Can't initialize ipvs: No such file or directory"]);
    assert.deepEqual(lk, ka);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
