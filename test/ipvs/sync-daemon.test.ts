// lvs_sync_daemon's pure parts: the IPVS_CMD_*_DAEMON attributes (golden bytes written by hand from
// include/uapi/linux/ip_vs.h and ip_vs_ctl.c ip_vs_genl_new_daemon / ip_vs_genl_dump_daemon), keepalived's start/stop
// order (SyncPlan) and the `ipvsadm -L --daemon` lines. The kernel side of all three is in test/vm/takeover.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDaemonMessage, encodeDaemon, encodeDaemonKey } from '../../src/ipvs/codec.js';
import { formatSyncDaemons } from '../../src/ipvs/format-ipvsadm.js';
import { SyncPlan, syncSettings } from '../../src/ipvs/sync-plan.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');

const NEW_DAEMON = hex(`
  40 00 03 80              # nla len 64, IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED
  08 00 01 00  02 00 00 00 # IPVS_DAEMON_ATTR_STATE u32: IP_VS_STATE_BACKUP
  09 00 02 00  65 74 68 30 # IPVS_DAEMON_ATTR_MCAST_IFN "eth0\\0" (nla len 9)
               00 00 00 00 #   + 3 pad
  08 00 03 00  07 00 00 00 # IPVS_DAEMON_ATTR_SYNC_ID u32: 7
  06 00 04 00  78 05 00 00 # IPVS_DAEMON_ATTR_SYNC_MAXLEN u16 host order: 1400
  06 00 07 00  92 22 00 00 # IPVS_DAEMON_ATTR_MCAST_PORT u16 host order: 8850
  05 00 08 00  02 00 00 00 # IPVS_DAEMON_ATTR_MCAST_TTL u8: 2
  08 00 05 00  e0 00 00 52 # IPVS_DAEMON_ATTR_MCAST_GROUP in_addr: 224.0.0.82
`);

test('IPVS_CMD_NEW_DAEMON carries every option given, IPVS_CMD_DEL_DAEMON the role and sync id', () => {
  const got = encodeDaemon({ role: 'backup', interface: 'eth0', syncId: 7, maxlen: 1400, port: 8850, ttl: 2, group: { family: 'inet', address: '224.0.0.82' } });
  assert.equal(got.toString('hex'), NEW_DAEMON.toString('hex'));
  // Options left out are not sent: the kernel then picks its own defaults.
  assert.equal(encodeDaemon({ role: 'master', interface: 'eth0', syncId: 0 }).toString('hex'), hex(`
    20 00 03 80  08 00 01 00 01 00 00 00  09 00 02 00 65 74 68 30 00 00 00 00  08 00 03 00 00 00 00 00`).toString('hex'));
  assert.equal(encodeDaemonKey('master', 7).toString('hex'), hex(`
    14 00 03 80  08 00 01 00 01 00 00 00  08 00 03 00 07 00 00 00`).toString('hex'));
});

test('a GET_DAEMON reply decodes to the daemon the kernel runs, IPv6 group included', () => {
  const genl = hex('0b 01 00 00'); // IPVS_CMD_GET_DAEMON reply, version 1
  assert.deepEqual(decodeDaemonMessage(Buffer.concat([genl, NEW_DAEMON])), {
    role: 'backup', interface: 'eth0', syncId: 7, maxlen: 1400, port: 8850, ttl: 2, group: { family: 'inet', address: '224.0.0.82' },
  });
  const v6 = hex(`
    34 00 03 80  08 00 01 00 01 00 00 00  09 00 02 00 65 74 68 30 00 00 00 00  08 00 03 00 00 00 00 00
    14 00 06 00  ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 51 # IPVS_DAEMON_ATTR_MCAST_GROUP6 ff02::51`);
  assert.deepEqual(decodeDaemonMessage(Buffer.concat([genl, v6])), {
    role: 'master', interface: 'eth0', syncId: 0, maxlen: 0, port: 0, ttl: 0, group: { family: 'inet6', address: 'ff02::51' },
  });
});

test('following an instance: backup at start, then keepalived\'s stop-then-start on each MASTER boundary', () => {
  const plan = new SyncPlan(true);
  const s = (steps: ReturnType<SyncPlan['start']>): string[] => steps.map((x) => `${x.kind} ${x.role}${x.ignoreError ? ' (ignore)' : ''}`);
  assert.deepEqual(s(plan.start()), []);
  assert.deepEqual(s(plan.state('BACKUP')), ['start backup']);
  assert.deepEqual(s(plan.state('BACKUP')), []);
  assert.deepEqual(s(plan.state('MASTER')), ['stop backup', 'start master']);
  assert.deepEqual(s(plan.state('FAULT')), ['stop master', 'start backup']);
  assert.deepEqual(s(plan.state('BACKUP')), [], 'FAULT to BACKUP leaves the backup daemon alone');
  assert.deepEqual(s(plan.state('MASTER')), ['stop backup', 'start master']);
  assert.deepEqual(s(plan.restart()), ['stop master (ignore)', 'start master']);
  assert.deepEqual(s(plan.stop()), ['stop master']);
  // An address owner comes up MASTER: vrrp_init_state has started the backup daemon first.
  assert.deepEqual(s(new SyncPlan(true).state('MASTER')), ['start backup', 'stop backup', 'start master']);

  const alone = new SyncPlan(false);
  assert.deepEqual(s(alone.start()), ['stop master (ignore)', 'stop backup (ignore)', 'start master', 'start backup']);
  assert.deepEqual(s(alone.state('MASTER')), []);
  assert.deepEqual(s(alone.stop()), ['stop master (ignore)', 'stop backup (ignore)']);
});

test('the sync id defaults to the instance\'s virtual_router_id, else 0', () => {
  const cfg = { interface: 'eth0', instance: 'VI_1', raw: 'eth0 VI_1', src: { file: 'k.conf', line: 3 } };
  assert.equal(syncSettings(cfg, 51).syncId, 51);
  assert.equal(syncSettings({ ...cfg, syncId: 7 }, 51).syncId, 7);
  assert.equal(syncSettings(cfg, undefined).syncId, 0);
});

test('ipvsadm -L --daemon lines, master first', () => {
  assert.equal(formatSyncDaemons([
    { role: 'backup', interface: 'eth0', syncId: 9, maxlen: 1200, port: 9000, ttl: 3, group: { family: 'inet', address: '224.0.0.99' } },
    { role: 'master', interface: 'eth0', syncId: 7, maxlen: 1472, port: 8848, ttl: 1, group: { family: 'inet', address: '224.0.0.81' } },
  ]), 'master sync daemon (mcast=eth0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n'
    + 'backup sync daemon (mcast=eth0, syncid=9, maxlen=1200, group=224.0.0.99, port=9000, ttl=3)\n');
  assert.equal(formatSyncDaemons([]), '');
});
