// SIGHUP end to end through the built CLI on the userspace data plane: a one-weight change is one IPVS edit, a
// broken config keeps the running one, a checker process that dies before answering the reload's read leaves the
// read to the supervisor's worker, and a storm of reloads under traffic neither fails a request nor flaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Backend, SteadyClient, until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig } from './daemon-setup.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function backends(t: import('node:test').TestContext, ports: readonly number[]): Promise<Backend[]> {
  const list = ports.map((p, i) => new Backend(`web${i + 1}`, p));
  for (const b of list) await b.start();
  t.after(() => Promise.all(list.map((b) => b.stop())));
  return list;
}

/** Waits until every real server has passed its first check (the pool logs nothing for servers that start up). */
async function allChecked(d: DaemonUnderTest, list: readonly Backend[]): Promise<void> {
  await until('first health checks', 15_000, () => (list.every((b) => b.healthChecks > 0) ? true : undefined));
  await sleep(300);
  assert.equal(d.daemon!.lines.filter((l) => /Removing service/.test(l)).length, 0, d.daemon!.lines.join('\n'));
}

const opLines = (lines: readonly string[], from: number): string[] => lines.slice(from).filter((l) => l.includes('IPVS op:'));

test('a reload that changes one weight makes exactly one IPVS edit', { timeout: 60_000 }, async (t) => {
  const list = await backends(t, [19421, 19422]);
  const d = new DaemonUnderTest(t, httpConfig(19420, [[19421, 1], [19422, 1]]));
  const run = d.start(['-D']);
  await run.waitFor(/IPVS op: ipvsadm -a -t 127\.0\.0\.1:19420 -r 127\.0\.0\.1:19422/);
  await allChecked(d, list);
  d.rewrite(httpConfig(19420, [[19421, 1], [19422, 3]]));
  const from = run.lines.length;
  d.signal('SIGHUP');
  await run.waitFor(/Reload done/, 10_000, from);
  await run.waitFor(/IPVS op:/, 5_000, from);
  // Any further operation of this reload would follow within a reconcile pass or two.
  await sleep(2500);
  const ops = opLines(run.lines, from);
  assert.equal(ops.length, 1, ops.join('\n'));
  assert.match(ops[0]!, /ipvsadm -e -t 127\.0\.0\.1:19420 -r 127\.0\.0\.1:19422 -m -w 3/);
  assert.match(run.lines.slice(from).join('\n'), /Changing weight from 1 to 3 for active service \[127\.0\.0\.1\]:tcp:19422 of VS \[127\.0\.0\.1\]:tcp:19420/);
  assert.equal(await run.stop(), 0);
});

test('an invalid reload is refused with file:line and the running config keeps serving', { timeout: 60_000 }, async (t) => {
  const list = await backends(t, [19426, 19427]);
  const d = new DaemonUnderTest(t, httpConfig(19425, [[19426, 1], [19427, 1]]));
  const run = d.start(['-D']);
  await allChecked(d, list);
  const client = new SteadyClient(19425);
  // Drops real server 19427 and breaks the weight of 19426: applying any of it would change the table.
  d.rewrite(httpConfig(19425, [[19426, -5]]));
  const from = run.lines.length;
  client.start();
  d.signal('SIGHUP');
  await run.waitFor(/Reload failed: new configuration has errors; keeping the running one/, 10_000, from);
  await sleep(1500);
  await client.pause();
  const after = run.lines.slice(from);
  assert.ok(after.some((l) => l.includes(`${d.conf}:`) && /outside range/.test(l)), after.join('\n'));
  assert.equal(opLines(run.lines, from).length, 0);
  assert.equal(after.filter((l) => /Reload done/.test(l)).length, 0);
  assert.equal(client.failures().length, 0);
  const served = new Set(client.answers.map((a) => a.backend));
  assert.deepEqual([...served].sort(), ['web1', 'web2']);
  assert.equal(await run.stop(), 0);
});

test('a checker process that dies before answering the reload\'s read: the worker reads the file and the reload applies', { timeout: 60_000 }, async (t) => {
  const list = await backends(t, [19431, 19432]);
  const d = new DaemonUnderTest(t, httpConfig(19430, [[19431, 1], [19432, 1]]));
  const checkersPid = join(d.dir, 'checkers.pid');
  const run = d.start(['-D', '--checkers_pid', checkersPid]);
  await allChecked(d, list);
  const first = Number(readFileSync(checkersPid, 'utf8'));
  // Stopped, the child cannot answer the read the SIGHUP asks of it; killed, it never will.
  process.kill(first, 'SIGSTOP');
  d.rewrite(httpConfig(19430, [[19431, 1], [19432, 4]]));
  const from = run.lines.length;
  d.signal('SIGHUP');
  await sleep(300);
  process.kill(first, 'SIGKILL');
  await run.waitFor(/Reload done/, 20_000, from);
  // The new weight reaches the table: from the respawned child, which starts from the new file, as an add or an edit
  // of the entry the supervisor's table kept.
  await run.waitFor(/ipvsadm -[ae] -t 127\.0\.0\.1:19430 -r 127\.0\.0\.1:19432 -m -w 4/, 20_000, from);
  const after = run.lines.slice(from);
  assert.equal(after.filter((l) => /Reload failed/.test(l)).length, 0, after.join('\n'));
  // The supervisor writes the pid file once the respawned child has answered its start, which may come after that.
  await until('the respawned checker process\'s pid', 10_000, () => (Number(readFileSync(checkersPid, 'utf8')) !== first ? true : undefined));
  assert.equal(await run.stop(), 0);
});

test('100 SIGHUPs under steady traffic: no failed request, no weight flap', { timeout: 120_000 }, async (t) => {
  const list = await backends(t, [19436, 19437, 19438]);
  const d = new DaemonUnderTest(t, httpConfig(19435, [[19436, 1], [19437, 2], [19438, 3]]));
  const run = d.start();
  await allChecked(d, list);
  const from = run.lines.length;
  const client = new SteadyClient(19435);
  client.start();
  for (let i = 0; i < 100; i++) {
    const seen = run.lines.slice(from).filter((l) => /Reloading/.test(l)).length;
    d.signal('SIGHUP');
    // The next signal goes once this one is being handled, so none coalesce; reloads still overlap.
    await until(`reload ${i + 1} to start`, 10_000, () =>
      run.lines.slice(from).filter((l) => /Reloading/.test(l)).length > seen ? true : undefined);
  }
  await until('100 reloads done', 30_000, () =>
    run.lines.slice(from).filter((l) => /Reload done/.test(l)).length === 100 ? true : undefined);
  await sleep(1000);
  await client.pause();
  const after = run.lines.slice(from);
  assert.deepEqual(after.filter((l) => /Removing service|Adding service|Changing weight|Reload failed/.test(l)), []);
  assert.ok(client.answers.length > 20, `only ${client.answers.length} requests went through`);
  assert.deepEqual(client.failures(), []);
  assert.equal(await run.stop(), 0);
});
