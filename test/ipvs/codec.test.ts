// Golden bytes for the IPVS attribute codec. The expected hex below is written by hand from
// include/uapi/linux/ip_vs.h (v6.1) and net/netfilter/ipvs/ip_vs_ctl.c (attribute policy, byte orders), one field per
// line; it does not come from the encoder under test. The kernel round trip of the same shapes is in test/vm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IpvsCodecError, decodeDestAttrs, decodeServiceAttrs, decodeServiceMessage, decodeTimeouts, encodeDest, encodeService,
  encodeServiceKey, encodeTimeouts, parseAttrs, type DecodeCounters,
} from '../../src/ipvs/codec.js';
import type { Destination, Service } from '../../src/ipvs/types.js';
import * as U from '../../src/ipvs/uapi.js';

/** Hex with comments and whitespace, as written in this file → bytes. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');

const SERVICE_V4 = hex(`
  48 00 01 80              # nla len 72, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
  06 00 01 00  02 00 00 00 # IPVS_SVC_ATTR_AF u16 host order: AF_INET, 2 bytes pad
  06 00 02 00  06 00 00 00 # IPVS_SVC_ATTR_PROTOCOL u16: IPPROTO_TCP
  08 00 03 00  c0 00 02 0a # IPVS_SVC_ATTR_ADDR: 192.0.2.10
  06 00 04 00  00 50 00 00 # IPVS_SVC_ATTR_PORT big-endian: 80
  08 00 06 00  77 6c 63 00 # IPVS_SVC_ATTR_SCHED_NAME "wlc\\0"
  0c 00 07 00  05 00 00 00 # IPVS_SVC_ATTR_FLAGS flags: PERSISTENT|ONEPACKET
               ff ff ff ff #   mask: all bits
  08 00 08 00  2c 01 00 00 # IPVS_SVC_ATTR_TIMEOUT u32: 300 s
  08 00 09 00  ff ff ff 00 # IPVS_SVC_ATTR_NETMASK: the mask in network order, /24
`);
const serviceV4: Service = {
  key: { family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 },
  scheduler: 'wlc', flags: { onePacket: true }, persistenceTimeoutS: 300, persistenceNetmask: 0xffffff00,
};

const SERVICE_V6_FWMARK = hex(`
  40 00 01 80              # nla len 64, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
  06 00 01 00  0a 00 00 00 # IPVS_SVC_ATTR_AF: AF_INET6
  08 00 05 00  07 00 00 00 # IPVS_SVC_ATTR_FWMARK u32: 7 (no protocol/address/port)
  07 00 06 00  73 68 00 00 # IPVS_SVC_ATTR_SCHED_NAME "sh\\0" (nla len 7) + 1 pad
  08 00 0b 00  73 69 70 00 # IPVS_SVC_ATTR_PE_NAME "sip\\0"
  0c 00 07 00  19 00 00 00 # IPVS_SVC_ATTR_FLAGS: PERSISTENT|SCHED1|SCHED2
               ff ff ff ff #   mask
  08 00 08 00  78 00 00 00 # IPVS_SVC_ATTR_TIMEOUT: 120 s
  08 00 09 00  40 00 00 00 # IPVS_SVC_ATTR_NETMASK: IPv6 prefix length as a host-order u32: 64
`);
const serviceV6: Service = {
  key: { family: 'inet6', fwmark: 7 }, scheduler: 'sh', flags: { schedFlags: U.IP_VS_SVC_F_SCHED_SH_FALLBACK | U.IP_VS_SVC_F_SCHED_SH_PORT },
  persistenceTimeoutS: 120, persistenceNetmask: 64, persistenceEngine: 'sip',
};

// A destination as a 6.1 kernel replies to GET_DEST, attributes deliberately out of order, plus one unknown id.
const DEST_REPLY = hex(`
  14 00 01 00  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05 # IPVS_DEST_ATTR_ADDR: 2001:db8::5
  06 00 02 00  1f 90 00 00 # IPVS_DEST_ATTR_PORT big-endian: 8080
  08 00 04 00  00 00 01 00 # IPVS_DEST_ATTR_WEIGHT u32: 65536 (does not fit a u16)
  08 00 03 00  02 00 00 00 # IPVS_DEST_ATTR_FWD_METHOD: IP_VS_CONN_F_TUNNEL
  08 00 05 00  64 00 00 00 # IPVS_DEST_ATTR_U_THRESH: 100
  08 00 06 00  0a 00 00 00 # IPVS_DEST_ATTR_L_THRESH: 10
  08 00 07 00  03 00 00 00 # IPVS_DEST_ATTR_ACTIVE_CONNS: 3
  08 00 08 00  04 00 00 00 # IPVS_DEST_ATTR_INACT_CONNS: 4
  08 00 09 00  01 00 00 00 # IPVS_DEST_ATTR_PERSIST_CONNS: 1
  05 00 0d 00  01 00 00 00 # IPVS_DEST_ATTR_TUN_TYPE u8: GUE, 3 pad
  06 00 0e 00  17 c0 00 00 # IPVS_DEST_ATTR_TUN_PORT big-endian: 6080
  06 00 0f 00  03 00 00 00 # IPVS_DEST_ATTR_TUN_FLAGS u16: CSUM|REMCSUM
  1c 00 0c 80              # IPVS_DEST_ATTR_STATS64 | NLA_F_NESTED, len 28
  0c 00 01 00  09 00 00 00 00 00 00 00 # IPVS_STATS_ATTR_CONNS u64: 9
  0c 00 04 00  00 00 00 00 00 01 00 00 # IPVS_STATS_ATTR_INBYTES u64: 2^40
  08 00 63 00  ee ee ee ee # attribute 99: unknown to us, must be counted and skipped
  06 00 0b 00  0a 00 00 00 # IPVS_DEST_ATTR_ADDR_FAMILY u16: AF_INET6 (after ADDR: order must not matter)
`);

const TIMEOUTS = hex(`
  08 00 04 00  e8 03 00 00 # IPVS_CMD_ATTR_TIMEOUT_TCP: 1000
  08 00 06 00  c8 00 00 00 # IPVS_CMD_ATTR_TIMEOUT_UDP: 200 (TCP_FIN absent: kept by the kernel)
`);

test('encodeService writes the golden bytes for an IPv4 persistent service', () => {
  assert.equal(encodeService(serviceV4).toString('hex'), SERVICE_V4.toString('hex'));
});

test('encodeService writes the golden bytes for an IPv6 fwmark service (prefix-length netmask)', () => {
  assert.equal(encodeService(serviceV6).toString('hex'), SERVICE_V6_FWMARK.toString('hex'));
});

test('service golden bytes decode to the shape and re-encode to the same bytes', () => {
  for (const [bytes, shape] of [[SERVICE_V4, serviceV4], [SERVICE_V6_FWMARK, serviceV6]] as const) {
    const nest = parseAttrs(bytes)[0]!;
    const { service } = decodeServiceAttrs(nest.value);
    assert.deepEqual(service, shape);
    assert.equal(encodeService(service).toString('hex'), bytes.toString('hex'));
  }
});

test('a kernel destination reply decodes whatever the attribute order, counting the unknown one', () => {
  const counters: DecodeCounters = { unknownAttrs: 0 };
  const e = decodeDestAttrs(DEST_REPLY, 'inet', counters);
  assert.deepEqual(e.dest, {
    family: 'inet6', address: '2001:db8::5', port: 8080, forward: 'TUN', weight: 65536,
    upperThreshold: 100, lowerThreshold: 10, tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: { csum: true, remCsum: true },
  });
  assert.equal(e.activeConns, 3);
  assert.equal(e.inactiveConns, 4);
  assert.equal(e.persistentConns, 1);
  assert.equal(e.stats?.conns, 9n);
  assert.equal(e.stats?.inBytes, 1n << 40n);
  assert.equal(counters.unknownAttrs, 1);
});

test('the decoded destination re-encodes as a NEW_DEST request with the same fields', () => {
  const { dest } = decodeDestAttrs(DEST_REPLY, 'inet');
  const attrs = parseAttrs(encodeDest({ family: 'inet6', fwmark: 7 }, dest));
  assert.deepEqual(decodeDestAttrs(attrs[1]!.value, 'inet6').dest, dest);
});

test('timeouts: only given values are sent; replies decode by attribute id', () => {
  assert.equal(encodeTimeouts({ tcpS: 1000, udpS: 200 }).toString('hex'), TIMEOUTS.toString('hex'));
  assert.deepEqual(decodeTimeouts(TIMEOUTS), { tcpS: 1000, tcpFinS: 0, udpS: 200 });
});

test('a service key carries only the identifying attributes', () => {
  const attrs = parseAttrs(parseAttrs(encodeServiceKey(serviceV4.key))[0]!.value).map((a) => a.type);
  assert.deepEqual(attrs, [1, 2, 3, 4]);
});

test('round trips: shapes → bytes → shapes for every family, protocol, method and flag', () => {
  const services: Service[] = [
    serviceV4, serviceV6,
    { key: { family: 'inet', protocol: 'udp', address: '198.51.100.1', port: 53 }, scheduler: 'rr', flags: {}, persistenceTimeoutS: 0, persistenceNetmask: 0xffffffff },
    { key: { family: 'inet6', protocol: 'sctp', address: '2001:db8:0:1::', port: 65535 }, scheduler: 'mh', flags: { schedFlags: U.IP_VS_SVC_F_SCHED3 }, persistenceTimeoutS: 1, persistenceNetmask: 128 },
    { key: { family: 'inet', fwmark: 0xffffffff }, scheduler: 'lblcr', flags: {}, persistenceTimeoutS: 86400, persistenceNetmask: 0x80000000 },
  ];
  for (const s of services) {
    assert.deepEqual(decodeServiceAttrs(parseAttrs(encodeService(s))[0]!.value).service, s);
  }
  const dests: Destination[] = [
    { family: 'inet', address: '192.0.2.5', port: 80, forward: 'NAT', weight: 0, upperThreshold: 0, lowerThreshold: 0 },
    { family: 'inet', address: '192.0.2.6', port: 0, forward: 'DR', weight: 0xffffffff, upperThreshold: 1, lowerThreshold: 2 },
    { family: 'inet', address: '192.0.2.7', port: 1, forward: 'TUN', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnelType: 'ipip' },
    { family: 'inet6', address: '::ffff:192.0.2.8', port: 443, forward: 'TUN', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnelType: 'gre', tunnelFlags: { csum: true } },
  ];
  for (const d of dests) {
    assert.deepEqual(decodeDestAttrs(parseAttrs(encodeDest(serviceV4.key, d))[1]!.value, 'inet').dest, d);
  }
});

test('the decoder rejects truncated and inconsistent input with IpvsCodecError', () => {
  assert.throws(() => parseAttrs(hex('08 00 01 00 00')), IpvsCodecError);
  assert.throws(() => parseAttrs(hex('03 00 01 00')), IpvsCodecError);
  assert.throws(() => decodeServiceAttrs(hex('06 00 01 00 63 00 00 00')), /unknown address family 99/);
  assert.throws(() => decodeDestAttrs(hex('05 00 02 00 00 00 00 00'), 'inet'), /dest port/);
  assert.throws(() => decodeServiceMessage(hex('04 01')), IpvsCodecError);
});

/** xorshift32: a fixed seed keeps any failure reproducible. */
function rng(seed: number): () => number {
  let x = seed;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

test('fuzz: random and mutated buffers never throw anything but IpvsCodecError', () => {
  const next = rng(0x1f2e3d4c);
  const seeds = [SERVICE_V4, SERVICE_V6_FWMARK, DEST_REPLY, TIMEOUTS];
  const decoders: ((b: Buffer) => unknown)[] = [
    (b) => decodeServiceAttrs(b), (b) => decodeDestAttrs(b, 'inet'), (b) => decodeTimeouts(b),
    (b) => decodeServiceMessage(b), (b) => decodeServiceAttrs(b.subarray(4)),
  ];
  let decoded = 0;
  for (let i = 0; i < 20000; i++) {
    let b: Buffer;
    if (i % 2 === 0) {
      b = Buffer.from(seeds[next() % seeds.length]!);
      for (let k = next() % 4; k >= 0; k--) b[next() % b.length] = next() & 0xff;
      b = b.subarray(0, next() % (b.length + 1));
    } else {
      b = Buffer.alloc(next() % 64);
      for (let k = 0; k < b.length; k++) b[k] = next() & 0xff;
    }
    for (const d of decoders) {
      try {
        d(b);
        decoded++;
      } catch (e) {
        assert.ok(e instanceof IpvsCodecError, `unexpected ${String(e)} for ${b.toString('hex')}`);
      }
    }
  }
  assert.ok(decoded > 0, 'some mutated inputs still decode');
});
