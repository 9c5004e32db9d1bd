// The dry-run driver: holds the table in memory, enforces the kernel's add/edit/delete rules (same errnos), and logs
// each operation it would apply as the ipvsadm command that does the same.
import { intToIpv4 } from '../config/address.js';
import type { Logger } from '../log.js';
import { destKeyId, serviceKeyId } from './desired.js';
import { schedFlagNames } from './format-ipvsadm.js';
import type { Destination, IpvsDriver, IpvsOp, IpvsTable, IpvsTimeouts, Service, ServiceEntry, ServiceKey, TableSize } from './types.js';
import { fullNetmask, mergeTimeouts } from './types.js';

/** An operation the table refused, carrying the errno the kernel would return (Node's error shape). */
export class IpvsOpError extends Error {
  constructor(
    message: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'IpvsOpError';
  }
}

const ERRNO = { ENOENT: 2, ESRCH: 3, EEXIST: 17 } as const;

/** The op's command line is built only for the error: a reload may apply thousands that succeed. */
function fail(code: keyof typeof ERRNO, op: IpvsOp): never {
  const text = code === 'EEXIST' ? 'File exists' : code === 'ESRCH' ? 'No such process' : 'No such file or directory';
  throw new IpvsOpError(`${ipvsadmCommand(op)}: ${text}`, ERRNO[code], code);
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `-t 192.0.2.10:80`, `-u …`, `--sctp-service …`, `-f 42` (`-6 -f 42` for IPv6 marks). */
export function ipvsadmService(key: ServiceKey): string {
  if (key.fwmark !== undefined) return `${key.family === 'inet6' ? '-6 ' : ''}-f ${key.fwmark}`;
  const opt = key.protocol === 'tcp' ? '-t' : key.protocol === 'udp' ? '-u' : '--sctp-service';
  return `${opt} ${endpoint(key.address, key.port)}`;
}

function serviceArgs(s: Service): string {
  const parts = [ipvsadmService(s.key), `-s ${s.scheduler}`];
  if (s.persistenceTimeoutS > 0) {
    parts.push(`-p ${s.persistenceTimeoutS}`);
    const m = s.persistenceNetmask;
    if (m !== fullNetmask(s.key.family)) parts.push(`-M ${s.key.family === 'inet' ? intToIpv4(m >>> 0) : m}`);
  }
  if (s.flags.onePacket) parts.push('-o');
  const flags = schedFlagNames(s.scheduler, s.flags.schedFlags);
  if (flags.length) parts.push(`-b ${flags.join(',')}`);
  if (s.persistenceEngine) parts.push(`--pe ${s.persistenceEngine}`);
  return parts.join(' ');
}

function destArgs(key: ServiceKey, d: Destination): string {
  const fwd = d.forward === 'DR' ? '-g' : d.forward === 'TUN' ? '-i' : '-m';
  const parts = [ipvsadmService(key), `-r ${endpoint(d.address, d.port)}`, fwd, `-w ${d.weight}`];
  if (d.upperThreshold) parts.push(`-x ${d.upperThreshold}`);
  if (d.lowerThreshold) parts.push(`-y ${d.lowerThreshold}`);
  if (d.forward === 'TUN' && d.tunnelType && d.tunnelType !== 'ipip') {
    parts.push(`--tun-type ${d.tunnelType}`);
    if (d.tunnelPort !== undefined) parts.push(`--tun-port ${d.tunnelPort}`);
    if (d.tunnelFlags?.noCsum) parts.push('--tun-nocsum');
    if (d.tunnelFlags?.csum) parts.push('--tun-csum');
    if (d.tunnelFlags?.remCsum) parts.push('--tun-remcsum');
  }
  return parts.join(' ');
}

/** The ipvsadm command line equivalent to an operation, for logs. */
export function ipvsadmCommand(op: IpvsOp): string {
  switch (op.kind) {
    case 'addService':
      return `ipvsadm -A ${serviceArgs(op.service)}`;
    case 'editService':
      return `ipvsadm -E ${serviceArgs(op.service)}`;
    case 'delService':
      return `ipvsadm -D ${ipvsadmService(op.key)}`;
    case 'addDest':
      return `ipvsadm -a ${destArgs(op.key, op.dest)}`;
    case 'editDest':
      return `ipvsadm -e ${destArgs(op.key, op.dest)}`;
    case 'delDest':
      return `ipvsadm -d ${ipvsadmService(op.key)} -r ${endpoint(op.dest.address, op.dest.port)}`;
    case 'flush':
      return 'ipvsadm -C';
    case 'setTimeouts':
      return `ipvsadm --set ${op.timeouts.tcpS ?? 0} ${op.timeouts.tcpFinS ?? 0} ${op.timeouts.udpS ?? 0}`;
  }
}

interface Entry {
  service: Service;
  readonly dests: Map<string, Destination>;
}

/** An entry as a dump reports it: `hashed`, as the kernel reports every service it holds. */
function reported(e: Entry): ServiceEntry {
  return { service: { ...e.service, flags: { ...e.service.flags, hashed: true } }, dests: [...e.dests.values()].map((dest) => ({ dest })) };
}

export class DryRunIpvsDriver implements IpvsDriver {
  readonly name = 'dry-run' as const;
  private readonly table = new Map<string, Entry>();
  private timeouts: IpvsTimeouts = { tcpS: 900, tcpFinS: 120, udpS: 300 };

  /** `initial` seeds the table (entries someone else created before we started). */
  constructor(
    private readonly log: Logger,
    initial?: IpvsTable,
  ) {
    for (const e of initial?.services ?? []) {
      const dests = new Map<string, Destination>();
      for (const d of e.dests) dests.set(destKeyId(d.dest), d.dest);
      this.table.set(serviceKeyId(e.service.key), { service: e.service, dests });
    }
  }

  async dump(): Promise<IpvsTable> {
    return { services: [...this.serviceEntries()] };
  }

  /** The table a service at a time: the control socket's `ipvs-table` writes 30,000 destinations in batches. */
  *serviceEntries(): Iterable<ServiceEntry> {
    for (const e of this.table.values()) yield reported(e);
  }

  /** Services and destinations, counted in place (/metrics). */
  size(): TableSize {
    let dests = 0;
    for (const e of this.table.values()) dests += e.dests.size;
    return { services: this.table.size, dests };
  }

  async entriesOf(keys: readonly ServiceKey[]): Promise<IpvsTable> {
    const services: ServiceEntry[] = [];
    for (const key of keys) {
      const e = this.table.get(serviceKeyId(key));
      if (e) services.push(reported(e));
    }
    return { services };
  }

  async apply(op: IpvsOp): Promise<void> {
    this.applySync(op);
    // A silent logger (the checker process's mirror, driver-remote.ts) is not given the text.
    if (this.log.isLevelEnabled('info')) this.log.info({ component: 'ipvs-dry-run' }, ipvsadmCommand(op));
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    return this.timeouts;
  }

  async close(): Promise<void> {
    this.table.clear();
  }

  private service(key: ServiceKey, op: IpvsOp): Entry {
    return this.table.get(serviceKeyId(key)) ?? fail('ESRCH', op);
  }

  private applySync(op: IpvsOp): void {
    switch (op.kind) {
      case 'addService': {
        const k = serviceKeyId(op.service.key);
        if (this.table.has(k)) fail('EEXIST', op);
        this.table.set(k, { service: op.service, dests: new Map() });
        return;
      }
      case 'editService':
        this.service(op.service.key, op).service = op.service;
        return;
      case 'delService':
        this.service(op.key, op);
        this.table.delete(serviceKeyId(op.key));
        return;
      case 'addDest': {
        const e = this.service(op.key, op);
        const k = destKeyId(op.dest);
        if (e.dests.has(k)) fail('EEXIST', op);
        e.dests.set(k, op.dest);
        return;
      }
      case 'editDest': {
        const e = this.service(op.key, op);
        const k = destKeyId(op.dest);
        if (!e.dests.has(k)) fail('ENOENT', op);
        e.dests.set(k, op.dest);
        return;
      }
      case 'delDest': {
        const e = this.service(op.key, op);
        if (!e.dests.delete(destKeyId(op.dest))) fail('ENOENT', op);
        return;
      }
      case 'flush':
        this.table.clear();
        return;
      case 'setTimeouts':
        this.timeouts = mergeTimeouts(this.timeouts, op.timeouts);
        return;
    }
  }
}
