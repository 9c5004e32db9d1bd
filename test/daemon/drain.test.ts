// Draining a real server end to end: the built CLI against a running daemon on the userspace data plane, three real
// HTTP backends checked by HTTP_GET (web3 also by FILE_CHECK), and a steady client through the virtual server.
// One daemon (restarted once) runs through the steps in order; each step asserts what the client saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { needCommand, needRoot } from '../support/tier.js';
import { Backend, cli, Running, SteadyClient, until, type Answer } from './drain-harness.js';
import { httpRealServer } from './daemon-setup.js';

const VS_PORT = 18730;
const VS = `127.0.0.1:${VS_PORT}`;
const VS_LOG = `\\[127\\.0\\.0\\.1\\]:tcp:${VS_PORT}`;
const rsLog = (port: number): string => `\\[127\\.0\\.0\\.1\\]:tcp:${port}`;
const WEB = { web1: 18731, web2: 18732, web3: 18733 } as const;

/** web3's IPVS weight is the number in web3.weight: configured weight 0 plus value × 1 (keepalived's FILE_CHECK). */
function configText(dir: string, o: { web1Weight: number; web2: boolean }): string {
  return `global_defs {
  router_id lvskd-drain
}
track_file web3 {
  file ${join(dir, 'web3.weight')}
  weight 1
}
virtual_server 127.0.0.1 ${VS_PORT} {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${httpRealServer(WEB.web1, o.web1Weight, { retry: 0 })}
${o.web2 ? `${httpRealServer(WEB.web2, 1, { retry: 0 })}\n` : ''}${httpRealServer(WEB.web3, 0, { retry: 0, extra: '        FILE_CHECK {\n            track_file web3\n        }\n' })}
}
`;
}

const served = (answers: readonly Answer[], name: string): number => answers.filter((a) => a.backend === name).length;

/** Lets the client make `n` more requests after `t`, then returns everything it got since `t`. */
async function traffic(client: SteadyClient, t: number, n = 30): Promise<Answer[]> {
  await until(`${n} client requests`, 20_000, () => (client.since(t).length >= n ? true : undefined));
  return client.since(t);
}

interface StatusJson {
  ipvs: { virtualServers: { realServers: { rsId: string; alive: boolean; effectiveWeight: number; overrideWeight?: number }[] }[] };
  overrides: { vs: string; rs: string; override: { kind: string; weight?: number } }[];
}

test('drain, undrain, weight, events, status and FILE_CHECK through the CLI against a running daemon', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvskd-drain-'));
  // The directory is world-searchable on purpose: the socket's own mode must be what keeps other users out.
  chmodSync(dir, 0o755);
  const conf = join(dir, 'keepalived.conf');
  const socket = join(dir, 'control.sock');
  const stateFile = join(dir, 'state', 'overrides.json');
  const weightFile = join(dir, 'web3.weight');
  const daemonArgs = ['-f', conf, '--ipvs-driver', 'userspace', '-n', '-l', '--control-socket', socket, '--state-file', stateFile, '--pid', join(dir, 'lvskeeper.pid')];
  const sock = ['--socket', socket];
  writeFileSync(conf, configText(dir, { web1Weight: 1, web2: true }));
  writeFileSync(weightFile, '1\n');

  const backends = { web1: new Backend('web1', WEB.web1), web2: new Backend('web2', WEB.web2), web3: new Backend('web3', WEB.web3) };
  const client = new SteadyClient(VS_PORT);
  const running: Running[] = [];
  const start = (args: readonly string[]): Running => {
    const r = new Running(args);
    running.push(r);
    return r;
  };
  /** `events`, once its subscription is in place (it says so on stderr). */
  const follow = async (): Promise<Running> => {
    const r = start(['events', ...sock]);
    await until('the events subscription', 10_000, () => (r.stderr.startsWith('following events of') ? true : undefined));
    return r;
  };
  const status = async (): Promise<StatusJson> => {
    const r = await cli(['status', '--json', ...sock]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatusJson;
  };
  const weights = async (): Promise<Record<string, number>> => {
    const s = await status();
    return Object.fromEntries(s.ipvs.virtualServers[0]!.realServers.map((r) => [r.rsId.split('/')[1]!, r.effectiveWeight]));
  };
  const ok = async (args: string[]): Promise<number> => {
    const r = await cli([...args, ...sock]);
    assert.equal(r.code, 0, `lvskeeper ${args.join(' ')}: ${r.stderr}`);
    return r.exitedAt;
  };

  try {
    for (const b of Object.values(backends)) await b.start();
    let daemon = start(daemonArgs);
    await until('the control socket', 15_000, async () => ((await cli(['status', ...sock])).code === 0 ? true : undefined));
    let events = await follow();
    client.start();
    await until('traffic on all three backends', 20_000, () =>
      ['web1', 'web2', 'web3'].every((n) => served(client.answers, n) > 0) ? true : undefined,
    );

    await t.test('the control socket is root-only', () => {
      const st = statSync(socket);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.uid, 0);
    });

    await t.test('drain: no new connection reaches the drained backend once the reply is in, and none fails', async () => {
      const r = await cli(['drain', VS, `127.0.0.1:${WEB.web2}`, ...sock]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `drained [127.0.0.1]:tcp:${WEB.web2} of VS [127.0.0.1]:tcp:${VS_PORT}: weight 0, existing connections finish\n`);
      const after = await traffic(client, r.exitedAt);
      assert.equal(served(after, 'web2'), 0);
      assert.ok(served(after, 'web1') > 0 && served(after, 'web3') > 0);
      assert.deepEqual(client.failures(), []);
      await events.waitFor(new RegExp(`Operator drained ${rsLog(WEB.web2)} of VS ${VS_LOG}$`));
      await events.waitFor(new RegExp(`Changing weight from 1 to 0 for active service ${rsLog(WEB.web2)} of VS ${VS_LOG}$`));
    });

    await t.test('status and ipvs list show the override', async () => {
      const s = await cli(['status', ...sock]);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /^VRRP instances: none$/m);
      assert.match(s.stdout, new RegExp(`^ {4}${rsLog(WEB.web2)} +alive +weight 0 +configured 1, operator: drained \\(weight 0\\) since \\S+$`, 'm'));
      assert.match(s.stdout, new RegExp(`^ {4}${rsLog(WEB.web1)} +alive +weight 1 +configured 1$`, 'm'));
      const l = await cli(['ipvs', 'list', ...sock]);
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, new RegExp(`^  -> 127\\.0\\.0\\.1:${WEB.web2} +Masq +0 `, 'm'));
      assert.match(l.stdout, new RegExp(`^Operator overrides:\n  ${rsLog(WEB.web2)} of VS ${VS_LOG}: drained \\(weight 0\\) since \\S+\n$`, 'm'));
    });

    await t.test('the drain survives the drained backend going down and coming back up', async () => {
      const from = events.lines.length;
      await backends.web2.stop();
      await events.waitFor(new RegExp(`Removing service ${rsLog(WEB.web2)} from VS ${VS_LOG}$`), 10_000, from);
      await backends.web2.start();
      await events.waitFor(new RegExp(`Adding service ${rsLog(WEB.web2)} to VS ${VS_LOG}$`), 10_000, from);
      const mark = performance.now();
      assert.equal((await weights())[`[127.0.0.1]:tcp:${WEB.web2}`], 0);
      assert.equal(served(await traffic(client, mark), 'web2'), 0);
      assert.deepEqual(client.failures(), []);
    });

    await t.test('the drain survives a SIGHUP reload that leaves the server unchanged', async () => {
      const from = events.lines.length;
      writeFileSync(conf, configText(dir, { web1Weight: 2, web2: true }));
      daemon.child.kill('SIGHUP');
      await events.waitFor(/ Reloading$/, 10_000, from);
      await events.waitFor(new RegExp(`Changing weight from 1 to 2 for active service ${rsLog(WEB.web1)} of VS ${VS_LOG}$`), 10_000, from);
      const mark = performance.now();
      const w = await weights();
      assert.equal(w[`[127.0.0.1]:tcp:${WEB.web2}`], 0);
      assert.equal(w[`[127.0.0.1]:tcp:${WEB.web1}`], 2);
      assert.equal(served(await traffic(client, mark), 'web2'), 0);
      assert.deepEqual(client.failures(), []);
    });

    await t.test('refused commands exit non-zero with one clear line and change nothing', async () => {
      const before = { status: await status(), table: (await cli(['ipvs', 'list', ...sock])).stdout, state: readFileSync(stateFile, 'utf8') };
      const cases: [string[], RegExp][] = [
        [['drain', '127.0.0.1:9', `127.0.0.1:${WEB.web1}`], /^lvskeeper: drain refused: unknown virtual server '127\.0\.0\.1:9'\n$/],
        [['drain', VS, '127.0.0.1:9'], new RegExp(`^lvskeeper: drain refused: unknown real server '127\\.0\\.0\\.1:9' in virtual server ${VS_LOG}\n$`)],
        [['undrain', VS, '192.0.2.99:80'], /^lvskeeper: undrain refused: unknown real server '192\.0\.2\.99:80'/],
        [['weight', VS, `127.0.0.1:${WEB.web1}`, '-1'], /^lvskeeper: weight refused: weight must be an integer 0\.\.2147483647, got '-1'\n$/],
        [['weight', VS, `127.0.0.1:${WEB.web1}`, 'abc'], /^lvskeeper: weight refused: weight must be an integer 0\.\.2147483647, got 'abc'\n$/],
        [['weight', VS, `127.0.0.1:${WEB.web1}`, '2147483648'], /^lvskeeper: weight refused: .* got '2147483648'\n$/],
        [['weight', '127.0.0.1:9', `127.0.0.1:${WEB.web1}`, '5'], /^lvskeeper: weight refused: unknown virtual server/],
      ];
      for (const [args, message] of cases) {
        const r = await cli([...args, ...sock]);
        assert.notEqual(r.code, 0, args.join(' '));
        assert.match(r.stderr, message);
        assert.equal(r.stdout, '');
      }
      const gone = await cli(['drain', VS, `127.0.0.1:${WEB.web1}`, '--socket', join(dir, 'absent.sock')]);
      assert.notEqual(gone.code, 0);
      assert.equal(gone.stderr, `lvskeeper: no running lvskeeper (no status socket at ${join(dir, 'absent.sock')})\n`);
      const after = await status();
      assert.deepEqual(after.overrides, before.status.overrides);
      assert.deepEqual(after.ipvs.virtualServers[0]!.realServers, before.status.ipvs.virtualServers[0]!.realServers);
      assert.equal((await cli(['ipvs', 'list', ...sock])).stdout.replace(/\s+\d+\s+\d+\s*$/gm, ''), before.table.replace(/\s+\d+\s+\d+\s*$/gm, ''));
      assert.equal(readFileSync(stateFile, 'utf8'), before.state);
    });

    await t.test('a non-root user cannot use the socket and is told why', async (st) => {
      if (!needRoot(st) || !needCommand(st, 'setpriv', 'util-linux')) return;
      const before = readFileSync(stateFile, 'utf8');
      const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
      for (const args of [['undrain', VS, `127.0.0.1:${WEB.web2}`], ['status'], ['events']]) {
        const r = await cli([...args, ...sock], asNobody);
        assert.notEqual(r.code, 0, args.join(' '));
        assert.equal(r.stderr, `lvskeeper: permission denied on ${socket}: the lvskeeper control socket is root-only\n`);
      }
      assert.equal(readFileSync(stateFile, 'utf8'), before);
      assert.equal((await weights())[`[127.0.0.1]:tcp:${WEB.web2}`], 0);
    });

    await t.test('FILE_CHECK: `echo 0 > track file` drains web3, `echo 1` restores it', async () => {
      let from = events.lines.length;
      writeFileSync(weightFile, '0\n');
      await events.waitFor(new RegExp(`Changing weight from 1 to 0 for active service ${rsLog(WEB.web3)} of VS ${VS_LOG}$`), 10_000, from);
      // The event is published as the pool decides; the data plane holds it after the pass that follows.
      await until('weight 0 on web3', 5000, async () => ((await weights())[`[127.0.0.1]:tcp:${WEB.web3}`] === 0 ? true : undefined));
      let mark = performance.now();
      let after = await traffic(client, mark);
      assert.equal(served(after, 'web3'), 0);
      assert.equal(served(after, 'web1'), after.length, 'only web1 is left: web2 and web3 are drained');
      from = events.lines.length;
      writeFileSync(weightFile, '1\n');
      await events.waitFor(new RegExp(`Changing weight from 0 to 1 for active service ${rsLog(WEB.web3)} of VS ${VS_LOG}$`), 10_000, from);
      mark = performance.now();
      after = await traffic(client, mark);
      assert.ok(served(after, 'web3') > 0);
      assert.deepEqual(client.failures(), []);
    });

    await t.test('the drain survives a daemon restart (state file); the old event stream ends with a message', async () => {
      await client.pause();
      const stopped = await daemon.stop();
      assert.equal(stopped, 0);
      assert.notEqual(await events.exited, 0);
      assert.match(events.stderr, /\nlvskeeper: the daemon closed the event stream \(.*control\.sock\)\n$/);
      daemon = start(daemonArgs);
      await until('the restarted control socket', 15_000, async () => ((await cli(['status', ...sock])).code === 0 ? true : undefined));
      events = await follow();
      const mark = performance.now();
      client.start();
      const after = await traffic(client, mark, 40);
      assert.equal(served(after, 'web2'), 0, 'the first pass already held weight 0');
      assert.ok(served(after, 'web1') > 0 && served(after, 'web3') > 0);
      assert.deepEqual(client.failures(), []);
      assert.deepEqual((await status()).overrides.map((o) => [o.rs, o.override.kind]), [[`[127.0.0.1]:tcp:${WEB.web2}`, 'drain']]);
    });

    await t.test('weight N overrides, undrain returns to the effective weight and traffic comes back', async () => {
      await ok(['weight', VS, `[127.0.0.1]:tcp:${WEB.web1}`, '3']);
      assert.equal((await weights())[`[127.0.0.1]:tcp:${WEB.web1}`], 3);
      await events.waitFor(new RegExp(`Operator set weight 3 for ${rsLog(WEB.web1)} of VS ${VS_LOG}$`));
      await ok(['undrain', VS, `127.0.0.1:${WEB.web1}`]);
      assert.equal((await weights())[`[127.0.0.1]:tcp:${WEB.web1}`], 2, 'back to the configured weight of the reloaded config');
      const again = await cli(['undrain', VS, `127.0.0.1:${WEB.web1}`, ...sock]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, `undrained [127.0.0.1]:tcp:${WEB.web1} of VS [127.0.0.1]:tcp:${VS_PORT}: had no operator override; nothing changed\n`);
      const undrained = await ok(['undrain', VS, `127.0.0.1:${WEB.web2}`]);
      await events.waitFor(new RegExp(`Operator cleared override for ${rsLog(WEB.web2)} of VS ${VS_LOG}$`));
      await events.waitFor(new RegExp(`Changing weight from 0 to 1 for active service ${rsLog(WEB.web2)} of VS ${VS_LOG}$`));
      const after = await traffic(client, undrained);
      assert.ok(served(after, 'web2') > 0, 'web2 takes new connections again');
      assert.deepEqual(client.failures(), []);
      assert.deepEqual((await status()).overrides, []);
    });

    await t.test('an override is dropped, with a log line, when its server leaves the config', async () => {
      await ok(['drain', VS, `127.0.0.1:${WEB.web2}`]);
      const from = events.lines.length;
      writeFileSync(conf, configText(dir, { web1Weight: 2, web2: false }));
      daemon.child.kill('SIGHUP');
      await events.waitFor(new RegExp(`Dropping operator override for ${rsLog(WEB.web2)} of VS ${VS_LOG}: server no longer configured$`), 10_000, from);
      await events.waitFor(new RegExp(`service ${rsLog(WEB.web2)} no longer exist$`), 10_000, from);
      assert.deepEqual((await status()).overrides, []);
      assert.deepEqual((JSON.parse(readFileSync(stateFile, 'utf8')) as { overrides: unknown[] }).overrides, []);
      await daemon.waitFor(new RegExp(`Dropping operator override for ${rsLog(WEB.web2)}`));
    });

    await t.test('events stops cleanly on Ctrl-C', async () => {
      assert.equal(await events.stop('SIGINT'), 0);
      for (const line of events.lines) assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z \S/);
    });
    assert.deepEqual(client.failures(), []);
  } finally {
    await client.pause();
    for (const r of running) await r.stop();
    for (const b of Object.values(backends)) await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
