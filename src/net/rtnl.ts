// VIPs and interface lookups over rtnetlink (the `netlink` package), in the calling process's network namespace.
//
//   class Rtnl
//     static open(): Rtnl
//     addAddress(vip: AddressSpec): Promise<'added' | 'exists'>          like `ip addr add` (NLM_F_CREATE|EXCL)
//     delAddress(vip: AddressSpec): Promise<'removed' | 'absent'>
//     links(): Promise<LinkInfo[]>
//     linkByName(name: string): Promise<LinkInfo | undefined>
//     addresses(ifindex?: number): Promise<AddressInfo[]>
//     primaryAddress(ifindex: number, family: 4 | 6): Promise<string | undefined>
//         first non-secondary address; for IPv6 the link-local one (VRRPv3 adverts come from it, RFC 5798 §5.1.2.1)
//     change(op: string, req: NetlinkBody): Promise<void>      a prebuilt request (rtnl-route.ts routes and rules)
//     routeBodies(family): Promise<Buffer[]>                              RTM_GETROUTE dump (rtnl-route.ts parseRouteNote)
//     addLink(spec: NewLink): Promise<void>                               RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL
//     updateMacvlan(index, mac): Promise<void>                            RTM_NEWLINK on an existing macvlan
//     delLink(index): Promise<void>                                       RTM_DELLINK
//     setLinkUp(index): Promise<void>                                     ifi_flags/ifi_change IFF_UP
//     setAddrGenModeNone(index): Promise<void>                            IFLA_AF_SPEC/AF_INET6/IFLA_INET6_ADDR_GEN_MODE
//     setIpv4Devconf(index, conf: [IPV4_DEVCONF_*, value][]): Promise<void>  IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF
//     close(): void
//   class NetlinkError extends Error { op, errno (positive), code }
// The package's request() turns a NACK into a bare Error without errno (style-exemplars §3), so requests go through the
// netlink layer with checkError:false and NLMSG_ERROR is decoded here.
// Requests on one socket run one at a time: the package groups NLM_F_MULTI parts by arrival, not by sequence number,
// so a reply arriving in the middle of a dump cuts the dump short ("Multipart message not terminated properly").
import { createRtNetlink, parseError, rt, AttrStream, FlagsGet, FlagsNew, type RtNetlinkSocket, type NetlinkMessage } from './netlink-parts.js';
import { constants } from 'node:os';
import { formatIp, parseIp } from './addr.js';
import { MACVLAN_MODE_PRIVATE } from './link-uapi.js';
import type { NetlinkBody } from './rtnl-route.js';

// linux/rtnetlink.h rt_scope_t
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
// linux/socket.h
export const AF_INET = 2;
export const AF_INET6 = 10;
// linux/netlink.h
const NLMSG_ERROR = 2;
// linux/if_link.h
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_MACVLAN_MODE = 1;
const IFLA_IPVLAN_MODE = 1;
const IFLA_IPVLAN_FLAGS = 2;
const IFLA_INET_CONF = 1;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;
// An address's valid lifetime that never ends (linux/if_addr.h INFINITY_LIFE_TIME).
const INFINITY_LIFE_TIME = 0xffffffff;
const REQUEST_TIMEOUT_MS = 5000;
const errnoNames: Record<number, string> = Object.fromEntries(
  Object.entries(constants.errno).map(([name, n]) => [n, name]),
);

export type Scope = 'global' | 'site' | 'link' | 'host' | number;

export interface AddressSpec {
  readonly address: string;
  /** Default /32 or /128, as keepalived's virtual_ipaddress. */
  readonly prefixlen?: number;
  readonly ifindex: number;
  readonly label?: string;
  /** IPv4 only in effect: the kernel derives an IPv6 address's scope from the address itself. */
  readonly scope?: Scope;
  /** IPv4 broadcast address. */
  readonly broadcast?: string;
  /** Point-to-point peer. */
  readonly peer?: string;
  readonly noprefixroute?: boolean;
  /** IPv6: skip duplicate address detection (VIPs move between hosts by design; keepalived's `-nodad` keeps it). */
  readonly nodad?: boolean;
  /** IFA_F_HOMEADDRESS, IFA_F_MANAGETEMPADDR, IFA_F_MCAUTOJOIN (keepalived's home, mngtmpaddr, autojoin). */
  readonly homeaddress?: boolean;
  readonly managetempaddr?: boolean;
  readonly mcautojoin?: boolean;
  /** IPv6: IFA_CACHEINFO's preferred lifetime (0 marks the address deprecated); valid stays infinite. */
  readonly preferredLft?: number;
}

/** A macvlan or ipvlan device on `parent`, as keepalived's vrrp_vmac.c creates them. */
export type NewLink =
  | { readonly kind: 'macvlan'; readonly name: string; readonly parent: number; readonly mac: string; readonly macvlanMode: number }
  | { readonly kind: 'ipvlan'; readonly name: string; readonly parent: number; readonly ipvlanMode: number; readonly ipvlanFlags: number; readonly up: boolean };

export interface LinkInfo {
  readonly index: number;
  readonly name: string;
  /** aa:bb:cc:dd:ee:ff, or '' for links without one. */
  readonly mac: string;
  /** IFF_UP and IFF_RUNNING, keepalived's test for a usable interface. */
  readonly up: boolean;
  /** ifi_flags, all the IFF_* bits (keepalived keeps and logs them: keepalived_netlink.c update_interface_flags). */
  readonly flags: number;
  readonly mtu: number;
  /** IFF_UP alone (administratively up). */
  readonly adminUp?: boolean;
  /** IFLA_INFO_KIND (`macvlan`, `ipvlan`, `veth`…), when the link has IFLA_LINKINFO. */
  readonly kind?: string;
  /** IFLA_MACVLAN_MODE, or IFLA_IPVLAN_MODE, from IFLA_INFO_DATA. */
  readonly mode?: number;
  /** IFLA_IPVLAN_FLAGS. */
  readonly ipvlanFlags?: number;
  /** IFLA_LINK: the lower device's ifindex. */
  readonly parent?: number;
}

export interface AddressInfo {
  readonly ifindex: number;
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixlen: number;
  readonly scope: number;
  readonly secondary: boolean;
  readonly label?: string;
}

export class NetlinkError extends Error {
  readonly code: string;
  constructor(readonly op: string, readonly errno: number) {
    const code = errnoNames[errno] ?? `E${errno}`;
    super(`${op}: ${code}`);
    this.code = code;
  }
}

const scopeNumber = (s: Scope | undefined): number =>
  typeof s === 'number' ? s : ({ global: RT_SCOPE_UNIVERSE, site: RT_SCOPE_SITE, link: RT_SCOPE_LINK, host: RT_SCOPE_HOST } as const)[s ?? 'global'];

const formatMac = (b: Buffer | undefined): string =>
  b === undefined || b.length !== 6 ? '' : Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** The attributes in a nested attribute's payload, by type (the last of a type wins). */
function nestedAttrs(b: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let at = 0; at + 4 <= b.length; ) {
    const len = b.readUInt16LE(at);
    if (len < 4 || at + len > b.length) break;
    out.set(b.readUInt16LE(at + 2) & 0x3fff, b.subarray(at + 4, at + len));
    at += (len + 3) & ~3;
  }
  return out;
}

/** One netlink attribute, padded to 4 bytes. */
function nlattr(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(4 + payload.length, 0);
  head.writeUInt16LE(type, 2);
  const pad = Buffer.alloc((4 - (payload.length % 4)) % 4);
  return Buffer.concat([head, payload, pad]);
}

const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };

function linkKind(info: Buffer | undefined): Pick<LinkInfo, 'kind' | 'mode' | 'ipvlanFlags'> {
  if (info === undefined) return {};
  const a = nestedAttrs(info);
  const kind = a.get(IFLA_INFO_KIND)?.toString('utf8').replace(/\0+$/, '');
  const data = a.get(IFLA_INFO_DATA);
  const d = data === undefined ? new Map<number, Buffer>() : nestedAttrs(data);
  const out: { kind?: string; mode?: number; ipvlanFlags?: number } = {};
  if (kind !== undefined) out.kind = kind;
  const mode = d.get(kind === 'ipvlan' ? IFLA_IPVLAN_MODE : IFLA_MACVLAN_MODE);
  if (mode !== undefined && (kind === 'macvlan' || kind === 'ipvlan')) out.mode = kind === 'ipvlan' ? mode.readUInt16LE(0) : mode.readUInt32LE(0);
  const flags = d.get(IFLA_IPVLAN_FLAGS);
  if (kind === 'ipvlan' && flags !== undefined) out.ipvlanFlags = flags.readUInt16LE(0);
  return out;
}

export function linkInfo(m: rt.LinkMessage): LinkInfo {
  const parent = m.attrs.link !== undefined && m.attrs.link.length >= 4 ? m.attrs.link.readUInt32LE(0) : undefined;
  return {
    index: m.data.index ?? 0,
    name: m.attrs.ifname ?? '',
    mac: formatMac(m.attrs.address),
    up: m.data.flags?.up === true && m.data.flags.running === true,
    flags: m.data.flags ? rt.formatDeviceFlags(m.data.flags) : 0,
    mtu: m.attrs.mtu ?? 0,
    adminUp: m.data.flags?.up === true,
    ...linkKind(m.attrs.linkinfo),
    ...(parent !== undefined ? { parent } : {}),
  };
}

export function addressInfo(m: rt.AddressMessage): AddressInfo | undefined {
  const family = m.data.family === AF_INET ? 4 : m.data.family === AF_INET6 ? 6 : undefined;
  // IPv4 keeps the local address in IFA_LOCAL (IFA_ADDRESS is the peer on point-to-point links).
  const raw = family === 4 ? m.attrs.local ?? m.attrs.address : m.attrs.address;
  if (family === undefined || raw === undefined) return undefined;
  return {
    ifindex: m.data.index ?? 0,
    family,
    address: formatIp(raw),
    prefixlen: m.data.prefixlen ?? 0,
    scope: m.data.scope ?? 0,
    secondary: m.data.flags?.secondary === true || m.attrs.flags?.secondary === true,
    ...(m.attrs.label === undefined ? {} : { label: m.attrs.label }),
  };
}

export class Rtnl {
  /** The request in flight; the next one starts when it settles. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: RtNetlinkSocket) {}

  static open(): Rtnl {
    return new Rtnl(createRtNetlink());
  }

  /** Sends one request and returns its replies; a NACK becomes a NetlinkError carrying the errno. */
  private request(op: string, type: number, body: AttrStream, flags = 0): Promise<NetlinkMessage[]> {
    const run = this.tail.then(() => this.exchange(op, type, body, flags));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async exchange(op: string, type: number, body: AttrStream, flags: number): Promise<NetlinkMessage[]> {
    const [msgs] = await this.sock.socket.request(type, body.bufs, { flags, checkError: false, timeout: REQUEST_TIMEOUT_MS });
    for (const m of msgs) {
      if (m.type !== NLMSG_ERROR) continue;
      const { errno } = parseError(m.data, m.flags);
      if (errno !== 0) throw new NetlinkError(op, -errno);
    }
    return msgs.filter((m) => m.type !== NLMSG_ERROR);
  }

  private addressMessage(v: AddressSpec): AttrStream {
    const ip = parseIp(v.address);
    const family = ip.length === 4 ? AF_INET : AF_INET6;
    const attrs: rt.AddressAttrs = {};
    if (family === AF_INET) {
      attrs.local = ip;
      attrs.address = v.peer === undefined ? ip : parseIp(v.peer);
      if (v.broadcast !== undefined) attrs.broadcast = parseIp(v.broadcast);
    } else {
      attrs.address = ip;
      if (v.peer !== undefined) {
        attrs.local = ip;
        attrs.address = parseIp(v.peer);
      }
    }
    if (v.label !== undefined) attrs.label = v.label;
    if (v.preferredLft !== undefined) attrs.cacheInfo = { ifaPrefered: v.preferredLft, ifaValid: INFINITY_LIFE_TIME, cstamp: 0, tstamp: 0 };
    const flags: rt.AddressFlags = {};
    for (const f of ['noprefixroute', 'nodad', 'homeaddress', 'managetempaddr', 'mcautojoin'] as const) if (v[f]) flags[f] = true;
    if (Object.keys(flags).length > 0) attrs.flags = flags;
    const out = new AttrStream();
    rt.formatAddressMessage(
      {
        kind: 'address',
        data: { family, prefixlen: v.prefixlen ?? ip.length * 8, scope: scopeNumber(v.scope), index: v.ifindex },
        attrs,
      },
      out,
    );
    return out;
  }

  async addAddress(v: AddressSpec): Promise<'added' | 'exists'> {
    try {
      await this.request('RTM_NEWADDR', rt.MessageType.NEWADDR, this.addressMessage(v), FlagsNew.CREATE | FlagsNew.EXCL);
      return 'added';
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'EEXIST') return 'exists';
      throw e;
    }
  }

  async delAddress(v: AddressSpec): Promise<'removed' | 'absent'> {
    try {
      await this.request('RTM_DELADDR', rt.MessageType.DELADDR, this.addressMessage(v));
      return 'removed';
    } catch (e) {
      if (e instanceof NetlinkError && (e.code === 'EADDRNOTAVAIL' || e.code === 'ENODEV')) return 'absent';
      throw e;
    }
  }

  async links(): Promise<LinkInfo[]> {
    const out = new AttrStream();
    rt.formatLinkMessage({ kind: 'link', data: {}, attrs: {} }, out);
    const msgs = await this.request('RTM_GETLINK', rt.MessageType.GETLINK, out, FlagsGet.DUMP);
    return msgs.filter((m) => m.type === rt.MessageType.NEWLINK).map((m) => linkInfo(rt.parseLinkMessage(m.data)));
  }

  async linkByName(name: string): Promise<LinkInfo | undefined> {
    return (await this.links()).find((l) => l.name === name);
  }

  async addresses(ifindex?: number): Promise<AddressInfo[]> {
    const out = new AttrStream();
    rt.formatAddressMessage({ kind: 'address', data: {}, attrs: {} }, out);
    const msgs = await this.request('RTM_GETADDR', rt.MessageType.GETADDR, out, FlagsGet.DUMP);
    const all = msgs
      .filter((m) => m.type === rt.MessageType.NEWADDR)
      .map((m) => addressInfo(rt.parseAddressMessage(m.data)))
      .filter((a): a is AddressInfo => a !== undefined);
    return ifindex === undefined ? all : all.filter((a) => a.ifindex === ifindex);
  }

  async primaryAddress(ifindex: number, family: 4 | 6): Promise<string | undefined> {
    const addrs = (await this.addresses(ifindex)).filter((a) => a.family === family && !a.secondary);
    const pick = family === 6 ? addrs.find((a) => a.scope === RT_SCOPE_LINK) : addrs[0];
    return pick?.address;
  }

  /** Sends a request built elsewhere (routes, rules); a NACK becomes a NetlinkError. */
  async change(op: string, req: NetlinkBody): Promise<void> {
    const body = new AttrStream();
    body.emit(req.body);
    await this.request(op, req.type, body, req.flags);
  }

  /** Every route of a family, all tables, as RTM_NEWROUTE bodies. */
  async routeBodies(family: number): Promise<Buffer[]> {
    const rtmsg = Buffer.alloc(12);
    rtmsg.writeUInt8(family, 0);
    const body = new AttrStream();
    body.emit(rtmsg);
    const msgs = await this.request('RTM_GETROUTE', rt.MessageType.GETROUTE, body, FlagsGet.DUMP);
    return msgs.filter((m) => m.type === rt.MessageType.NEWROUTE).map((m) => m.data);
  }

  private linkRequest(op: string, m: rt.LinkMessage, flags = 0): Promise<NetlinkMessage[]> {
    const out = new AttrStream();
    rt.formatLinkMessage(m, out);
    return this.request(op, rt.MessageType.NEWLINK, out, flags);
  }

  async addLink(spec: NewLink): Promise<void> {
    const data =
      spec.kind === 'macvlan'
        ? nlattr(IFLA_MACVLAN_MODE, u32(spec.macvlanMode))
        : Buffer.concat([nlattr(IFLA_IPVLAN_MODE, u16(spec.ipvlanMode)), nlattr(IFLA_IPVLAN_FLAGS, u16(spec.ipvlanFlags))]);
    const linkinfo = Buffer.concat([nlattr(IFLA_INFO_KIND, Buffer.from(spec.kind)), nlattr(IFLA_INFO_DATA, data)]);
    const up = spec.kind === 'ipvlan' && spec.up;
    await this.linkRequest(
      'RTM_NEWLINK',
      {
        kind: 'link',
        data: up ? { flags: { up: true }, change: { up: true } } : {},
        attrs: {
          linkinfo,
          link: u32(spec.parent),
          ifname: spec.name,
          ...(spec.kind === 'macvlan' ? { address: Buffer.from(spec.mac.split(':').map((x) => parseInt(x, 16))) } : {}),
        },
      },
      FlagsNew.CREATE | FlagsNew.EXCL,
    );
  }

  async updateMacvlan(index: number, mac: string): Promise<void> {
    const linkinfo = Buffer.concat([nlattr(IFLA_INFO_KIND, Buffer.from('macvlan')), nlattr(IFLA_INFO_DATA, nlattr(IFLA_MACVLAN_MODE, u32(MACVLAN_MODE_PRIVATE)))]);
    await this.linkRequest('RTM_NEWLINK', {
      kind: 'link',
      data: { index },
      attrs: { linkinfo, address: Buffer.from(mac.split(':').map((x) => parseInt(x, 16))) },
    });
  }

  async delLink(index: number): Promise<void> {
    const out = new AttrStream();
    rt.formatLinkMessage({ kind: 'link', data: { index }, attrs: {} }, out);
    await this.request('RTM_DELLINK', rt.MessageType.DELLINK, out);
  }

  async setLinkUp(index: number): Promise<void> {
    await this.linkRequest('RTM_NEWLINK', { kind: 'link', data: { index, flags: { up: true }, change: { up: true } }, attrs: {} });
  }

  async setAddrGenModeNone(index: number): Promise<void> {
    const inet6 = nlattr(IFLA_INET6_ADDR_GEN_MODE, Buffer.from([IN6_ADDR_GEN_MODE_NONE]));
    await this.linkRequest('RTM_NEWLINK', { kind: 'link', data: { index }, attrs: { afSpec: new Map([[AF_INET6, inet6]]) } });
  }

  async setIpv4Devconf(index: number, conf: readonly (readonly [number, number])[]): Promise<void> {
    const inet = nlattr(IFLA_INET_CONF, Buffer.concat(conf.map(([id, value]) => nlattr(id, u32(value)))));
    await this.linkRequest('RTM_NEWLINK', { kind: 'link', data: { index }, attrs: { afSpec: new Map([[AF_INET, inet]]) } });
  }

  close(): void {
    this.sock.socket.close();
  }
}
