// A check this host cannot make (no descriptor left: EMFILE) is "not run": the real server keeps its state, the
// burst is logged once, and checks resume when descriptors are back. Real sockets and scripts; a FakeClock paces.
import assert from 'node:assert/strict';
import { chmodSync, closeSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckerEngine, type AttemptSample } from '../../checkers/engine.js';
import type { CheckerEvent } from '../../checkers/types.js';
import { FakeClock } from '../../src/clock.js';
import { parseConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { tempDir } from '../support/tempdir.js';

/** Opens /dev/null until the process has no descriptor left; returns them to close. */
function exhaustDescriptors(): number[] {
  const fds: number[] = [];
  for (;;) {
    try {
      fds.push(openSync('/dev/null', 'r'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EMFILE') return fds;
      fds.forEach((fd) => closeSync(fd));
      throw err;
    }
  }
}

test('EMFILE in TCP_CHECK and MISC_CHECK: not run, counted, logged once; real servers keep their state', async (t) => {
  const dir = tempDir(t, 'lvskc-notrun-');
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const script = join(dir, 'ok.sh');
  writeFileSync(script, '#!/bin/sh\nexit 0\n');
  chmodSync(script, 0o755);
  const { config } = parseConfigText(
    `global_defs { router_id lvskc }
virtual_server 127.0.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${port} {
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 127.0.0.2 ${port} {
    MISC_CHECK {
      misc_path ${script}
    }
  }
}
`,
    { file: join(dir, 'keepalived.conf') },
  );
  const clock = new FakeClock();
  const events: CheckerEvent[] = [];
  const attempts: AttemptSample[] = [];
  const logs: string[] = [];
  const engine = new CheckerEngine(config, {
    clock,
    random: () => 0,
    logger: createLogger({ destination: { write: (l: string) => void logs.push((JSON.parse(l) as { msg: string }).msg) } }),
    onEvent: (e) => e.kind !== 'rs-alert' && events.push(e),
    onAttempt: (s) => attempts.push(s),
  });
  engine.start();
  t.after(() => engine.stop());
  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i += 100) {
      clock.advance(100);
      await engine.idle();
    }
  };
  await advance(1100);
  assert.deepEqual(attempts.map((a) => [a.type, a.ok]).sort(), [['MISC_CHECK', true], ['TCP_CHECK', true]]);

  const fds = exhaustDescriptors();
  let released = false;
  const release = (): void => {
    if (!released) fds.forEach((fd) => closeSync(fd));
    released = true;
  };
  t.after(release);
  await advance(3000);
  release();
  const starved = attempts.slice(2);
  assert.ok(starved.length >= 4, JSON.stringify(starved.map((a) => [a.type, a.notRun])));
  assert.deepEqual(new Set(starved.map((a) => a.notRun)), new Set(['EMFILE']));
  assert.deepEqual(events, [], 'a local resource error took a real server down');
  assert.equal(logs.filter((l) => l.startsWith('Checks not run: EMFILE on this host')).length, 1, logs.join('\n'));

  await advance(1100);
  const resumed = attempts.slice(2 + starved.length);
  assert.deepEqual(resumed.map((a) => [a.type, a.ok, a.notRun]).sort(), [['MISC_CHECK', true, undefined], ['TCP_CHECK', true, undefined]]);
  assert.ok(logs.some((l) => /^Checks run again \(\d+ not run for lack of local resources\)$/.test(l)), logs.join('\n'));
  assert.deepEqual(events, []);
  assert.ok(engine.snapshot().every((s) => s.alive));
});
