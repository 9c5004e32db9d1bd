// Two malloc arenas per child process (src/daemon/free-memory.ts): the checker process is forked with
// MALLOC_ARENA_MAX=2, which glibc reads at its start, and the MISC_CHECK script it runs sees the environment
// keepalived's would; an operator's own MALLOC_ARENA_MAX is left as it is, for the children and their scripts alike.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './drain-harness.js';
import { DaemonUnderTest } from './daemon-setup.js';

/** The checker process's environment at its start, and the environment its MISC_CHECK script ran with. */
async function environments(t: TestContext, prefix: readonly string[]): Promise<{ checker: string[]; script: string[] }> {
  const d = new DaemonUnderTest(t, '');
  const out = join(d.dir, 'script.env');
  const script = join(d.dir, 'env.sh');
  writeFileSync(script, `#!/bin/sh\nenv > ${out}.tmp && mv ${out}.tmp ${out}\n`);
  chmodSync(script, 0o755);
  d.rewrite(`virtual_server 127.0.0.1 19480 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 19481 {
        weight 1
        MISC_CHECK {
            misc_path "${script}"
        }
    }
}
`);
  const run = d.start([], prefix);
  const started = await run.waitFor(/Starting Healthcheck child process, pid=\d+/, 15_000);
  const pid = /pid=(\d+)/.exec(run.lines[started]!)![1];
  await until('the script', 15_000, () => (existsSync(out) ? true : undefined));
  const checker = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  assert.equal(await run.stop(), 0);
  return { checker, script: readFileSync(out, 'utf8').split('\n') };
}

test('a child starts with two malloc arenas; its scripts do not inherit the setting', { timeout: 60_000 }, async (t) => {
  const { checker, script } = await environments(t, ['env', '-u', 'MALLOC_ARENA_MAX']);
  assert.ok(checker.includes('MALLOC_ARENA_MAX=2'), checker.join(' '));
  assert.deepEqual(script.filter((l) => /MALLOC_ARENA_MAX/.test(l)), []);
});

test("an operator's MALLOC_ARENA_MAX reaches the children and their scripts unchanged", { timeout: 60_000 }, async (t) => {
  const { checker, script } = await environments(t, ['env', 'MALLOC_ARENA_MAX=3']);
  assert.deepEqual(checker.filter((l) => /MALLOC_ARENA_MAX/.test(l)), ['MALLOC_ARENA_MAX=3']);
  assert.deepEqual(script.filter((l) => /MALLOC_ARENA_MAX/.test(l)), ['MALLOC_ARENA_MAX=3']);
});
