// Link and address change notifications (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR) for
// track_interface, the instance's own interface and track_src_ip, and for ha_suspend's address reflector.
//
//   class LinkWatcher extends EventEmitter
//     static open({ links? }): LinkWatcher     links: false joins only RTNLGRP_IPV4_IFADDR / RTNLGRP_IPV6_IFADDR
//     'link'    (e: LinkEvent)      only when a link's flags change, or it appears or is deleted
//     'address' (e: AddressEvent)
//     'routing' (e: RoutingEvent)  route / rule changes, once watchRouting() asked for them
//     'error'   (err: Error)
//     watchRouting(w: RoutingGroups): void
//     close(): void
// Debouncing (interface_up_down_delays) is the caller's policy, not this file's.
import { EventEmitter } from 'node:events';
import { createRtNetlink, rt, type NetlinkMessage, type RtNetlinkSocket } from './netlink-parts.js';
import { addressInfo, linkInfo, type AddressInfo, type LinkInfo } from './rtnl.js';
import { parseRouteNote, parseRuleNote, type RouteNote, type RuleNote } from './rtnl-route.js';

export interface LinkEvent extends LinkInfo {
  readonly deleted: boolean;
}

export interface AddressEvent extends AddressInfo {
  readonly kind: 'new' | 'del';
}

export type RoutingEvent =
  | { readonly what: 'route'; readonly kind: 'new' | 'del'; readonly note: RouteNote }
  | { readonly what: 'rule'; readonly kind: 'new' | 'del'; readonly note: RuleNote };

/** Which route and rule groups to join (keepalived's monitor_ipv4_routes … set_extra_netlink_monitoring). */
export interface RoutingGroups {
  readonly ipv4Routes: boolean;
  readonly ipv6Routes: boolean;
  readonly ipv4Rules: boolean;
  readonly ipv6Rules: boolean;
}

export class LinkWatcher extends EventEmitter<{ link: [LinkEvent]; address: [AddressEvent]; routing: [RoutingEvent]; error: [Error] }> {
  private readonly lastFlags = new Map<number, number>();
  private readonly joined = new Set<number>();

  private constructor(private readonly sock: RtNetlinkSocket) {
    super();
    sock.socket.on('message', (msgs) => this.onMessages(msgs));
    sock.socket.on('error', (e) => this.emit('error', e));
  }

  /** `links: false` joins only the address groups (the checker process's reflector, check_daemon.c). */
  static open(groups: { readonly links?: boolean } = {}): LinkWatcher {
    const sock = createRtNetlink();
    // Keeps the loop alive while a daemon only waits for notifications.
    sock.socket.ref(true);
    if (groups.links !== false) sock.addMembership(rt.MulticastGroups.LINK);
    sock.addMembership(rt.MulticastGroups.IPV4_IFADDR);
    sock.addMembership(rt.MulticastGroups.IPV6_IFADDR);
    return new LinkWatcher(sock);
  }

  private onMessages(msgs: NetlinkMessage[]): void {
    for (const m of msgs) {
      try {
        if (m.type === rt.MessageType.NEWLINK || m.type === rt.MessageType.DELLINK) {
          const info = linkInfo(rt.parseLinkMessage(m.data));
          const deleted = m.type === rt.MessageType.DELLINK;
          const before = this.lastFlags.get(info.index);
          if (deleted) this.lastFlags.delete(info.index);
          else this.lastFlags.set(info.index, info.flags);
          // NEWLINK also reports statistics, MTU and address changes; a delayed up/down (interface_up_down_delays)
          // needs every flags change, as keepalived_netlink.c update_interface_flags sees them.
          if (deleted || before !== info.flags) this.emit('link', { ...info, deleted });
        } else if (m.type === rt.MessageType.NEWADDR || m.type === rt.MessageType.DELADDR) {
          const info = addressInfo(rt.parseAddressMessage(m.data));
          if (info !== undefined) this.emit('address', { ...info, kind: m.type === rt.MessageType.NEWADDR ? 'new' : 'del' });
        } else if (m.type === rt.MessageType.NEWROUTE || m.type === rt.MessageType.DELROUTE) {
          const note = parseRouteNote(m.data);
          if (note) this.emit('routing', { what: 'route', kind: m.type === rt.MessageType.NEWROUTE ? 'new' : 'del', note });
        } else if (m.type === rt.MessageType.NEWRULE || m.type === rt.MessageType.DELRULE) {
          const note = parseRuleNote(m.data);
          if (note) this.emit('routing', { what: 'rule', kind: m.type === rt.MessageType.NEWRULE ? 'new' : 'del', note });
        }
      } catch (e) {
        this.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** Joins the route / rule groups asked for (never leaves one: a reload that drops the need only gets ignored notes). */
  watchRouting(w: RoutingGroups): void {
    const want = [
      [w.ipv4Routes, rt.MulticastGroups.IPV4_ROUTE],
      [w.ipv6Routes, rt.MulticastGroups.IPV6_ROUTE],
      [w.ipv4Rules, rt.MulticastGroups.IPV4_RULE],
      [w.ipv6Rules, rt.MulticastGroups.IPV6_RULE],
    ] as const;
    for (const [on, group] of want) {
      if (!on || this.joined.has(group)) continue;
      this.sock.addMembership(group);
      this.joined.add(group);
    }
  }

  close(): void {
    this.sock.socket.close();
  }
}
