// notify_up/notify_down and quorum_up/quorum_down under enable_script_security and script_user, through the built
// daemon: each runs once per transition as the script user (keepalived 2.2.7 does the same in the IPVS VM,
// test/vm/lvs-differential.test.ts), and a world-writable script set to run as root is disabled with keepalived's line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lookupId } from '../../src/exec/script.js';
import { needRoot } from '../support/tier.js';
import { Backend, until } from './drain-harness.js';
import { DaemonUnderTest, httpRealServer } from './daemon-setup.js';

test('check notify scripts run once per transition as script_user; an unsafe root script is disabled', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  const nobody = lookupId('/etc/passwd', 'nobody');
  assert.ok(nobody !== undefined && nobody !== 0);
  const web = new Backend('web1', 19471);
  await web.start();
  t.after(() => web.stop());
  const d = new DaemonUnderTest(t, '');
  // The script user must reach the scripts and their log.
  chmodSync(d.dir, 0o755);
  const calls = join(d.dir, 'calls.log');
  writeFileSync(calls, '');
  chmodSync(calls, 0o666);
  const rec = join(d.dir, 'rec');
  const unsafe = join(d.dir, 'unsafe');
  for (const [f, mode] of [[rec, 0o755], [unsafe, 0o777]] as const) {
    writeFileSync(f, `#!/bin/sh\necho "$(id -u) $*" >> ${calls}\n`);
    chmodSync(f, mode);
  }
  d.rewrite(`global_defs {
    enable_script_security
    script_user nobody
}
virtual_server 127.0.0.1 19470 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum_up "${rec} quorum-up"
    quorum_down "${rec} quorum-down"
${httpRealServer(19471, 1, { extra: `        notify_up "${rec} rs-up 19471"\n        notify_down "${rec} rs-down 19471"\n` })}
${httpRealServer(19472, 1, { extra: `        notify_down "${unsafe} rs-down 19472" root\n` })}
}
`);
  const run = d.start();
  await run.waitFor(/Removing service \[127\.0\.0\.1\]:tcp:19472/, 15_000);
  await web.stop();
  await run.waitFor(/Lost quorum/, 15_000);
  const expected = [`${nobody} quorum-down`, `${nobody} quorum-up`, `${nobody} rs-down 19471`];
  await until('three script calls', 5_000, () => (readFileSync(calls, 'utf8').split('\n').filter(Boolean).length >= 3 ? true : undefined));
  assert.equal(await run.stop(), 0);
  assert.deepEqual(readFileSync(calls, 'utf8').split('\n').filter(Boolean).sort(), expected, run.lines.join('\n'));
  assert.ok(run.lines.some((l) => l.endsWith(`Unsafe permissions found for script '${unsafe}' - disabling.`)), run.lines.join('\n'));
});
