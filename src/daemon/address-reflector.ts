// The checker process's netlink reflector, as keepalived's check_daemon.c opens it when a virtual server uses
// ha_suspend (kernel_netlink_init: RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR, then an RTM_GETADDR dump). It only
// relays the host's addresses; what they mean for the checkers is checkers/activation.ts's.
import type { HostAddress } from '../../checkers/activation.js';
import { LinkWatcher, type AddressEvent } from '../net/links.js';
import { Rtnl } from '../net/rtnl.js';
import type { Logger } from '../log.js';

export interface ReflectorSink {
  /** An address added to or removed from an interface; at open, each address the dump found, as added. */
  address(kind: 'new' | 'del', a: HostAddress): void;
  /** After a lost notification: every address a fresh dump found. */
  resync(addresses: readonly HostAddress[]): void;
}

const hostAddress = (e: HostAddress): HostAddress => ({ ifindex: e.ifindex, family: e.family, address: e.address, prefixlen: e.prefixlen });

async function dump(): Promise<HostAddress[]> {
  const rtnl = Rtnl.open();
  try {
    return (await rtnl.addresses()).map(hostAddress);
  } finally {
    rtnl.close();
  }
}

export class AddressReflector {
  private constructor(private readonly watcher: LinkWatcher) {}

  /**
   * Joins the groups before the dump, so no change falls between them; notifications that arrive during the dump
   * are passed on after it (the sink ignores an address it already has, or a removal of one it has not).
   */
  static async open(sink: ReflectorSink, log: Logger): Promise<AddressReflector> {
    const watcher = LinkWatcher.open({ links: false });
    let held: AddressEvent[] | undefined = [];
    let resyncing = false;
    watcher.on('address', (e) => (held ? held.push(e) : sink.address(e.kind, hostAddress(e))));
    watcher.on('error', (err) => {
      // An overrun socket (ENOBUFS) has dropped notifications: a dump says where the host is now.
      log.warn(`address reflector: ${err.message}; reading the addresses again`);
      if (resyncing) return;
      resyncing = true;
      dump().then((all) => sink.resync(all), (e: Error) => log.error(`address reflector: ${e.message}`)).finally(() => (resyncing = false));
    });
    try {
      for (const a of await dump()) sink.address('new', a);
    } catch (e) {
      watcher.close();
      throw e;
    }
    for (const e of held) sink.address(e.kind, hostAddress(e));
    held = undefined;
    return new AddressReflector(watcher);
  }

  close(): void {
    this.watcher.close();
  }
}
