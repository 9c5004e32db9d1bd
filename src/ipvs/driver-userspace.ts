// The userspace IPVS data plane: for hosts without kernel IPVS (containers, laptops, CI). Each TCP/UDP virtual
// service becomes a listening socket on its address and port; each new connection (TCP) or flow (UDP, per client
// address and port) goes to the destination the service's scheduler picks, and bytes are relayed both ways.
//
// How it differs from the kernel, on purpose:
// - Every destination is reached as NAT (a fresh connection from this host). DR and TUN destinations are forwarded the
//   same way, with one warning per service.
// - fwmark services select packets by netfilter mark and SCTP needs a stream-aware proxy: both are refused (EOPNOTSUPP).
// - A failed backend connect resets the client, as IPVS does (it forwards the SYN and the RST/timeout comes back);
//   there is no retry on another destination and no connect timeout beyond the operating system's.
// - delDest and delService stop new connections at once; connections already relayed run until they end (IPVS
//   expires them with the connection table; here the sockets simply finish). close() and flush() cut everything.
// - Persistence follows IPVS templates: a client network (address masked by persistenceNetmask) keeps its
//   destination while it has connections and for persistenceTimeoutS after the last one started; a quiesced
//   (weight 0) destination keeps its persistent clients, as with the kernel's default expire_quiescent_template=0.
// - TCP connections count as active while both directions are open and inactive once either side has closed;
//   UDP flows count as inactive, as ipvsadm shows them.
// - Connections are bounded, the kernel's table is not: TCP connections and UDP flows together are capped (default a
//   quarter of RLIMIT_NOFILE, descriptors.ts), a connection over the cap is reset (a datagram opening a flow dropped),
//   logged once per burst. Idle timeouts are the kernel's per state (ip_vs_proto_tcp.c tcp_timeouts): 60 s until the
//   backend answers (SYN_RECV), the tcp timeout (900 s) while established, the tcpfin timeout (120 s) once half-closed.
// - Packets are counted per chunk read (TCP) or datagram (UDP); rates follow the kernel estimator (2 s samples,
//   averaged with weight 1/4).
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { bigToIpv6, intToIpv4, ipv4ToInt, ipv6ToBig } from '../config/address.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { dataplaneConnectionCap } from '../fs/descriptors.js';
import type { Logger } from '../log.js';
import { sameDestKey, serviceKeyId } from './desired.js';
import { IpvsOpError, ipvsadmCommand, ipvsadmService } from './driver-dryrun.js';
import { createScheduler, type SchedDest, type SchedulerState } from './schedulers.js';
import type { Destination, DestinationEntry, IpvsDriver, IpvsOp, IpvsTable, IpvsTimeouts, Service, ServiceEntry, ServiceKey, Stats, TableSize } from './types.js';
import { mergeTimeouts } from './types.js';

const ERRNO = { ESRCH: 3, ENOENT: 2, EEXIST: 17, EPROTONOSUPPORT: 93, EOPNOTSUPP: 95 } as const;

function fail(code: keyof typeof ERRNO, message: string): never {
  throw new IpvsOpError(message, ERRNO[code], code);
}

/** The kernel estimator's period (ip_vs_est.c): 2 s samples. */
export const ESTIMATOR_PERIOD_MS = 2000;

/** IP_VS_TCP_S_SYN_RECV's timeout (ip_vs_proto_tcp.c): a connection whose backend has not answered yet. */
export const SYN_RECV_TIMEOUT_MS = 60_000;

class Counters {
  conns = 0;
  inPkts = 0;
  outPkts = 0;
  inBytes = 0;
  outBytes = 0;
  private last = [0, 0, 0, 0, 0];
  private rates = [0, 0, 0, 0, 0];

  /** One estimator step: per-second rate of the last period, smoothed like ip_vs_est.c (rate += (new - rate) / 4). */
  estimate(periodS: number): void {
    const now = [this.conns, this.inPkts, this.outPkts, this.inBytes, this.outBytes];
    for (let i = 0; i < 5; i++) {
      const r = (now[i]! - this.last[i]!) / periodS;
      this.rates[i] = this.rates[i]! + (r - this.rates[i]!) / 4;
    }
    this.last = now;
  }

  snapshot(): Stats {
    const r = this.rates.map((x) => BigInt(Math.round(x)));
    return {
      conns: BigInt(this.conns),
      inPkts: BigInt(this.inPkts),
      outPkts: BigInt(this.outPkts),
      inBytes: BigInt(this.inBytes),
      outBytes: BigInt(this.outBytes),
      cps: r[0]!,
      inPps: r[1]!,
      outPps: r[2]!,
      inBps: r[3]!,
      outBps: r[4]!,
    };
  }
}

class DestState implements SchedDest {
  readonly stats = new Counters();
  activeConns = 0;
  inactiveConns = 0;
  persistentConns = 0;
  overloaded = false;
  lastWeight: number;

  constructor(public dest: Destination) {
    this.lastWeight = dest.weight;
  }

  get family(): Destination['family'] {
    return this.dest.family;
  }
  get address(): string {
    return this.dest.address;
  }
  get port(): number {
    return this.dest.port;
  }
  get weight(): number {
    return this.dest.weight;
  }

  update(dest: Destination): void {
    this.dest = dest;
    if (dest.weight > 0) this.lastWeight = dest.weight;
    this.checkOverload();
  }

  /** IP_VS_DEST_F_OVERLOAD as ip_vs_bind_dest / ip_vs_unbind_dest set and clear it. */
  checkOverload(): void {
    const total = this.activeConns + this.inactiveConns;
    const { upperThreshold: u, lowerThreshold: l } = this.dest;
    if (u > 0 && total >= u) this.overloaded = true;
    else if (!this.overloaded) return;
    else if (l > 0) this.overloaded = total >= l;
    else if (u > 0) this.overloaded = total * 4 >= u * 3;
    else this.overloaded = false;
  }
}

interface Template {
  dest: DestState;
  expiresAt: number;
  controlled: number;
}

interface UdpFlow {
  readonly socket: UdpSocket;
  readonly dest: DestState;
  lastSeen: number;
}

interface ServiceState {
  service: Service;
  readonly key: ServiceKey & { protocol: 'tcp' | 'udp'; address: string; port: number };
  readonly dests: DestState[];
  sched: SchedulerState;
  readonly stats: Counters;
  readonly templates: Map<string, Template>;
  readonly flows: Map<string, UdpFlow>;
  readonly tcpConns: Set<Socket>;
  tcp?: Server;
  udp?: UdpSocket;
  warnedForward: boolean;
}

export interface UserspaceDriverOptions {
  readonly clock?: Clock;
  /** Randomness for the twos scheduler. */
  readonly random?: () => number;
  /** TCP connections plus UDP flows open at once, over all services (default: dataplaneConnectionCap()). */
  readonly maxConnections?: number;
}

export class UserspaceIpvsDriver implements IpvsDriver {
  readonly name = 'userspace' as const;
  private readonly services = new Map<string, ServiceState>();
  private timeouts: IpvsTimeouts = { tcpS: 900, tcpFinS: 120, udpS: 300 };
  private readonly clock: Clock;
  private readonly random: () => number;
  private estimator: TimerHandle | undefined;
  private readonly warnedSchedulers = new Set<string>();
  readonly maxConnections: number;
  /** TCP connections and UDP flows open now. */
  private open = 0;
  /** Refused since the cap was last reached: a burst is logged at its start and its end. */
  private refused = 0;

  constructor(
    private readonly log: Logger,
    opts: UserspaceDriverOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.maxConnections = opts.maxConnections ?? dataplaneConnectionCap();
    this.armEstimator();
  }

  /** Takes a connection slot, or counts a refusal when the cap is reached. */
  private admit(): boolean {
    if (this.open < this.maxConnections) {
      if (this.refused > 0) {
        this.log.info({ component: 'ipvs-userspace' }, `userspace data plane: accepting connections again (${this.refused} refused at the cap)`);
        this.refused = 0;
      }
      this.open++;
      return true;
    }
    if (this.refused++ === 0) {
      this.log.warn({ component: 'ipvs-userspace' }, `userspace data plane: ${this.maxConnections} connections open; refusing new ones`);
    }
    return false;
  }

  private armEstimator(): void {
    this.estimator = this.clock.setTimeout(() => {
      this.tick();
      this.armEstimator();
    }, ESTIMATOR_PERIOD_MS);
  }

  /** Every estimator period: rates, expired persistence templates, idle UDP flows. */
  private tick(): void {
    const now = this.clock.now();
    const periodS = ESTIMATOR_PERIOD_MS / 1000;
    for (const s of this.services.values()) {
      s.stats.estimate(periodS);
      for (const d of s.dests) d.stats.estimate(periodS);
      for (const [k, t] of s.templates) {
        if (t.controlled === 0 && now >= t.expiresAt) {
          s.templates.delete(k);
          t.dest.persistentConns--;
        }
      }
      for (const [k, f] of s.flows) {
        if (now - f.lastSeen >= this.timeouts.udpS * 1000) this.endFlow(s, k, f);
      }
    }
  }

  async dump(): Promise<IpvsTable> {
    return { services: [...this.serviceEntries()] };
  }

  /** Services and destinations, counted in place (/metrics). */
  size(): TableSize {
    let dests = 0;
    for (const s of this.services.values()) dests += s.dests.length;
    return { services: this.services.size, dests };
  }

  /**
   * The table with its counters read in place, a service at a time: /metrics reads 30,000 destinations a page at a
   * time, and the control socket's `ipvs-table` writes them in batches.
   */
  *serviceEntries(): Iterable<ServiceEntry> {
    for (const s of this.services.values()) {
      const dests: DestinationEntry[] = s.dests.map((d) => ({
        dest: d.dest,
        activeConns: d.activeConns,
        inactiveConns: d.inactiveConns,
        persistentConns: d.persistentConns,
        stats: d.stats.snapshot(),
      }));
      yield { service: { ...s.service, flags: { ...s.service.flags, hashed: true } }, dests, stats: s.stats.snapshot() };
    }
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    return this.timeouts;
  }

  async apply(op: IpvsOp): Promise<void> {
    const what = ipvsadmCommand(op);
    switch (op.kind) {
      case 'addService':
        return this.addService(op.service, what);
      case 'editService': {
        const s = this.get(op.service.key, what);
        s.service = op.service;
        s.sched = this.scheduler(op.service, s.dests);
        s.templates.clear();
        for (const d of s.dests) d.persistentConns = 0;
        return;
      }
      case 'delService':
        this.removeService(this.get(op.key, what), false);
        return;
      case 'addDest': {
        const s = this.get(op.key, what);
        if (s.dests.some((d) => sameDestKey(d.dest, op.dest))) fail('EEXIST', `${what}: File exists`);
        s.dests.unshift(new DestState(op.dest));
        s.sched.added(s.dests);
        this.warnForward(s);
        return;
      }
      case 'editDest': {
        const s = this.get(op.key, what);
        const d = s.dests.find((x) => sameDestKey(x.dest, op.dest)) ?? fail('ENOENT', `${what}: No such file or directory`);
        d.update(op.dest);
        s.sched.changed(s.dests);
        this.warnForward(s);
        return;
      }
      case 'delDest': {
        const s = this.get(op.key, what);
        const i = s.dests.findIndex((x) => sameDestKey(x.dest, op.dest));
        if (i < 0) fail('ENOENT', `${what}: No such file or directory`);
        const [gone] = s.dests.splice(i, 1);
        s.sched.removed(s.dests, i);
        // A template pointing at a removed destination is invalid (ip_vs_check_template): the client reschedules.
        for (const [k, t] of s.templates) if (t.dest === gone) s.templates.delete(k);
        return;
      }
      case 'flush':
        for (const s of [...this.services.values()]) this.removeService(s, true);
        return;
      case 'setTimeouts':
        this.timeouts = mergeTimeouts(this.timeouts, op.timeouts);
        return;
    }
  }

  async close(): Promise<void> {
    if (this.estimator) this.clock.clearTimeout(this.estimator);
    this.estimator = undefined;
    const closing = [...this.services.values()].map((s) => this.removeService(s, true));
    await Promise.all(closing);
  }

  private get(key: ServiceKey, what: string): ServiceState {
    return this.services.get(serviceKeyId(key)) ?? fail('ESRCH', `${what}: No such process`);
  }

  private scheduler(service: Service, dests: readonly SchedDest[]): SchedulerState {
    const created = createScheduler(service.scheduler, service.flags, dests, this.random);
    if (created.substitutedFor && !this.warnedSchedulers.has(created.substitutedFor)) {
      this.warnedSchedulers.add(created.substitutedFor);
      this.log.warn(
        { component: 'ipvs-userspace' },
        `scheduler ${created.substitutedFor} runs as ${created.state.name} in the userspace data plane (its locality cache is keyed by the virtual address)`,
      );
    }
    return created.state;
  }

  private warnForward(s: ServiceState): void {
    if (s.warnedForward) return;
    const other = s.dests.find((d) => d.dest.forward !== 'NAT');
    if (!other) return;
    s.warnedForward = true;
    this.log.warn(
      { component: 'ipvs-userspace' },
      `${ipvsadmService(s.key)}: lb_kind ${other.dest.forward} is forwarded as NAT by the userspace data plane`,
    );
  }

  private async addService(service: Service, what: string): Promise<void> {
    const key = service.key;
    const id = serviceKeyId(key);
    if (this.services.has(id)) fail('EEXIST', `${what}: File exists`);
    if (key.fwmark !== undefined) {
      fail('EOPNOTSUPP', `${what}: fwmark services need kernel IPVS; the userspace data plane can only listen on address:port`);
    }
    if (key.protocol === 'sctp') fail('EPROTONOSUPPORT', `${what}: SCTP is not supported by the userspace data plane`);
    const s: ServiceState = {
      service,
      key: { family: key.family, protocol: key.protocol, address: key.address, port: key.port },
      dests: [],
      sched: this.scheduler(service, []),
      stats: new Counters(),
      templates: new Map(),
      flows: new Map(),
      tcpConns: new Set(),
      warnedForward: false,
    };
    if (key.protocol === 'tcp') s.tcp = await this.listenTcp(s);
    else s.udp = await this.listenUdp(s);
    this.services.set(id, s);
  }

  private removeService(s: ServiceState, cut: boolean): Promise<void> {
    this.services.delete(serviceKeyId(s.key));
    const done: Promise<void>[] = [];
    if (s.tcp) {
      const server = s.tcp;
      done.push(new Promise((resolve) => server.close(() => resolve())));
      if (cut) for (const c of s.tcpConns) c.destroy();
    }
    if (s.udp) {
      // UDP replies come back through the service socket, so the flows end with it.
      for (const [k, f] of s.flows) this.endFlow(s, k, f);
      s.udp.close();
    }
    return Promise.all(done).then(() => undefined);
  }

  /** The destination for a new connection: the persistence template if one is valid, else the scheduler. */
  private choose(s: ServiceState, clientAddress: string, clientPort: number): { dest: DestState; template?: Template } | undefined {
    const timeoutS = s.service.persistenceTimeoutS;
    let templateKey: string | undefined;
    if (timeoutS > 0) {
      templateKey = maskAddress(s.key.family, clientAddress, s.service.persistenceNetmask);
      const t = s.templates.get(templateKey);
      if (t && (t.controlled > 0 || this.clock.now() < t.expiresAt)) {
        t.expiresAt = this.clock.now() + timeoutS * 1000;
        return { dest: t.dest, template: t };
      }
      if (t) {
        s.templates.delete(templateKey);
        t.dest.persistentConns--;
      }
    }
    const i = s.sched.pick(s.dests, { clientAddress, clientPort, serviceAddress: s.key.address, family: s.key.family });
    const dest = s.dests[i];
    if (!dest) return undefined;
    if (templateKey === undefined) return { dest };
    const template: Template = { dest, expiresAt: this.clock.now() + timeoutS * 1000, controlled: 0 };
    s.templates.set(templateKey, template);
    dest.persistentConns++;
    return { dest, template };
  }

  private listenTcp(s: ServiceState): Promise<Server> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => this.acceptTcp(s, client));
    return listen(server, (cb) => server.listen({ host: s.key.address, port: s.key.port, exclusive: true }, cb));
  }

  private acceptTcp(s: ServiceState, client: Socket): void {
    if (!this.admit()) {
      client.resetAndDestroy();
      return;
    }
    const chosen = this.choose(s, client.remoteAddress ?? '', client.remotePort ?? 0);
    if (!chosen) {
      // IPVS drops the SYN when no destination is available; a reset tells the client sooner.
      this.open--;
      client.resetAndDestroy();
      return;
    }
    const { dest, template } = chosen;
    s.tcpConns.add(client);
    s.stats.conns++;
    dest.stats.conns++;
    dest.activeConns++;
    dest.checkOverload();
    if (template) template.controlled++;
    let active = true;
    const backend = connect({ host: dest.dest.address, port: dest.dest.port, allowHalfOpen: true, noDelay: true });
    const toInactive = (): void => {
      if (!active) return;
      active = false;
      dest.activeConns--;
      dest.inactiveConns++;
      client.setTimeout(this.timeouts.tcpFinS * 1000);
    };
    let closed = 0;
    const onClose = (): void => {
      if (++closed < 2) return;
      this.open--;
      s.tcpConns.delete(client);
      if (active) dest.activeConns--;
      else dest.inactiveConns--;
      dest.checkOverload();
      if (template) {
        template.controlled--;
        template.expiresAt = this.clock.now() + s.service.persistenceTimeoutS * 1000;
      }
    };
    client.on('close', onClose);
    backend.on('close', onClose);
    let connected = false;
    client.on('error', () => {
      backend.destroy();
    });
    backend.on('error', () => {
      if (connected) client.destroy();
      else client.resetAndDestroy();
    });
    client.setTimeout(SYN_RECV_TIMEOUT_MS, () => {
      client.destroy();
      backend.destroy();
    });
    backend.on('connect', () => {
      connected = true;
      if (active) client.setTimeout(this.timeouts.tcpS * 1000);
      relay(client, backend, s.stats, dest.stats, true, toInactive);
      relay(backend, client, s.stats, dest.stats, false, toInactive);
      client.resume();
    });
  }

  private listenUdp(s: ServiceState): Promise<UdpSocket> {
    const sock = createSocket({ type: s.key.family === 'inet6' ? 'udp6' : 'udp4' });
    sock.on('message', (msg, rinfo) => this.udpFromClient(s, sock, msg, rinfo));
    // A send error to one client must not take the service down.
    sock.on('error', (err) => this.log.debug({ component: 'ipvs-userspace', err }, 'udp service socket error'));
    return listen(sock, (cb) => sock.bind({ address: s.key.address, port: s.key.port, exclusive: true }, cb));
  }

  private udpFromClient(s: ServiceState, service: UdpSocket, msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = s.flows.get(key);
    if (!flow) {
      if (!this.admit()) return;
      const chosen = this.choose(s, rinfo.address, rinfo.port);
      if (!chosen) {
        this.open--;
        return;
      }
      const { dest, template } = chosen;
      if (template) template.controlled++;
      const sock = createSocket({ type: dest.dest.family === 'inet6' ? 'udp6' : 'udp4' });
      const newFlow: UdpFlow = { socket: sock, dest, lastSeen: this.clock.now() };
      flow = newFlow;
      s.flows.set(key, newFlow);
      s.stats.conns++;
      dest.stats.conns++;
      dest.inactiveConns++;
      dest.checkOverload();
      sock.on('message', (reply, from) => {
        if (from.port !== dest.dest.port) return;
        newFlow.lastSeen = this.clock.now();
        s.stats.outPkts++;
        s.stats.outBytes += reply.length;
        dest.stats.outPkts++;
        dest.stats.outBytes += reply.length;
        service.send(reply, rinfo.port, rinfo.address);
      });
      sock.on('error', () => this.endFlow(s, key, newFlow));
      sock.on('close', () => {
        if (template) {
          template.controlled--;
          template.expiresAt = this.clock.now() + s.service.persistenceTimeoutS * 1000;
        }
      });
    }
    flow.lastSeen = this.clock.now();
    s.stats.inPkts++;
    s.stats.inBytes += msg.length;
    flow.dest.stats.inPkts++;
    flow.dest.stats.inBytes += msg.length;
    flow.socket.send(msg, flow.dest.dest.port, flow.dest.dest.address);
  }

  private endFlow(s: ServiceState, key: string, flow: UdpFlow): void {
    if (s.flows.get(key) !== flow) return;
    s.flows.delete(key);
    this.open--;
    flow.dest.inactiveConns--;
    flow.dest.checkOverload();
    flow.socket.close();
  }
}

/**
 * Moves bytes from src to dst with backpressure, counting chunks and bytes. `inbound` is client → backend.
 * The end of one direction is forwarded as a half-close; the connection turns inactive then.
 */
function relay(src: Socket, dst: Socket, svc: Counters, dest: Counters, inbound: boolean, onEnd: () => void): void {
  src.on('data', (chunk: Buffer) => {
    if (inbound) {
      svc.inPkts++;
      svc.inBytes += chunk.length;
      dest.inPkts++;
      dest.inBytes += chunk.length;
    } else {
      svc.outPkts++;
      svc.outBytes += chunk.length;
      dest.outPkts++;
      dest.outBytes += chunk.length;
    }
    if (!dst.write(chunk)) src.pause();
  });
  dst.on('drain', () => src.resume());
  src.on('end', () => {
    onEnd();
    dst.end();
  });
}

function listen<T extends Server | UdpSocket>(target: T, start: (cb: () => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    target.once('error', onError);
    start(() => {
      target.removeListener('error', onError);
      resolve(target);
    });
  });
}

/** The persistence key: the client address with only its first `bits` bits kept. */
/** The client's persistence group: IPv4 masked by the service netmask (solid or not), IPv6 by its prefix. */
function maskAddress(family: 'inet' | 'inet6', address: string, netmask: number): string {
  if (family === 'inet') return intToIpv4((ipv4ToInt(address) & netmask) >>> 0);
  const bits = netmask;
  if (bits >= 128) return address;
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
  return bigToIpv6(ipv6ToBig(address) & mask);
}
