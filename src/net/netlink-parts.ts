// The parts of the `netlink` package lvskeeper uses, imported from their own modules: the package's index also
// loads its nl80211 and WireGuard families, which cost every process that speaks netlink about 5 MB of RSS
// (measured: require('netlink') against these modules alone, after GC, 52.8 against 47.5 MB).
export { RawNetlinkSocket, type ErrnoException } from 'netlink/dist/raw.js';
export { createNetlink } from 'netlink/dist/netlink.js';
export { createRtNetlink, type RtNetlinkSocket } from 'netlink/dist/rt/rt.js';
export * as rt from 'netlink/dist/rt/structs.js';
export { parseError, AttrStream, type NetlinkMessage } from 'netlink/dist/structs.js';
export { FlagsGet, FlagsNew } from 'netlink/dist/constants.js';
