import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { MiscChecker } from '../../src/config/model.js';
import { probeDns } from '../../checkers/dns.js';
import { probeMisc } from '../../checkers/misc.js';
import { probeSmtp } from '../../checkers/smtp.js';
import { probeTcp } from '../../checkers/tcp.js';
import { matchesPattern, probeUdp } from '../../checkers/udp.js';
import { conn, timing } from './model.js';
import { closedPort, dnsServer, silentServer, smtpServer, type Running } from './servers.js';
import { markedLeftOver, withMarker } from '../support/process.js';

const signal = (): AbortSignal => AbortSignal.timeout(10_000);

describe('network probes against loopback servers', () => {
  const open: Running[] = [];
  const start = async <T extends Running>(p: Promise<T>): Promise<T> => {
    const r = await p;
    open.push(r);
    return r;
  };
  after(async () => {
    await Promise.all(open.map((r) => r.close()));
  });

  test('TCP_CHECK: connect succeeds, refused fails', async () => {
    const srv = await start(silentServer());
    assert.deepEqual(await probeTcp({ ...timing(), ...conn(srv.port), type: 'TCP_CHECK' }, signal()), { ok: true, detail: 'success' });
    const port = await closedPort();
    assert.deepEqual(await probeTcp({ ...timing(), ...conn(port), type: 'TCP_CHECK' }, signal()), { ok: false, detail: 'failed' });
  });

  test('TCP_CHECK: connect_timeout to an unroutable address is a timeout', async () => {
    // 192.0.2.1 (TEST-NET-1) has no route here or is dropped; the SYN never completes within 150 ms.
    const r = await probeTcp({ ...timing(), ...conn(9, { connectIp: '192.0.2.1', connectTimeoutMs: 150 }), type: 'TCP_CHECK' }, signal());
    assert.equal(r.ok, false);
  });

  test('SMTP_CHECK: banner 220, HELO helo_name → 250, QUIT', async () => {
    const srv = await start(smtpServer());
    const r = await probeSmtp({ ...timing(), ...conn(srv.port), type: 'SMTP_CHECK', heloName: 'checker.lvskc' }, signal());
    assert.equal(r.ok, true, r.detail);
    await new Promise((d) => setTimeout(d, 50));
    assert.deepEqual(srv.seen, ['HELO checker.lvskc', 'QUIT']);
    const badBanner = await start(smtpServer('554 go away'));
    assert.equal((await probeSmtp({ ...timing(), ...conn(badBanner.port), type: 'SMTP_CHECK', heloName: 'x' }, signal())).ok, false);
    const badHelo = await start(smtpServer('220 ok', '501 no'));
    assert.equal((await probeSmtp({ ...timing(), ...conn(badHelo.port), type: 'SMTP_CHECK', heloName: 'x' }, signal())).ok, false);
  });

  test('DNS_CHECK: same ID, QR and RCODE 0', async () => {
    const dns = { ...timing(), type: 'DNS_CHECK' as const, queryType: 'SOA' as const, name: 'example.org' };
    const good = await start(dnsServer({}));
    assert.equal((await probeDns({ ...dns, ...conn(good.port) }, signal())).ok, true);
    assert.equal(good.queries[0]?.subarray(12).toString('hex'), '076578616d706c65036f7267000006' + '0001');
    const nx = await start(dnsServer({ rcode: 3 }));
    assert.deepEqual(await probeDns({ ...dns, ...conn(nx.port) }, signal()), { ok: false, detail: 'bad rcode 3' });
    const noQr = await start(dnsServer({ noQr: true }));
    assert.equal((await probeDns({ ...dns, ...conn(noQr.port) }, signal())).ok, false);
    const wrongId = await start(dnsServer({ wrongId: true }));
    assert.deepEqual(await probeDns({ ...dns, ...conn(wrongId.port, { connectTimeoutMs: 200 }) }, signal()), { ok: false, detail: 'timeout' });
  });

  test('UDP_CHECK: ICMP port unreachable fails; silence passes without require_reply; require_reply matches', async () => {
    const udp = { ...timing(), type: 'UDP_CHECK' as const, payload: 'c0ffee', minReplyLength: 0, maxReplyLength: 255 };
    const port = await closedPort();
    assert.equal((await probeUdp({ ...udp, ...conn(port, { connectTimeoutMs: 300 }) }, signal())).ok, false);
    const echo = dgram.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from([0xab, 0xcd]), m]), r.port, r.address));
    await new Promise<void>((d) => echo.bind(0, '127.0.0.1', () => d()));
    try {
      const p = echo.address().port;
      assert.equal((await probeUdp({ ...udp, ...conn(p, { connectTimeoutMs: 300 }) }, signal())).ok, true);
      assert.equal((await probeUdp({ ...udp, requireReply: 'abXdc0', ...conn(p, { connectTimeoutMs: 300 }) }, signal())).ok, true);
      assert.equal((await probeUdp({ ...udp, requireReply: 'ffff', ...conn(p, { connectTimeoutMs: 300 }) }, signal())).ok, false);
      assert.equal((await probeUdp({ ...udp, requireReply: '', maxReplyLength: 3, ...conn(p, { connectTimeoutMs: 300 }) }, signal())).ok, false);
    } finally {
      echo.close();
    }
    assert.equal(matchesPattern(Buffer.from([0x12, 0x34]), '1X3'), true);
    assert.equal(matchesPattern(Buffer.from([0x12]), '1234'), false);
  });
});

describe('MISC_CHECK runs argv scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvskc-misc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const misc = (argv: string[], over: Partial<MiscChecker> = {}): MiscChecker => ({
    ...timing(),
    type: 'MISC_CHECK',
    miscPath: { argv, text: argv.join(' ') },
    miscTimeoutMs: 2000,
    miscDynamic: false,
    ...over,
  });
  const exitWith = script('exit.sh', 'exit "$1"');
  /** Never aborted: the engine's signal when nothing stops the check. */
  const live = new AbortController().signal;
  test('each exit code: 0 up, 1 down, 2..255 up only with misc_dynamic', async () => {
    assert.deepEqual(await probeMisc(misc([exitWith, '0']), live), { ok: true, detail: 'exited with status 0', exitStatus: 0 });
    assert.equal((await probeMisc(misc([exitWith, '1']), live)).ok, false);
    assert.equal((await probeMisc(misc([exitWith, '7']), live)).ok, false);
    assert.deepEqual(await probeMisc(misc([exitWith, '7'], { miscDynamic: true }), live), { ok: true, detail: 'exited with status 7', exitStatus: 7 });
    assert.equal((await probeMisc(misc([exitWith, '1'], { miscDynamic: true }), live)).ok, false);
    assert.equal((await probeMisc(misc([exitWith, '255'], { miscDynamic: true }), live)).exitStatus, 255);
  });

  test('argv is passed as is, never through a shell', async () => {
    const out = join(dir, 'args.out');
    const echo = script('args.sh', `printf '%s|' "$@" > ${out}`);
    await probeMisc(misc([echo, 'a b', '$(id)', ';true']), live);
    assert.equal(readFileSync(out, 'utf8'), 'a b|$(id)|;true|');
  });

  test('a hanging script is terminated at misc_timeout and counts as failure', async () => {
    const hang = script('hang.sh', "trap '' TERM; sleep 30");
    const r = await probeMisc(misc([hang], { miscTimeoutMs: 200 }), live);
    assert.deepEqual(r, { ok: false, detail: 'timed out' });
  });

  test('a script that exits leaving a background child: the child is killed with its process group', async () => {
    // A sleep of a number of seconds no other process uses, so /proc finds exactly the check's children.
    const marker = `${1000 + process.pid}.771`;
    const leaky = script('leaky.sh', `sleep ${marker} &\nexit 0`);
    for (let i = 0; i < 3; i++) assert.equal((await probeMisc(misc([leaky]), live)).ok, true);
    assert.deepEqual(await markedLeftOver(marker), [], 'background children of the check outlived it');
  });

  test('an abort (daemon stop) kills a running script at once, not after misc_timeout', async () => {
    const marker = `${1000 + process.pid}.772`;
    const slow = script('slow.sh', `sleep ${marker}`);
    const ctl = new AbortController();
    const t0 = Date.now();
    const running = probeMisc(misc([slow], { miscTimeoutMs: 60_000 }), ctl.signal);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(withMarker(marker).length, 1);
    ctl.abort();
    assert.deepEqual(await running, { ok: false, detail: 'aborted' });
    assert.ok(Date.now() - t0 < 10_000);
    assert.deepEqual(await markedLeftOver(marker), []);
  });

  test('a missing script fails with the reason', async () => {
    const r = await probeMisc(misc([join(dir, 'nope')]), live);
    assert.deepEqual(r, { ok: false, detail: 'could not run (ENOENT)' });
  });
});
