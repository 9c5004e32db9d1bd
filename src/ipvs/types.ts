// The IPVS table as lvskeeper reasons about it: one shape shared by the reconciler and every driver.
// Field meanings follow include/uapi/linux/ip_vs.h (struct ip_vs_service_user / ip_vs_dest_user),
// but with names a reader can follow and addresses as text.

export type AddressFamily = 'inet' | 'inet6';
export type Protocol = 'tcp' | 'udp' | 'sctp';

/** Scheduler names exactly as the kernel modules ip_vs_<name> spell them. */
export type Scheduler =
  | 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'lblcr' | 'dh' | 'sh'
  | 'sed' | 'nq' | 'mh' | 'fo' | 'ovf' | 'twos';

/** Forwarding method, named as keepalived's lb_kind (kernel: MASQ=0, TUNNEL=2, ROUTE=3). */
export type ForwardMethod = 'NAT' | 'DR' | 'TUN';

/** IP_VS_CONN_F_TUNNEL_TYPE_* */
export type TunnelType = 'ipip' | 'gue' | 'gre';

/** A virtual service is keyed either by (family, protocol, address, port) or by (family, fwmark). */
export type ServiceKey =
  | { readonly family: AddressFamily; readonly protocol: Protocol; readonly address: string; readonly port: number; readonly fwmark?: undefined }
  | { readonly family: AddressFamily; readonly fwmark: number; readonly protocol?: undefined; readonly address?: undefined; readonly port?: undefined };

/** Scheduler flags (IP_VS_SVC_F_*): persistence is expressed by persistenceTimeoutS, not a flag here. */
export interface ServiceFlags {
  readonly hashed?: boolean;
  readonly onePacket?: boolean; // ops
  /** IP_VS_SVC_F_SCHED1..3 bits (IP_VS_SVC_F_SCHED_SH_PORT …, uapi.ts); absent or 0 = none. */
  readonly schedFlags?: number;
}

export interface Service {
  readonly key: ServiceKey;
  readonly scheduler: Scheduler;
  readonly flags: ServiceFlags;
  /** 0 = not persistent. */
  readonly persistenceTimeoutS: number;
  /**
   * IPVS_SVC_ATTR_NETMASK, the persistence granularity: for IPv4 a netmask as a host-order u32, solid or not (the
   * kernel masks the client address with it; 0xffffffff = each client alone), for IPv6 a prefix length (128).
   */
  readonly persistenceNetmask: number;
  /** Persistence engine name (e.g. 'sip'), if any. */
  readonly persistenceEngine?: string;
}

export interface Destination {
  readonly family: AddressFamily;
  readonly address: string;
  readonly port: number;
  readonly forward: ForwardMethod;
  /** 0 = quiesced: no new connections, established ones finish. */
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  readonly tunnelType?: TunnelType;
  readonly tunnelPort?: number;
  readonly tunnelFlags?: { readonly noCsum?: boolean; readonly csum?: boolean; readonly remCsum?: boolean };
}

/** Counters as the kernel reports them (IPVS_STATS_ATTR_* / IPVS_STATS64_ATTR_*). */
export interface Stats {
  readonly conns: bigint;
  readonly inPkts: bigint;
  readonly outPkts: bigint;
  readonly inBytes: bigint;
  readonly outBytes: bigint;
  readonly cps: bigint;
  readonly inPps: bigint;
  readonly outPps: bigint;
  readonly inBps: bigint;
  readonly outBps: bigint;
}

export interface DestinationEntry {
  readonly dest: Destination;
  readonly activeConns?: number;
  readonly inactiveConns?: number;
  readonly persistentConns?: number;
  readonly stats?: Stats;
}

export interface ServiceEntry {
  readonly service: Service;
  readonly dests: readonly DestinationEntry[];
  readonly stats?: Stats;
}

/** How many services and destinations a table holds. */
export interface TableSize {
  readonly services: number;
  readonly dests: number;
}

/** One whole table, as returned by a single dump. */
export interface IpvsTable {
  readonly services: readonly ServiceEntry[];
}

export interface IpvsTimeouts {
  readonly tcpS: number;
  readonly tcpFinS: number;
  readonly udpS: number;
}

/** IP_VS_SO_SET_TIMEOUT semantics: a zero or missing value leaves that timeout unchanged. */
export function mergeTimeouts(current: IpvsTimeouts, change: Partial<IpvsTimeouts>): IpvsTimeouts {
  return {
    tcpS: change.tcpS || current.tcpS,
    tcpFinS: change.tcpFinS || current.tcpFinS,
    udpS: change.udpS || current.udpS,
  };
}

/** The kernel's connection-sync daemon (IPVS_CMD_*_DAEMON), one per role. */
export type SyncRole = 'master' | 'backup';

export interface SyncDaemon {
  readonly role: SyncRole;
  /** IPVS_DAEMON_ATTR_MCAST_IFN */
  readonly interface: string;
  readonly syncId: number;
  /** 0 = the kernel's default (the interface MTU less the headers). */
  readonly maxlen?: number;
  /** IPVS_DAEMON_ATTR_MCAST_GROUP / _GROUP6; absent = 224.0.0.81. */
  readonly group?: { readonly family: AddressFamily; readonly address: string };
  /** 0 = 8848. */
  readonly port?: number;
  /** 0 = 1. */
  readonly ttl?: number;
}

/** Operations the reconciler emits, applied in order by a driver. */
export type IpvsOp =
  | { readonly kind: 'addService'; readonly service: Service }
  | { readonly kind: 'editService'; readonly service: Service }
  | { readonly kind: 'delService'; readonly key: ServiceKey }
  | { readonly kind: 'addDest'; readonly key: ServiceKey; readonly dest: Destination }
  | { readonly kind: 'editDest'; readonly key: ServiceKey; readonly dest: Destination }
  | { readonly kind: 'delDest'; readonly key: ServiceKey; readonly dest: Pick<Destination, 'family' | 'address' | 'port'> }
  | { readonly kind: 'flush' }
  | { readonly kind: 'setTimeouts'; readonly timeouts: Partial<IpvsTimeouts> };

/** What every IPVS backend (kernel netlink, userspace forwarder, dry-run) offers. */
export interface IpvsDriver {
  readonly name: 'kernel' | 'userspace' | 'dry-run';
  /** The whole table in one dump; never per-entry lookups. */
  dump(): Promise<IpvsTable>;
  /**
   * The entries a reconcile pass compares, counters aside, where the driver has them without a dump
   * (driver-remote.ts); a driver without it is dumped.
   */
  entries?(): Promise<IpvsTable>;
  /**
   * The entries of these services only, those the table holds, counters aside: the pass after a burst of checker
   * events reads what the events touched, not every destination of a 30,000-server table. A driver without it is
   * read whole and filtered (servicesOf).
   */
  entriesOf?(keys: readonly ServiceKey[]): Promise<IpvsTable>;
  /** Applies one operation; rejects with an error carrying the errno code on failure. */
  apply(op: IpvsOp): Promise<void>;
  /**
   * Applies operations in order, each whether or not the one before failed, in as few round trips as the driver
   * can; resolves with each one's error (undefined: applied). A pass of 30,000 operations must not cost 30,000.
   */
  applyMany?(ops: readonly IpvsOp[]): Promise<(Error | undefined)[]>;
  getTimeouts(): Promise<IpvsTimeouts>;
  close(): Promise<void>;
}

/** The netmask that makes each client its own persistence group. */
export const fullNetmask = (family: AddressFamily): number => (family === 'inet' ? 0xffffffff : 128);

/** For a driver without applyMany: one op after another, each one's error in its place. */
export async function applyInOrder(apply: (op: IpvsOp) => Promise<void>, ops: readonly IpvsOp[]): Promise<(Error | undefined)[]> {
  const errors: (Error | undefined)[] = [];
  for (const op of ops) errors.push(await apply(op).then(() => undefined, (e: Error) => e));
  return errors;
}
