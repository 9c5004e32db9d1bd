// Typed wrapper over the lvsk_rawsock addon (native/rawsock.cc), loaded through src/native/addon.ts.
//
//   openVrrpSocket(opts: VrrpSocketOptions, binding?: RawSocketBinding): RawSock
//   openIcmp6Socket(opts: { ifindex; device? }, binding?): RawSock        unsolicited NA sender (hop limit 255)
//   openPacketSocket(opts: { ifindex; ethertype? }, binding?): RawSock    GARP sender / frame capture (bound to ifindex)
//   openPingSocket(family: 4 | 6, opts?: { device?; mark? }, binding?): RawSock  PING_CHECK echoes (echo replies only)
//   openUdpReceiver(family: 4 | 6, port: number, binding?): RawSock   UDP on *:port, receive only, with each TTL
//   class RawSock extends EventEmitter
//     'message' (m: RawMessage)   'error' (err: RawSockError)
//     send(data: Uint8Array, dst: string, src?: string): void     IP payload; kernel adds the header
//     sendFrame(frame: Uint8Array): void                          whole Ethernet frame (packet sockets)
//     joinGroup(group: string) / leaveGroup(group: string)        on the socket's ifindex
//     setTtl(unicast: number, multicast?: number): void
//     close(): void                                               idempotent
//   loadBinding(): RawSocketBinding                               the real addon (tests may pass a fake instead)
// Errors from the addon carry { errno, code, syscall } like Node's own.
import { EventEmitter } from 'node:events';
import { formatIp, parseIp } from './addr.js';
import { loadAddon } from '../native/addon.js';

export interface RawMessage {
  /** VRRP payload (IPv4 header already stripped), ICMPv6 message, or Ethernet frame for packet sockets. */
  readonly data: Buffer;
  /** Source IP, or sender MAC (aa:bb:…) on packet sockets. */
  readonly src: string;
  /** Destination IP; '' on packet sockets. */
  readonly dst: string;
  readonly ifindex: number;
  /** TTL / hop limit as received; -1 on packet sockets. */
  readonly ttl: number;
  /** IPv4: the IP header's protocol (112, or 51 when AH precedes VRRP); IPv6: 0; packet: the ethertype; udp: the source port. */
  readonly proto: number;
}

export interface RawSockError extends Error {
  errno?: number;
  code?: string;
  syscall?: string;
}

/** The native class as the addon exposes it; tests can supply their own implementation. */
export interface NativeRawSocket {
  bindToDevice(name: string): void;
  setMark(mark: number): void;
  bindPacket(ifindex: number, ethertype: number): void;
  bindUdp(port: number): void;
  joinGroup(group: Buffer, ifindex: number): void;
  leaveGroup(group: Buffer, ifindex: number): void;
  setMulticastInterface(ifindex: number): void;
  setTtl(unicast: number, multicast: number): void;
  send(data: Uint8Array, dst: Buffer, ifindex: number, src: Buffer | null): void;
  sendFrame(frame: Uint8Array, ifindex: number): void;
  close(): void;
}

export type OnNativeMessage = (
  data: Buffer, src: Buffer | null, dst: Buffer | null, ifindex: number, ttl: number, proto: number,
) => void;

export interface RawSocketBinding {
  RawSocket: new (
    kind: 'vrrp' | 'icmp6' | 'packet' | 'ping' | 'udp', familyOrEthertype: number, onMessage: OnNativeMessage, onError: (e: Error) => void,
  ) => NativeRawSocket;
}

export function loadBinding(): RawSocketBinding {
  return loadAddon('lvsk_rawsock') as RawSocketBinding;
}

const formatMac = (b: Buffer): string => Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');

export class RawSock extends EventEmitter<{ message: [RawMessage]; error: [RawSockError] }> {
  private readonly native: NativeRawSocket;
  private closed = false;

  constructor(
    create: (onMessage: OnNativeMessage, onError: (e: Error) => void) => NativeRawSocket,
    readonly ifindex: number,
    private readonly isPacket: boolean,
  ) {
    super();
    this.native = create(
      (data, src, dst, ifindex, ttl, proto) => {
        const m: RawMessage = {
          data,
          src: src === null ? '' : this.isPacket ? formatMac(src) : formatIp(src),
          dst: dst === null ? '' : formatIp(dst),
          ifindex, ttl, proto,
        };
        this.emit('message', m);
      },
      (e) => {
        this.emit('error', e);
      },
    );
  }

  /** @internal the native handle, for the open* helpers' setup calls. */
  get handle(): NativeRawSocket {
    return this.native;
  }

  send(data: Uint8Array, dst: string, src?: string): void {
    this.native.send(data, parseIp(dst), this.ifindex, src === undefined ? null : parseIp(src));
  }

  sendFrame(frame: Uint8Array): void {
    this.native.sendFrame(frame, this.ifindex);
  }

  joinGroup(group: string): void {
    this.native.joinGroup(parseIp(group), this.ifindex);
  }

  leaveGroup(group: string): void {
    this.native.leaveGroup(parseIp(group), this.ifindex);
  }

  setTtl(unicast: number, multicast = 255): void {
    this.native.setTtl(unicast, multicast);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
  }
}

export interface VrrpSocketOptions {
  readonly family: 4 | 6;
  readonly ifindex: number;
  /** SO_BINDTODEVICE: only packets from this interface (keepalived binds its sockets the same way). */
  readonly device?: string;
  /** Multicast groups to join on ifindex (224.0.0.18 / ff02::12); none for unicast-only instances. */
  readonly groups?: readonly string[];
}

function open(
  binding: RawSocketBinding, kind: 'vrrp' | 'icmp6' | 'packet' | 'ping' | 'udp', arg: number, ifindex: number,
): RawSock {
  return new RawSock((onMessage, onError) => new binding.RawSocket(kind, arg, onMessage, onError), ifindex, kind === 'packet');
}

/** Closes the socket when setup fails, so a half-configured fd never leaks. */
function setup(sock: RawSock, fn: () => void): RawSock {
  try {
    fn();
  } catch (e) {
    sock.close();
    throw e;
  }
  return sock;
}

export function openVrrpSocket(opts: VrrpSocketOptions, binding: RawSocketBinding = loadBinding()): RawSock {
  const sock = open(binding, 'vrrp', opts.family, opts.ifindex);
  return setup(sock, () => {
    if (opts.device !== undefined) sock.handle.bindToDevice(opts.device);
    sock.handle.setMulticastInterface(opts.ifindex);
    for (const g of opts.groups ?? []) sock.joinGroup(g);
  });
}

export function openIcmp6Socket(opts: { ifindex: number; device?: string }, binding: RawSocketBinding = loadBinding()): RawSock {
  const sock = open(binding, 'icmp6', 6, opts.ifindex);
  return setup(sock, () => {
    if (opts.device !== undefined) sock.handle.bindToDevice(opts.device);
    sock.handle.setMulticastInterface(opts.ifindex);
  });
}

/** A PING_CHECK's bind_if (SO_BINDTODEVICE) and fwmark (SO_MARK). */
export interface PingSocketOptions {
  readonly device?: string;
  readonly mark?: number;
}

/** PING_CHECK's echo socket: receives echo replies only (the kernel filters) and sends to any address. */
export function openPingSocket(family: 4 | 6, opts: PingSocketOptions = {}, binding: RawSocketBinding = loadBinding()): RawSock {
  const sock = open(binding, 'ping', family, 0);
  return setup(sock, () => {
    if (opts.device !== undefined) sock.handle.bindToDevice(opts.device);
    if (opts.mark !== undefined) sock.handle.setMark(opts.mark);
  });
}

/**
 * A UDP socket on every address of the family, for receiving only: Node's dgram does not give a datagram's TTL / hop
 * limit, and BFD's GTSM check needs it (keepalived bfd_scheduler.c bfd_open_fd_in and bfd_receive_packet).
 */
export function openUdpReceiver(family: 4 | 6, port: number, binding: RawSocketBinding = loadBinding()): RawSock {
  const sock = open(binding, 'udp', family, 0);
  return setup(sock, () => sock.handle.bindUdp(port));
}

/** ETH_P_ARP = 0x0806, ETH_P_IPV6 = 0x86dd, ETH_P_ALL = 0x0003 (linux/if_ether.h). */
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ALL = 0x0003;

export function openPacketSocket(opts: { ifindex: number; ethertype?: number }, binding: RawSocketBinding = loadBinding()): RawSock {
  const ethertype = opts.ethertype ?? ETH_P_ARP;
  const sock = open(binding, 'packet', ethertype, opts.ifindex);
  return setup(sock, () => sock.handle.bindPacket(opts.ifindex, ethertype));
}
