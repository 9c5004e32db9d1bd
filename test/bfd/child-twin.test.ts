// The BFD child against keepalived 2.2.7's (test/vrrp/twin-support.ts), with -D as the twin runs both: each side's
// router holds a session with FRR's bfdd in its peer namespace. Compared: every line the BFD side writes about the
// session, in order, while the session comes Up, bfdd slows its intervals (its Poll Sequence), the router's own
// timers change on a reload (ours) and bfdd is killed; and the SIGUSR1 dump of the session, Up and Down.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { Proc, sh, waitFor } from '../vrrp/netns-support.js';
import { logLines, SIDES, Twin, type Side } from '../vrrp/twin-support.js';
import { BFDD, startBfdd } from './bfd-netns.js';

const config = (ms: number, source?: string): string => `bfd_instance gw {
  neighbor_ip 10.0.0.2${source ? `\n  source_ip ${source}\n  idle_tx ${ADMIN_DOWN_IDLE_TX_MS}` : ''}
  min_rx ${ms}
  min_tx ${ms}
  multiplier 3
}
`;

/**
 * The idle rate of the session that starts AdminDown. keepalived, taken out of AdminDown by a packet, enters Init and
 * arms its expiry with the detection time it has then (bfd_scheduler.c bfd_handle_packet → bfd_state_init →
 * bfd_state_rise → bfd_expire_schedule): 0 for a peer never heard, so it falls Down at once, without a log line. At
 * the default idle_tx of 1 s its next packet races bfdd's: when keepalived's goes first it sends Down and comes Up
 * through bfdd's Init, before bfdd announces its faster rate, and logs Up before the new timers (seen in 2 of 7 runs
 * on a loaded machine); when bfdd's goes first, that Down packet takes keepalived back to Init, as lvskeeper, which
 * keeps its Init. At 3 s bfdd's packet, at most 1 s away, always comes first.
 */
const ADMIN_DOWN_IDLE_TX_MS = 3000;

/** The session's lines: those naming it, and the indented ones under them (timers, detection time). */
const SESSION = /^\(gw\) |^ {5}(?:local |remote |Detection time | {9}min_tx )/;
const TIMERS_HEAD = '(gw) ---------------< Session parameters >--------------';

/**
 * The normalisations, each for a difference that is not the log's:
 * - how late the expiry fired is the scheduler's (keepalived's thread timer vs Node's), so the two numbers of
 *   "Expired after N ms (M usec overdue)" are replaced; that it came after the detection time is asserted apart;
 * - lvskeeper holds a faster peer rate back until the peer is seen sending at it (src/bfd/session.ts agreeRx, against
 *   bfdd's early Final), where keepalived takes it from the Final: lvskeeper logs the timers then with the old
 *   detection time, and again with the new one when it takes the rate. A timers block followed at once by another is
 *   dropped, so the one compared is the block that precedes "Detection time is …", as keepalived's does.
 */
function normalise(lines: readonly string[]): string[] {
  const out = lines.map((l) => l.replace(/^\(gw\) Expired after \d+ ms \(\d+ usec overdue\)$/, '(gw) Expired after N ms (M usec overdue)'));
  for (let i = out.length - 4; i >= 0; i--) if (out[i] === TIMERS_HEAD && out[i + 4] === TIMERS_HEAD) out.splice(i, 4);
  return out;
}

interface Session {
  readonly twin: Twin;
  readonly path: string;
  readonly log: (s: Side) => string;
  readonly has: (re: RegExp) => boolean;
  readonly dump: () => string;
  readonly bfdds: Record<Side, Proc>;
}

function have(t: TestContext): boolean {
  return needRoot(t) && needCommand(t, 'ip', 'iproute2') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)') &&
    needFile(t, BFDD, 'needs FRR bfdd (apt-get install frr)') && needCommand(t, 'vtysh', 'frr') && needCommand(t, 'nft', 'nftables');
}

/**
 * Drops what bfdd sends (UDP to the single-hop control port, RFC 5881 §4) while it is in place. Both ends send a Down
 * at once when they start (bfd_scheduler.c bfd_register_workers; bfdd likewise), so the session can come up two ways:
 * the daemon takes bfdd's Init and comes Up from Down, logging the faster timers after Up; or a Down of bfdd's that
 * crossed the daemon's first takes the daemon to Init, and bfdd's Up, already at 200 ms, takes it Up, logging them
 * before. Both are keepalived's, but each side of the twin has its own bfdd and may take the other way (CI, once).
 * Held until bfdd is Init, that is until it has the daemon's Down, so the first packet each daemon hears is an Init.
 */
const GATE = 'table inet lk_bfd_gate {\n  chain out {\n    type filter hook output priority 0; udp dport 3784 drop\n  }\n}\n';

/** vtysh against the bfdd of a side: each argument one command. */
const vtysh = (twin: Twin, s: Side, ...commands: string[]): string =>
  sh(['ip', 'netns', 'exec', twin.peer(s), 'vtysh', '--vty_socket', frrDir(twin, s), '-d', 'bfdd', ...commands.flatMap((c) => ['-c', c])]);

/** bfdd's state of its one peer ("down", "init", "up"), undefined until its vty answers. */
function bfddStatus(twin: Twin, s: Side): string | undefined {
  try {
    return (JSON.parse(vtysh(twin, s, 'show bfd peers json')) as { status: string }[])[0]?.status;
  } catch {
    return undefined;
  }
}

interface Options {
  /** The daemons' environment beyond ours. */
  readonly env?: (twin: Twin, s: Side) => Record<string, string>;
  /** The session's source_ip, where bfdd sends: given, the session is not awaited Up. */
  readonly source?: string;
}

/** Both sides' sessions with their bfdd, Up unless a source address is given. */
async function withSession(tag: string, opts: Options, body: (x: Session) => Promise<void>): Promise<void> {
  const twin = new Twin(tag);
  const bfdds: Partial<Record<Side, Proc>> = {};
  const daemons: Partial<Record<Side, Proc>> = {};
  try {
    chmodSync(twin.dir, 0o755);
    const path = twin.writeConfig(config(200, opts.source));
    const gated = opts.source === undefined;
    if (gated) {
      const gate = join(twin.dir, 'gate.nft');
      writeFileSync(gate, GATE);
      for (const s of SIDES) sh(['ip', 'netns', 'exec', twin.peer(s), 'nft', '-f', gate]);
    }
    for (const s of SIDES) {
      bfdds[s] = startBfdd(twin.peer(s), frrDir(twin, s), `bfd\n peer ${opts.source ?? '10.0.0.1'}\n  receive-interval 200\n  transmit-interval 200\n  detect-multiplier 3\n !\n!\n`);
    }
    for (const s of SIDES) {
      daemons[s] = twin.start(s, path, repoRoot, false, ['-b', join(twin.dir, `${s}-bfd.pid`)], { ...process.env, ...opts.env?.(twin, s) });
    }
    const log = (s: Side): string => daemons[s]!.log;
    const has = (re: RegExp): boolean => SIDES.every((s) => logLines(log(s), re).length > 0);
    const dump = (): string => SIDES.map((s) => `---- ${s}\n${logLines(log(s), SESSION).join('\n')}`).join('\n');
    if (gated) {
      assert.ok(await waitFor(() => SIDES.every((s) => bfddStatus(twin, s) === 'init'), 15_000), dump());
      for (const s of SIDES) sh(['ip', 'netns', 'exec', twin.peer(s), 'nft', 'delete', 'table', 'inet', 'lk_bfd_gate']);
      assert.ok(await waitFor(() => has(/^\(gw\) Entering Up state$/), 15_000), dump());
      // The Poll Sequence keepalived starts on Up (idle_tx 1 s → min_tx 200 ms) ends; bfdd's own follows.
      await waitFor(() => false, 3000);
    }
    await body({ twin, path, log, has, dump, bfdds: bfdds as Record<Side, Proc> });
  } finally {
    for (const s of SIDES) bfdds[s]?.killHard();
    await twin.destroy();
  }
}

const frrDir = (twin: Twin, s: Side): string => join(twin.dir, `frr-${s}`);

test('the BFD session log lines (-D) are keepalived\'s, line for line, through Up, a peer Poll, a reload and expiry', { timeout: 120_000 }, async (t) => {
  if (!have(t)) return;
  await withSession('hBlog', {}, async ({ twin, path, log, has, dump, bfdds }) => {
    // bfdd slows to 400 ms: its Poll carries the new values, and each side answers it.
    for (const s of SIDES) vtysh(twin, s, 'configure terminal', 'bfd', 'peer 10.0.0.1', 'receive-interval 400', 'transmit-interval 400');
    assert.ok(await waitFor(() => has(/Detection time is 1200000 us \(was 600000 us\)$/), 10_000), dump());
    await waitFor(() => false, 3000);
    // Our timers change on a reload: a Poll Sequence of our own.
    writeFileSync(path, config(300));
    for (const s of SIDES) process.kill(Number(readFileSync(join(twin.dir, `${s}.pid`), 'utf8').trim()), 'SIGHUP');
    assert.ok(await waitFor(() => SIDES.every((s) => logLines(log(s), /^\(gw\) Starting poll sequence$/).length === 2), 10_000), dump());
    await waitFor(() => false, 3000);
    // bfdd dies: the session expires.
    for (const s of SIDES) bfdds[s].killHard();
    assert.ok(await waitFor(() => has(/^\(gw\) Entering Down state/), 10_000), dump());
    await waitFor(() => false, 1000);
    const lines = Object.fromEntries(SIDES.map((s) => [s, normalise(logLines(log(s), SESSION))])) as Record<Side, string[]>;
    assert.deepEqual(lines.lk, lines.ka);
    // What was compared holds the lines that matter: the timers, the Poll, the detection time, the expiry.
    for (const re of [/Session parameters/, /^\(gw\) Starting poll sequence$/, /Detection time is/, /^\(gw\) Expired after/]) {
      assert.ok(lines.ka.some((l) => re.test(l)), `${re}\n${lines.ka.join('\n')}`);
    }
    const expired = /\(gw\) Expired after (\d+) ms/.exec(log('lk'));
    assert.ok(expired && Number(expired[1]) >= 1200, log('lk'));
  });
});

/** The dump files, each side in a directory of its own given as TMPDIR (keepalived's lib/utils.c set_tmp_dir). */
const DUMP: Record<Side, string> = { ka: 'keepalived_bfd.data', lk: 'lvskeeper_bfd.data' };

/**
 * The BFD Topology section of a dump, with what legitimately differs normalised: keepalived's lines for what
 * lvskeeper has no counterpart of (its socket descriptors, thread pointers and suspended timers) are taken out; both
 * discriminators are random (bfd_data.c bfd_get_random_discr); last seen is a CLOCK_MONOTONIC time of the receipt.
 */
function topology(text: string): string[] {
  return text.slice(text.indexOf('------< BFD Topology >------')).trimEnd().split('\n')
    .filter((l) => !/^ {3}(fd_out|thread_\w+|sands_\w+) /.test(l))
    .map((l) => l.replace(/^( {3}(local|remote) discriminator = )0x[0-9a-f]+$/, '$1X').replace(/^( {3}last seen = )\d+\.\d{6} \(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\.\d{6}\)$/, '$1T'));
}

test('the SIGUSR1 BFD dump has keepalived\'s sections and fields, with its values, Up and Down', { timeout: 120_000 }, async (t) => {
  if (!have(t)) return;
  const dir = (twin: Twin, s: Side): string => join(twin.dir, `tmp-${s}`);
  const env = (twin: Twin, s: Side): Record<string, string> => {
    const d = dir(twin, s);
    mkdirSync(d, { recursive: true });
    return { TMPDIR: d };
  };
  await withSession('hBdmp', { env }, async ({ twin, log, bfdds }) => {
    const dumped = async (): Promise<Record<Side, string[]>> => {
      const before = Object.fromEntries(SIDES.map((s) => [s, logLines(log(s), /^Printing BFD data for process\(\d+\) on signal$/).length]));
      for (const s of SIDES) process.kill(Number(readFileSync(join(twin.dir, `${s}.pid`), 'utf8').trim()), 'SIGUSR1');
      // Both log the BFD child's line; the file is complete once lvskeeper says it wrote it and keepalived's ends.
      assert.ok(await waitFor(() => SIDES.every((s) => logLines(log(s), /^Printing BFD data for process\(\d+\) on signal$/).length > before[s]!) &&
        /Wrote BFD data dump to /.test(log('lk')), 5000), `${log('ka')}\n----\n${log('lk')}`);
      await waitFor(() => false, 500);
      return Object.fromEntries(SIDES.map((s) => [s, topology(readFileSync(join(dir(twin, s), DUMP[s]), 'utf8'))])) as Record<Side, string[]>;
    };
    const up = await dumped();
    assert.deepEqual(up.lk, up.ka);
    assert.ok(up.ka.includes('   local state = Up') && up.ka.includes('   last seen = T'), up.ka.join('\n'));
    for (const s of SIDES) bfdds[s].killHard();
    // Down, and past keepalived's reset of the session one detection time later (bfd_scheduler.c bfd_reset_thread).
    assert.ok(await waitFor(() => SIDES.every((s) => logLines(log(s), /^\(gw\) Entering Down state/).length > 0), 10_000));
    await waitFor(() => false, 2000);
    const down = await dumped();
    assert.deepEqual(down.lk, down.ka);
    assert.ok(down.ka.includes('   local state = Down'), down.ka.join('\n'));
  });
});

test('a source address not on the host: AdminDown until it is, then Up when the peer\'s packets come, as keepalived', { timeout: 120_000 }, async (t) => {
  if (!have(t)) return;
  await withSession('hBadm', { source: '10.0.0.9' }, async ({ twin, log, has, dump }) => {
    assert.ok(await waitFor(() => has(/^\(gw\) Entering AdminDown state$/), 15_000), dump());
    // bfdd's packets to 10.0.0.9 find no address; once it is there, the first one opens the socket (Init).
    await waitFor(() => false, 2000);
    for (const s of SIDES) twin.ip(s, 'addr', 'add', '10.0.0.9/24', 'dev', 'eth0');
    assert.ok(await waitFor(() => has(/^\(gw\) Entering Up state$/), 15_000), dump());
    await waitFor(() => false, 2000);
    // lvskeeper's console marks an error-level line "ERROR:" (src/log.ts), keepalived's shows no level: taken off.
    const relevant = /^(?:ERROR: )?\(gw\) |^ {5}(?:local |remote |Detection time | {9}min_tx )/;
    const lines = Object.fromEntries(SIDES.map((s) => [s, normalise(logLines(log(s), relevant).map((l) => l.replace(/^ERROR: /, '')))])) as Record<Side, string[]>;
    assert.deepEqual(lines.lk, lines.ka);
    assert.deepEqual(lines.ka.slice(0, 3), ['(gw) bind() error (Cannot assign requested address)', '(gw) Unable to open output socket, disabling instance', '(gw) Entering AdminDown state']);
  });
});
