// Constants from https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/ip_vs.h
// Every value is written out: a missed entry must not shift the ones after it.

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 0x1;

export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_PENAME_MAXLEN = 16;

// enum: IPVS_CMD_*
export const IPVS_CMD_UNSPEC = 0;
export const IPVS_CMD_NEW_SERVICE = 1;
export const IPVS_CMD_SET_SERVICE = 2;
export const IPVS_CMD_DEL_SERVICE = 3;
export const IPVS_CMD_GET_SERVICE = 4;
export const IPVS_CMD_NEW_DEST = 5;
export const IPVS_CMD_SET_DEST = 6;
export const IPVS_CMD_DEL_DEST = 7;
export const IPVS_CMD_GET_DEST = 8;
export const IPVS_CMD_NEW_DAEMON = 9;
export const IPVS_CMD_DEL_DAEMON = 10;
export const IPVS_CMD_GET_DAEMON = 11;
export const IPVS_CMD_SET_CONFIG = 12;
export const IPVS_CMD_GET_CONFIG = 13;
export const IPVS_CMD_SET_INFO = 14;
export const IPVS_CMD_GET_INFO = 15;
export const IPVS_CMD_ZERO = 16;
export const IPVS_CMD_FLUSH = 17;

export const IPVS_CMD_NAMES: Readonly<Record<number, string>> = {
  1: 'IPVS_CMD_NEW_SERVICE', 2: 'IPVS_CMD_SET_SERVICE', 3: 'IPVS_CMD_DEL_SERVICE', 4: 'IPVS_CMD_GET_SERVICE',
  5: 'IPVS_CMD_NEW_DEST', 6: 'IPVS_CMD_SET_DEST', 7: 'IPVS_CMD_DEL_DEST', 8: 'IPVS_CMD_GET_DEST',
  9: 'IPVS_CMD_NEW_DAEMON', 10: 'IPVS_CMD_DEL_DAEMON', 11: 'IPVS_CMD_GET_DAEMON',
  12: 'IPVS_CMD_SET_CONFIG', 13: 'IPVS_CMD_GET_CONFIG', 14: 'IPVS_CMD_SET_INFO', 15: 'IPVS_CMD_GET_INFO',
  16: 'IPVS_CMD_ZERO', 17: 'IPVS_CMD_FLUSH',
};

// enum: IPVS_CMD_ATTR_*
export const IPVS_CMD_ATTR_UNSPEC = 0;
export const IPVS_CMD_ATTR_SERVICE = 1;
export const IPVS_CMD_ATTR_DEST = 2;
export const IPVS_CMD_ATTR_DAEMON = 3;
export const IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
export const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
export const IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

// enum: IPVS_SVC_ATTR_*
export const IPVS_SVC_ATTR_UNSPEC = 0;
export const IPVS_SVC_ATTR_AF = 1;
export const IPVS_SVC_ATTR_PROTOCOL = 2;
export const IPVS_SVC_ATTR_ADDR = 3;
export const IPVS_SVC_ATTR_PORT = 4;
export const IPVS_SVC_ATTR_FWMARK = 5;
export const IPVS_SVC_ATTR_SCHED_NAME = 6;
export const IPVS_SVC_ATTR_FLAGS = 7;
export const IPVS_SVC_ATTR_TIMEOUT = 8;
export const IPVS_SVC_ATTR_NETMASK = 9;
export const IPVS_SVC_ATTR_STATS = 10;
export const IPVS_SVC_ATTR_PE_NAME = 11;
export const IPVS_SVC_ATTR_STATS64 = 12;

// enum: IPVS_DEST_ATTR_*
export const IPVS_DEST_ATTR_UNSPEC = 0;
export const IPVS_DEST_ATTR_ADDR = 1;
export const IPVS_DEST_ATTR_PORT = 2;
export const IPVS_DEST_ATTR_FWD_METHOD = 3;
export const IPVS_DEST_ATTR_WEIGHT = 4;
export const IPVS_DEST_ATTR_U_THRESH = 5;
export const IPVS_DEST_ATTR_L_THRESH = 6;
export const IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
export const IPVS_DEST_ATTR_INACT_CONNS = 8;
export const IPVS_DEST_ATTR_PERSIST_CONNS = 9;
export const IPVS_DEST_ATTR_STATS = 10;
export const IPVS_DEST_ATTR_ADDR_FAMILY = 11;
export const IPVS_DEST_ATTR_STATS64 = 12;
export const IPVS_DEST_ATTR_TUN_TYPE = 13;
export const IPVS_DEST_ATTR_TUN_PORT = 14;
export const IPVS_DEST_ATTR_TUN_FLAGS = 15;

// enum: IPVS_DAEMON_ATTR_* (the nest under IPVS_CMD_ATTR_DAEMON)
export const IPVS_DAEMON_ATTR_UNSPEC = 0;
export const IPVS_DAEMON_ATTR_STATE = 1;
export const IPVS_DAEMON_ATTR_MCAST_IFN = 2;
export const IPVS_DAEMON_ATTR_SYNC_ID = 3;
export const IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4;
export const IPVS_DAEMON_ATTR_MCAST_GROUP = 5;
export const IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
export const IPVS_DAEMON_ATTR_MCAST_PORT = 7;
export const IPVS_DAEMON_ATTR_MCAST_TTL = 8;

// IP_VS_STATE_*: the sync daemon's role (include/uapi/linux/ip_vs.h)
export const IP_VS_STATE_NONE = 0x0000;
export const IP_VS_STATE_MASTER = 0x0001;
export const IP_VS_STATE_BACKUP = 0x0002;

/** IP_VS_IFNAME_MAXLEN: the interface name with its NUL. */
export const IP_VS_IFNAME_MAXLEN = 16;

// enum: IPVS_STATS_ATTR_* (IPVS_STATS64 nests reuse the same ids with u64 values)
export const IPVS_STATS_ATTR_UNSPEC = 0;
export const IPVS_STATS_ATTR_CONNS = 1;
export const IPVS_STATS_ATTR_INPKTS = 2;
export const IPVS_STATS_ATTR_OUTPKTS = 3;
export const IPVS_STATS_ATTR_INBYTES = 4;
export const IPVS_STATS_ATTR_OUTBYTES = 5;
export const IPVS_STATS_ATTR_CPS = 6;
export const IPVS_STATS_ATTR_INPPS = 7;
export const IPVS_STATS_ATTR_OUTPPS = 8;
export const IPVS_STATS_ATTR_INBPS = 9;
export const IPVS_STATS_ATTR_OUTBPS = 10;
export const IPVS_STATS_ATTR_PAD = 11;

// IP_VS_SVC_F_*
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
export const IP_VS_SVC_F_HASHED = 0x0002;
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
export const IP_VS_SVC_F_SCHED1 = 0x0008;
export const IP_VS_SVC_F_SCHED2 = 0x0010;
export const IP_VS_SVC_F_SCHED3 = 0x0020;
/** Any scheduler flag: the bits a service's `schedFlags` may hold. */
export const IP_VS_SVC_F_SCHED_MASK = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;
// include/uapi/linux/ip_vs.h
export const IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2;
// net/netfilter/ipvs/ip_vs_mh.c
export const IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2;

// IP_VS_CONN_F_FWD_MASK and forwarding methods
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_MASQ = 0x0000;
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
export const IP_VS_CONN_F_TUNNEL = 0x0002;
export const IP_VS_CONN_F_DROUTE = 0x0003;
export const IP_VS_CONN_F_BYPASS = 0x0004;

// enum: IP_VS_CONN_F_TUNNEL_TYPE_*
export const IP_VS_CONN_F_TUNNEL_TYPE_IPIP = 0;
export const IP_VS_CONN_F_TUNNEL_TYPE_GUE = 1;
export const IP_VS_CONN_F_TUNNEL_TYPE_GRE = 2;

// IP_VS_TUNNEL_ENCAP_FLAG_*
export const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0;
export const IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1 << 0;
export const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1;

// From include/uapi/linux/socket.h and in.h (not ip_vs.h), needed on the wire.
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

// Netlink framing (include/uapi/linux/netlink.h), used by the codec and the driver.
/** NLMSG_HDRLEN: struct nlmsghdr, aligned. */
export const NLMSG_HDRLEN = 16;
/** GENL_HDRLEN (include/uapi/linux/genetlink.h): struct genlmsghdr, aligned. */
export const GENL_HDRLEN = 4;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_DUMP = 0x300;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0x3fff;
