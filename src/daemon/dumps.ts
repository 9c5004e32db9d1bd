// keepalived's on-demand dumps, as text a person reads: SIGUSR1 writes the data dump (configuration and state,
// keepalived's /tmp/keepalived.data), SIGUSR2 the stats dump (counters, /tmp/keepalived.stats). Formatting, and the
// one function that puts a dump on disk.
import { writeFileSafe } from '../fs/safe-write.js';
import type { RealServerSnapshot } from '../../checkers/types.js';
import type { Config } from '../config/model.js';
import type { ManagerStatus } from '../ipvs/manager.js';
import type { VrrpInstanceRunner } from '../vrrp/instance.js';

export const DATA_DUMP_FILE = '/tmp/lvskeeper.data';
export const STATS_DUMP_FILE = '/tmp/lvskeeper.stats';
export const JSON_DUMP_FILE = '/tmp/lvskeeper.json';

export type DumpKind = 'data' | 'stats' | 'json';

const DUMP_FILES: Readonly<Record<DumpKind, string>> = { data: DATA_DUMP_FILE, stats: STATS_DUMP_FILE, json: JSON_DUMP_FILE };

/**
 * Writes a dump to its file in /tmp as a new root-owned 0600 file (safe-write.ts: a link or a file another user
 * planted there is never written through); returns the path. Throws UnsafePathError, naming the path and the reason,
 * when the path is refused.
 */
export function writeDumpFile(kind: DumpKind, text: string): string {
  const file = DUMP_FILES[kind];
  writeFileSafe(file, text, { mode: 0o600 });
  return file;
}

export interface DumpSources {
  readonly config: Config;
  readonly vrrp: readonly VrrpInstanceRunner[];
  readonly ipvs: ManagerStatus | undefined;
  readonly checkers: readonly RealServerSnapshot[];
}

export function dataDump(s: DumpSources, now: Date): string {
  const g = s.config.global;
  const out = [
    `------< lvskeeper data dump ${now.toISOString()} >------`,
    '------< Global definitions >------',
    ` Router ID = ${g.routerId ?? '(hostname)'}`,
    ` Notification email = ${g.notificationEmail.join(', ') || '(none)'}`,
    ` SMTP server = ${g.smtpServer ? `[${g.smtpServer.host}]:${g.smtpServer.port}` : '(none)'}`,
    '------< VRRP Topology >------',
  ];
  for (const i of s.vrrp) {
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
  out.push('------< IPVS Topology >------');
  const checkers = new Map(s.checkers.map((c) => [c.rsId, c]));
  for (const vs of s.ipvs?.virtualServers ?? []) {
    out.push(` VS = ${vs.vsId}`, `   quorum = ${vs.quorum}, hysteresis = ${vs.hysteresis}, quorum state = ${vs.quorumUp ? 'UP' : 'DOWN'}`);
    if (vs.haSuspended) out.push('   ha_suspend: suspended (no VIP owned)');
    for (const rs of vs.realServers) {
      const c = checkers.get(rs.rsId);
      out.push(
        `   RS = ${rs.rsId.slice(vs.vsId.length + 1)}, alive = ${rs.alive ? 'yes' : 'no'}, weight = ${rs.effectiveWeight}` +
          ` (configured ${rs.configuredWeight}${rs.overrideWeight !== undefined ? `, operator ${rs.overrideWeight}` : ''})`,
        ...(c?.checkers ?? []).map((k) => `     ${k.type}: ${k.up ? 'UP' : 'DOWN'}${k.hasRun ? '' : ' (not run yet)'}`),
      );
    }
  }
  return out.join('\n') + '\n';
}

export function statsDump(s: DumpSources, now: Date): string {
  const out = [`------< lvskeeper stats dump ${now.toISOString()} >------`];
  for (const i of s.vrrp) {
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
  const alive = s.checkers.filter((c) => c.alive).length;
  out.push('Checkers:', `  Real servers: ${s.checkers.length} (${alive} alive, ${s.checkers.length - alive} down)`);
  if (s.ipvs) out.push('IPVS:', `  Driver: ${s.ipvs.driver}`, `  Reconcile passes: ${s.ipvs.passes}`);
  return out.join('\n') + '\n';
}
