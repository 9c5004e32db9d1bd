// Gratuitous ARP (RFC 5227 §3 "ARP Announcement", RFC 826 layout) and unsolicited Neighbour Advertisement
// (RFC 4861 §4.4, §7.2.6) for VIPs taken over by a new master (keepalived vrrp_arp.c / vrrp_ndisc.c).
//
//   buildGarpFrame(mac: string, vip: string): Buffer      Ethernet broadcast + ARP request, sender = target = VIP
//   buildUnsolicitedNa(mac: string, vip: string): Buffer  ICMPv6 type 136, Override flag, target link-layer option;
//                                                        checksum left 0: the kernel fills it on raw ICMPv6 sockets
//   sendGarp(sock: RawSock, mac, vip)                    sock from openPacketSocket({ifindex, ethertype: ETH_P_ARP})
//   sendUnsolicitedNa(sock: RawSock, mac, vip)           sock from openIcmp6Socket({ifindex}); to ff02::1, hop limit 255,
//                                                        from the VIP itself as keepalived sends it; while the VIP is
//                                                        still tentative (DAD) the kernel refuses it as a source, and
//                                                        the NA goes from the kernel's choice of address instead
// The MAC is the interface's (or the VMAC's) in aa:bb:cc:dd:ee:ff form.
import { parseIp } from '../net/addr.js';
import { ETH_P_ARP, type RawSock } from '../net/rawsock.js';

// linux/if_ether.h, linux/if_arp.h
export const ETH_P_IP = 0x0800;
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
// RFC 4861 §4.4, §4.6.1
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_NA_FLAG_ROUTER = 0x80000000;
export const ND_NA_FLAG_SOLICITED = 0x40000000;
export const ND_NA_FLAG_OVERRIDE = 0x20000000;
export const ND_OPT_TARGET_LINKADDR = 2;
export const ALL_NODES_V6 = 'ff02::1';

export function parseMac(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new TypeError(`not a MAC address: '${mac}'`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function buildGarpFrame(mac: string, vip: string): Buffer {
  const hw = parseMac(mac);
  const ip = parseIp(vip);
  if (ip.length !== 4) throw new TypeError(`GARP needs an IPv4 address, got '${vip}'`);
  const f = Buffer.alloc(14 + 28);
  f.fill(0xff, 0, 6); // Ethernet destination: broadcast
  hw.copy(f, 6); // Ethernet source
  f.writeUInt16BE(ETH_P_ARP, 12);
  f.writeUInt16BE(ARPHRD_ETHER, 14); // hardware type
  f.writeUInt16BE(ETH_P_IP, 16); // protocol type
  f.writeUInt8(6, 18); // hardware address length
  f.writeUInt8(4, 19); // protocol address length
  f.writeUInt16BE(ARPOP_REQUEST, 20);
  hw.copy(f, 22); // sender hardware address
  ip.copy(f, 28); // sender protocol address = VIP
  f.fill(0xff, 32, 38); // target hardware address: broadcast, as keepalived sends it
  ip.copy(f, 38); // target protocol address = VIP
  return f;
}

export function buildUnsolicitedNa(mac: string, vip: string): Buffer {
  const hw = parseMac(mac);
  const ip = parseIp(vip);
  if (ip.length !== 16) throw new TypeError(`NA needs an IPv6 address, got '${vip}'`);
  const m = Buffer.alloc(24 + 8);
  m.writeUInt8(ND_NEIGHBOR_ADVERT, 0);
  m.writeUInt8(0, 1); // code
  m.writeUInt16BE(0, 2); // checksum: computed by the kernel for IPPROTO_ICMPV6 raw sockets
  m.writeUInt32BE(ND_NA_FLAG_OVERRIDE, 4);
  ip.copy(m, 8); // target address = VIP
  m.writeUInt8(ND_OPT_TARGET_LINKADDR, 24);
  m.writeUInt8(1, 25); // option length in units of 8 bytes
  hw.copy(m, 26);
  return m;
}

export function sendGarp(sock: RawSock, mac: string, vip: string): void {
  sock.sendFrame(buildGarpFrame(mac, vip));
}

export function sendUnsolicitedNa(sock: RawSock, mac: string, vip: string): void {
  const na = buildUnsolicitedNa(mac, vip);
  try {
    sock.send(na, ALL_NODES_V6, vip);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') throw e;
    sock.send(na, ALL_NODES_V6);
  }
}
