// Link values from the kernel's uapi headers that the I/O-free VMAC plan (vrrp/vmac.ts) decides with, in a module of
// their own: through rtnl.ts the plan loaded the netlink socket code and the `netlink` package into every process
// that plans VRRP reloads, the supervisor's main thread among them.

// linux/if_link.h
export const MACVLAN_MODE_PRIVATE = 1;
export const IPVLAN_MODE_L2 = 0;
// linux/ip.h enum IPV4_DEVCONF_* (the attribute types inside IFLA_INET_CONF)
export const IPV4_DEVCONF_RP_FILTER = 8;
export const IPV4_DEVCONF_ARPFILTER = 13;
export const IPV4_DEVCONF_ARP_IGNORE = 19;
export const IPV4_DEVCONF_PROMOTE_SECONDARIES = 20;
export const IPV4_DEVCONF_ACCEPT_LOCAL = 23;
