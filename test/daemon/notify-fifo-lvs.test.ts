// lvs_notify_fifo with its script and rs_init_notifies, against a real TCP listener: the lines keepalived 2.2.7 writes
// (ipwrapper.c notify_fifo_rs / notify_fifo_vs, `RS <rs> <vs> UP|DOWN` and `VS <vs> UP|DOWN`) in keepalived's
// order — at start the real server's initial notify (init_service_rs) before the virtual server's quorum
// (update_quorum_state), on a failure the real server's line before the quorum it takes with it — read by the FIFO
// script the daemon started with the FIFO's name. keepalived's checker needs the kernel's IPVS, which only the VM has;
// the lines here are keepalived's as its source writes them, not a differential.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Backend, until } from './drain-harness.js';
import { DaemonUnderTest } from './daemon-setup.js';

const FIFO_SCRIPT = `#!/bin/sh
trap '' TERM
echo "start $(basename "$1")" >> "$1.log"
while read -r line; do echo "$line" >> "$1.log"; done < "$1"
`;

test('lvs_notify_fifo: RS and VS lines at start (rs_init_notifies), on a TCP_CHECK failure and recovery, read by the FIFO script', { timeout: 90_000 }, async (t) => {
  const web = new Backend('web1', 19581);
  await web.start();
  t.after(() => web.stop());
  const d = new DaemonUnderTest(t, '');
  const fifo = join(d.dir, 'lvs.fifo');
  writeFileSync(join(d.dir, 'fifo.sh'), FIFO_SCRIPT);
  chmodSync(join(d.dir, 'fifo.sh'), 0o755);
  d.rewrite(`global_defs {
    lvs_notify_fifo ${fifo}
    lvs_notify_fifo_script ${join(d.dir, 'fifo.sh')}
    rs_init_notifies
}
virtual_server 127.0.0.1 19580 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 19581 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
`);
  const lines = (): string[] => (existsSync(`${fifo}.log`) ? readFileSync(`${fifo}.log`, 'utf8').split('\n').filter((l) => l !== '') : []);
  const seen = (n: number): Promise<string[]> => until(`${n} FIFO lines`, 20_000, () => (lines().length >= n ? lines() : undefined));
  const rs = 'RS [127.0.0.1]:tcp:19581 [127.0.0.1]:tcp:19580';
  const vs = 'VS [127.0.0.1]:tcp:19580';
  const run = d.start();
  assert.deepEqual(await seen(3), ['start lvs.fifo', `${rs} UP`, `${vs} UP`]);
  await web.stop();
  await run.waitFor(/Lost quorum/, 20_000);
  assert.deepEqual((await seen(5)).slice(3), [`${rs} DOWN`, `${vs} DOWN`]);
  await web.start();
  assert.deepEqual((await seen(7)).slice(5), [`${rs} UP`, `${vs} UP`]);
  assert.equal(await run.stop(), 0);
  // No omega: nothing more at stop; the FIFO this daemon created is gone.
  assert.equal(lines().length, 7);
  assert.equal(existsSync(fifo), false);
});
