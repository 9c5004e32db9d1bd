// The address keepalived takes as an interface's own, I/O-free (keepalived 2.2.7 keepalived_netlink.c
// netlink_if_address_filter): per interface and family, the first address reported (ifp->sin_addr / sin6_addr; IPv6
// only link-local ones) and the others it remembers (sin_addr_l / sin6_addr_l). An instance without a configured
// source address sends from its interface's own address: when that goes and no other is left the instance goes to
// FAULT (down_instance), and the next address to arrive brings it back (try_up_instance); when another is left, the
// last one remembered takes its place as the instance's source.
//
//   class InterfaceAddresses
//     added(ifindex, family, address): boolean           true: it became the interface's own (it had none)
//     deleted(ifindex, family, address): AddressLoss | undefined

export type AddressLoss =
  /** The interface's own address went and no other is left (addr_chg). */
  | { readonly kind: 'gone' }
  /** The interface's own address went; the last other one remembered is its own now. */
  | { readonly kind: 'replaced'; readonly by: string };

interface Held {
  own?: string;
  readonly others: string[];
}

export class InterfaceAddresses {
  private readonly held = new Map<string, Held>();

  private entry(ifindex: number, family: 4 | 6): Held {
    const key = `${ifindex}/${family}`;
    let h = this.held.get(key);
    if (h === undefined) {
      h = { others: [] };
      this.held.set(key, h);
    }
    return h;
  }

  /** RTM_NEWADDR for an address not ours (not a VIP/eVIP) and, for IPv6, link-local. */
  added(ifindex: number, family: 4 | 6, address: string): boolean {
    const h = this.entry(ifindex, family);
    if (h.own === undefined) {
      h.own = address;
      return true;
    }
    // have_address: an address reported again (a secondary promoted, flags changed) is not remembered twice.
    if (h.own !== address && !h.others.includes(address)) h.others.push(address);
    return false;
  }

  /** RTM_DELADDR (for IPv6, of a link-local address). */
  deleted(ifindex: number, family: 4 | 6, address: string): AddressLoss | undefined {
    const h = this.held.get(`${ifindex}/${family}`);
    if (h === undefined) return undefined;
    if (h.own !== address) {
      const i = h.others.indexOf(address);
      if (i >= 0) h.others.splice(i, 1);
      return undefined;
    }
    const by = h.others.pop();
    if (by === undefined) {
      delete h.own;
      return { kind: 'gone' };
    }
    h.own = by;
    return { kind: 'replaced', by };
  }
}
