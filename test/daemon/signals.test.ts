// USR1/USR2 dumps, the JSON status dump, the metrics endpoint and a graceful TERM, through the built CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseListenAddress } from '../../src/cli/run-daemon.js';
import { Backend, cli, SteadyClient, until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig } from './daemon-setup.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('USR1 writes the data dump, USR2 the stats dump, json-dump the JSON status; metrics are scraped; TERM exits 0', { timeout: 60_000 }, async (t) => {
  const up = new Backend('web1', 19441);
  await up.start();
  t.after(() => up.stop());
  const d = new DaemonUnderTest(t, httpConfig(19440, [[19441, 2], [19442, 1]]));
  // The dumps go to $TMPDIR (lib/utils.c set_tmp_dir): this test's own, so that no other test's dump is taken for it.
  const run = d.start(['--metrics', '19449'], ['env', `TMPDIR=${d.dir}`]);
  const dump = (kind: string): string => join(d.dir, `lvskeeper.${kind}`);
  await run.waitFor(/Removing service \[127\.0\.0\.1\]:tcp:19442 from VS \[127\.0\.0\.1\]:tcp:19440/, 15_000);
  await until('a first check of 19441', 10_000, () => (up.healthChecks > 0 ? true : undefined));
  const client = new SteadyClient(19440);
  client.start();
  await until('traffic', 10_000, () => (client.answers.length >= 5 ? true : undefined));
  await client.pause();
  assert.deepEqual(client.failures(), []);

  const since = Date.now() - 1000;
  d.signal('SIGUSR1');
  await run.waitFor(new RegExp(`Wrote data dump to ${dump('data')}$`));
  assert.ok(statSync(dump('data')).mtimeMs >= since);
  const data = readFileSync(dump('data'), 'utf8');
  assert.match(data, /Router ID = lvskd-test/);
  assert.match(data, /VS = \[127\.0\.0\.1\]:tcp:19440/);
  assert.match(data, /RS = \[127\.0\.0\.1\]:tcp:19441, alive = yes, weight = 2/);
  assert.match(data, /RS = \[127\.0\.0\.1\]:tcp:19442, alive = no/);

  d.signal('SIGUSR2');
  await run.waitFor(new RegExp(`Wrote stats dump to ${dump('stats')}$`));
  assert.match(readFileSync(dump('stats'), 'utf8'), /Real servers: 2 \(1 alive, 1 down\)/);

  const dumped = await cli(['json-dump', '--socket', join(d.dir, 'control.sock')]);
  assert.equal(dumped.code, 0, dumped.stderr);
  assert.equal(dumped.stdout, `wrote ${dump('json')}\n`);
  const json = JSON.parse(readFileSync(dump('json'), 'utf8')) as { ipvs: { virtualServers: { vsId: string; realServers: { rsId: string; alive: boolean }[] }[] } };
  const vs = json.ipvs.virtualServers.find((v) => v.vsId === '[127.0.0.1]:tcp:19440');
  assert.deepEqual(vs?.realServers.map((r) => r.alive), [true, false]);

  const metrics = await (await fetch('http://127.0.0.1:19449/metrics')).text();
  assert.match(metrics, /lvskeeper_realserver_up\{vs="\[127\.0\.0\.1\]:tcp:19440",rs="\[127\.0\.0\.1\]:tcp:19441"\} 1/);
  assert.match(metrics, /lvskeeper_realserver_up\{vs="\[127\.0\.0\.1\]:tcp:19440",rs="\[127\.0\.0\.1\]:tcp:19442"\} 0/);
  assert.match(metrics, /lvskeeper_checker_results_total\{type="HTTP_GET",result="failure"\} [1-9]/);
  assert.match(metrics, /lvskeeper_checker_start_delay_seconds_count\{type="HTTP_GET"\} [1-9]/);
  assert.match(metrics, /lvskeeper_ipvs_destinations 1/);
  // No PING_CHECK here: the family is exported with nothing dropped.
  assert.match(metrics, /lvskeeper_ping_replies_dropped_total\{family="inet",reason="unmatched"\} 0/);
  assert.match(metrics, /lvskeeper_ipvs_ops_total\{op="addService"\} 1/);
  const conns = /lvskeeper_dataplane_connections_total\{vs="127\.0\.0\.1:19440",rs="127\.0\.0\.1:19441"\} (\d+)/.exec(metrics);
  assert.ok(conns && Number(conns[1]) >= 5, metrics);
  assert.match(metrics, /lvskeeper_dataplane_bytes_out_total\{vs="127\.0\.0\.1:19440",rs="127\.0\.0\.1:19441"\} [1-9]/);
  assert.equal((await fetch('http://127.0.0.1:19449/other')).status, 404);

  assert.equal(await run.stop('SIGTERM'), 0);
  await run.waitFor(/Stopped lvskeeper/, 2_000);
  await sleep(100);
  await assert.rejects(fetch('http://127.0.0.1:19449/metrics'));
});

test('--metrics takes [ADDR:]PORT, loopback by default, and refuses anything else', () => {
  assert.deepEqual(parseListenAddress('--metrics', '9650'), { host: '127.0.0.1', port: 9650 });
  assert.deepEqual(parseListenAddress('--metrics', '0.0.0.0:9650'), { host: '0.0.0.0', port: 9650 });
  assert.deepEqual(parseListenAddress('--metrics', '[::1]:9650'), { host: '::1', port: 9650 });
  for (const bad of ['', 'x', '70000', '127.0.0.1:', ':80', '1.2.3.4:0']) assert.throws(() => parseListenAddress('--metrics', bad), /--metrics: expected \[ADDR:\]PORT/);
  assert.throws(() => parseListenAddress('--http', 'x'), /^Error: --http: expected \[ADDR:\]PORT, got 'x'$/);
});
