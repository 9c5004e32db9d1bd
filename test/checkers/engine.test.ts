// The engine over real servers and scripts, with a FakeClock: assertions are on the clock's virtual times, and
// each step waits for the real I/O it started before time moves on.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CheckerEngine, type EngineOptions } from '../../checkers/engine.js';
import type { CheckerEvent } from '../../checkers/types.js';
import { FakeClock } from '../../src/clock.js';
import type { Config } from '../../src/config/model.js';
import { parseConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { closedPort, httpServer, respond, silentServer, type Running } from './servers.js';
import { seededRandom } from '../support/seeded-random.js';

const dir = mkdtempSync(join(tmpdir(), 'lvskc-engine-'));

function parse(body: string): Config {
  const { config, diagnostics } = parseConfigText(`global_defs { router_id lvskc }\n${body}`, { file: join(dir, 'keepalived.conf') });
  const errors = diagnostics.filter((d) => d.severity === 'error' || d.severity === 'fatal');
  assert.deepEqual(errors, [], 'test config must parse');
  return config;
}

const vs = (addr: string, rs: string): string => `virtual_server ${addr} 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n${rs}\n}\n`;

/** A script whose exit status is read from a file the test rewrites. */
function exitFromFile(name: string, initial: number): { path: string; set(code: number): void } {
  const state = join(dir, `${name}.code`);
  const path = join(dir, `${name}.sh`);
  writeFileSync(state, String(initial));
  writeFileSync(path, `#!/bin/sh\nexit $(cat ${state})\n`);
  chmodSync(path, 0o755);
  return { path, set: (code) => writeFileSync(state, String(code)) };
}

class Harness {
  readonly clock = new FakeClock();
  readonly events: { at: number; e: CheckerEvent }[] = [];
  /** The verdicts keepalived would mail about, apart from the state events. */
  readonly alerts: { at: number; e: Extract<CheckerEvent, { kind: 'rs-alert' }> }[] = [];
  readonly attempts: { at: number; type: string; ok: boolean }[] = [];
  /** Each attempt's real servers, those its probe checks for, in its order. */
  readonly attemptServers: string[][] = [];
  readonly logs: string[] = [];
  readonly engine: CheckerEngine;

  constructor(config: Config, opts: Partial<EngineOptions> = {}) {
    const logger = createLogger({ destination: { write: (l: string) => void this.logs.push((JSON.parse(l) as { msg: string }).msg) } });
    this.engine = new CheckerEngine(config, {
      clock: this.clock,
      logger,
      random: () => 0,
      onEvent: (e) => (e.kind === 'rs-alert' ? this.alerts.push({ at: this.clock.now(), e }) : this.events.push({ at: this.clock.now(), e })),
      onAttempt: (s) => {
        this.attempts.push({ at: this.clock.now(), type: s.type, ok: s.ok });
        this.attemptServers.push(s.servers.map((x) => x.rsId));
      },
      ...opts,
    });
  }

  /** Advances virtual time in 100 ms steps, letting every attempt started in a step finish before the next. */
  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      this.clock.advance(100);
      await this.engine.idle();
    }
  }
}

describe('checker engine', () => {
  const servers: Running[] = [];
  const engines: CheckerEngine[] = [];
  const harness = (config: Config, opts?: Partial<EngineOptions>): Harness => {
    const h = new Harness(config, opts);
    engines.push(h.engine);
    return h;
  };
  after(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('retry timing: failures retried after delay_before_retry, down after retry+1, then delay_loop', async () => {
    const srv = await silentServer();
    const h = harness(
      parse(vs('192.0.2.10', ` real_server 127.0.0.1 ${srv.port} {\n TCP_CHECK {\n connect_timeout 1\n retry 2\n delay_before_retry 3\n delay_loop 10\n warmup 0\n }\n }`)),
    );
    h.engine.start();
    await h.advance(1000);
    assert.deepEqual(h.attempts, [{ at: 1000, type: 'TCP_CHECK', ok: true }]);
    await srv.close();
    await h.advance(30_000);
    assert.deepEqual(
      h.attempts.map((a) => [a.at, a.ok]),
      [[1000, true], [11_000, false], [14_000, false], [17_000, false], [27_000, false]],
    );
    const rsId = `[192.0.2.10]:tcp:80/[127.0.0.1]:tcp:${srv.port}`;
    assert.deepEqual(h.events, [{ at: 17_000, e: { kind: 'rs-down', vsId: '[192.0.2.10]:tcp:80', rsId } }]);
    assert.deepEqual(h.alerts, [{ at: 17_000, e: { kind: 'rs-alert', vsId: '[192.0.2.10]:tcp:80', rsId, alive: false, rsChanged: true, body: '=> TCP CHECK failed on service <=' } }]);
    assert.ok(h.logs.includes(`TCP connection to [127.0.0.1]:tcp:${srv.port} success.`));
    assert.ok(h.logs.includes(`TCP_CHECK on service [127.0.0.1]:tcp:${srv.port} failed after 2 retries.`));
    assert.ok(!h.logs.some((l) => l.startsWith('Removing service')), 'pool lines are the IPVS side\'s to log');
  });

  test('mail-worthy verdicts as check_tcp.c and check_misc.c send them: MISC_CHECK also its first verdict', async () => {
    const srv = await silentServer();
    const h = harness(parse(vs('192.0.2.15',
      ` real_server 127.0.0.1 ${srv.port} {\n TCP_CHECK {\n warmup 0\n delay_loop 2\n }\n MISC_CHECK {\n misc_path "/bin/true"\n warmup 0\n delay_loop 60\n }\n }`)));
    h.engine.start();
    await h.advance(1000);
    const rsId = `[192.0.2.15]:tcp:80/[127.0.0.1]:tcp:${srv.port}`;
    const seen = (): string[] => h.alerts.map(({ e }) => `${e.body} alive=${e.alive} changed=${e.rsChanged}`);
    // The TCP checker started up and stayed up: nothing. MISC_CHECK's first success mails although nothing changed.
    assert.deepEqual(seen(), ['=> MISC CHECK succeeded on service <= alive=true changed=false']);
    await srv.close();
    // Down after its retry (1 by default, delay_before_retry 1 s).
    await h.advance(6000);
    assert.deepEqual(seen().slice(1), ['=> TCP CHECK failed on service <= alive=false changed=true']);
    assert.equal(h.alerts[1]?.e.rsId, rsId);
  });

  test('warmup spreads the first checks over 1 s + random(0..warmup)', async () => {
    const rs = [0, 1, 2, 3].map((i) => ` real_server 127.0.0.1 ${9000 + i} {\n MISC_CHECK {\n misc_path "/bin/true ${i}"\n warmup 4\n delay_loop 60\n }\n }`);
    const draws = [0, 0.25, 0.5, 0.75];
    const h = harness(parse(vs('192.0.2.11', rs.join('\n'))), { random: () => draws.shift() ?? 0 });
    h.engine.start();
    await h.advance(5000);
    assert.deepEqual(h.attempts.map((a) => a.at).sort((a, b) => a - b), [1000, 2000, 3000, 4000]);
  });

  test('ha_suspend: a suspended server\'s probes check nothing and look again after delay_loop; its server keeps its state', async () => {
    const srv = await silentServer();
    servers.push(srv);
    const rs = ` real_server 127.0.0.1 ${srv.port} {\n TCP_CHECK {\n warmup 0\n delay_loop 5\n }\n }`;
    const ha = '[192.0.2.16]:tcp:80';
    // The same checker under a server without ha_suspend: its own probe, which suspension leaves alone.
    const h = harness(parse(vs('192.0.2.16', ` ha_suspend\n${rs}`) + vs('192.0.2.17', rs)));
    h.engine.suspend(new Set([ha]));
    h.engine.start();
    await h.advance(1000);
    assert.deepEqual(h.attempts.map((a) => a.at), [1000], 'only the other server\'s probe checked');
    assert.equal(h.engine.stats().probes, 2);
    const mine = h.engine.snapshot().find((r) => r.vsId === ha)!;
    assert.deepEqual(mine.checkers.map((c) => [c.hasRun, c.suspended]), [[false, true]]);
    await srv.close();
    // Its server stays up while suspended, though nothing answers now.
    await h.advance(6000);
    assert.equal(h.engine.snapshot().find((r) => r.vsId === ha)?.alive, true);
    assert.ok(h.events.every((e) => e.e.vsId !== ha));
    // Enabled again: the next look (delay_loop after the last) checks, and finds the server gone.
    h.engine.suspend(new Set());
    await h.advance(5000);
    assert.deepEqual(h.engine.snapshot().find((r) => r.vsId === ha)?.checkers.map((c) => [c.hasRun, c.suspended]), [[true, undefined]]);
    await h.advance(10_000);
    assert.ok(h.events.some((e) => e.e.vsId === ha && e.e.kind === 'rs-down'), JSON.stringify(h.events));
  });

  test('ha_suspend set or cleared by a reload gives the server\'s checkers probes of their own', async () => {
    const rs = ' real_server 127.0.0.1 9 {\n MISC_CHECK {\n misc_path "/bin/true"\n warmup 0\n delay_loop 60\n }\n }';
    const two = (ha: boolean): Config => parse(vs('192.0.2.18', `${ha ? ' ha_suspend\n' : ''}${rs}`) + vs('192.0.2.19', rs));
    const h = harness(two(false));
    h.engine.start();
    assert.equal(h.engine.stats().probes, 1);
    h.engine.update(two(true));
    assert.equal(h.engine.stats().probes, 2);
    h.engine.update(two(false));
    assert.equal(h.engine.stats().probes, 1);
  });

  test('alpha: the RS starts down and one success brings it up; notify_up is the pool\'s to run, not the engine\'s', async () => {
    const srv = await silentServer();
    servers.push(srv);
    const mark = join(dir, 'notify-up.out');
    const notify = join(dir, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$@" >> ${mark}\n`);
    chmodSync(notify, 0o755);
    const h = harness(
      parse(vs('192.0.2.12', ` real_server 127.0.0.1 ${srv.port} {\n alpha\n notify_up "${notify} up arg"\n TCP_CHECK {\n warmup 0\n }\n }`)),
    );
    h.engine.start();
    assert.equal(h.engine.snapshot()[0]?.alive, false);
    await h.advance(1000);
    assert.deepEqual(h.events.map((x) => [x.at, x.e.kind]), [[1000, 'rs-up']]);
    assert.equal(h.engine.snapshot()[0]?.alive, true);
    assert.ok(!h.logs.some((l) => l.startsWith('Adding service')), 'pool lines are the IPVS side\'s to log');
    await h.engine.idle();
    assert.equal(existsSync(mark), false, 'one owner runs notify scripts (ipvs/notify-scripts.ts), else they run twice');
  });

  test('misc_dynamic as check_misc.c: 2..255 sets weight status-2, 0 puts the configured weight back, a failure drops it unlogged, a return sets the weight before the state', async () => {
    const s = exitFromFile('dyn', 12);
    const h = harness(
      parse(vs('192.0.2.13', ` real_server 127.0.0.1 80 {\n weight 5\n MISC_CHECK {\n misc_path "${s.path} arg"\n misc_dynamic\n warmup 0\n delay_loop 2\n }\n }`)),
    );
    h.engine.start();
    await h.advance(1000);
    const vsId = '[192.0.2.13]:tcp:80';
    const rsId = '[192.0.2.13]:tcp:80/[127.0.0.1]:tcp:80';
    const since = (n: number): unknown[] => h.events.slice(n).map((x) => x.e);
    assert.deepEqual(since(0), [{ kind: 'rs-weight', vsId, rsId, weight: 10 }]);
    assert.ok(!h.logs.some((l) => l.startsWith('Changing weight')), 'pool lines are the IPVS side\'s to log');
    // The same status again: nothing to change.
    let n = h.events.length;
    await h.advance(2000);
    assert.deepEqual(since(n), []);
    // 0 after a dynamic status: the configured weight again (cur_weight 0).
    s.set(0);
    await h.advance(2000);
    assert.deepEqual(since(n), [{ kind: 'rs-weight', vsId, rsId, weight: 5 }]);
    s.set(12);
    await h.advance(2000);
    // A final failure: down, then the dynamic weight dropped without a line.
    n = h.events.length;
    s.set(1);
    await h.advance(2000);
    assert.deepEqual(since(n), [{ kind: 'rs-down', vsId, rsId }, { kind: 'rs-weight', vsId, rsId, weight: 5, silent: true }]);
    // The script is named by its first word (script.args[0]).
    assert.ok(h.logs.includes(`Misc check for [[127.0.0.1]:tcp:80 VS [192.0.2.13]:tcp:80] by [${s.path}] failed with retry disabled (exited with status 1).`));
    // Back with a dynamic status: the weight first (update_svr_wgt), then up (update_svr_checker_state).
    n = h.events.length;
    s.set(6);
    await h.advance(2000);
    assert.deepEqual(since(n), [{ kind: 'rs-weight', vsId, rsId, weight: 4 }, { kind: 'rs-up', vsId, rsId }]);
    assert.equal(h.engine.snapshot()[0]?.weight, 4);
  });

  test("misc_dynamic: the new weight goes out before the 'succeeded' line and the state after it, as check_misc.c logs them", async () => {
    const s = exitFromFile('dynorder', 6);
    // Events and log lines in one list, in the order they happen.
    const seen: string[] = [];
    const h = harness(
      parse(vs('192.0.2.14', ` real_server 127.0.0.1 80 {\n weight 5\n MISC_CHECK {\n misc_path "${s.path}"\n misc_dynamic\n warmup 0\n delay_loop 2\n }\n }`)),
      { onEvent: (e) => seen.push(`event ${e.kind}`), logger: createLogger({ destination: { write: (l: string) => void seen.push((JSON.parse(l) as { msg: string }).msg) } }) },
    );
    const succeeded = `Misc check for [[127.0.0.1]:tcp:80 VS [192.0.2.14]:tcp:80] by [${s.path}] succeeded.`;
    const relevant = (): string[] => seen.filter((l) => /^event rs-(weight|up|down)$/.test(l) || l === succeeded || l === 'mark');
    h.engine.start();
    await h.advance(1000);
    assert.deepEqual(relevant(), ['event rs-weight', succeeded]);
    s.set(1);
    await h.advance(2000);
    s.set(9);
    seen.push('mark');
    await h.advance(2000);
    const after = relevant();
    assert.deepEqual(after.slice(after.indexOf('mark') + 1), ['event rs-weight', succeeded, 'event rs-up']);
  });

  test('many checkers on one RS: alive only while all are up', async () => {
    const tcp = await silentServer();
    const web = await httpServer(respond(200, 'ok'));
    servers.push(tcp, web);
    const s = exitFromFile('many', 0);
    const h = harness(
      parse(
        vs(
          '192.0.2.14',
          ` real_server 127.0.0.1 ${web.port} {\n TCP_CHECK {\n connect_port ${tcp.port}\n warmup 0\n delay_loop 2\n }\n HTTP_GET {\n url {\n path /\n }\n warmup 0\n delay_loop 2\n }\n MISC_CHECK {\n misc_path "${s.path}"\n warmup 0\n delay_loop 2\n }\n }`,
        ),
      ),
    );
    h.engine.start();
    await h.advance(1000);
    assert.equal(h.attempts.length, 3);
    assert.equal(h.events.length, 0);
    s.set(1);
    await h.advance(2000);
    assert.deepEqual(h.events.map((x) => [x.at, x.e.kind]), [[3000, 'rs-down']]);
    const snap = h.engine.snapshot()[0]!;
    assert.deepEqual(snap.checkers.map((c) => [c.type, c.up]), [['TCP_CHECK', true], ['HTTP_GET', true], ['MISC_CHECK', false]]);
    s.set(0);
    await h.advance(2000);
    assert.deepEqual(h.events.map((x) => [x.at, x.e.kind]), [[3000, 'rs-down'], [5000, 'rs-up']]);
  });

  test('HTTP_GET on a DR server: connects to the port as written, lines name the corrected port; attempts unlogged', async () => {
    // check_api.c queue_checker copies rs->addr before validate_check_config resets a DR port to the VS's; every
    // line names FMT_CHK = FMT_RS(rs, vs); check_http.c timeout_epilog logs an attempt only under log_all_failures,
    // and http_handle_response's success line (no full stop) only while the checker is down.
    let status = 200;
    const web = await httpServer((sock, request) => respond(status, 'ok')(sock, request));
    servers.push(web);
    const text = `virtual_server 192.0.2.17 80 {\n lb_algo rr\n lb_kind DR\n protocol TCP\n real_server 127.0.0.1 ${web.port} {\n HTTP_GET {\n url {\n path /\n }\n retry 0\n warmup 0\n delay_loop 2\n }\n }\n}\n`;
    const { config } = parseConfigText(`global_defs { router_id lvskc }\n${text}`, { file: join(dir, 'keepalived.conf') });
    const h = harness(config);
    h.engine.start();
    await h.advance(1000);
    status = 503;
    await h.advance(2000);
    status = 200;
    // After a failed round HTTP waits max(delay_before_retry, delay_loop); HTTP's default delay_before_retry is 3 s.
    await h.advance(3000);
    const rs = '[127.0.0.1]:tcp:80';
    assert.deepEqual(h.logs.filter((l) => !l.startsWith('Activating')), [
      `Remote Web server ${rs} succeed on service.`,
      `HTTP_CHECK on service ${rs} failed.`,
      `HTTP status code success to ${rs} url(/)`,
      `Remote Web server ${rs} succeed on service.`,
    ]);
    assert.equal(web.seen.length, 3);
  });

  test('HTTP_GET digest and regex urls: each recovery logs its own success line, the same words at each recovery', async () => {
    // check_http.c http_handle_response: "MD5 digest success to …" for a digest url, "Regex match success to …" for a
    // regex one (its regex decides before the digest would), while the checker is down.
    let body = 'ok';
    const web = await httpServer((sock, request) => respond(200, body)(sock, request));
    servers.push(web);
    const digest = createHash('md5').update('ok').digest('hex');
    const checker = (url: string): string =>
      ` real_server 127.0.0.1 ${web.port} {\n HTTP_GET {\n url {\n${url} }\n retry 0\n warmup 0\n delay_loop 2\n delay_before_retry 2\n }\n }\n`;
    const text = `virtual_server 192.0.2.18 ${web.port} {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n` +
      `${checker(` path /d\n digest ${digest}\n`)}}\nvirtual_server 192.0.2.19 ${web.port} {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n` +
      `${checker(` path /r\n regex "^ok$"\n digest ${digest}\n`)}}\n`;
    const { config } = parseConfigText(`global_defs { router_id lvskc }\n${text}`, { file: join(dir, 'keepalived.conf') });
    const h = harness(config);
    h.engine.start();
    await h.advance(1000);
    for (let k = 0; k < 2; k++) {
      body = 'no';
      await h.advance(2000);
      body = 'ok';
      await h.advance(2000);
    }
    const rs = `[127.0.0.1]:tcp:${web.port}`;
    const successes = h.logs.filter((l) => l.includes(' success to '));
    assert.deepEqual([...new Set(successes)].sort(), [`MD5 digest success to ${rs} url(/d)`, `Regex match success to ${rs} url(/r)`]);
    assert.equal(successes.length, 4, h.logs.join('\n'));
  });

  test('alpha: a failed first run keeps the RS down and asks for its notify_down (TCP yes, HTTP no)', async () => {
    // ipwrapper.c update_svr_checker_state: equal state and !has_run with alpha calls do_rs_notifies; check_http.c
    // sets has_run before it gets there.
    const port = await closedPort();
    const rsBlock = (check: string): string => ` real_server 127.0.0.1 ${port} {\n alpha\n ${check} {\n${check === 'HTTP_GET' ? ' url {\n path /\n }\n' : ''} warmup 0\n delay_loop 5\n }\n }`;
    const h = harness(parse(vs('192.0.2.18', rsBlock('TCP_CHECK')) + vs('192.0.2.19', rsBlock('HTTP_GET'))));
    h.engine.start();
    await h.advance(7000);
    assert.deepEqual(h.events.map((x) => [x.at, x.e.kind, x.e.vsId]), [[1000, 'rs-notify', '[192.0.2.18]:tcp:80']]);
  });

  test('identical checks on one target across virtual servers share one probe', async () => {
    const web = await httpServer(respond(200, 'ok'));
    servers.push(web);
    const rs = ` real_server 127.0.0.1 ${web.port} {\n HTTP_GET {\n url {\n path /health\n }\n warmup 0\n delay_loop 5\n }\n }`;
    const h = harness(parse(vs('192.0.2.15', rs) + vs('192.0.2.16', rs)));
    h.engine.start();
    await h.advance(11_000);
    assert.equal(h.engine.stats().probes, 1);
    assert.equal(web.seen.length, 3);
    assert.equal(h.engine.snapshot().length, 2);
    assert.deepEqual(new Set(h.engine.snapshot().map((r) => r.checkers[0]?.probeKey)).size, 1);
  });

  test('reload keeps the state of equal checkers and starts changed ones afresh', async () => {
    const srv = await silentServer();
    servers.push(srv);
    const base = (extra: string): Config =>
      parse(vs('192.0.2.17', ` real_server 127.0.0.1 ${srv.port} {\n TCP_CHECK {\n warmup 0\n delay_loop 3\n${extra} }\n }`));
    const h = harness(base(''));
    h.engine.start();
    await h.advance(1000);
    h.engine.update(base(''));
    await h.advance(3000);
    // Same checker: its timer carried on (attempts at 1 s and 4 s, not restarted at +1 s).
    assert.deepEqual(h.attempts.map((a) => a.at), [1000, 4000]);
    h.engine.update(base(' connect_timeout 2\n'));
    await h.advance(1000);
    assert.deepEqual(h.attempts.map((a) => a.at), [1000, 4000, 5000]);
    assert.equal(h.engine.stats().probes, 1);
  });

  test('reload with only weights changed keeps every probe and timer and reports each new weight; a removed server leaves', async () => {
    const srv = await silentServer();
    servers.push(srv);
    // Two probes (their delay_loops differ), each on the one silent server.
    const rs = (w: number, port: number, delay: number): string =>
      ` real_server 127.0.0.1 ${port} {\n weight ${w}\n TCP_CHECK {\n connect_port ${srv.port}\n warmup 0\n delay_loop ${delay}\n }\n }`;
    const conf = (w1: number, w2: number, both = true): Config => parse(vs('192.0.2.21', rs(w1, 81, 3) + (both ? rs(w2, 82, 4) : '')));
    const h = harness(conf(1, 1));
    h.engine.start();
    await h.advance(1000);
    h.engine.update(conf(1, 4));
    h.engine.update(conf(1, 4));
    await h.advance(4000);
    // Both probes carried on (first attempts at 1 s, the next at 4 s and 5 s); one event, for the server whose weight changed.
    assert.deepEqual(h.attempts.map((a) => a.at), [1000, 1000, 4000, 5000]);
    assert.deepEqual(h.events.map((x) => x.e), [{ kind: 'rs-weight', vsId: '[192.0.2.21]:tcp:80', rsId: '[192.0.2.21]:tcp:80/[127.0.0.1]:tcp:82', weight: 4 }]);
    assert.deepEqual(h.engine.snapshot().map((r) => r.weight), [1, 4]);
    h.engine.update(conf(1, 4, false));
    assert.equal(h.engine.stats().probes, 1);
    assert.deepEqual(h.engine.snapshot().map((r) => r.rsId), ['[192.0.2.21]:tcp:80/[127.0.0.1]:tcp:81']);
  });

  test('BFD_CHECK: the RS follows its BFD session, with check_bfd.c\'s lines; alpha starts it down; a reload keeps the state', async () => {
    const text = (alpha: string): string => `bfd_instance bfd1 {\n neighbor_ip 127.0.0.1\n}\n${vs('192.0.2.18', ` real_server 127.0.0.1 80 {\n BFD_CHECK {\n name bfd1\n ${alpha}\n }\n }`)}`;
    const h = harness(parse(text('')));
    h.engine.start();
    const rsId = '[192.0.2.18]:tcp:80/[127.0.0.1]:tcp:80';
    assert.equal(h.engine.snapshot()[0]?.alive, true);
    h.engine.bfdState('bfd1', false);
    assert.deepEqual(h.events.map((x) => x.e), [{ kind: 'rs-down', vsId: '[192.0.2.18]:tcp:80', rsId }]);
    assert.deepEqual(h.alerts.map((x) => x.e), [
      { kind: 'rs-alert', vsId: '[192.0.2.18]:tcp:80', rsId, alive: false, rsChanged: true, body: '=> BFD CHECK bfd1 failed on service <=' },
    ]);
    assert.ok(h.logs.includes('BFD check of [bfd1] RS([127.0.0.1]:tcp:80) is DOWN'), h.logs.join('\n'));
    // The same state again changes nothing; another session's event is not ours.
    h.engine.bfdState('bfd1', false);
    h.engine.bfdState('bfd2', true);
    assert.equal(h.events.length + h.alerts.length, 2);
    h.engine.update(parse(text('')));
    assert.equal(h.engine.snapshot()[0]?.alive, false);
    h.engine.bfdState('bfd1', true);
    assert.deepEqual(h.events.map((x) => x.e.kind), ['rs-down', 'rs-up']);
    assert.deepEqual(h.alerts.map((x) => x.e.body), ['=> BFD CHECK bfd1 failed on service <=', '=> BFD CHECK bfd1 succeeded on service <=']);
    assert.deepEqual(h.engine.snapshot()[0]?.checkers.map((c) => [c.type, c.up, c.hasRun]), [['BFD_CHECK', true, true]]);
    const a = harness(parse(text('alpha')));
    a.engine.start();
    assert.equal(a.engine.snapshot()[0]?.alive, false);
    // The first event is logged even when it says what alpha assumed (has_run is false); it moves nothing: no mail.
    a.engine.bfdState('bfd1', false);
    assert.ok(a.logs.includes('BFD check of [bfd1] RS([127.0.0.1]:tcp:80) is DOWN'), a.logs.join('\n'));
    assert.deepEqual([...a.events, ...a.alerts], []);
  });

  test('FILE_CHECK: value × weight is added to the RS weight; with weight 0 a non-zero value fails', async () => {
    const file = join(dir, 'track.val');
    writeFileSync(file, '0\n');
    const h = harness(
      parse(
        `track_file tf {\n file ${file}\n weight 3\n }\ntrack_file tz {\n file ${file}\n weight 0\n }\n` +
          vs('192.0.2.19', ' real_server 127.0.0.1 80 {\n weight 2\n FILE_CHECK {\n track_file tf\n }\n }') +
          vs('192.0.2.20', ' real_server 127.0.0.1 80 {\n FILE_CHECK {\n track_file tz\n weight 0\n }\n }'),
      ),
    );
    h.engine.start();
    assert.deepEqual(h.engine.snapshot().map((r) => [r.alive, r.weight]), [[true, 2], [true, 1]]);
    writeFileSync(file, '4\n');
    // The watcher reacts to a real file-system event; wait for it, bounded.
    for (let i = 0; i < 100 && h.events.length < 2; i++) await new Promise((d) => setTimeout(d, 20));
    assert.deepEqual(
      h.events.map((x) => x.e),
      [
        { kind: 'rs-weight', vsId: '[192.0.2.19]:tcp:80', rsId: '[192.0.2.19]:tcp:80/[127.0.0.1]:tcp:80', weight: 14 },
        { kind: 'rs-down', vsId: '[192.0.2.20]:tcp:80', rsId: '[192.0.2.20]:tcp:80/[127.0.0.1]:tcp:80' },
      ],
    );
  });

  test('stop() cancels timers and leaves nothing pending', async () => {
    const h = harness(parse(vs('192.0.2.21', ' real_server 127.0.0.1 80 {\n MISC_CHECK {\n misc_path "/bin/true"\n }\n }')));
    h.engine.start();
    assert.equal(h.clock.pendingTimers(), 1);
    await h.engine.stop();
    assert.equal(h.clock.pendingTimers(), 0);
  });

  test('reloads that add, remove, move and share servers: the probes are those a fresh engine builds, and a kept probe keeps its state', async () => {
    const ports = [await closedPort(), await closedPort()];
    const random = seededRandom(41);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    // Servers 81..88, in a random order and subset per virtual server; probes on two ports and two delay_loops, so
    // servers of both virtual servers share some.
    const randomConfig = (): Config => parse(['192.0.2.31', '192.0.2.32'].map((addr) => {
      const order = [81, 82, 83, 84, 85, 86, 87, 88].filter(() => random() < 0.7).sort(() => random() - 0.5);
      return vs(addr, order.map((p) => ` real_server 127.0.0.1 ${p} {\n weight ${pick([1, 2])}\n TCP_CHECK {\n connect_port ${pick(ports)}\n warmup 0\n delay_loop ${pick([3, 4])}\n }\n }`).join('\n'));
    }).join(''));
    const probes = (e: CheckerEngine): string[] => e.snapshot().map((r) => `${r.rsId} ${r.checkers.map((c) => c.probeKey).join(',')}`);
    const h = harness(randomConfig());
    h.engine.start();
    for (let step = 0; step < 30; step++) {
      await h.advance(5000);
      const ran = new Set(h.engine.snapshot().flatMap((r) => r.checkers.filter((c) => c.hasRun).map((c) => c.probeKey)));
      const old = new Map(h.engine.snapshot().map((r) => [r.rsId, r]));
      const cfg = randomConfig();
      const mark = h.events.length;
      h.engine.update(cfg);
      // A kept server reports what changed against its own previous state, and a new one nothing.
      const changes = h.engine.snapshot().flatMap((r) => {
        const o = old.get(r.rsId);
        return o === undefined ? [] : [...(o.alive !== r.alive ? [`${r.rsId} alive ${r.alive}`] : []), ...(o.weight !== r.weight ? [`${r.rsId} weight ${r.weight}`] : [])];
      });
      const reported = h.events.slice(mark).map(({ e }) => (e.kind === 'rs-weight' ? `${e.rsId} weight ${e.weight}` : `${e.rsId} alive ${e.kind === 'rs-up'}`));
      assert.deepEqual(reported, changes, `step ${step}: the reload's events`);
      const fresh = harness(cfg);
      fresh.engine.start();
      assert.deepEqual(probes(h.engine), probes(fresh.engine), `step ${step}: the servers and their probes, in config order`);
      const keys = new Set(h.engine.snapshot().flatMap((r) => r.checkers.map((c) => c.probeKey)));
      assert.equal(h.engine.stats().probes, keys.size, `step ${step}: one running probe per distinct checker`);
      for (const r of h.engine.snapshot()) {
        for (const c of r.checkers) assert.equal(c.hasRun, ran.has(c.probeKey), `step ${step}: ${r.rsId} probe ${c.probeKey} kept its state or started afresh`);
      }
      // A shared probe reports to its servers in config order, as a fresh engine's does: each server has one checker
      // here, so the set of servers names the probe.
      const sharing = (x: Harness, from: number): Map<string, string> =>
        new Map(x.attemptServers.slice(from).map((rs) => [[...rs].sort().join(' '), rs.join(' ')]));
      const [hFrom, freshFrom] = [h.attemptServers.length, fresh.attemptServers.length];
      await h.advance(5000);
      await fresh.advance(5000);
      assert.deepEqual(sharing(h, hFrom), sharing(fresh, freshFrom), `step ${step}: each probe's servers, in order`);
      await fresh.engine.stop();
    }
    await h.engine.stop();
    assert.equal(h.clock.pendingTimers(), 0);
  });
});
