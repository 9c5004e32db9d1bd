// Link and address change notifications (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR) for
// track_interface, the instance's own interface and track_src_ip.
//
//   class LinkWatcher extends EventEmitter
//     static open(): LinkWatcher
//     'link'    (e: LinkEvent)      only when a link's up state changes, appears or is deleted
//     'address' (e: AddressEvent)
//     'error'   (err: Error)
//     close(): void
// Debouncing (interface_up_down_delays) is the caller's policy, not this file's.
import { EventEmitter } from 'node:events';
import { createRtNetlink, rt, type NetlinkMessage, type RtNetlinkSocket } from 'netlink';
import { addressInfo, linkInfo, type AddressInfo, type LinkInfo } from './rtnl.js';

export interface LinkEvent extends LinkInfo {
  readonly deleted: boolean;
}

export interface AddressEvent extends AddressInfo {
  readonly kind: 'new' | 'del';
}

export class LinkWatcher extends EventEmitter<{ link: [LinkEvent]; address: [AddressEvent]; error: [Error] }> {
  private readonly lastUp = new Map<number, boolean>();

  private constructor(private readonly sock: RtNetlinkSocket) {
    super();
    sock.socket.on('message', (msgs) => this.onMessages(msgs));
    sock.socket.on('error', (e) => this.emit('error', e));
  }

  static open(): LinkWatcher {
    const sock = createRtNetlink();
    // Keeps the loop alive while a daemon only waits for notifications.
    sock.socket.ref(true);
    sock.addMembership(rt.MulticastGroups.LINK);
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
          const before = this.lastUp.get(info.index);
          if (deleted) this.lastUp.delete(info.index);
          else this.lastUp.set(info.index, info.up);
          // NEWLINK also reports statistics and flag changes that do not matter to VRRP.
          if (deleted || before !== info.up) this.emit('link', { ...info, deleted });
        } else if (m.type === rt.MessageType.NEWADDR || m.type === rt.MessageType.DELADDR) {
          const info = addressInfo(rt.parseAddressMessage(m.data));
          if (info !== undefined) this.emit('address', { ...info, kind: m.type === rt.MessageType.NEWADDR ? 'new' : 'del' });
        }
      } catch (e) {
        this.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  close(): void {
    this.sock.socket.close();
  }
}
