// VrrpService reports each sync group's state change with the group's smtp_alert setting, the event the daemon sends
// keepalived's group mail from (vrrp_notify.c vrrp_sync_smtp_notifier): BACKUP at start, MASTER, STOP at stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needRoot } from '../support/tier.js';
import { createVethPair, runIn } from '../net/veth-pair.js';
import { tempDir } from '../support/tempdir.js';

test('sync group transitions come out as group-transition events with smtp_alert', { timeout: 30_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2')) return;
  const p = await createVethPair('ge');
  const dir = tempDir(t, 'lvskge-');
  try {
    const conf = join(dir, 'keepalived.conf');
    const inst = (name: string, vrid: number): string =>
      `vrrp_instance ${name} {\n  interface ${p.ifA}\n  virtual_router_id ${vrid}\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    192.0.2.${vrid}/24\n  }\n}\n`;
    writeFileSync(conf, `vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n  smtp_alert\n}\nvrrp_sync_group H {\n  group {\n    VI_3\n  }\n}\n${inst('VI_1', 51)}${inst('VI_2', 52)}${inst('VI_3', 53)}`);
    const c = runIn(p.nsA, 'test/vrrp/group-events-child.js', conf);
    try {
      await c.next((o) => o['started'] === true);
      assert.deepEqual(await c.next((o) => o['group'] === 'G'), { group: 'G', state: 'BACKUP', smtpAlert: true });
      assert.deepEqual(await c.next((o) => o['group'] === 'H'), { group: 'H', state: 'BACKUP', smtpAlert: false });
      assert.deepEqual(await c.next((o) => o['group'] === 'G', 8000), { group: 'G', state: 'MASTER', smtpAlert: true });
      c.proc.kill('SIGTERM');
      assert.deepEqual(await c.next((o) => o['group'] === 'G' && o['state'] === 'STOP'), { group: 'G', state: 'STOP', smtpAlert: true });
      assert.equal(await c.exited, 0);
    } finally {
      c.kill();
    }
  } finally {
    p.dispose();
  }
});
