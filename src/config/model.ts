// The resolved configuration: what `lvskeeper --dump-conf` prints and what every subsystem consumes.
// Keepalived's defaults are already applied and inherited values
// (VS → RS → checker) already resolved, so consumers never re-derive them.
// Durations carry their unit in the name (Ms); keepalived's <TIMER> values are converted to milliseconds.

import type { RouteSpec, RuleSpec } from './routes.js';
import type { AddressFamily, ForwardMethod, Protocol, Scheduler, TunnelType } from '../ipvs/types.js';

/** Where a block or keyword came from, for messages that name file and line. */
/** `lvs_sync_daemon` (keepalived's struct lvs_syncd_config); options left out are the kernel's defaults. */
export interface LvsSyncDaemon {
  readonly interface: string;
  /** The vrrp_instance it follows; absent: master and backup both run for as long as the daemon does. */
  readonly instance?: string;
  /** Absent: the instance's virtual_router_id, or 0 without an instance. */
  readonly syncId?: number;
  readonly maxlen?: number;
  readonly port?: number;
  readonly ttl?: number;
  readonly group?: { readonly family: AddressFamily; readonly address: string };
  readonly raw: string;
  readonly src: SourceRef;
}

export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

/** A command to run: argv split the way keepalived splits it (quotes honoured), never a shell string. */
export interface Script {
  readonly argv: readonly string[];
  /** The text as written, for log lines. */
  readonly text: string;
  readonly user?: string;
  readonly group?: string;
}

/** The root `SSL` block: what SSL_GET presents and trusts (keepalived's check_ssl.c init_ssl_ctx), file paths as given. */
export interface SslClient {
  readonly ca?: string;
  readonly certificate?: string;
  readonly key?: string;
  readonly password?: string;
}

export interface Config {
  readonly global: GlobalDefs;
  readonly trackFiles: readonly TrackFileDef[];
  readonly trackProcesses: readonly TrackProcessDef[];
  readonly vrrpScripts: readonly VrrpScript[];
  readonly vrrpInstances: readonly VrrpInstance[];
  readonly vrrpSyncGroups: readonly VrrpSyncGroup[];
  /** bfd_instance sessions as the BFD process keeps them (config/bfd.ts). */
  readonly bfdInstances: readonly BfdInstanceDef[];
  /** garp_group blocks kept (those with a delay), in order. */
  readonly garpGroups?: readonly GarpGroup[];
  readonly virtualServerGroups: readonly VirtualServerGroup[];
  readonly virtualServers: readonly VirtualServer[];
  readonly ssl?: SslClient;
  /** static_ipaddress / static_routes / static_rules: installed by the VRRP process at start, removed at stop. */
  readonly staticAddresses: readonly Vip[];
  readonly staticRoutes: readonly RouteSpec[];
  readonly staticRules: readonly RuleSpec[];
  /** interface_up_down_delays lines kept, in order. */
  readonly interfaceUpDownDelays?: readonly UpDownDelay[];
  /** Files read, in order, including every include. */
  readonly files: readonly string[];
  /**
   * The line on which keepalived's VRRP process gives up on this config (vrrp_daemon.c start_vrrp calls
   * stop_vrrp(KEEPALIVED_EXIT_CONFIG) and the parent then terminates): a daemon running VRRP does not start.
   */
  readonly vrrpStop?: string;
}

// ───────────────────────────── global_defs ─────────────────────────────

export interface NftablesSettings {
  readonly table?: string;
  readonly priority: number;
  readonly ifindex: boolean;
  readonly counters: boolean;
}

/** garp_extra_if / vrrp_garp_extra_if SECONDS [all] (VRRP_FLAG_VMAC_GARP_ALL_IF). */
export interface GarpExtraIf {
  readonly intervalS: number;
  readonly all: boolean;
}

export interface GlobalDefs {
  readonly routerId: string;
  readonly notificationEmail: readonly string[];
  readonly notificationEmailFrom: string;
  readonly smtpServer?: { readonly host: string; readonly port: number };
  readonly smtpHeloName: string;
  readonly smtpConnectTimeoutMs: number;
  readonly smtpAlert?: boolean;
  readonly smtpAlertVrrp?: boolean;
  readonly smtpAlertChecker?: boolean;
  readonly noEmailFaults: boolean;
  readonly checkerLogAllFailures: boolean;
  readonly scriptUser?: string;
  readonly scriptGroup?: string;
  readonly enableScriptSecurity: boolean;
  readonly vrrpMcastGroup4: string;
  readonly vrrpMcastGroup6: string;
  readonly vrrpGarpMasterDelayMs: number;
  readonly vrrpGarpMasterRepeat: number;
  readonly vrrpGarpMasterRefreshMs: number;
  readonly vrrpGarpMasterRefreshRepeat: number;
  readonly vrrpGarpLowerPrioDelayMs: number;
  readonly vrrpGarpLowerPrioRepeat: number;
  readonly vrrpGarpIntervalMs: number;
  readonly vrrpGnaIntervalMs: number;
  readonly vrrpMinGarp: boolean;
  /** vrrp_garp_extra_if (deprecated vrrp_vmac_garp_intvl): the default of an instance's garp_extra_if; 0 s is off. */
  readonly vrrpGarpExtraIf: GarpExtraIf;
  readonly vrrpVersion: 2 | 3;
  readonly vrrpStrict: boolean;
  /**
   * The no_accept drop rules (global `nftables [TABLE]`, `nftables_priority`, `nftables_ifindex`,
   * `nftables_counters`); `table` unset until configured, or an instance needs them (then `keepalived`).
   */
  readonly nftables: NftablesSettings;
  readonly vrrpCheckUnicastSrc: boolean;
  readonly vrrpSkipCheckAdvAddr: boolean;
  readonly vrrpLowerPrioNoAdvert: boolean;
  readonly vrrpHigherPrioSendAdvert: boolean;
  readonly vrrpDownTimerAdverts: number;
  readonly vrrpStartupDelayMs: number;
  readonly v3ChecksumAsV2: boolean;
  readonly lvsFlush: boolean;
  /** `lvs_flush_on_stop` (all) or `lvs_flush_on_stop VS` (virtual servers only). */
  readonly lvsFlushOnStop: 'off' | 'all' | 'vs';
  readonly lvsTimeouts?: { readonly tcpS?: number; readonly tcpFinS?: number; readonly udpS?: number };
  readonly lvsSyncDaemon?: LvsSyncDaemon;
  readonly notifyFifo?: Fifo;
  readonly vrrpNotifyFifo?: Fifo;
  readonly lvsNotifyFifo?: Fifo;
  readonly vrrpNotifyPriorityChanges: boolean;
  readonly fifoWriteVrrpStatesOnReload: boolean;
  readonly rsInitNotifies: boolean;
  /** Mail a checker's verdict only when it changes its real server's state (check_*.c). */
  readonly noCheckerEmails: boolean;
  /** Run by the parent before the children start, and after they stop (core/main.c, run_startup_script). */
  readonly startupScript?: Script;
  readonly shutdownScript?: Script;
  readonly defaultInterface: string;
  /** vmac_prefix / vmac_addr_prefix: the start of the VMAC names keepalived makes up (default "vrrp"). */
  readonly vmacPrefix?: string;
  readonly vmacAddrPrefix?: string;
  /** `reload_check_config [LOGFILE]`: true or the log file. */
  readonly reloadCheckConfig?: true | string;
  readonly dynamicInterfaces: boolean;
  /** `umask`: the file-creation mask the daemon sets (global_parser.c umask_handler); unset when not given. */
  readonly umask?: number;
  /** `log_unknown_vrids`: log adverts for a VRID no instance on the socket has (vrrp_scheduler.c vrrp_read_dispatcher_thread). */
  readonly logUnknownVrids: boolean;
  /** Each process's name (`process_names`, `process_name`, `vrrp_process_name`, `checker_process_name`, `bfd_process_name`). */
  readonly processNames: ProcessNames;
  /** Keywords parsed and kept but with no runtime effect here (SNMP, DBus, RT priorities …), by name. */
  readonly other: Readonly<Record<string, string>>;
}

export interface ProcessNames {
  readonly parent?: string;
  readonly vrrp?: string;
  readonly checker?: string;
  readonly bfd?: string;
}

export interface Fifo {
  readonly path: string;
  readonly script?: Script;
  readonly user?: string;
  readonly group?: string;
}

export interface TrackFileDef {
  readonly src: SourceRef;
  readonly name: string;
  readonly file: string;
  readonly weight: number;
  readonly reverse: boolean;
  /** `init_file [VALUE] [overwrite]`: create the file with VALUE if missing (or always with overwrite). */
  readonly initFile?: { readonly value: number; readonly overwrite: boolean };
}

/**
 * A vrrp_track_process (keepalived 2.2.7 vrrp_parser.c vrrp_tprocess_*): how many processes named `process` run.
 * Quorum holds while quorum <= count <= quorumMax.
 */
export interface TrackProcessDef {
  readonly src: SourceRef;
  readonly name: string;
  /** The name compared: /proc/PID/comm, or with fullCommand argv[0] of /proc/PID/cmdline. */
  readonly process: string;
  /** The parameters after the name, each followed by a NUL as in /proc/PID/cmdline; undefined when none were given. */
  readonly params?: string;
  readonly paramMatch: 'none' | 'exact' | 'initial' | 'partial';
  readonly fullCommand: boolean;
  readonly weight: number;
  readonly reverse: boolean;
  readonly quorum: number;
  readonly quorumMax: number;
  /** 0 = none: how long a lost (terminate) or gained (fork) quorum must last before it counts. */
  readonly terminateDelayMs: number;
  readonly forkDelayMs: number;
}

// ───────────────────────────── VRRP ─────────────────────────────

export type VrrpState = 'MASTER' | 'BACKUP';

export interface VrrpScript {
  readonly src: SourceRef;
  readonly name: string;
  readonly script: Script;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly weight: number;
  readonly weightReverse: boolean;
  readonly rise: number;
  readonly fall: number;
  readonly initFail: boolean;
}

/** linux/if_addr.h: an address lifetime that never ends. */
export const INFINITY_LIFE_TIME = 0xffffffff;

export interface Vip {
  readonly src: SourceRef;
  readonly family: AddressFamily;
  readonly address: string;
  readonly prefixLen: number;
  /** `brd IP`, or '+' / '-' as written. */
  readonly broadcast?: string;
  readonly dev?: string;
  readonly scope?: string;
  readonly label?: string;
  readonly peer?: string;
  /** `-nodad`: IPv6 duplicate address detection runs (keepalived adds IPv6 addresses with IFA_F_NODAD otherwise). */
  readonly dad: boolean;
  readonly noPrefixRoute: boolean;
  readonly noTrack: boolean;
  /** IFA_F_HOMEADDRESS, IFA_F_MANAGETEMPADDR, IFA_F_MCAUTOJOIN. */
  readonly home: boolean;
  readonly mngtmpaddr: boolean;
  readonly autojoin: boolean;
  /** IPv6 only: the preferred lifetime in seconds, INFINITY_LIFE_TIME for forever (0 marks the address deprecated). */
  readonly preferredLft?: number;
  /** An instance VIP's own `use_vmac`: it goes on a VMAC of its own where the instance's VMAC does not take it. */
  readonly useVmac?: boolean;
}

/** A bfd_instance the BFD process runs (keepalived 2.2.7 include/bfd.h bfd_t's configuration). */
export interface BfdInstanceDef {
  readonly src: SourceRef;
  readonly name: string;
  readonly family: AddressFamily;
  readonly neighbor: string;
  readonly source?: string;
  readonly minRxUs: number;
  readonly minTxUs: number;
  readonly idleTxUs: number;
  readonly detectMult: number;
  readonly passive: boolean;
  /** TTL / hop limit sent; a packet received with max_hops + its TTL below it is dropped (GTSM). */
  readonly ttl: number;
  /** 255: no TTL check (max_hops -1). */
  readonly maxHops: number;
  /** Whose events: the VRRP process's (track_bfd), the checker process's (BFD_CHECK). */
  readonly vrrp: boolean;
  readonly checker: boolean;
}

/** A bfd_instance as the VRRP process knows it (vrrp_track.c vrrp_tracked_bfd_t): its default weight. */
export interface TrackedBfd {
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
}

export interface TrackRef {
  readonly name: string;
  /** undefined = the tracked object's own weight (vrrp_script / track_file). */
  readonly weight?: number;
  readonly reverse: boolean;
}

export interface UnicastPeer {
  readonly address: string;
  readonly minTtl?: number;
  readonly maxTtl?: number;
}

export interface VrrpNotify {
  readonly master?: Script;
  readonly backup?: Script;
  readonly fault?: Script;
  readonly stop?: Script;
  readonly deleted?: Script | true;
  /** Generic `notify`: gets `INSTANCE|GROUP name STATE priority` appended. */
  readonly generic?: Script;
  readonly masterRxLowerPri?: Script;
}

export interface VrrpInstance {
  readonly src: SourceRef;
  readonly name: string;
  /** The state asked for at start (`state`); every instance still enters BACKUP (or FAULT) first. */
  readonly initialState: VrrpState;
  readonly interface?: string;
  readonly family: AddressFamily;
  readonly vrid: number;
  readonly priority: number;
  /** v2: whole seconds; v3: centisecond resolution. */
  readonly advertIntMs: number;
  readonly version: 2 | 3;
  /** `src`: where auth_type was written (lvskeeper refuses to run AH, naming it). */
  readonly authentication?: { readonly type: 'PASS' | 'AH'; readonly pass: string; readonly src: SourceRef };
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  readonly garpMasterDelayMs: number;
  readonly garpMasterRepeat: number;
  readonly garpMasterRefreshMs: number;
  readonly garpMasterRefreshRepeat: number;
  readonly garpLowerPrioDelayMs: number;
  readonly garpLowerPrioRepeat: number;
  readonly downTimerAdverts: number;
  readonly unicastSrcIp?: string;
  readonly mcastSrcIp?: string;
  readonly unicastPeers: readonly UnicastPeer[];
  readonly unicastTtl: number;
  readonly checkUnicastSrc: boolean;
  readonly unicastFaultNoPeer: boolean;
  /**
   * `old_unicast_checksum` ('config') or `old_unicast_checksum never` ('never'); 'none' unset (packet.ts
   * ChecksumCompat). The old checksum's pseudo-header destination is the global vrrp_mcast_group4, `oldChecksumDst`.
   */
  readonly unicastChecksumCompat: 'none' | 'never' | 'config';
  readonly oldChecksumDst: string;
  readonly mcastDstIp: string;
  readonly useVmac?: { readonly name?: string; readonly mac?: string };
  readonly vmacXmitBase: boolean;
  /** use_vmac_addr: VIPs/eVIPs on another interface or of the other family each go on a VMAC there (vmac.ts). */
  readonly useVmacAddr: boolean;
  /** The names made up for the instance's VMAC and for use_vmac_addr's (global vmac_prefix, vmac_addr_prefix). */
  readonly vmacPrefix?: string;
  readonly vmacAddrPrefix?: string;
  /**
   * garp_extra_if (deprecated vmac_garp_intvl), else the global vrrp_garp_extra_if: while MASTER, every `intervalS`
   * seconds (0: never) a GARP/NA on each VMAC of the VIPs, with `all` on their other interfaces too (vmac.ts
   * extraGarpVips).
   */
  readonly garpExtraIf: GarpExtraIf;
  /** use_ipvlan [NAME] [ADDR/PREFIX] [bridge|private|vepa]: `flags` is IFLA_IPVLAN_FLAGS (bridge 0, private 1, vepa 2). */
  readonly useIpvlan?: { readonly name?: string; readonly address?: string; readonly prefixLen?: number; readonly flags: number };
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  readonly trackFiles: readonly TrackRef[];
  readonly trackProcesses: readonly TrackRef[];
  /** track_bfd, each weight already resolved (vrrp_track.c alloc_track_bfd copies the bfd_instance's). */
  readonly trackBfds: readonly TrackRef[];
  readonly dontTrackPrimary: boolean;
  readonly virtualIpaddresses: readonly Vip[];
  readonly virtualIpaddressesExcluded: readonly Vip[];
  readonly noVirtualIpaddress: boolean;
  /** `virtual_routes` / `virtual_rules`: installed after the VIPs on becoming MASTER, removed before them on leaving. */
  readonly virtualRoutes: readonly RouteSpec[];
  readonly virtualRules: readonly RuleSpec[];
  readonly accept: boolean;
  readonly strictMode: boolean;
  readonly skipCheckAdvAddr: boolean;
  readonly lowerPrioNoAdvert: boolean;
  readonly higherPrioSendAdvert: boolean;
  readonly v3ChecksumAsV2: boolean;
  readonly promoteSecondaries: boolean;
  readonly notify: VrrpNotify;
  /**
   * Priority-change lines on the notify FIFOs. Unset: the sync group's setting, else vrrp_notify_priority_changes
   * (vrrp.c vrrp_init_instance_sands).
   */
  readonly notifyPriorityChanges?: boolean;
  readonly smtpAlert: boolean;
  /** Name of the sync group this instance belongs to, if any (filled in from vrrp_sync_group). */
  readonly syncGroup?: string;
}

/**
 * garp_group: its interfaces share one GARP and one NA pacing (vrrp_if.c garp_delay_t), instead of each interface
 * pacing on its own at vrrp_garp_interval / vrrp_gna_interval. An interval not given is none.
 */
export interface GarpGroup {
  readonly garpIntervalMs?: number;
  readonly gnaIntervalMs?: number;
  readonly interfaces: readonly string[];
}

export interface VrrpSyncGroup {
  readonly src: SourceRef;
  readonly name: string;
  readonly members: readonly string[];
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  readonly trackFiles: readonly TrackRef[];
  readonly trackProcesses: readonly TrackRef[];
  readonly trackBfds: readonly TrackRef[];
  readonly notify: VrrpNotify;
  readonly smtpAlert: boolean;
  readonly syncGroupTrackingWeight: boolean;
  /** Unset unless the group says: its members then follow vrrp_notify_priority_changes. */
  readonly notifyPriorityChanges?: boolean;
}

// ───────────────────────────── LVS ─────────────────────────────

export type VirtualServerGroupEntry =
  | {
      readonly kind: 'range';
      readonly family: AddressFamily;
      /** First and last address of an `IP`, `IPa-b`/`IPa-IPb` or `IP/nn` entry, inclusive. */
      readonly first: string;
      readonly last: string;
      /** 0 when the group entry has no port (the VS must be persistent, or the port comes from elsewhere). */
      readonly port: number;
      readonly src: SourceRef;
    }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly family?: AddressFamily; readonly src: SourceRef };

export interface VirtualServerGroup {
  readonly src: SourceRef;
  readonly name: string;
  readonly entries: readonly VirtualServerGroupEntry[];
}

export type VirtualServerKey =
  | { readonly kind: 'ip'; readonly family: AddressFamily; readonly address: string; readonly port: number }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly family: AddressFamily }
  | { readonly kind: 'group'; readonly name: string };

export interface TunnelOptions {
  readonly type: TunnelType;
  readonly port?: number;
  readonly checksum?: 'nocsum' | 'csum' | 'remcsum';
}

export interface SorryServer {
  readonly src: SourceRef;
  readonly family: AddressFamily;
  readonly address: string;
  readonly port: number;
  /** The name log lines use, as a real server's: `[192.0.2.99]:tcp:80`, `[192.0.2.99]:none:0` under a fwmark. */
  readonly displayName: string;
  readonly forward: ForwardMethod;
  readonly tunnel?: TunnelOptions;
}

export interface VirtualServer {
  readonly src: SourceRef;
  readonly key: VirtualServerKey;
  /** The name log lines use: `[192.0.2.10]:tcp:80`, `FWM 42`, `[group]:0` (keepalived prints a group VS with port 0). */
  readonly displayName: string;
  /** keepalived ignores the protocol of fwmark services (it logs them as `none`); they carry 'tcp' here. */
  readonly protocol: Protocol;
  readonly lbAlgo: Scheduler;
  readonly ops: boolean;
  /** IP_VS_SVC_F_SCHED1..3 bits, as keepalived's lbflags_handler sets them (IP_VS_SVC_F_SCHED_SH_PORT …). */
  readonly schedFlags: number;
  readonly lbKind: ForwardMethod;
  readonly tunnel?: TunnelOptions;
  /** 0 = not persistent. */
  readonly persistenceTimeoutS: number;
  /** keepalived's lines from checking this server's scripts (config/check-scripts.ts), logged when the IPVS side starts. */
  readonly scriptLog?: readonly string[];
  /** persistence_granularity as IPVS_SVC_ATTR_NETMASK: IPv4 a mask (host-order u32), IPv6 a prefix length. */
  readonly persistenceNetmask?: number;
  readonly persistenceEngine?: string;
  readonly delayLoopMs: number;
  readonly connectTimeoutMs: number;
  readonly retry?: number;
  readonly delayBeforeRetryMs?: number;
  readonly warmupMs?: number;
  readonly inhibitOnFailure: boolean;
  readonly alpha: boolean;
  readonly omega: boolean;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly quorumUp?: Script;
  readonly quorumDown?: Script;
  readonly sorryServer?: SorryServer;
  readonly sorryServerInhibit: boolean;
  readonly haSuspend: boolean;
  readonly virtualhost?: string;
  readonly smtpAlert: boolean;
  readonly weight: number;
  readonly ipFamily?: AddressFamily;
  readonly realServers: readonly RealServer[];
}

export interface RealServer {
  readonly src: SourceRef;
  readonly family: AddressFamily;
  readonly address: string;
  /** Already forced to the VS port for DR/TUN, and 0 for fwmark services, as keepalived does. */
  readonly port: number;
  /** The name log lines use: `[192.0.2.22]:tcp:80`. */
  readonly displayName: string;
  /**
   * identity.ts rsId: its virtual server's name, a slash, its own. Made once here, so the checkers, the pools and
   * the control socket key their state by one flat string whose hash is computed once.
   */
  readonly id: string;
  readonly weight: number;
  readonly lbKind: ForwardMethod;
  readonly tunnel?: TunnelOptions;
  readonly inhibitOnFailure: boolean;
  readonly alpha: boolean;
  readonly connectTimeoutMs: number;
  readonly delayLoopMs: number;
  readonly retry?: number;
  readonly delayBeforeRetryMs?: number;
  readonly warmupMs?: number;
  readonly notifyUp?: Script;
  readonly notifyDown?: Script;
  readonly uthreshold: number;
  readonly lthreshold: number;
  readonly virtualhost?: string;
  readonly smtpAlert: boolean;
  readonly checkers: readonly Checker[];
}

// ───────────────────────────── checkers ─────────────────────────────

/** Options every checker with a timer has, resolved against RS/VS values and the checker type's defaults. */
export interface CheckerTiming {
  readonly src: SourceRef;
  readonly retry: number;
  readonly delayBeforeRetryMs: number;
  readonly delayLoopMs: number;
  readonly warmupMs: number;
  readonly alpha: boolean;
  readonly logAllFailures: boolean;
}

/** Where and how a network checker connects (defaults: the RS address and port). */
export interface CheckerConnection {
  readonly connectIp: string;
  readonly connectPort: number;
  readonly family: AddressFamily;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly bindIf?: string;
  readonly fwmark?: number;
  readonly connectTimeoutMs: number;
}

export interface HttpUrl {
  readonly path: string;
  /** Lower-case hex MD5 of the body. */
  readonly digest?: string;
  /** Inclusive ranges; default [[200, 299]]. */
  readonly statusCodes: readonly (readonly [number, number])[];
  readonly virtualhost?: string;
  readonly regex?: string;
  readonly regexNoMatch: boolean;
  readonly regexOptions?: string;
  readonly regexMinOffset?: number;
  readonly regexMaxOffset?: number;
}

export interface HttpChecker extends CheckerTiming, CheckerConnection {
  readonly type: 'HTTP_GET' | 'SSL_GET';
  readonly urls: readonly HttpUrl[];
  readonly httpProtocol: '1.0' | '1.0C' | '1.1';
  /** Checker-level virtualhost, already falling back to RS then VS. */
  readonly virtualhost?: string;
  readonly fastRecovery: boolean;
  readonly enableSni: boolean;
  readonly tlsCompliant: boolean;
  readonly sniName?: string;
}

export interface TcpChecker extends CheckerTiming, CheckerConnection {
  readonly type: 'TCP_CHECK';
}

export interface SmtpChecker extends CheckerTiming, CheckerConnection {
  readonly type: 'SMTP_CHECK';
  readonly heloName: string;
}

export type DnsQueryType = 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA' | 'RRSIG' | 'DNSKEY';

export interface DnsChecker extends CheckerTiming, CheckerConnection {
  readonly type: 'DNS_CHECK';
  readonly queryType: DnsQueryType;
  readonly name: string;
}

export interface UdpChecker extends CheckerTiming, CheckerConnection {
  readonly type: 'UDP_CHECK';
  /** Hex payload as written. */
  readonly payload?: string;
  /** Hex prefix, `X` nibbles are wildcards; '' = any reply required. */
  readonly requireReply?: string;
  readonly minReplyLength: number;
  readonly maxReplyLength: number;
}

export interface PingChecker extends CheckerTiming, CheckerConnection {
  readonly type: 'PING_CHECK';
}

export interface MiscChecker extends CheckerTiming {
  readonly type: 'MISC_CHECK';
  readonly miscPath: Script;
  readonly miscTimeoutMs: number;
  readonly miscDynamic: boolean;
}

export interface FileChecker {
  readonly src: SourceRef;
  readonly type: 'FILE_CHECK';
  readonly trackFile: string;
  /** undefined = the track_file block's own weight. */
  readonly weight?: number;
  readonly reverse: boolean;
}

export interface BfdChecker {
  readonly src: SourceRef;
  readonly type: 'BFD_CHECK';
  readonly name: string;
  readonly alpha: boolean;
}

export type Checker =
  | HttpChecker
  | TcpChecker
  | SmtpChecker
  | DnsChecker
  | UdpChecker
  | PingChecker
  | MiscChecker
  | FileChecker
  | BfdChecker;

export type CheckerType = Checker['type'];

// ───────────────────────────── diagnostics ─────────────────────────────

/**
 * keepalived's config_err_t, folded into what decides `-t`'s exit code:
 * fatal → 4 (cannot run), error → 5 (runs after correcting), security → 6, warning/info → 0.
 * `config`: keepalived stops reading and exits with its config status (2), as for a keyword missing the parameter
 * its handler reads unchecked. `fatal`: it cannot run (4). `security`: scripts without enable_script_security (6).
 * `unimplemented`: a keyword keepalived acts on and lvskeeper does not; it never changes the status, so `-t` exits
 * as keepalived's would (with `--strict-compat` these come as `fatal` instead).
 */
export type Severity = 'config' | 'fatal' | 'error' | 'security' | 'warning' | 'unimplemented' | 'info';

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly severity: Severity;
  readonly keyword?: string;
  readonly message: string;
}

/** An interface_up_down_delays line: how long a link must stay down (up) before VRRP acts on it, in µs. */
export interface UpDownDelay {
  readonly name: string;
  readonly downUs: number;
  readonly upUs: number;
}
