// The operator's commands against a running daemon's control socket (src/daemon/control.ts):
//   lvskeeper plan -f FILE · drain VS RS [--wait [--timeout S]] · undrain VS RS · weight VS RS N · drain-director ·
//   undrain-director · events · status · json-dump
// VS and RS are named as the log names them (`[192.0.2.10]:tcp:80`) or briefly (`192.0.2.10:80`, `fwmark 42`, a
// group's name). A refusal — by the daemon, by this parser, or by the socket's permissions — is one line on stderr
// and a non-zero exit (the root program prints thrown errors that way); nothing changes.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CheckerPlan, PlannedProbe } from '../../checkers/engine.js';
import type { InstancePlan } from '../vrrp/reload-plan.js';
import type { HaSuspendStatus } from '../../checkers/activation.js';
import type { Override, StoredEntry as StoredOverride } from '../daemon/overrides.js';
import type { ManagerStatus } from '../ipvs/manager.js';
import type { AnnounceStatus } from '../daemon/announce-owner.js';
import { DEFAULT_CONTROL_SOCKET, requestDaemon, streamDaemonEvents } from './daemon-client.js';

/** IPVS weights are signed 32-bit in the kernel (IPVS_DEST_ATTR_WEIGHT); keepalived caps them at INT_MAX. */
const WEIGHT_MAX = 2147483647;


interface ProcessStatus {
  readonly role: string;
  readonly pid: number | null;
  readonly uptimeS: number;
  readonly restarts: number;
}

interface StatusReply {
  readonly processes?: readonly ProcessStatus[];
  readonly ipvs?: ManagerStatus;
  readonly vrrp: readonly { readonly name: string; readonly state: string; readonly priority: number }[];
  readonly overrides?: readonly StoredOverride[];
  readonly haSuspend?: readonly HaSuspendStatus[];
  readonly announce?: AnnounceStatus;
}

interface DirectorReply extends AnnounceStatus {
  /** ActiveConn over the services on the VIPs; null while the checker process is restarting. */
  readonly activeConns: number | null;
}

type Write = (text: string) => void;

async function command(socket: string, request: { readonly cmd: string } & Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>> {
  const reply = await requestDaemon(socket, request, timeoutMs);
  if (reply['ok'] !== true) throw new Error(`${request.cmd} refused: ${String(reply['error'] ?? 'no reason given')}`);
  const pass = reply['pass'] as { failed?: number } | undefined;
  // The override is recorded either way; the daemon logs each refused operation and its next pass retries it.
  if (pass?.failed) process.stderr.write(`lvskeeper: warning: ${pass.failed} IPVS operation(s) failed; see the daemon log\n`);
  return reply;
}

/** Strict decimal only: `abc`, `-1`, `1e3`, `0x10` and out-of-range values are refused before anything is sent. */
export function parseWeight(text: string): number {
  const w = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(w <= WEIGHT_MAX)) throw new Error(`weight refused: weight must be an integer 0..${WEIGHT_MAX}, got '${text}'`);
  return w;
}

export interface PlanReply {
  readonly refused?: { readonly code: number; readonly lines: readonly string[] };
  readonly vrrp: readonly InstancePlan[];
  readonly ipvs?: readonly string[];
  readonly checkers?: CheckerPlan;
  readonly overridesDropped?: readonly StoredOverride[];
  /** The running daemon has no checker process; this config would start one. */
  readonly starts?: boolean;
}

/** `lvskeeper plan`'s report, one section per part, and how many changes it lists. */
export function formatPlan(p: PlanReply): { text: string; changes: number } {
  const lines: string[] = [];
  let changes = 0;
  if (p.vrrp.length > 0) lines.push('VRRP instances:');
  for (const i of p.vrrp) {
    if (i.action !== 'keep') changes++;
    const what = i.changes.length > 0 ? `: ${i.changes.join(', ')}` : '';
    lines.push(`  ${i.action.padEnd(8)} ${i.name}${what} — ${i.effect}`);
  }
  const ops = p.ipvs ?? [];
  changes += ops.length;
  lines.push(ops.length === 0 ? 'IPVS operations: none' : 'IPVS operations:', ...ops.map((op) => `  ${op}`));
  const c = p.checkers;
  if (c) {
    changes += c.add.length + c.remove.length;
    const probe = (x: PlannedProbe): string => `${x.type} for ${x.target}${x.up === undefined ? '' : x.up ? ' (up)' : ' (down)'}`;
    const down = c.keep.filter((x) => x.up === false).length;
    lines.push(`Checkers: ${c.keep.length} kept with their state (${c.keep.length - down} up, ${down} down), ${c.add.length} added, ${c.remove.length} removed`);
    for (const x of c.add) lines.push(`  add      ${probe(x)}`);
    for (const x of c.remove) lines.push(`  remove   ${probe(x)}`);
  }
  if (p.starts) {
    changes++;
    lines.push('The checker process starts with this configuration: its first pass installs the virtual servers.');
  }
  const dropped = p.overridesDropped ?? [];
  changes += dropped.length;
  if (dropped.length > 0) lines.push('Operator overrides dropped (server no longer configured):');
  for (const o of dropped) lines.push(`  drop     ${o.rs} of VS ${o.vs}: ${describe(o.override)} since ${o.since}`);
  lines.push(changes === 0 ? 'No change.' : `${changes} change${changes === 1 ? '' : 's'}.`);
  return { text: lines.join('\n') + '\n', changes };
}

/** A plan reads the whole file twice (the supervisor's reader, the checker process), as a reload does. */
const PLAN_TIMEOUT_MS = 300_000;

/** `drain --wait` gives up after this long unless told otherwise. */
const DRAIN_TIMEOUT_S = 300;

function parseSeconds(text: string): number {
  const s = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(s > 0)) throw new Error(`drain refused: --timeout must be a whole number of seconds > 0, got '${text}'`);
  return s;
}

/**
 * Polls the data plane's count (kernel ActiveConn, or the userspace plane's) once a second until it is 0; inactive
 * connections (FIN_WAIT, TIME_WAIT) carry no traffic and are not waited for, as ipvsadm's ActiveConn column.
 */
async function waitDrained(socket: string, vs: string, rs: string, timeoutS: number, write: Write): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const c = await command(socket, { cmd: 'connections', vs, rs });
    const active = Number(c['active']);
    const name = `${String(c['rs'])} of VS ${String(c['vs'])}`;
    if (active === 0) {
      write(`no active connections left on ${name}\n`);
      return;
    }
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) throw new Error(`drain --wait timed out after ${timeoutS}s: ${active} active connection${active === 1 ? '' : 's'} remain on ${name}`);
    write(`${active} active connection${active === 1 ? '' : 's'} on ${name}, ${left}s left\n`);
    await new Promise((r) => setTimeout(r, Math.min(1000, deadline - Date.now())));
  }
}

function describe(o: Override): string {
  return o.kind === 'drain' ? 'drained (weight 0)' : `weight ${o.weight}`;
}

/**
 * `lvskeeper status`: the processes (supervisor, VRRP, checkers) with pid and uptime, the VRRP instances, then each
 * virtual server with its real servers, weights and overrides.
 */
export function formatStatus(s: StatusReply): string {
  const lines: string[] = s.processes ? ['Processes:'] : [];
  for (const p of s.processes ?? []) {
    const restarts = p.restarts > 0 ? `, restarted ${p.restarts} time${p.restarts === 1 ? '' : 's'}` : '';
    lines.push(`  ${p.role.padEnd(10)} pid ${String(p.pid ?? '-').padEnd(7)} up ${formatUptime(p.uptimeS)}${restarts}`);
  }
  lines.push(s.vrrp.length === 0 ? 'VRRP instances: none' : 'VRRP instances:');
  for (const i of s.vrrp) lines.push(`  ${i.name.padEnd(16)} ${i.state.padEnd(7)} priority ${i.priority}`);
  const vss = s.ipvs?.virtualServers ?? [];
  lines.push(vss.length === 0 ? 'Virtual servers: none' : `Virtual servers (${s.ipvs?.driver ?? '?'} data plane):`);
  const overrides = new Map((s.overrides ?? []).map((o) => [`${o.vs}/${o.rs}`, o]));
  const ha = new Map((s.haSuspend ?? []).map((h) => [h.vsId, h]));
  for (const vs of vss) {
    const quorum = `quorum ${vs.quorumUp ? 'up' : 'down'} (alive weight ${vs.aliveWeight}, quorum ${vs.quorum})`;
    const sorry = vs.sorryServer ? `, sorry server ${vs.sorryServer} ${vs.sorryActive ? 'active' : 'idle'}` : '';
    const h = ha.get(vs.vsId);
    const checks = h?.suspended ? ', checkers suspended (ha_suspend)' : '';
    lines.push(`  ${vs.vsId}  ${quorum}${sorry}${checks}`);
    for (const rs of vs.realServers) {
      const name = rs.rsId.slice(vs.vsId.length + 1);
      const notes = [`configured ${rs.configuredWeight}`];
      if (rs.dynamicWeight !== undefined) notes.push(`checker ${rs.dynamicWeight}`);
      const o = overrides.get(rs.rsId);
      if (o) notes.push(`operator: ${describe(o.override)} since ${o.since}`);
      lines.push(`    ${name.padEnd(28)} ${(rs.alive ? 'alive' : 'down').padEnd(5)}  weight ${String(rs.effectiveWeight).padEnd(4)} ${notes.join(', ')}`);
    }
  }
  if (s.announce) lines.push(...formatAnnounce(s.announce));
  return lines.join('\n') + '\n';
}

function formatAnnounce(a: AnnounceStatus): string[] {
  const lines = [`VIP announcements (routing table ${a.table}, protocol ${a.protocol})${a.drained ? ', director drained' : ''}:`];
  if (a.vips.length === 0) lines.push('  none');
  for (const p of a.vips) lines.push(`  ${`${p.vip}/${p.family === 4 ? 32 : 128}`.padEnd(22)} ${(p.announced ? 'announced' : 'withdrawn').padEnd(9)}  ${p.reason} (${p.vs.join(', ')})`);
  return lines;
}

function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d > 0 ? `${d}d ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The operator overrides the daemon holds, as a footer for `ipvs list` (empty when there are none). */
export async function overrideFooter(socket = DEFAULT_CONTROL_SOCKET): Promise<string> {
  const overrides = ((await command(socket, { cmd: 'status' })) as unknown as StatusReply).overrides ?? [];
  if (overrides.length === 0) return '';
  return `Operator overrides:\n${overrides.map((o) => `  ${o.rs} of VS ${o.vs}: ${describe(o.override)} since ${o.since}\n`).join('')}`;
}

export function registerOperatorCommands(program: Command, write: Write = (t) => process.stdout.write(t)): Command {
  const socketOption = ['--socket <PATH>', 'control socket of the running daemon', DEFAULT_CONTROL_SOCKET] as const;
  program
    .command('drain')
    .description('weight 0 for a real server: no new connections, existing ones finish; kept until undrain')
    .argument('<VS>', 'virtual server, e.g. 192.0.2.10:80, [192.0.2.10]:tcp:80, "fwmark 42", a group name')
    .argument('<RS>', 'real server, e.g. 192.0.2.22:80')
    .option('--wait', 'return once the real server has no active connections, printing the count each second')
    .option('--timeout <S>', 'with --wait: give up after S seconds, non-zero exit', String(DRAIN_TIMEOUT_S))
    .option(...socketOption)
    .action(async (vs: string, rs: string, o: { socket: string; wait?: boolean; timeout: string }) => {
      const timeoutS = parseSeconds(o.timeout);
      const r = await command(o.socket, { cmd: 'drain', vs, rs });
      write(`drained ${String(r['rs'])} of VS ${String(r['vs'])}: weight 0, existing connections finish\n`);
      if (o.wait) await waitDrained(o.socket, vs, rs, timeoutS, write);
    });
  program
    .command('undrain')
    .description("clear the operator's override: back to the checker/configured weight")
    .argument('<VS>', 'virtual server')
    .argument('<RS>', 'real server')
    .option(...socketOption)
    .action(async (vs: string, rs: string, o: { socket: string }) => {
      const r = await command(o.socket, { cmd: 'undrain', vs, rs });
      const what = r['changed'] === false ? 'had no operator override; nothing changed' : 'back to its effective weight';
      write(`undrained ${String(r['rs'])} of VS ${String(r['vs'])}: ${what}\n`);
    });
  program
    .command('weight')
    .description('set a real server weight as an operator override (kept until undrain)')
    .argument('<VS>', 'virtual server')
    .argument('<RS>', 'real server')
    .argument('<N>', `weight 0..${WEIGHT_MAX}`)
    .option(...socketOption)
    .action(async (vs: string, rs: string, n: string, o: { socket: string }) => {
      const weight = parseWeight(n);
      const r = await command(o.socket, { cmd: 'weight', vs, rs, weight });
      write(`weight ${weight} for ${String(r['rs'])} of VS ${String(r['vs'])}\n`);
    });
  program
    .command('drain-director')
    .description('withdraw every VIP announcement (routers send new flows to the other directors), keep serving existing ones, and wait until none is active or the deadline passes')
    .option('--deadline <SECONDS>', 'stop waiting after this long (the director stays drained)', '300')
    .option('--no-wait', 'return once the VIPs are withdrawn')
    .option(...socketOption)
    .action(async (o: { socket: string; deadline: string; wait: boolean }) => {
      const deadlineS = Number(o.deadline);
      if (!/^\d+(\.\d+)?$/.test(o.deadline)) throw new Error(`drain-director refused: --deadline expects seconds, got '${o.deadline}'`);
      let r = (await command(o.socket, { cmd: 'drain-director' })) as unknown as DirectorReply;
      write(`director drained: ${r.vips.length} VIP(s) withdrawn from table ${r.table}\n`);
      const end = Date.now() + deadlineS * 1000;
      // null: no checker process to count them (-P, or it is restarting); waiting would not tell more.
      while (o.wait && typeof r.activeConns === 'number' && r.activeConns !== 0 && Date.now() < end) {
        await new Promise((res) => setTimeout(res, 1000));
        r = (await command(o.socket, { cmd: 'drain-director', query: true })) as unknown as DirectorReply;
      }
      if (!o.wait) return;
      if (r.activeConns === 0) write('idle: no active connection on the VIPs\n');
      else if (typeof r.activeConns !== 'number') write('active connections unknown: no checker process counts them\n');
      else write(`deadline of ${deadlineS} s passed: ${r.activeConns} connection(s) still active\n`);
    });
  program
    .command('undrain-director')
    .description('announce the healthy VIPs again')
    .option(...socketOption)
    .action(async (o: { socket: string }) => {
      const r = (await command(o.socket, { cmd: 'undrain-director' })) as unknown as DirectorReply;
      write(`director undrained: ${r.vips.filter((p) => p.announced).length} of ${r.vips.length} VIP(s) announced\n`);
    });
  program
    .command('events')
    .description('follow up/down/weight/quorum/VRRP transitions live, one line each, until Ctrl-C')
    .option('--json', 'one JSON object a line, with the structured fields (vs, rs, up, reason, checkMs; instance, from, to, cause)')
    .option(...socketOption)
    .action(async (o: { socket: string; json?: boolean }) => {
      const stream = streamDaemonEvents(
        o.socket,
        (e) => write(o.json ? `${JSON.stringify(e)}\n` : `${String(e['time'])} ${String(e['text'])}\n`),
        // On stderr, so stdout carries event lines only.
        () => process.stderr.write(`following events of ${o.socket} (Ctrl-C to stop)\n`),
      );
      const stop = (): void => stream.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await stream.done;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  program
    .command('plan')
    .description('what SIGHUP with FILE would do, applying nothing: exit 0 no change, 2 changes, -t status for a broken file')
    .requiredOption('-f, --use-file <FILE>', 'the new configuration')
    .option(...socketOption)
    .action(async (o: { socket: string; useFile: string }) => {
      const reply = (await command(o.socket, { cmd: 'plan', file: resolve(o.useFile) }, PLAN_TIMEOUT_MS)) as unknown as PlanReply;
      if (reply.refused) {
        process.stderr.write(reply.refused.lines.map((l) => `${l}\n`).join(''));
        process.stderr.write(`lvskeeper: the running daemon would refuse this reload and keep its configuration\n`);
        process.exitCode = reply.refused.code;
        return;
      }
      const { text, changes } = formatPlan(reply);
      write(text);
      process.exitCode = changes > 0 ? 2 : 0;
    });
  program
    .command('status')
    .description('VRRP instances with state and priority; virtual servers with real servers, weights and overrides')
    .option('--json', 'print the raw status reply')
    .option(...socketOption)
    .action(async (o: { socket: string; json?: boolean }) => {
      const reply = await command(o.socket, { cmd: 'status' });
      write(o.json ? `${JSON.stringify(reply)}\n` : formatStatus(reply as unknown as StatusReply));
    });
  program
    .command('json-dump')
    .description("write the JSON status to /tmp/lvskeeper.json (keepalived's SIGJSON, which Node cannot catch)")
    .option(...socketOption)
    .action(async (o: { socket: string }) => {
      const r = await command(o.socket, { cmd: 'json-dump' });
      write(`wrote ${String(r['file'])}\n`);
    });
  return program;
}
