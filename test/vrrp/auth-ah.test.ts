// auth_type AH: not implemented, and refused rather than run, since keepalived peers would drop our adverts and
// both sides would be MASTER. `-t` names it where it is written (keepalived's status left alone); the daemon names
// it too and does not start, nor does a reload bring it in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withConfigTestNamespace } from '../support/config-test-ns.js';
import { repoRoot } from '../support/tier.js';

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');

// auth_type on line 8.
const CONFIG = `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  authentication {
    auth_type AH
    auth_pass secret
  }
  virtual_ipaddress {
    192.0.2.10/24
  }
}
`;

test('auth_type AH: -t names it at its line with keepalived\'s status; the daemon names it and does not start', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsk-ah-'));
  try {
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(conf, CONFIG);
    withConfigTestNamespace(t, 'lvsk-st-ah', (inNs) => {
      const keepalived = inNs('keepalived', ['-t', '-f', conf]);
      const ours = inNs(process.execPath, [cli, '-t', '-f', conf]);
      assert.equal(ours.status, keepalived.status);
      assert.equal(ours.stderr, `${conf}:8: lvskeeper does not implement 'auth_type AH' - ignored\n`);
    });
    const pid = join(dir, 'p.pid');
    const r = spawnSync(process.execPath, [cli, '-P', '-n', '-l', '-f', conf, '--control-socket', join(dir, 'c.sock'), '--pid', pid,
      '--state-file', join(dir, 's.json')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stdout, new RegExp(`ERROR: ${conf.replace(/[.]/g, '\\.')}:8: \\(VI_1\\) auth_type AH: lvskeeper does not implement IPsec AH authentication; not running it`));
    assert.match(r.stdout, /configuration cannot run; exiting/);
    assert.doesNotMatch(r.stdout, /child process/);
    assert.equal(existsSync(pid), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
