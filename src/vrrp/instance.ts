// The adapter of one vrrp_instance: sockets, VIPs, GARP/NA and timers around the I/O-free VrrpFsm.
// Received adverts are validated by the codec (every drop counted by reason), then fed to the FSM; the FSM's
// actions are executed here in order.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import { INFINITY_LIFE_TIME, type GarpGroup, type GlobalDefs, type Vip, type VrrpInstance } from '../config/model.js';
import { parseIp } from '../net/addr.js';
import { openIcmp6Socket, openPacketSocket, openVrrpSocket, type RawMessage, type RawSock } from '../net/rawsock.js';
import type { AddressSpec, LinkInfo, Rtnl, Scope } from '../net/rtnl.js';
import {
  DropCounters, IPPROTO_AH, IPPROTO_VRRP, advertVrid, decodeAdvert, encodeAdvert, type ChecksumCompat, type ChecksumCompatibility,
  type DecodeContext,
} from './packet.js';
import { sendGarp, sendUnsolicitedNa } from './announce.js';
import { AnnouncePacer } from './announce-pacer.js';
import { VrrpFsm, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type TimerName } from './fsm.js';
import { diffVips, vipsOf } from './reload-plan.js';
import type { Notifier } from './notify.js';
import { RoutingList } from './routing.js';
import type { RouteNote, RuleNote } from '../net/rtnl-route.js';
import type { VmacLinks } from './vmac-link.js';
import { addressVmacBase, addressVmacs, extraGarpVips } from './vmac.js';
import type { VipFirewall } from './vip-firewall.js';
import { dropRulesNeeded, type FirewallVip } from './nft-rules.js';

export interface InstanceDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly rtnl: Rtnl;
  readonly global: GlobalDefs;
  readonly notifier: Notifier;
  /** Shared by the instances of one process, so the GARP/NA intervals hold per interface. */
  readonly pacer?: AnnouncePacer;
  /**
   * vrrp_startup_delay: until this clock time a BACKUP's down timer runs from then rather than from now
   * (vrrp_scheduler.c, vrrp_init_instance_sands with vrrp_delayed_start_time).
   */
  readonly delayedStartUntil?: () => number | undefined;
  /** The process's macvlan/ipvlan devices (use_vmac, use_ipvlan). */
  readonly vmacs?: VmacLinks;
  readonly garpGroups?: () => readonly GarpGroup[];
  /** The process's no_accept drop rules; present when some instance is not in accept mode. */
  readonly firewall?: VipFirewall;
  /** Whether the instance reports priority changes on the notify FIFOs (its own setting, its group's or the global one). */
  readonly notifyPriorityChanges?: (cfg: VrrpInstance) => boolean;
  /** Each packet's VRID and source as read from the socket, before any check (log_unknown_vrids). */
  readonly packetVrid?: (from: VrrpInstanceRunner, vrid: number, src: string) => void;
  /** `--bfd-takeover`'s sessions for this instance (fsm.ts FsmConfig.bfdTakeover). */
  readonly bfdTakeover?: readonly string[];
}

/**
 * What makes keepalived put two instances on one receiving socket (vrrp_scheduler.c already_exist_sock): family,
 * protocol, interface, and the multicast group or, with unicast peers, the source address.
 */
export interface SocketIdentity {
  readonly key: string;
  readonly ifname: string;
  readonly unicast: boolean;
}

export interface InstanceEvents {
  /** Every state change, for the daemon (status, metrics, sync groups). */
  transition: [{ instance: string; from: FsmState; to: FsmState; priority: number; cause: string; master?: string }];
  /** The FSM's actions after each event, for the sync group. */
  actions: [FsmAction[]];
}

export class VrrpInstanceRunner extends EventEmitter<InstanceEvents> {
  readonly fsm: VrrpFsm;
  readonly drops = new DropCounters();
  readonly counters = { received: 0, sent: 0, sendErrors: 0, vipErrors: 0, becameMaster: 0, releasedMaster: 0 };
  private sock?: RawSock;
  private sockId?: SocketIdentity;
  /**
   * GARP/NA senders, one per interface and family: keepalived announces each VIP on its own interface (`dev X`),
   * from that interface's MAC (vrrp.c vrrp_send_update, vrrp_arp.c send_gratuitous_arp_immediate).
   */
  private readonly announcers = new Map<string, RawSock>();
  /** The interfaces VIPs live on, by name (the instance's own among them). */
  private readonly vipLinks = new Map<string, LinkInfo>();
  private ifindex = 0;
  private closed = false;
  private readonly pacer: AnnouncePacer;
  /** Deletions of our own VIPs under way (`ifindex/address` → count), so their notifications are not taken as loss. */
  private readonly ownDeletes = new Map<string, number>();
  private srcAddress = '';
  private readonly timers = new Map<TimerName, TimerHandle>();
  private readonly family: 4 | 6;
  private notifier: Notifier;
  /** Whether the current master's address-list mismatch has been logged (once until it goes away). */
  private mismatchLogged = false;
  private stopState: 'STOP' | 'DELETED' = 'STOP';
  /** virtual_routes and virtual_rules, with which of them are installed. */
  private routing: RoutingList;
  /** The macvlan/ipvlan the instance runs on; undefined without use_vmac/use_ipvlan or when it could not be made. */
  private dev?: LinkInfo;
  /** use_vmac/use_ipvlan asked for a device that could not be made: the instance stays in FAULT. */
  private devMissing = false;
  private devPrepared = false;
  /** use_vmac_addr's VMACs by `base/family` (vmac.ts addressVmacs); one that could not be made is absent. */
  private readonly addressDevs = new Map<string, LinkInfo>();

  /**
   * The unicast checksum mode in force: the configured one until an old-checksum advert turns 'none' into 'auto'.
   * A reload starts again from the configured one (rebuiltByReload).
   */
  private checksumCompat: ChecksumCompat;

  constructor(private config: VrrpInstance, private readonly deps: InstanceDeps, ownAddress = '') {
    super();
    this.checksumCompat = config.unicastChecksumCompat;
    this.routing = this.routingList(config);
    this.family = config.family === 'inet6' ? 6 : 4;
    this.srcAddress = ownAddress;
    this.notifier = deps.notifier;
    this.pacer = deps.pacer ?? new AnnouncePacer(deps.clock);
    this.fsm = new VrrpFsm(fsmConfig(config, ownAddress, deps.bfdTakeover), () => deps.clock.now());
  }

  get cfg(): VrrpInstance {
    return this.config;
  }

  /** The notify queue in use, kept across a reload that leaves the notify settings alone. */
  get currentNotifier(): Notifier {
    return this.notifier;
  }

  /**
   * A reload kept this router (same interface, VRID, family, version, addressing; see reload-plan.ts) but changed
   * other settings. State and timers carry on; a MASTER adds and removes only the VIPs that differ and announces
   * the added ones; adverts carry the new list from the next one on. The new base priority comes through the
   * trackers (the service re-evaluates them after a reload).
   */
  reconfigure(next: VrrpInstance, notifier: Notifier): void {
    const { added, removed } = diffVips(vipsOf(this.config), vipsOf(next));
    this.config = next;
    this.rebuiltByReload();
    this.notifier = notifier;
    this.fsm.reconfigure(fsmConfig(next, this.srcAddress, this.deps.bfdTakeover));
    if (JSON.stringify([next.virtualRoutes, next.virtualRules]) !== JSON.stringify([this.routing.routes, this.routing.rules])) {
      // vrrp_data.c clear_diff_vrrp: the old ones out, the new ones in while MASTER.
      const old = this.routing;
      this.routing = this.routingList(next);
      this.pendingVips = this.pendingVips.then(() => old.remove());
      if (this.fsm.state === 'MASTER') this.changeRouting('add');
    }
    if (this.fsm.state !== 'MASTER') return;
    for (const v of removed) this.deps.logger.info(`(${next.name}) removing VIP ${v.address} (reload)`);
    for (const v of added) this.deps.logger.info(`(${next.name}) adding VIP ${v.address} (reload)`);
    if (removed.length > 0) {
      this.changeVips('remove', removed);
      this.dropRules('remove', removed);
    }
    if (added.length > 0) {
      this.dropRules('add', added);
      this.changeVips('add', added);
      this.garp(next.garpMasterRepeat, added);
    }
  }

  /**
   * A reload, even one that leaves this instance unchanged: keepalived builds a new vrrp_t from the config and carries
   * over only its state, stats and VIPs (vrrp.c restore_vrrp_state), so a checksum mode learnt from a peer ('auto')
   * is forgotten until the next old-checksum advert.
   */
  rebuiltByReload(): void {
    this.checksumCompat = this.config.unicastChecksumCompat;
  }

  private get compat(): ChecksumCompatibility {
    return { mode: this.checksumCompat, group: this.config.oldChecksumDst };
  }

  get state(): FsmState {
    return this.fsm.state;
  }

  get priority(): number {
    return this.fsm.priority;
  }

  /**
   * use_vmac / use_ipvlan: makes (or takes over) the instance's device before it starts, as keepalived does while
   * completing the instance (vrrp.c vrrp_complete_instance). Returns its name and state for the link trackers.
   */
  async prepareDevice(): Promise<LinkInfo | undefined> {
    const { vmacs } = this.deps;
    if (vmacs === undefined || this.devPrepared) return this.dev;
    this.devPrepared = true;
    if (this.cfg.useVmac !== undefined || this.cfg.useIpvlan !== undefined) {
      const base = this.cfg.interface === undefined ? undefined : await this.deps.rtnl.linkByName(this.cfg.interface);
      this.dev = base === undefined ? undefined : await vmacs.ensure(this.cfg, base);
      this.devMissing = this.dev === undefined;
    }
    // After the instance's own, as keepalived makes them (vrrp.c vrrp_complete_instance).
    for (const { base, family } of addressVmacs(this.cfg)) {
      const link = await this.deps.rtnl.linkByName(base);
      const dev = link === undefined ? undefined : await vmacs.ensureForAddresses(this.cfg, link, family);
      if (dev !== undefined) this.addressDevs.set(`${base}/${family}`, dev);
    }
    return this.dev;
  }

  /** Which keepalived receiving socket the instance's own socket stands for, while it is open. */
  get socket(): SocketIdentity | undefined {
    return this.sockId;
  }

  /** The device use_vmac/use_ipvlan asked for and could not be made, for the link trackers (always down). */
  get missingDevice(): string | undefined {
    return this.devMissing ? `${this.cfg.name}:vmac` : undefined;
  }

  /** The interface a VIP goes on: the VMAC's (the instance's, or use_vmac_addr's), else the one configured. */
  private vipDevice(v: Vip): string {
    const base = addressVmacBase(this.cfg, v);
    const forAddress = base === undefined ? undefined : this.addressDevs.get(`${base}/${v.family === 'inet6' ? 6 : 4}`);
    if (forAddress !== undefined) return forAddress.name;
    const own = v.dev === undefined || v.dev === this.cfg.interface;
    // vrrp.c vrrp_complete_instance: only a macvlan takes the VIPs; an ipvlan leaves them on the base.
    if (own && this.dev && this.cfg.useVmac && v.family === this.cfg.family) return this.dev.name;
    return v.dev ?? this.cfg.interface ?? '';
  }

  /** Opens the sockets on the instance's interface and starts in BACKUP (or FAULT when the link is down). */
  async start(faulty = false): Promise<void> {
    const ifname = this.cfg.interface;
    if (ifname === undefined) throw new Error(`(${this.cfg.name}) no interface`);
    const links = await this.deps.rtnl.links();
    const base = links.find((l) => l.name === ifname);
    if (!base) throw new Error(`(${this.cfg.name}) interface ${ifname} not found`);
    // Adverts go out on the VMAC/ipvlan, or on the base with vmac_xmit_base (vrrp_scheduler.c vrrp_create_sockpool).
    const dev = this.dev === undefined ? undefined : links.find((l) => l.index === this.dev?.index);
    const link = dev !== undefined && !this.cfg.vmacXmitBase ? dev : base;
    this.ifindex = dev?.index ?? base.index;
    const vipDevs = new Set(vipsOf(this.cfg).map((v) => this.vipDevice(v)));
    for (const l of links) if (l === base || l === dev || vipDevs.has(l.name)) this.vipLinks.set(l.name, l);
    // The source is the configured one, the ipvlan's address, else the base's (VRRP_PKT_SADDR): a VMAC has no address
    // of its own but the IPv6 link-local copied from the base.
    const primary = await this.deps.rtnl.primaryAddress(base.index, this.family);
    this.srcAddress = this.cfg.unicastSrcIp ?? this.cfg.mcastSrcIp ?? this.cfg.useIpvlan?.address ?? primary ?? '';
    this.fsm.ownAddress = this.srcAddress;
    const unicast = this.cfg.unicastPeers.length > 0;
    try {
      this.sock = openVrrpSocket({
        family: this.family,
        ifindex: link.index,
        device: link.name,
        groups: unicast ? [] : [this.cfg.mcastDstIp],
      });
      this.sock.setTtl(this.cfg.unicastTtl, 255);
      const proto = this.cfg.authentication?.type === 'AH' ? IPPROTO_AH : IPPROTO_VRRP;
      const dst = unicast ? `u ${this.srcAddress}` : `m ${this.cfg.mcastDstIp}`;
      this.sockId = { key: `${this.family} ${proto} ${link.name} ${dst}`, ifname: link.name, unicast };
      this.sock.on('message', (m) => this.receive(m));
      this.sock.on('error', (e) => this.deps.logger.warn(`(${this.cfg.name}) socket error: ${e.message}`));
      this.announcer(this.family, this.cfg.useVmac && dev ? dev : base);
    } catch (e) {
      // A half-opened instance must not keep a socket: the caller drops it.
      this.closeSockets();
      throw e;
    }
    this.dispatch({ kind: 'start', faulty: faulty || !base.up || this.devMissing });
  }

  /** Feeds one event to the FSM and runs its actions; returns them (the service hands them to the sync group). */
  dispatch(ev: FsmEvent): FsmAction[] {
    const actions = this.fsm.handle(ev);
    for (const a of actions) this.execute(a);
    this.emit('actions', actions);
    return actions;
  }

  /**
   * Orderly stop: priority-0 advert when MASTER, VIPs removed, notify_stop; then the sockets close. An instance a
   * reload removed (`removed`) with `notify_deleted` reports DELETED instead of STOP.
   */
  async stop(removed = false): Promise<void> {
    if (removed && this.cfg.notify.deleted !== undefined) this.stopState = 'DELETED';
    this.dispatch({ kind: 'shutdown' });
    await this.pendingVips;
    await this.pendingAnnounce;
    this.closeSockets();
    // vrrp.c shutdown_vrrp_instances / vrrp_vmac.c netlink_link_del_vmac: the device goes once the VIPs are off.
    await this.deps.vmacs?.remove(this.cfg.name);
    await this.notifier.idle();
  }

  private closeSockets(): void {
    this.closed = true;
    this.sockId = undefined;
    this.sock?.close();
    for (const a of this.announcers.values()) a.close();
    this.announcers.clear();
  }

  /** The GARP (IPv4) or NA (IPv6) sender on a link, opened on first use. */
  private announcer(family: 4 | 6, link: LinkInfo): RawSock {
    const key = `${family}/${link.index}`;
    let sock = this.announcers.get(key);
    if (sock) return sock;
    sock = family === 4 ? openPacketSocket({ ifindex: link.index }) : openIcmp6Socket({ ifindex: link.index, device: link.name });
    // Neighbour Discovery drops NAs whose hop limit is not 255 (RFC 4861 §7.1.2).
    if (family === 6) sock.setTtl(255, 255);
    const opened = sock;
    // A link going down leaves ENETDOWN pending on a packet socket and stops its poll (libuv reports POLLERR as
    // EBADF): the next announcement opens a fresh one rather than lose its first frame to the stale error.
    sock.on('error', (e) => {
      this.deps.logger.debug(`(${this.cfg.name}) announce socket on ${link.name} reopened after: ${e.message}`);
      if (this.announcers.get(key) === opened) this.announcers.delete(key);
      opened.close();
    });
    this.announcers.set(key, sock);
    return sock;
  }

  /** The link a VIP lives on: its `dev`, else the instance's interface; looked up when a reload brought a new one. */
  private async vipLink(v: Vip): Promise<LinkInfo | undefined> {
    const name = this.vipDevice(v);
    const known = this.vipLinks.get(name);
    if (known) return known;
    const found = await this.deps.rtnl.linkByName(name);
    if (found) this.vipLinks.set(name, found);
    return found;
  }

  private receive(m: RawMessage): void {
    const vrid = advertVrid(m.data, m.proto || IPPROTO_VRRP);
    if (vrid !== undefined) this.deps.packetVrid?.(this, vrid, m.src);
    this.counters.received++;
    const unicast = this.cfg.unicastPeers.length > 0;
    const ctx: DecodeContext = {
      family: this.family,
      version: this.cfg.version,
      ttl: m.ttl,
      checkTtl: !unicast,
      src: m.src,
      dst: m.dst,
      ipProto: m.proto || 112,
      authType: this.cfg.authentication ? (this.cfg.authentication.type === 'PASS' ? 'pass' : 'ah') : 'none',
      ...(this.cfg.authentication ? { authPass: this.cfg.authentication.pass } : {}),
      advertIntCs: Math.round(this.cfg.advertIntMs / 10),
      vrid: this.cfg.vrid,
      addresses: this.cfg.virtualIpaddresses.map((v) => v.address),
      v3ChecksumAsV2: this.cfg.v3ChecksumAsV2,
      compat: this.compat,
      unicast,
    };
    const r = decodeAdvert(m.data, ctx);
    // vrrp.c vrrp_check_packet switches before its later checks (VIP list, unicast source) can drop the advert.
    if ((r.ok ? r.advert : r).oldChecksum) {
      this.checksumCompat = 'auto';
      this.deps.logger.info(`(${this.cfg.name}) Setting unicast VRRPv3 checksum to old version`);
    }
    this.drops.record(r);
    if (!r.ok) {
      if (r.reason !== 'vrid') this.deps.logger.debug(`(${this.cfg.name}) dropped advert from ${m.src}: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`);
      return;
    }
    // Accepted anyway (packet.ts policy, as keepalived ≥ 2.3.3); say so once, not once per advert.
    // skip_check_adv_addr: the list is not checked at all while the master stays the same.
    const unchecked = this.cfg.skipCheckAdvAddr && this.fsm.state === 'BACKUP' && m.src === this.fsm.masterAddress;
    if (r.advert.addressMismatch !== undefined && !unchecked && !this.mismatchLogged) {
      this.deps.logger.warn(`(${this.cfg.name}) advert from ${m.src}: VIP ${r.advert.addressMismatch} differs from ours (${r.advert.addresses.join(' ')}); accepted`);
    }
    this.mismatchLogged = r.advert.addressMismatch !== undefined;
    if (unicast && this.cfg.checkUnicastSrc && !this.fromUnicastPeer(m)) return;
    if (m.src === this.srcAddress) return;
    this.dispatch({ kind: 'advert', priority: r.advert.priority, src: m.src, advertIntCs: r.advert.advertIntCs });
  }

  /**
   * check_unicast_src: the sender must be a unicast peer, and the TTL (hop limit) within that peer's min_ttl/max_ttl
   * (vrrp.c, vrrp_check_packet; 0 - 255 unless configured). Logged for each advert, as keepalived does.
   */
  private fromUnicastPeer(m: RawMessage): boolean {
    const peer = this.cfg.unicastPeers.find((p) => p.address === m.src);
    if (peer === undefined) {
      this.drops.record({ ok: false, reason: 'unicast_peer' });
      this.deps.logger.info(`(${this.cfg.name}) unicast source address ${m.src} not a unicast peer`);
      return false;
    }
    const [min, max] = [peer.minTtl ?? 0, peer.maxTtl ?? 255];
    if (m.ttl >= 0 && (m.ttl < min || m.ttl > max)) {
      this.drops.record({ ok: false, reason: 'ttl' });
      this.deps.logger.info(`(${this.cfg.name}) TTL/HL ${m.ttl} not in range ${min} - ${max}`);
      return false;
    }
    return true;
  }

  private execute(a: FsmAction): void {
    switch (a.kind) {
      case 'log':
        this.deps.logger[a.level](a.msg);
        return;
      case 'arm': {
        const old = this.timers.get(a.timer);
        if (old) this.deps.clock.clearTimeout(old);
        const until = a.timer === 'masterDown' ? this.deps.delayedStartUntil?.() : undefined;
        const ms = until === undefined ? a.ms : a.ms + Math.max(0, until - this.deps.clock.now());
        this.timers.set(
          a.timer,
          this.deps.clock.setTimeout(() => {
            this.timers.delete(a.timer);
            this.dispatch({ kind: 'timer', timer: a.timer });
          }, ms),
        );
        return;
      }
      case 'cancel': {
        const old = this.timers.get(a.timer);
        if (old) this.deps.clock.clearTimeout(old);
        this.timers.delete(a.timer);
        return;
      }
      case 'send-advert':
        this.sendAdvert(a.priority);
        return;
      case 'add-vips':
        // vrrp.c vrrp_state_become_master: drop rules (no_accept), VIPs, eVIPs, then routes, then rules.
        this.dropRules('add', vipsOf(this.cfg));
        this.changeVips('add', vipsOf(this.cfg));
        this.changeRouting('add');
        return;
      case 'remove-vips':
        // vrrp.c vrrp_restore_interface: rules, routes, then the VIPs.
        this.changeRouting('remove');
        this.changeVips('remove', vipsOf(this.cfg));
        this.dropRules('remove', vipsOf(this.cfg));
        return;
      case 'garp-burst':
        this.garp(a.repeat, vipsOf(this.cfg));
        return;
      case 'garp-extra-if':
        this.garp(1, extraGarpVips(this.cfg));
        return;
      case 'notify':
        this.notifier.notify(a.state === 'STOP' ? this.stopState : a.state, a.priority);
        return;
      case 'notify-rx-lower-prio':
        this.notifier.notifyRxLowerPri(a.priority);
        return;
      case 'priority-changed':
        if (this.deps.notifyPriorityChanges?.(this.config)) this.notifier.priorityChanged(this.fsm.state === 'MASTER', a.priority);
        return;
      case 'transition':
        if (a.to === 'MASTER') this.counters.becameMaster++;
        if (a.from === 'MASTER') this.counters.releasedMaster++;
        this.emit('transition', { instance: this.cfg.name, from: a.from, to: a.to, priority: this.fsm.priority, cause: a.cause, ...(this.fsm.masterAddress !== undefined ? { master: this.fsm.masterAddress } : {}) });
        return;
      case 'want-master':
      case 'set-backup':
        return;
    }
  }

  private sendAdvert(priority: number): void {
    if (!this.sock) return;
    const auth = this.cfg.authentication?.type === 'PASS' ? { type: 'pass' as const, password: this.cfg.authentication.pass } : undefined;
    const dsts = this.cfg.unicastPeers.length > 0 ? this.cfg.unicastPeers.map((p) => p.address) : [this.cfg.mcastDstIp];
    for (const dst of dsts) {
      try {
        const pkt = encodeAdvert(
          {
            version: this.cfg.version,
            vrid: this.cfg.vrid,
            priority,
            advertIntCs: Math.round(this.cfg.advertIntMs / 10),
            addresses: this.cfg.virtualIpaddresses.map((v) => v.address),
            ...(auth ? { auth } : {}),
          },
          { family: this.family, src: this.srcAddress, dst, v3ChecksumAsV2: this.cfg.v3ChecksumAsV2, compat: this.compat },
        );
        this.sock.send(pkt, dst, this.srcAddress || undefined);
        this.counters.sent++;
      } catch (e) {
        this.counters.sendErrors++;
        this.deps.logger.warn(`(${this.cfg.name}) advert send failed: ${(e as Error).message}`);
      }
    }
  }

  /** VIP changes are serialised so an add and a quick remove cannot race in the kernel. */
  private pendingVips: Promise<void> = Promise.resolve();

  private changeVips(op: 'add' | 'remove', vips: readonly Vip[]): void {
    const specs = vips.map((v) => this.vipSpec(v));
    this.pendingVips = this.pendingVips.then(async () => {
      for (const s of await Promise.all(specs)) {
        const key = `${s.ifindex}/${s.address}`;
        try {
          if (op === 'add') await this.deps.rtnl.addAddress(s);
          else {
            this.ownDeletes.set(key, (this.ownDeletes.get(key) ?? 0) + 1);
            if ((await this.deps.rtnl.delAddress(s)) === 'absent') this.ownDelete(key);
          }
        } catch (e) {
          if (op === 'remove') this.ownDelete(key);
          this.counters.vipErrors++;
          this.deps.logger.warn(`(${this.cfg.name}) cannot ${op} VIP ${s.address}: ${(e as Error).message}`);
        }
      }
    });
  }

  /** Routes and rules go on the VIP queue, so they follow (or precede) the VIPs as keepalived orders them. */
  private changeRouting(op: 'add' | 'remove'): void {
    if (this.routing.empty) return;
    const list = this.routing;
    this.pendingVips = this.pendingVips.then(() => (op === 'add' ? list.add() : list.remove()));
  }

  private routingList(cfg: VrrpInstance): RoutingList {
    return new RoutingList(cfg.virtualRoutes, cfg.virtualRules, { rtnl: this.deps.rtnl, logger: this.deps.logger, tag: `(${cfg.name}) ` });
  }

  /**
   * A route or rule left the kernel (keepalived_netlink.c netlink_route_filter / netlink_rule_filter): one of ours is
   * no longer installed; returns whether it was a tracked one lost while MASTER (the instance then goes to BACKUP).
   */
  routingDeleted(n: { what: 'route'; note: RouteNote } | { what: 'rule'; note: RuleNote }): boolean {
    const lost = n.what === 'route' ? this.routing.routeDeleted(n.note, true) : this.routing.ruleDeleted(n.note);
    return lost !== undefined && this.fsm.state === 'MASTER';
  }

  /** Whether a route or rule notification is about one of this instance's (route_is_ours checks these before static ones). */
  ownsRouting(n: { what: 'route'; note: RouteNote } | { what: 'rule'; note: RuleNote }): boolean {
    return n.what === 'route' ? this.routing.ownsRoute(n.note, true) : this.routing.ownsRule(n.note);
  }

  /**
   * Not in accept mode (and not the address owner), traffic to and from the VIPs is dropped while MASTER: the
   * rules go in before the addresses and come out after them (vrrp.c vrrp_state_become_master,
   * vrrp_restore_interface → vrrp_handle_accept_mode).
   */
  private dropRules(op: 'add' | 'remove', vips: readonly Vip[]): void {
    const fw = this.deps.firewall;
    if (!fw || dropRulesNeeded([this.cfg]).length === 0) return;
    this.deps.logger.debug(`(${this.cfg.name}) ${op === 'add' ? 'sett' : 'remov'}ing firewall drop rule`);
    const name = this.cfg.name;
    const entries = vips.map((v) => this.firewallVip(v));
    this.pendingVips = this.pendingVips.then(async () => {
      const list = await Promise.all(entries);
      await (op === 'add' ? fw.add(name, list) : fw.remove(name, list));
    });
  }

  private async firewallVip(v: Vip): Promise<FirewallVip> {
    const link = await this.vipLink(v);
    const own = v.dev === undefined || v.dev === this.cfg.interface;
    return {
      address: v.address,
      family: v.family,
      ifindex: link?.index ?? this.ifindex,
      ifname: link?.name ?? v.dev ?? this.cfg.interface ?? '',
      byName: this.cfg.dontTrackPrimary && (own || v.noTrack),
    };
  }

  /** Consumes one expected notification of our own deletion; returns whether there was one. */
  private ownDelete(key: string): boolean {
    const n = this.ownDeletes.get(key) ?? 0;
    if (n === 0) return false;
    if (n === 1) this.ownDeletes.delete(key);
    else this.ownDeletes.set(key, n - 1);
    return true;
  }

  /**
   * An address left an interface (RTM_DELADDR). Returns whether it was one of our tracked VIPs or eVIPs held as
   * MASTER and removed by someone else (keepalived_netlink.c address_is_ours: `no_track` addresses do not count).
   */
  vipDeleted(ifindex: number, address: string): boolean {
    const v = this.vipAt(ifindex, address);
    if (v === undefined || this.ownDelete(`${ifindex}/${v.address}`)) return false;
    return this.fsm.state === 'MASTER' && !v.noTrack;
  }

  /** The VIP or eVIP `address` is on `ifindex` (keepalived_netlink.c address_is_ours / addr_is_equal2). */
  vipAt(ifindex: number, address: string): Vip | undefined {
    const bytes = parseIp(address);
    return vipsOf(this.cfg).find((v) => parseIp(v.address).equals(bytes) && (this.vipLinks.get(this.vipDevice(v))?.index ?? this.ifindex) === ifindex);
  }

  /** unicast_src_ip / mcast_src_ip, or use_ipvlan's address (vrrp_parser.c: VRRP_FLAG_SADDR_FROM_CONFIG). */
  get sourceFromConfig(): boolean {
    return (this.cfg.unicastSrcIp ?? this.cfg.mcastSrcIp ?? this.cfg.useIpvlan?.address) !== undefined;
  }

  /** The address adverts are sent from; '' while the interface has none. */
  get sourceAddress(): string {
    return this.srcAddress;
  }

  /** The interface's own address changed under an instance sending from it (keepalived_netlink.c: vrrp->saddr). */
  setSourceAddress(address: string): void {
    this.srcAddress = address;
    this.fsm.ownAddress = address;
  }

  private async vipSpec(v: Vip): Promise<AddressSpec> {
    return addressSpec(v, (await this.vipLink(v))?.index ?? this.ifindex);
  }

  /**
   * Whose pacing a GARP/NA on `link` waits for (vrrp_arp.c send_gratuitous_arp, vrrp_ndisc.c): the base interface's
   * (a VMAC paces with the interface under it), shared by every interface of its garp_group, else its own at
   * vrrp_garp_interval / vrrp_gna_interval (vrrp_if.c set_default_garp_delay).
   */
  private pacing(link: LinkInfo, six: boolean): { key: string; ms: number } {
    const base = this.dev !== undefined && link.index === this.dev.index ? (this.cfg.interface ?? link.name) : link.name;
    const groups = this.deps.garpGroups?.() ?? [];
    const g = groups.findIndex((x) => x.interfaces.includes(base));
    const group = groups[g];
    if (group) return { key: `g${g}`, ms: (six ? group.gnaIntervalMs : group.garpIntervalMs) ?? 0 };
    const { vrrpGarpIntervalMs, vrrpGnaIntervalMs } = this.deps.global;
    return { key: base, ms: six ? vrrpGnaIntervalMs : vrrpGarpIntervalMs };
  }

  /** GARP/NA bursts run one after another, each after the VIP changes queued before it. */
  private pendingAnnounce: Promise<void> = Promise.resolve();

  private garp(repeat: number, all: readonly Vip[]): void {
    if (!this.sock) return;
    const vips = [...all];
    // Wait for the VIPs to be installed, so the neighbours' refreshed entries point at a working address.
    const after = this.pendingVips;
    this.pendingAnnounce = this.pendingAnnounce.then(() => after).then(async () => {
      if (this.closed) return;
      const targets: { v: Vip; link: LinkInfo; sock: RawSock }[] = [];
      for (const v of vips) {
        const link = await this.vipLink(v);
        if (!link?.mac) continue;
        const family = v.family === 'inet6' ? 6 : 4;
        try {
          targets.push({ v, link, sock: this.announcer(family, link) });
        } catch (e) {
          this.deps.logger.warn(`(${this.cfg.name}) cannot announce ${v.address} on ${link.name}: ${(e as Error).message}`);
          continue;
        }
        // vrrp.c vrrp_send_update: logged for the first round only, and only with -D.
        const what = family === 6 ? 'Unsolicited Neighbour Adverts' : 'gratuitous ARPs';
        this.deps.logger.debug(`(${this.cfg.name}) Sending/queueing ${what} on ${link.name} for ${v.address}`);
      }
      for (let i = 0; i < repeat; i++) {
        for (const { v, link, sock } of targets) {
          const six = v.family === 'inet6';
          const item = { id: `${this.cfg.name}/${v.address}`, rank: vipsOf(this.cfg).indexOf(v) };
          const { key, ms } = this.pacing(link, six);
          this.pacer.send(`${six ? 6 : 4}/${key}`, ms, item, () => {
            if (this.closed) return;
            try {
              if (six) sendUnsolicitedNa(sock, link.mac, v.address);
              else sendGarp(sock, link.mac, v.address);
            } catch (e) {
              this.deps.logger.debug(`(${this.cfg.name}) GARP/NA for ${v.address} on ${link.name} failed: ${(e as Error).message}`);
            }
          });
        }
      }
    });
  }
}

function fsmConfig(cfg: VrrpInstance, ownAddress: string, bfdTakeover: readonly string[] = []): FsmConfig {
  return {
    name: cfg.name,
    version: cfg.version,
    priority: cfg.priority,
    advertIntCs: Math.round(cfg.advertIntMs / 10),
    wantMaster: cfg.initialState === 'MASTER',
    preempt: cfg.preempt,
    preemptDelayMs: cfg.preemptDelayMs,
    downTimerAdverts: cfg.downTimerAdverts,
    lowerPrioNoAdvert: cfg.lowerPrioNoAdvert,
    higherPrioSendAdvert: cfg.higherPrioSendAdvert,
    garpMasterDelayMs: cfg.garpMasterDelayMs,
    garpMasterRepeat: cfg.garpMasterRepeat,
    garpMasterRefreshMs: cfg.garpMasterRefreshMs,
    garpMasterRefreshRepeat: cfg.garpMasterRefreshRepeat,
    garpLowerPrioDelayMs: cfg.garpLowerPrioDelayMs,
    garpLowerPrioRepeat: cfg.garpLowerPrioRepeat,
    garpExtraIfMs: extraGarpVips(cfg).length > 0 ? cfg.garpExtraIf.intervalS * 1000 : 0,
    ownAddress,
    inSyncGroup: cfg.syncGroup !== undefined,
    configFault: cfg.unicastFaultNoPeer && cfg.unicastPeers.length === 0,
    bfdTakeover,
  };
}

/** A VIP, eVIP or static address as vrrp_ipaddress.c netlink_ipaddress adds it (IPv6 with IFA_F_NODAD unless -nodad). */
export function addressSpec(v: Vip, ifindex: number): AddressSpec {
  return {
    address: v.address,
    prefixlen: v.prefixLen,
    ifindex,
    ...(v.label !== undefined ? { label: v.label } : {}),
    ...(v.scope !== undefined ? { scope: (/^\d+$/.test(v.scope) ? Number(v.scope) : v.scope) as Scope } : {}),
    ...(v.broadcast !== undefined && v.broadcast !== '-' && v.broadcast !== '+' ? { broadcast: v.broadcast } : {}),
    ...(v.peer !== undefined ? { peer: v.peer } : {}),
    ...(v.noPrefixRoute ? { noprefixroute: true } : {}),
    ...(v.family === 'inet6' && !v.dad ? { nodad: true } : {}),
    ...(v.home ? { homeaddress: true } : {}),
    ...(v.mngtmpaddr ? { managetempaddr: true } : {}),
    ...(v.autojoin ? { mcautojoin: true } : {}),
    // vrrp_ipaddress.c netlink_ipaddress: IFA_CACHEINFO only for a lifetime that ends.
    ...(v.preferredLft !== undefined && v.preferredLft !== INFINITY_LIFE_TIME ? { preferredLft: v.preferredLft } : {}),
  };
}

/** Every address the instance owns as MASTER: advertised VIPs and excluded ones. */
