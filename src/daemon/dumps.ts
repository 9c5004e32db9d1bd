// keepalived's on-demand dumps, as text a person reads: SIGUSR1 writes the data dump (configuration and state,
// keepalived's /tmp/keepalived.data, and the BFD child's /tmp/keepalived_bfd.data), SIGUSR2 the stats dump (counters,
// /tmp/keepalived.stats). Formatting — each child formats its own sections as lines, which reach the supervisor a
// page at a time (ipc/pages.ts), and the supervisor adds the header — and writeDumpFile, which puts a dump on disk.
import type { HaSuspendStatus } from '../../checkers/activation.js';
import type { RealServerSnapshot } from '../../checkers/types.js';
import type { GlobalDefs } from '../config/model.js';
import type { ManagerStatus } from '../ipvs/manager.js';
import { writeFileSafeFrom } from '../fs/safe-write.js';
import { createMode } from '../fs/umask.js';
import type { DumpKind } from '../ipc/protocol.js';
import { DIAG_NAMES, STATE_NAMES } from '../bfd/packet.js';
import type { BfdDumpEntry } from '../bfd/service.js';
import type { VrrpInstanceRunner } from '../vrrp/instance.js';

/** $TMPDIR when it is an absolute path, else /tmp (lib/utils.c set_tmp_dir). */
const TMP_DIR = process.env['TMPDIR']?.startsWith('/') ? process.env['TMPDIR'] : '/tmp';
export const DATA_DUMP_FILE = `${TMP_DIR}/lvskeeper.data`;
/** The BFD child's data dump, a file of its own as keepalived's (bfd_data.c bfd_print_data: keepalived_bfd.data). */
export const BFD_DUMP_FILE = `${TMP_DIR}/lvskeeper_bfd.data`;
export const STATS_DUMP_FILE = `${TMP_DIR}/lvskeeper.stats`;
export const JSON_DUMP_FILE = `${TMP_DIR}/lvskeeper.json`;

type DumpFile = DumpKind | 'bfd' | 'json';
const DUMP_FILES: Readonly<Record<DumpFile, string>> = { data: DATA_DUMP_FILE, bfd: BFD_DUMP_FILE, stats: STATS_DUMP_FILE, json: JSON_DUMP_FILE };

/**
 * Writes a dump, as it comes in parts, to its file in /tmp as a new root-owned file (safe-write.ts: a link or a file
 * another user planted there is never written through) with keepalived's mode, rw-rw-rw- under the mask
 * (lib/utils.c fopen_safe): 0600 unless `umask`/-u says otherwise. Returns the path. Throws UnsafePathError, naming
 * the path and the reason, when the path is refused.
 */
export async function writeDumpFile(kind: DumpFile, parts: AsyncIterable<string> | Iterable<string>): Promise<string> {
  const file = DUMP_FILES[kind];
  await writeFileSafeFrom(file, parts, { mode: createMode(0o666) });
  return file;
}

/** The file header and, for the data dump, the global definitions; the children's sections follow. */
export function dumpHeader(kind: DumpKind, global: GlobalDefs | undefined, now: Date): string {
  if (kind === 'stats') return `------< lvskeeper stats dump ${now.toISOString()} >------\n`;
  const out = [`------< lvskeeper data dump ${now.toISOString()} >------`, '------< Global definitions >------'];
  if (global) {
    out.push(
      ` Router ID = ${global.routerId ?? '(hostname)'}`,
      ` Notification email = ${global.notificationEmail.join(', ') || '(none)'}`,
      ` SMTP server = ${global.smtpServer ? `[${global.smtpServer.host}]:${global.smtpServer.port}` : '(none)'}`,
    );
  }
  return out.join('\n') + '\n';
}

export function vrrpDumpLines(kind: DumpKind, instances: readonly VrrpInstanceRunner[]): string[] {
  const out: string[] = [];
  if (kind === 'data') {
    out.push('------< VRRP Topology >------');
    for (const i of instances) {
      out.push(
        ` VRRP Instance = ${i.cfg.name}`,
        `   State = ${i.state}`,
        `   Interface = ${i.cfg.interface ?? '(none)'}`,
        `   Virtual Router ID = ${i.cfg.vrid}`,
        `   Priority = ${i.priority}`,
        `   Virtual IP = ${i.cfg.virtualIpaddresses.length}`,
        ...i.cfg.virtualIpaddresses.map((v) => `     ${v.address}/${v.prefixLen}`),
      );
    }
  } else {
    for (const i of instances) {
      out.push(
        `VRRP Instance: ${i.cfg.name}`,
        '  Advertisements:',
        `    Received: ${i.counters.received}`,
        `    Sent: ${i.counters.sent}`,
        `    Send errors: ${i.counters.sendErrors}`,
        `  Became master: ${i.counters.becameMaster}`,
        `  Released master: ${i.counters.releasedMaster}`,
        '  Packet Errors:',
        ...Object.entries(i.drops.snapshot()).map(([reason, n]) => `    ${reason}: ${n}`),
      );
    }
  }
  return out;
}

/** Lazily, a line at a time: at 30,000 real servers the section is 3 MB, read by the supervisor a page at a time. */
export function* checkerDumpLines(
  kind: DumpKind, ipvs: ManagerStatus | undefined, checkers: readonly RealServerSnapshot[], haSuspend: readonly HaSuspendStatus[],
): Generator<string> {
  if (kind === 'data') {
    yield '------< IPVS Topology >------';
    const byRs = new Map(checkers.map((c) => [c.rsId, c]));
    const ha = new Map(haSuspend.map((h) => [h.vsId, h]));
    for (const vs of ipvs?.virtualServers ?? []) {
      yield ` VS = ${vs.vsId}`;
      yield `   quorum = ${vs.quorum}, hysteresis = ${vs.hysteresis}, quorum state = ${vs.quorumUp ? 'UP' : 'DOWN'}`;
      const h = ha.get(vs.vsId);
      if (h) yield `   Using HA suspend: address on this host ${h.addresses} time(s), checkers ${h.suspended ? 'suspended' : 'active'}`;
      for (const rs of vs.realServers) {
        yield `   RS = ${rs.rsId.slice(vs.vsId.length + 1)}, alive = ${rs.alive ? 'yes' : 'no'}, weight = ${rs.effectiveWeight}` +
          ` (configured ${rs.configuredWeight}${rs.overrideWeight !== undefined ? `, operator ${rs.overrideWeight}` : ''})`;
        for (const k of byRs.get(rs.rsId)?.checkers ?? []) {
          yield `     ${k.type}: ${k.up ? 'UP' : 'DOWN'}${k.hasRun ? '' : ' (not run yet)'}${k.suspended ? ', suspended (ha_suspend)' : ''}`;
        }
      }
    }
  } else {
    const alive = checkers.filter((c) => c.alive).length;
    yield 'Checkers:';
    yield `  Real servers: ${checkers.length} (${alive} alive, ${checkers.length - alive} down)`;
    if (ipvs) yield* ['IPVS:', `  Driver: ${ipvs.driver}`, `  Reconcile passes: ${ipvs.passes}`];
  }
}

/**
 * The BFD child's sections, as bfd_data.c dump_bfd_data writes them to keepalived_bfd.data: each bfd_instance's
 * configuration and its state variables (dump_bfd). keepalived's socket descriptors, thread pointers and suspended
 * timers (fd_in, thread_in, fd_out, thread_*, sands_*) have no counterpart here and are left out. `monotonicUs`
 * turns the clock's milliseconds into CLOCK_MONOTONIC microseconds, the scale of keepalived's last_seen.
 */
export function bfdDumpLines(entries: readonly BfdDumpEntry[], monotonicUs: (ms: number) => number): string[] {
  if (entries.length === 0) return [];
  const out = ['------< BFD Topology >------'];
  for (const { def, sendFailed, state: s } of entries) {
    out.push(
      ` BFD Instance = ${def.name}`,
      `   Neighbor IP = ${def.neighbor}`,
      ...(def.source !== undefined ? [`   Source IP = ${def.source}`] : []),
      `   Required min RX interval = ${def.minRxUs} us`,
      `   Desired min TX interval = ${def.minTxUs} us`,
      `   Desired idle TX interval = ${def.idleTxUs} us`,
      `   Detection multiplier = ${def.detectMult}`,
      `   ${def.family === 'inet' ? 'TTL' : 'hoplimit'} = ${def.ttl}`,
      `   max_hops = ${def.maxHops}`,
      `   passive = ${def.passive}`,
      `   send event to VRRP process = ${def.vrrp ? 'Yes' : 'No'}`,
      `   send event to checker process = ${def.checker ? 'Yes' : 'No'}`,
      `   send error = ${sendFailed}`,
      `   local state = ${STATE_NAMES[s.localState]}`,
      `   remote state = ${STATE_NAMES[s.remoteState]}`,
      `   local discriminator = 0x${s.localDiscr.toString(16)}`,
      `   remote discriminator = 0x${s.remoteDiscr.toString(16)}`,
      `   local diag = ${DIAG_NAMES[s.localDiag]}`,
      `   remote diag = ${DIAG_NAMES[s.remoteDiag]}`,
      `   remote min tx intv = ${s.remoteMinTxUs} us`,
      `   remote min rx intv = ${s.remoteMinRxUs} us`,
      '   local demand = 0',
      `   remote demand = ${s.remoteDemand ? 1 : 0}`,
      `   remote detect multiplier = ${s.remoteDetectMult}`,
      `   ${s.poll ? '' : '!'}poll, ${s.final ? '' : '!'}final`,
      `   local tx intv = ${s.localTxUs} us`,
      `   remote tx intv = ${s.remoteTxUs} us`,
      `   local detection time = ${s.localDetectUs} us`,
      `   remote detection time = ${s.remoteDetectUs} us`,
      s.lastRx === undefined ? '   last_seen = [never]' : `   last seen = ${timeval(monotonicUs(s.lastRx))}`,
    );
  }
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** `SECS.USECS (ctime.USECS)`, as dump_bfd prints a timeval: ctime's 24 characters, in local time. */
function timeval(us: number): string {
  const secs = Math.floor(us / 1e6);
  const usecs = String(Math.floor(us % 1e6)).padStart(6, '0');
  const d = new Date(secs * 1000);
  const ctime = `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
  return `${secs}.${usecs} (${ctime}.${usecs})`;
}
