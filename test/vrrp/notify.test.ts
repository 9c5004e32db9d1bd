// Notify scripts of one instance run in transition order as real processes; one that hangs is killed after the
// notifier's timeout and the scripts queued behind it still run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Script } from '../../src/config/model.js';
import { createLogger } from '../../src/log.js';
import { Notifier } from '../../src/vrrp/notify.js';
import { tempDir } from '../support/tempdir.js';
import { processAlive } from '../support/process.js';

function script(dir: string, name: string, body: string): Script {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return { argv: [file], text: file };
}

test('a hanging notify_master is killed and the notify_backup and generic notify queued behind it still run', async (t) => {
  const dir = tempDir(t, 'lvskv-notify-');
  const log = join(dir, 'ran.log');
  const hangPid = join(dir, 'hang.pid');
  const lines: string[] = [];
  const logger = createLogger({ destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }), level: 'warn' });
  const notifier = new Notifier(
    'INSTANCE',
    'VI_1',
    {
      master: script(dir, 'master.sh', `echo $$ > ${hangPid}\necho master >> ${log}\nexec sleep 600`),
      backup: script(dir, 'backup.sh', `echo backup >> ${log}`),
      generic: script(dir, 'notify.sh', `echo "generic $*" >> ${log}`),
    },
    { enableScriptSecurity: false },
    logger,
    undefined,
    300,
  );
  notifier.notify('MASTER', 150);
  notifier.notify('BACKUP', 150);
  await notifier.idle();

  assert.equal(readFileSync(log, 'utf8'), ['master', 'generic INSTANCE VI_1 MASTER 150', 'backup', 'generic INSTANCE VI_1 BACKUP 150', ''].join('\n'));
  assert.equal(processAlive(Number(readFileSync(hangPid, 'utf8'))), false, 'the hung script was killed');
  assert.equal(lines.filter((l) => l.includes('timed out after 0.3 s: killed')).length, 1, lines.join(''));
});
