// The scripts the daemon's parent runs (startup_script, shutdown_script) and the notify FIFO's script under
// net_namespace, against keepalived 2.2.7 (twin-support.ts): both daemons started in the root namespace with a config
// naming the side's namespace; each script records the namespace it runs in (`ip netns identify`) and the interfaces
// it sees. keepalived runs them all from processes that setns()ed into the namespace (core/main.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, type Side } from './twin-support.js';

const config = (ns: string, script: string, fifo: string): string => `net_namespace ${ns}
global_defs {
  script_user root
  startup_script "${script} startup"
  shutdown_script "${script} shutdown"
  vrrp_notify_fifo ${fifo}
  vrrp_notify_fifo_script ${script}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

test('startup_script, shutdown_script and the notify FIFO script run inside net_namespace, as keepalived', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('wtbss');
  try {
    const out: Record<Side, string> = { ka: join(twin.dir, 'ka.out'), lk: join(twin.dir, 'lk.out') };
    for (const side of SIDES) {
      const script = join(twin.dir, `${side}-script.sh`);
      // The FIFO script is called with the FIFO's path: it reads the FIFO until the daemon closes it.
      writeFileSync(script, `#!/bin/sh
case "$1" in /*) what=fifo ;; *) what="$1" ;; esac
echo "$what $(ip netns identify) $(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\\n' ' ')" >> ${out[side]}
[ "$what" = fifo ] && cat "$1" > /dev/null
exit 0
`);
      chmodSync(script, 0o755);
      writeFileSync(join(twin.dir, `${side}.conf`), config(twin.ns(side), script, join(twin.dir, `${side}.fifo`)));
    }
    const lines = (side: Side): string[] => {
      const text = existsSync(out[side]) ? readFileSync(out[side], 'utf8') : '';
      return text.split('\n').filter((l) => l).map((l) => l.replaceAll(twin.ns(side), 'NS').trim());
    };
    const daemons = { ka: twin.start('ka', join(twin.dir, 'ka.conf'), repoRoot, true), lk: twin.start('lk', join(twin.dir, 'lk.conf'), repoRoot, true) };
    const ran = (what: string): Promise<boolean> => waitFor(() => SIDES.every((s) => lines(s).some((l) => l.startsWith(`${what} `))), 20_000);
    assert.ok(await ran('startup'), `startup script: ${JSON.stringify({ ka: lines('ka'), lk: lines('lk') })}\n${daemons.lk.log}`);
    assert.ok(await ran('fifo'), `FIFO script: ${JSON.stringify({ ka: lines('ka'), lk: lines('lk') })}\n${daemons.lk.log}`);

    for (const side of SIDES) daemons[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => daemons[s].exited()));
    assert.ok(await ran('shutdown'), `shutdown script: ${JSON.stringify({ ka: lines('ka'), lk: lines('lk') })}\n${daemons.lk.log}`);

    // Inside the namespace: its name and its interfaces (lo, eth0, eth1), not the root namespace's; keepalived's order.
    assert.deepEqual(lines('ka').map((l) => l.split(' ').slice(0, 2).join(' ')), ['startup NS', 'fifo NS', 'shutdown NS'], JSON.stringify(lines('ka')));
    assert.deepEqual(lines('lk'), lines('ka'));
  } finally {
    await twin.destroy();
    rmSync(`/run/keepalived/${twin.ns('ka')}`, { recursive: true, force: true });
    rmSync(`/run/lvskeeper/${twin.ns('lk')}`, { recursive: true, force: true });
  }
});
