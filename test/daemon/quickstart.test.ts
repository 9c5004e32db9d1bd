import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { repoRoot } from '../support/tier.js';

async function get(url: string): Promise<string | undefined> {
  try {
    // A new connection per request: the data plane balances connections, not requests.
    return await (await fetch(url, { signal: AbortSignal.timeout(2000), headers: { connection: 'close' } })).text();
  } catch {
    return undefined;
  }
}

async function until<T>(fn: () => Promise<T | undefined>, limitMs: number): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the quickstart serves all three backends through 127.0.0.1:8080 and drops a stopped one', { timeout: 60_000 }, async () => {
  const demo = spawn(process.execPath, [`${repoRoot}dist/bin/lvskeeper.js`, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const seen = new Set<string>();
    await until(async () => {
      const body = await get('http://127.0.0.1:8080/');
      if (body) seen.add(body.split(' ')[2]!);
      return seen.size === 3 ? true : undefined;
    }, 20_000);
    assert.deepEqual([...seen].sort(), ['web1', 'web2', 'web3']);
    const pid = Number(/web2 on 127\.0\.0\.1:8082 \(pid (\d+)/.exec(out)![1]);
    process.kill(pid, 'SIGTERM');
    await until(async () => (/Removing service \[127\.0\.0\.1\]:tcp:8082 from VS \[127\.0\.0\.1\]:tcp:8080/.test(out) ? true : undefined), 20_000);
    const after: string[] = [];
    for (let i = 0; i < 12; i++) {
      const body = await get('http://127.0.0.1:8080/');
      assert.ok(body, 'every request after the removal is answered');
      after.push(body.split(' ')[2]!);
    }
    assert.ok(!after.includes('web2'));
    assert.ok(after.includes('web1') && after.includes('web3'));
  } finally {
    demo.kill('SIGTERM');
    await new Promise((r) => demo.once('exit', r));
  }
  assert.match(out, /Stopped lvskeeper/);
});
