// What crosses between the supervisor and its children (keepalived's layout: a parent that only supervises, a
// VRRP child, a checker child, a BFD child). Everything here is plain data: the channel structured-clones it.
//
//   supervisor ⇄ VRRP child      start/reload (the VRRP part of the config, parsed by the supervisor's reader, so
//                                the VRRP child never parses a file, and each vrrp_track_process's quorum), stop,
//                                status, dump, metrics, ping; the supervisor tells: process-quorum, bfd (a session
//                                Up or Down, those Up replayed once the child has started); the child tells:
//                                transition, event.
//   supervisor ⇄ BFD child       start/reload (the bfd_instance sessions, from the same read), stop, status, dump,
//                                metrics, ping; the child tells: bfd (a session Up or Down), which the supervisor
//                                relays to the VRRP child (track_bfd) and the checker child (BFD_CHECK).
//   supervisor ⇄ checker child   start/reload (the child reads the file itself; at a reload its read is also the
//                                supervisor's), stop, status, dump, metrics, ping,
//                                command (drain/undrain/weight/ipvs-table);
//                                the supervisor tells: bfd (BFD_CHECK's sessions, as for the VRRP child);
//                                the child tells: events, checker-states (kept to restore a restarted child);
//                                the child asks: ipvs (the embedded table, which lives in the supervisor).
import type { ResumedState } from '../../checkers/engine.js';
import type { ExitCode } from '../config/errors.js';
import type { Config, Diagnostic } from '../config/model.js';
import type { BfdTakeover } from '../config/bfd-takeover.js';
import type { VsHealth } from '../announce/plan.js';
import type { IpvsOp, IpvsTable, IpvsTimeouts, ServiceEntry } from '../ipvs/types.js';
import type { ReloadUmask } from '../fs/umask.js';
import type { Connections } from '../ipvs/desired.js';
import type { VsStatus } from '../ipvs/manager.js';
import type { RealServerStatus } from '../ipvs/pool.js';
import type { StoredEntry } from '../daemon/overrides.js';
import type { RsTelemetryRow, Timeline } from '../daemon/rs-telemetry.js';
import type { Batch, Page } from '../ipc/pages.js';
import type { MetricsHead } from '../daemon/metrics-pages.js';

/** The part of the config the VRRP side runs: no virtual servers, so it stays small whatever the LVS size. */
export type VrrpConfig = Pick<
  Config,
  'global' | 'trackFiles' | 'trackProcesses' | 'vrrpScripts' | 'vrrpInstances' | 'vrrpSyncGroups' | 'garpGroups' | 'staticAddresses' | 'staticRoutes' | 'staticRules' | 'interfaceUpDownDelays' | 'vrrpStop' | 'bfdInstances'
>;

export function vrrpPart(c: Config): VrrpConfig {
  return {
    global: c.global, trackFiles: c.trackFiles, trackProcesses: c.trackProcesses, vrrpScripts: c.vrrpScripts, vrrpInstances: c.vrrpInstances,
    vrrpSyncGroups: c.vrrpSyncGroups, bfdInstances: c.bfdInstances, staticAddresses: c.staticAddresses, staticRoutes: c.staticRoutes, staticRules: c.staticRules,
    ...(c.garpGroups ? { garpGroups: c.garpGroups } : {}),
    ...(c.interfaceUpDownDelays ? { interfaceUpDownDelays: c.interfaceUpDownDelays } : {}),
    ...(c.vrrpStop !== undefined ? { vrrpStop: c.vrrpStop } : {}),
  };
}

/** One read of the config file as the supervisor uses it: the whole model never crosses, the VRRP part does. */
export interface ConfigRead {
  readonly diagnostics: readonly Diagnostic[];
  readonly code: ExitCode;
  readonly vrrp: VrrpConfig;
  readonly virtualServers: number;
  /** Their real servers, which size the checker process's V8 (checker-node-flags.ts). */
  readonly realServers: number;
}

export interface LogSettings {
  readonly console: boolean;
  readonly detail: boolean;
}

/** A line for `lvskeeper events` subscribers; `fields` go into its JSON form (`events --json`) as they are. */
export interface EventNote {
  readonly kind: string;
  readonly text: string;
  readonly fields?: Readonly<Record<string, string | number | boolean | undefined>>;
}

export type DumpKind = 'data' | 'stats';

/** A child's answer to 'dump': its section's first page, and the cursor that reads the rest unless it is done. */
export interface DumpHead extends Page {
  readonly cursor: number;
}

/**
 * What stands in a child's status for a long list (the checker's virtual servers): a cursor the supervisor reads a
 * batch at a time with 'list-page' (pages.ts).
 */
export interface PagedArray {
  readonly pagedArray: number;
}

/** Every child answers these. */
export type ChildRequests = {
  ping: [undefined, void];
  stop: [undefined, void];
  /** Its status; a long list in it comes as a PagedArray… */
  status: [undefined, object];
  /** …read a batch at a time, and closed if the reader stops before the last. */
  'list-page': [number, Batch<unknown>];
  'list-close': [number, void];
  /**
   * A SIGUSR1/SIGUSR2 dump begins: the first page of the child's section and a cursor over the rest (pages.ts),
   * read as a scrape's; the supervisor writes the file.
   */
  dump: [DumpKind, DumpHead];
  'dump-page': [number, Page];
  'dump-close': [number, void];
  /** A scrape begins: the shared families, and a cursor over the child's own (metrics-pages.ts)… */
  metrics: [undefined, MetricsHead];
  /** …read a page at a time, and closed if the scrape ends before the last. */
  'metrics-page': [number, Page];
  'metrics-close': [number, void];
};

export interface VrrpStart {
  readonly config: VrrpConfig;
  readonly log: LogSettings;
  readonly quorums: ProcessQuorums;
  readonly bfdTakeover?: BfdTakeover;
}

/** A BFD session went Up or Down (bfd_event.c bfd_event_t: the instance name, Up or Down, and when it was sent). */
export interface BfdStateNote {
  readonly name: string;
  readonly up: boolean;
  /** performance.timeOrigin + performance.now() in the BFD child, for the receivers' "delivered in" line. */
  readonly sentAt: number;
}

/** vrrp_scheduler.c vrrp_handle_bfd_event and check_bfd.c bfd_check_handle_event log each event with -D. */
export function bfdEventLine(n: BfdStateNote): string {
  const us = Math.max(0, Math.round((performance.timeOrigin + performance.now() - n.sentAt) * 1000));
  return `Received BFD event: instance ${n.name} is in state ${n.up ? 'Up' : 'Down'} (delivered in ${us} usec)`;
}

/** Each vrrp_track_process's quorum, by name (counted by the supervisor's process monitor). */
export type ProcessQuorums = Readonly<Record<string, boolean>>;

/** Each VRRP instance's state, by name. */
export type VrrpStates = Readonly<Record<string, string>>;

export type ToVrrp = ChildRequests & {
  start: [VrrpStart, VrrpStates];
  reload: [{ readonly config: VrrpConfig; readonly quorums: ProcessQuorums; readonly umask: ReloadUmask }, VrrpStates];
};

export type ToVrrpNotes = {
  'process-quorum': { readonly name: string; readonly up: boolean };
  bfd: BfdStateNote;
};

export type ToBfd = ChildRequests & {
  start: [{ readonly config: VrrpConfig; readonly log: LogSettings }, void];
  reload: [{ readonly config: VrrpConfig }, void];
};

export type FromBfdNotes = {
  bfd: BfdStateNote & { readonly vrrp: boolean; readonly checker: boolean };
  event: EventNote;
};

export interface VrrpTransition {
  readonly instance: string;
  readonly from: string;
  readonly to: string;
  readonly priority: number;
  /** What made it (fsm.ts causeText). */
  readonly cause?: string;
  /** The master's address the last advert came from, when one did. */
  readonly master?: string;
}

export type FromVrrpNotes = {
  transition: VrrpTransition;
  event: EventNote;
  /** Lines for the notify FIFOs, which the supervisor owns (daemon/notify-fifos.ts). */
  fifo: readonly string[];
};

/** Which table the checker child drives: the kernel's itself, or the supervisor's embedded one. */
export type TableDriver = 'kernel' | 'userspace' | 'dry-run';

export interface CheckerStart {
  readonly configFile: string;
  readonly configId?: string;
  readonly strictCompat: boolean;
  readonly stateFile?: string;
  readonly driver: TableDriver;
  /** Where the kernel driver's socket is made (net-namespace.ts ipvsNetnsPath); undefined: here. */
  readonly ipvsNetns?: string;
  readonly log: LogSettings;
  /** Checkers' states by checker key, kept by the supervisor: non-empty when a checker child is restarted. */
  readonly restore: readonly (readonly [string, ResumedState])[];
  /** `--announce-table`: report the virtual servers' health ('vs-health'), of those named here or (absent) all. */
  readonly announce?: { readonly only?: readonly string[] };
}

export interface ReloadResult {
  readonly applied: boolean;
  readonly ms: number;
}

export type ToChecker = ChildRequests & {
  start: [CheckerStart, void];
  /**
   * SIGHUP: the file is read here, once, for both sides: the supervisor logs and judges the answer as its own read,
   * and `reload` then applies the model kept here, or `drop` discards it when the supervisor refused the config.
   */
  read: [undefined, ConfigRead];
  drop: [undefined, void];
  reload: [{ readonly umask: ReloadUmask }, ReloadResult];
  /** The operator console's refresh (console.ts): timelines changed after revision `since`, the rest whole. */
  console: [{ readonly since: number }, ConsoleHead];
  /** A control-socket command the checker side owns (drain, undrain, weight, connections, ipvs-table). */
  command: [{ readonly cmd: string } & Readonly<Record<string, unknown>>, object];
};

/**
 * `generation` counts the operations the embedded table has applied; the checker process mirrors the table with it
 * (driver-remote.ts), so a reconcile pass asks for the entries only when they changed in some other way.
 */
export type IpvsCall =
  /** The table with its counters, a batch of services at a time (TablePage), each batch read in place… */
  | { readonly call: 'dump' }
  | { readonly call: 'dump-page'; readonly cursor: number }
  | { readonly call: 'entries'; readonly generation: number | undefined }
  | { readonly call: 'applyMany'; readonly ops: readonly IpvsOp[] }
  | { readonly call: 'getTimeouts' };

/** A batch of the table's services, and the cursor that reads the next unless done. */
export interface TablePage extends Batch<ServiceEntry> {
  readonly cursor: number;
}

/** The table's entries, left out when the generation the checker process named is still current. */
export interface TableEntries {
  readonly generation: number;
  readonly table?: IpvsTable;
}

/** applyMany's answer: each operation's error in its place, and the table's generation before and after them. */
export interface OpsApplied {
  readonly before: number;
  readonly after: number;
  readonly errors: readonly (OpError | undefined)[];
}

/** A failed operation of applyMany: an Error loses its errno name in a structured clone. */
export interface OpError {
  readonly message: string;
  readonly code?: string;
}

export type FromChecker = {
  ipvs: [IpvsCall, TablePage | IpvsTimeouts | TableEntries | OpsApplied];
};

/** A real server as the console shows it, besides its pool state and checks: connections and checker types. */
export interface ConsoleServer extends Connections {
  readonly checkers: readonly string[];
}

/** A real server in a console refresh: its pool state, last checks, connections and checkers, its timeline if it changed. */
export interface ConsoleItem {
  readonly status: RealServerStatus;
  readonly telemetry?: RsTelemetryRow;
  readonly server?: ConsoleServer;
  readonly timeline?: Timeline;
}

/** A virtual server in a console refresh, with its real servers. */
export interface ConsoleGroup {
  readonly vs: VsStatus;
  readonly rows: readonly ConsoleItem[];
}

/** The checker process's answer to 'console': its virtual servers come a batch at a time (pages.ts). */
export interface ConsoleHead {
  /** The telemetry's revision: the next refresh asks for timelines changed after it. */
  readonly rev: number;
  readonly overrides: readonly StoredEntry[];
  readonly groups: PagedArray;
}

/** A checker's state changed; undefined: the checker is gone. */
export interface CheckerStateNote {
  readonly key: string;
  readonly state?: ResumedState;
}

export type ToCheckerNotes = {
  /** BFD_CHECK's session went Up or Down (check_bfd.c bfd_check_handle_event). */
  bfd: BfdStateNote;
};

/** Batched per turn of the child's event loop (note-batch.ts). */
export type FromCheckerNotes = {
  events: readonly EventNote[];
  /** Lines for the notify FIFOs, which the supervisor owns (daemon/notify-fifos.ts). */
  fifo: readonly string[];
  'checker-states': readonly CheckerStateNote[];
  /** With CheckerStart.announce: the health of the announced virtual servers, sent when it changes. */
  'vs-health': readonly VsHealth[];
};

/** For the end of a link that sends no requests or no notifications. */
export type Nothing = Record<string, never>;
