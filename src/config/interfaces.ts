// The interfaces a config names, looked up as keepalived 2.2.7's VRRP parser looks them up: vrrp_if.c
// if_get_by_ifname(name, IF_CREATE_IF_DYNAMIC) for an instance's interface, track_interface, a VIP's or static
// address's dev, a route's or rule's device and garp_group's interfaces.

/** What the loader tells of the namespace the daemon runs in. */
export interface InterfaceInfo {
  exists(name: string): boolean;
  isLoopback(name: string): boolean;
}

export class InterfaceLookup {
  /**
   * vrrp_if.c non_existent_interface_specified: once the file is read, vrrp_daemon.c start_vrrp reports
   * 'Non-existent interface specified in configuration' and the VRRP process stops.
   */
  missing = false;

  /** `info` undefined: interfaces are not checked. `dynamic`: global dynamic_interfaces, any name may appear later. */
  constructor(private readonly info?: InterfaceInfo, private readonly dynamic = false) {}

  /** False for a name this namespace lacks (and not dynamic): the caller reports it in its own words and drops it. */
  found(name: string): boolean {
    if (this.exists(name)) return true;
    this.missing = true;
    return false;
  }

  /** Whether the name may be used, without counting a missing one (if_get_by_ifname with IF_NO_CREATE). */
  exists(name: string): boolean {
    return !this.info || this.dynamic || this.info.exists(name);
  }

  isLoopback(name: string): boolean {
    return this.info?.exists(name) === true && this.info.isLoopback(name);
  }
}
