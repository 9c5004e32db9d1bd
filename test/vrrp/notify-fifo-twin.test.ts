// The notify FIFOs, lvskeeper against keepalived 2.2.7 in twin namespaces (twin-support.ts): each side's config
// differs only in its directory, and each FIFO script logs its start (with the FIFO it was given) and every line it
// reads. The same events on both sides — start, MASTER, a priority change from a weighted track_file, BACKUP to a
// higher-priority peer (keepalived itself in the peer namespace), a priority change as BACKUP, a reload, the peer
// gone, stop — and the two logs compared line for line, with the FIFOs' type and mode while running and their
// removal at stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { Proc, waitFor } from './netns-support.js';
import { SIDES, Twin, type Side } from './twin-support.js';

/** Reads its FIFO until the writers are gone; SIGTERM (keepalived's script_killall) is ignored so STOP lines are seen. */
const FIFO_SCRIPT = `#!/bin/sh
trap '' TERM
fifo="$1"
echo "start $(basename "$fifo")" >> "$fifo.log"
while read -r line; do echo "$line" >> "$fifo.log"; done < "$fifo"
`;

function config(dir: string): string {
  return `global_defs {
  script_user root
  vrrp_garp_master_delay 0
  notify_fifo ${dir}/global.fifo
  notify_fifo_script ${dir}/../fifo.sh
  vrrp_notify_fifo ${dir}/vrrp.fifo
  vrrp_notify_fifo_script ${dir}/../fifo.sh
  vrrp_notify_priority_changes
  fifo_write_vrrp_states_on_reload
}
vrrp_track_file tf {
  file ${dir}/track
  weight 10
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  track_file {
    tf
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;
}

/** keepalived at priority 200 on the peer's end of the VRRP link: it takes MASTER from the side under test. */
const PEER = `global_defs {
  vrrp_garp_master_delay 0
}
vrrp_instance PEER {
  state BACKUP
  interface p0
  virtual_router_id 51
  priority 200
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

test('notify FIFOs: the lines and script runs of start, MASTER, priority changes, BACKUP, reload and stop — as keepalived', { timeout: 180_000 }, async (t) => {
  if (!(needRoot(t) && needCommand(t, 'mkfifo', 'coreutils') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)'))) return;
  const twin = new Twin('ff');
  const peers: Proc[] = [];
  try {
    writeFileSync(join(twin.dir, 'fifo.sh'), FIFO_SCRIPT);
    chmodSync(join(twin.dir, 'fifo.sh'), 0o755);
    const dir = (side: Side): string => join(twin.dir, side);
    const procs = {} as Record<Side, Proc>;
    for (const side of SIDES) {
      mkdirSync(dir(side));
      writeFileSync(join(dir(side), 'track'), '0\n');
      writeFileSync(join(dir(side), 'keepalived.conf'), config(dir(side)));
      writeFileSync(join(dir(side), 'peer.conf'), PEER);
    }
    for (const side of SIDES) procs[side] = twin.start(side, join(dir(side), 'keepalived.conf'), repoRoot);
    const read = (side: Side, fifo: string): string[] => {
      const path = join(dir(side), `${fifo}.log`);
      return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
    };
    const bothHave = async (what: string, line: string, ms = 15_000): Promise<void> => {
      for (const side of SIDES) {
        assert.ok(await waitFor(() => read(side, 'vrrp.fifo').includes(line) && read(side, 'global.fifo').includes(line), ms),
          `${side}: no '${line}' (${what})\nvrrp: ${read(side, 'vrrp.fifo').join(' | ')}\nglobal: ${read(side, 'global.fifo').join(' | ')}\n${procs[side].log}`);
      }
    };
    const count = (side: Side, line: string): number => read(side, 'vrrp.fifo').filter((l) => l === line).length;

    await bothHave('start', 'INSTANCE "VI_1" MASTER 150', 45_000);
    for (const side of SIDES) {
      for (const f of ['global.fifo', 'vrrp.fifo']) {
        const st = lstatSync(join(dir(side), f));
        assert.ok(st.isFIFO(), `${side} ${f}`);
        assert.equal(st.mode & 0o777, 0o600, `${side} ${f}`);
      }
    }

    for (const side of SIDES) writeFileSync(join(dir(side), 'track'), '2\n');
    await bothHave('track_file 2 as MASTER', 'INSTANCE "VI_1" MASTER_PRIORITY 170');

    for (const side of SIDES) {
      const child = spawn('ip', ['netns', 'exec', twin.peer(side), '/usr/sbin/keepalived', '-n', '-l', '-P', '-f', join(dir(side), 'peer.conf'),
        '-p', join(dir(side), 'peer.pid'), '-r', join(dir(side), 'peer-vrrp.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
      const p = new Proc(child, join(dir(side), 'peer.log'));
      p.vrrpPidFile = join(dir(side), 'peer-vrrp.pid');
      peers.push(p);
    }
    await bothHave('higher-priority peer', 'INSTANCE "VI_1" BACKUP 170', 20_000);

    for (const side of SIDES) writeFileSync(join(dir(side), 'track'), '1\n');
    await bothHave('track_file 1 as BACKUP', 'INSTANCE "VI_1" BACKUP_PRIORITY 160');

    for (const side of SIDES) procs[side].signal('SIGHUP');
    // fifo_write_vrrp_states_on_reload: the state again, written by the FIFO script started afresh.
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, 'INSTANCE "VI_1" BACKUP 160') === 1 && read(side, 'vrrp.fifo').filter((l) => l.startsWith('start')).length === 2, 15_000),
      `${side}: ${read(side, 'vrrp.fifo').join(' | ')}\n${procs[side].log}`);

    for (const p of peers) p.signal('SIGTERM');
    await Promise.all(peers.map((p) => p.exited()));
    await bothHave('peer gone', 'INSTANCE "VI_1" MASTER 160', 20_000);

    for (const side of SIDES) procs[side].signal('SIGTERM');
    for (const side of SIDES) await procs[side].exited();
    await bothHave('stop', 'INSTANCE "VI_1" STOP 160', 5000);

    for (const f of ['vrrp.fifo', 'global.fifo']) {
      assert.deepEqual(read('lk', f), read('ka', f), `${f}: lvskeeper, then keepalived`);
      for (const side of SIDES) assert.equal(existsSync(join(dir(side), f)), false, `${side}: ${f} removed at stop`);
    }
    // The whole sequence, as keepalived wrote it (each script run starts with the name of its FIFO).
    assert.deepEqual(read('ka', 'vrrp.fifo'), [
      'start vrrp.fifo', 'INSTANCE "VI_1" BACKUP 150', 'INSTANCE "VI_1" MASTER 150', 'INSTANCE "VI_1" MASTER_PRIORITY 170',
      // The reload sets the trackers' priority on the configured one again: a change, then the state on reload.
      'INSTANCE "VI_1" BACKUP 170', 'INSTANCE "VI_1" BACKUP_PRIORITY 160', 'start vrrp.fifo', 'INSTANCE "VI_1" BACKUP_PRIORITY 160', 'INSTANCE "VI_1" BACKUP 160',
      'INSTANCE "VI_1" MASTER 160', 'INSTANCE "VI_1" STOP 160',
    ]);
  } finally {
    for (const p of peers) p.killHard();
    await Promise.all(peers.map((p) => p.exited()));
    await twin.destroy();
  }
});
