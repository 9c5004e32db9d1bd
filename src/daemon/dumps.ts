// keepalived's on-demand dumps, as text a person reads: SIGUSR1 writes the data dump (configuration and state,
// keepalived's /tmp/keepalived.data), SIGUSR2 the stats dump (counters, /tmp/keepalived.stats). Formatting — each
// child formats its own sections, the supervisor adds the header — and writeDumpFile, which puts a dump on disk.
import type { HaSuspendStatus } from '../../checkers/activation.js';
import type { RealServerSnapshot } from '../../checkers/types.js';
import type { GlobalDefs } from '../config/model.js';
import type { ManagerStatus } from '../ipvs/manager.js';
import { writeFileSafe } from '../fs/safe-write.js';
import { createMode } from '../fs/umask.js';
import type { DumpKind } from '../ipc/protocol.js';
import type { VrrpInstanceRunner } from '../vrrp/instance.js';

export const DATA_DUMP_FILE = '/tmp/lvskeeper.data';
export const STATS_DUMP_FILE = '/tmp/lvskeeper.stats';
export const JSON_DUMP_FILE = '/tmp/lvskeeper.json';

const DUMP_FILES: Readonly<Record<DumpKind | 'json', string>> = { data: DATA_DUMP_FILE, stats: STATS_DUMP_FILE, json: JSON_DUMP_FILE };

/**
 * Writes a dump to its file in /tmp as a new root-owned file (safe-write.ts: a link or a file another user planted
 * there is never written through) with keepalived's mode, rw-rw-rw- under the mask (lib/utils.c fopen_safe): 0600
 * unless `umask`/-u says otherwise. Returns the path. Throws UnsafePathError, naming the path and the reason, when
 * the path is refused.
 */
export function writeDumpFile(kind: DumpKind | 'json', text: string): string {
  const file = DUMP_FILES[kind];
  writeFileSafe(file, text, { mode: createMode(0o666) });
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

export function vrrpDumpSection(kind: DumpKind, instances: readonly VrrpInstanceRunner[]): string {
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
  return out.length > 0 ? out.join('\n') + '\n' : '';
}

export function checkerDumpSection(
  kind: DumpKind, ipvs: ManagerStatus | undefined, checkers: readonly RealServerSnapshot[], haSuspend: readonly HaSuspendStatus[],
): string {
  const out: string[] = [];
  if (kind === 'data') {
    out.push('------< IPVS Topology >------');
    const byRs = new Map(checkers.map((c) => [c.rsId, c]));
    const ha = new Map(haSuspend.map((h) => [h.vsId, h]));
    for (const vs of ipvs?.virtualServers ?? []) {
      out.push(` VS = ${vs.vsId}`, `   quorum = ${vs.quorum}, hysteresis = ${vs.hysteresis}, quorum state = ${vs.quorumUp ? 'UP' : 'DOWN'}`);
      const h = ha.get(vs.vsId);
      if (h) out.push(`   Using HA suspend: address on this host ${h.addresses} time(s), checkers ${h.suspended ? 'suspended' : 'active'}`);
      for (const rs of vs.realServers) {
        const c = byRs.get(rs.rsId);
        out.push(
          `   RS = ${rs.rsId.slice(vs.vsId.length + 1)}, alive = ${rs.alive ? 'yes' : 'no'}, weight = ${rs.effectiveWeight}` +
            ` (configured ${rs.configuredWeight}${rs.overrideWeight !== undefined ? `, operator ${rs.overrideWeight}` : ''})`,
          ...(c?.checkers ?? []).map((k) => `     ${k.type}: ${k.up ? 'UP' : 'DOWN'}${k.hasRun ? '' : ' (not run yet)'}${k.suspended ? ', suspended (ha_suspend)' : ''}`),
        );
      }
    }
  } else {
    const alive = checkers.filter((c) => c.alive).length;
    out.push('Checkers:', `  Real servers: ${checkers.length} (${alive} alive, ${checkers.length - alive} down)`);
    if (ipvs) out.push('IPVS:', `  Driver: ${ipvs.driver}`, `  Reconcile passes: ${ipvs.passes}`);
  }
  return out.join('\n') + '\n';
}
