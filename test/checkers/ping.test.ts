// PING_CHECK: the echo codec against RFC 1071's worked example, then real echoes over a veth pair into a namespace
// the test creates (root: raw ICMP sockets and namespaces), directly and through the engine.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CheckerEngine } from '../../checkers/engine.js';
import { Pinger } from '../../checkers/ping.js';
import { buildEchoRequest, ICMP_ECHO_REPLY, inetChecksum, parseEchoReply } from '../../checkers/ping-wire.js';
import { FakeClock } from '../../src/clock.js';
import type { Config, PingChecker } from '../../src/config/model.js';
import { parseConfigText } from '../../src/config/load.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { needCommand, needRoot } from '../support/tier.js';

test('Internet checksum: RFC 1071 §3 example, odd length, and a request that verifies to zero', () => {
  assert.equal(inetChecksum(Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d);
  assert.equal(inetChecksum(Buffer.from([0x01])), 0xfeff);
  const req = buildEchoRequest(4, { id: 0x1234, seq: 7, payload: Buffer.from('abc') });
  assert.deepEqual([...req.subarray(0, 8)], [8, 0, req[2], req[3], 0x12, 0x34, 0, 7]);
  assert.equal(inetChecksum(req), 0);
  // ICMPv6: the kernel fills the checksum over its pseudo-header.
  assert.deepEqual([...buildEchoRequest(6, { id: 1, seq: 2, payload: Buffer.alloc(0) })], [128, 0, 0, 0, 0, 1, 0, 2]);
});

test('echo replies parse; short, wrong-type and bad-checksum messages are named as drops', () => {
  const reply = buildEchoRequest(4, { id: 9, seq: 300, payload: Buffer.from('lvsk') });
  reply[0] = ICMP_ECHO_REPLY;
  reply.writeUInt16BE(0, 2);
  reply.writeUInt16BE(inetChecksum(reply), 2);
  assert.deepEqual(parseEchoReply(4, reply), { id: 9, seq: 300, payload: Buffer.from('lvsk') });
  assert.deepEqual(parseEchoReply(4, reply.subarray(0, 7)), { drop: 'short' });
  assert.deepEqual(parseEchoReply(4, buildEchoRequest(4, { id: 9, seq: 1, payload: Buffer.alloc(0) })), { drop: 'type' });
  const corrupt = Buffer.from(reply);
  corrupt[8] = corrupt[8]! ^ 0xff;
  assert.deepEqual(parseEchoReply(4, corrupt), { drop: 'checksum' });
  const v6 = Buffer.from([129, 0, 0xab, 0xcd, 0, 5, 0, 6, 0x61]);
  assert.deepEqual(parseEchoReply(6, v6), { id: 5, seq: 6, payload: Buffer.from('a') });
});

test('without the privilege for a raw socket each ping fails with the reason, logged once', async () => {
  const lines: string[] = [];
  const logger = createLogger({ destination: { write: (l: string) => void lines.push((JSON.parse(l) as { msg: string }).msg) } });
  const refuse = (): never => {
    throw Object.assign(new Error('socket EPERM (Operation not permitted)'), { code: 'EPERM' });
  };
  const pinger = new Pinger(4, logger, refuse);
  const never = new AbortController().signal;
  const c = checker('192.0.2.9');
  assert.deepEqual(await pinger.ping(c, never), { ok: false, detail: 'failed (cannot open ICMP socket: EPERM)' });
  assert.deepEqual(await pinger.ping(c, never), { ok: false, detail: 'failed (cannot open ICMP socket: EPERM)' });
  assert.deepEqual(lines, ['PING_CHECK: cannot open a raw ICMP socket: EPERM (needs root or CAP_NET_RAW)']);
});

const NS = 'lvskping-b';
const LINK = 'lvskping0';
const HERE = { v4: '203.0.113.241', v6: '2001:db8:ab::1' };
const THERE = { v4: '203.0.113.242', v6: '2001:db8:ab::2' };
const NOBODY = { v4: '203.0.113.243', v6: '2001:db8:ab::3' };
/** Held in the namespace, but routed there only for packets marked 42 (policy routing table 4242). */
const MARKED_ONLY = '198.51.100.77';

function sh(...args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
}

/** One DR virtual server per family (203.0.113.250:80, [2001:db8:ab::250]:80) over PING_CHECKed real servers. */
function pingConfig(ips: readonly string[], extra = ''): Config {
  const server = (ip: string): string => ` real_server ${ip} 80 {\n  PING_CHECK {\n   connect_timeout 1\n   retry 1\n   delay_before_retry 1\n${extra}  }\n }\n`;
  const vs = (addr: string, family: string[]): string =>
    family.length === 0 ? '' : `virtual_server ${addr} 80 {\n delay_loop 2\n lb_algo rr\n lb_kind DR\n protocol TCP\n${family.map(server).join('')}}\n`;
  const text = `global_defs { router_id lvskping }\n${vs('203.0.113.250', ips.filter((ip) => !ip.includes(':')))}${vs('2001:db8:ab::250', ips.filter((ip) => ip.includes(':')))}`;
  const { config, diagnostics } = parseConfigText(text, { file: '/lvskping.conf' });
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error' || d.severity === 'fatal'), []);
  return config;
}

function checker(ip: string, extra = ''): PingChecker {
  const c = pingConfig([ip], extra).virtualServers[0]?.realServers[0]?.checkers[0];
  assert.equal(c?.type, 'PING_CHECK');
  return c as PingChecker;
}

test('echoes over a veth into a namespace', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2')) return;
  t.after(() => {
    spawnSync('ip', ['link', 'del', LINK], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  });
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'del', LINK], { stdio: 'ignore' });
  sh('ip', 'netns', 'add', NS);
  sh('ip', 'link', 'add', LINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS);
  sh('ip', 'addr', 'add', `${HERE.v4}/29`, 'dev', LINK);
  sh('ip', 'addr', 'add', `${HERE.v6}/64`, 'dev', LINK, 'nodad');
  sh('ip', 'link', 'set', LINK, 'up');
  sh('ip', '-n', NS, 'addr', 'add', `${THERE.v4}/29`, 'dev', 'eth0');
  sh('ip', '-n', NS, 'addr', 'add', `${THERE.v6}/64`, 'dev', 'eth0', 'nodad');
  sh('ip', '-n', NS, 'link', 'set', 'eth0', 'up');
  sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');

  await t.test('a live address answers, an absent one times out, for IPv4 and IPv6', async (t) => {
    const p4 = new Pinger(4, silentLogger());
    const p6 = new Pinger(6, silentLogger());
    t.after(() => {
      p4.close();
      p6.close();
    });
    const never = new AbortController().signal;
    assert.deepEqual(await p4.ping(checker(THERE.v4), never), { ok: true, detail: 'success' });
    assert.deepEqual(await p6.ping(checker(THERE.v6), never), { ok: true, detail: 'success' });
    assert.deepEqual(await p4.ping(checker(NOBODY.v4), never), { ok: false, detail: 'timeout' });
    assert.deepEqual(await p6.ping(checker(NOBODY.v6), never), { ok: false, detail: 'timeout' });
    // bindto is the echo's source address: ours works, one this host does not hold is refused by the kernel.
    assert.deepEqual(await p4.ping(checker(THERE.v4, `   bindto ${HERE.v4}\n`), never), { ok: true, detail: 'success' });
    assert.equal((await p4.ping(checker(THERE.v4, '   bindto 203.0.113.244\n'), never)).ok, false);
  });

  await t.test("another pinger's echo replies reach the shared socket and are counted as unmatched, not taken", async (t) => {
    if (!needCommand(t, 'ping', 'iputils-ping')) return;
    const p4 = new Pinger(4, silentLogger());
    t.after(() => p4.close());
    const never = new AbortController().signal;
    assert.equal((await p4.ping(checker(THERE.v4), never)).ok, true);
    const other = spawn('ping', ['-c', '3', '-i', '0.2', THERE.v4], { stdio: 'ignore' });
    const code = await new Promise((r) => other.on('exit', r));
    assert.equal(code, 0);
    assert.ok(p4.drops.unmatched >= 3, JSON.stringify(p4.drops));
    assert.equal((await p4.ping(checker(THERE.v4), never)).ok, true);
  });

  await t.test('bind_if and fwmark: a socket per pair, the mark picks a policy route, the device limits the way out', async (t) => {
    const p4 = new Pinger(4, silentLogger());
    t.after(() => {
      p4.close();
      spawnSync('ip', ['rule', 'del', 'fwmark', '42', 'lookup', '4242'], { stdio: 'ignore' });
      spawnSync('ip', ['route', 'del', 'unreachable', `${MARKED_ONLY}/32`], { stdio: 'ignore' });
    });
    sh('ip', '-n', NS, 'addr', 'add', `${MARKED_ONLY}/32`, 'dev', 'lo');
    sh('ip', 'route', 'add', 'unreachable', `${MARKED_ONLY}/32`);
    sh('ip', 'route', 'add', `${MARKED_ONLY}/32`, 'via', THERE.v4, 'dev', LINK, 'table', '4242');
    sh('ip', 'rule', 'add', 'fwmark', '42', 'lookup', '4242', 'priority', '4242');
    const never = new AbortController().signal;
    assert.deepEqual(await p4.ping(checker(MARKED_ONLY), never), { ok: false, detail: 'failed (EHOSTUNREACH)' });
    assert.deepEqual(await p4.ping(checker(MARKED_ONLY, '   fwmark 42\n'), never), { ok: true, detail: 'success' });
    assert.deepEqual(await p4.ping(checker(THERE.v4, `   bind_if ${LINK}\n`), never), { ok: true, detail: 'success' });
    assert.equal((await p4.ping(checker(THERE.v4, '   bind_if lo\n'), never)).ok, false);
    assert.deepEqual(await p4.ping(checker(THERE.v4, '   bind_if lvsk-none0\n'), never), { ok: false, detail: 'failed (cannot open ICMP socket: ENODEV)' });
    // The plain socket also receives the replies to the marked and bound echoes: counted there as late, never taken.
    assert.ok(p4.drops.late >= 2, JSON.stringify(p4.drops));
    const ours = (): number => spawnSync('ss', ['-Hwap'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`pid=${process.pid},`)).length;
    assert.equal(ours(), 4, 'plain, fwmark 42, bind_if lvskping0, bind_if lo');
    p4.retain([checker(THERE.v4, '   fwmark 42\n')]);
    assert.equal(ours(), 1);
  });

  await t.test('through the engine: live servers come up, an absent one goes down at once, a lost link takes them down after the retries', async (t) => {
    const config = pingConfig([THERE.v4, NOBODY.v4, THERE.v6]);
    const clock = new FakeClock();
    const logs: string[] = [];
    const events: string[] = [];
    const engine = new CheckerEngine(config, {
      clock,
      random: () => 0,
      logger: createLogger({ destination: { write: (l: string) => void logs.push((JSON.parse(l) as { msg: string }).msg) } }),
      onEvent: (e) => e.kind !== 'rs-alert' && events.push(`${e.kind} ${e.rsId}`),
    });
    t.after(() => engine.stop());
    const advance = async (ms: number): Promise<void> => {
      for (let step = 0; step < ms; step += 100) {
        clock.advance(100);
        await engine.idle();
      }
    };
    const vs4 = '[203.0.113.250]:tcp:80';
    const vs6 = '[2001:db8:ab::250]:tcp:80';
    engine.start();
    await advance(1500);
    assert.ok(logs.includes(`ICMP connection to [${THERE.v4}]:tcp:80 success.`), logs.join('\n'));
    assert.ok(logs.includes(`ICMP connection to [${THERE.v6}]:tcp:80 success.`), logs.join('\n'));
    // A first check that fails takes the RS down at once (no retries before the first verdict), as for TCP_CHECK.
    assert.ok(logs.includes(`ICMP CHECK on service [${NOBODY.v4}]:tcp:80 failed.`), logs.join('\n'));
    assert.deepEqual(events, [`rs-down ${vs4}/[${NOBODY.v4}]:tcp:80`]);

    sh('ip', '-n', NS, 'link', 'set', 'eth0', 'down');
    await advance(5000);
    assert.ok(logs.includes(`ICMP CHECK on service [${THERE.v4}]:tcp:80 of ${vs4} failed after 1 retries.`), logs.join('\n'));
    assert.ok(logs.includes(`ICMP CHECK on service [${THERE.v6}]:tcp:80 of ${vs6} failed after 1 retries.`), logs.join('\n'));
    assert.deepEqual(engine.snapshot().map((s) => s.alive), [false, false, false]);

    sh('ip', '-n', NS, 'link', 'set', 'eth0', 'up');
    // Link down flushes the namespace's IPv6 address (keep_addr_on_down is 0); put it back.
    sh('ip', '-n', NS, 'addr', 'replace', `${THERE.v6}/64`, 'dev', 'eth0', 'nodad');
    await advance(3000);
    assert.deepEqual(engine.snapshot().map((s) => s.alive), [true, false, true]);
    assert.deepEqual(events.slice(-2).sort(), [`rs-up ${vs6}/[${THERE.v6}]:tcp:80`, `rs-up ${vs4}/[${THERE.v4}]:tcp:80`]);
  });
});
