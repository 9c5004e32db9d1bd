// Child process for rawsock.test.ts, run inside a test namespace with `ip netns exec NS node …`.
// Prints one JSON object per line: {"ready":true} once listening, then one line per received message or action.
//   recv  FAMILY IFNAME GROUP|- COUNT      VRRP socket; prints {src,dst,ifindex,ttl,proto,hex}
//   send  FAMILY IFNAME DST SRC            one VRRPv3 advert (VRID 42, priority 100, VIP list by family)
//   na-recv IFNAME COUNT                  ICMPv6 socket (NA filter); prints messages
//   capture IFNAME ETHERTYPE COUNT        packet socket; prints frames
//   garp IFNAME VIP / na IFNAME VIP       sends one GARP / unsolicited NA with the interface's MAC
import { openIcmp6Socket, openPacketSocket, openVrrpSocket, type RawSock } from '../../src/net/rawsock.js';
import { Rtnl } from '../../src/net/rtnl.js';
import { encodeAdvert } from '../../src/vrrp/packet.js';
import { sendGarp, sendUnsolicitedNa } from '../../src/vrrp/announce.js';

const [mode, ...args] = process.argv.slice(2);
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

async function link(name: string): Promise<{ index: number; mac: string }> {
  const r = Rtnl.open();
  try {
    const l = await r.linkByName(name);
    if (l === undefined) throw new Error(`no link ${name}`);
    return l;
  } finally {
    r.close();
  }
}

function listen(sock: RawSock, count: number): void {
  let seen = 0;
  sock.on('error', (e) => out({ error: e.message }));
  sock.on('message', (m) => {
    out({ src: m.src, dst: m.dst, ifindex: m.ifindex, ttl: m.ttl, proto: m.proto, hex: m.data.toString('hex') });
    if (++seen >= count) sock.close();
  });
  out({ ready: true });
}

async function main(): Promise<void> {
  if (mode === 'recv') {
    const [family, ifname, group, count] = args as [string, string, string, string];
    const l = await link(ifname);
    const sock = openVrrpSocket({
      family: family === '6' ? 6 : 4, ifindex: l.index, device: ifname, groups: group === '-' ? [] : [group],
    });
    listen(sock, Number(count));
  } else if (mode === 'send') {
    const [family, ifname, dst, src] = args as [string, string, string, string];
    const fam = family === '6' ? 6 : 4;
    const l = await link(ifname);
    const sock = openVrrpSocket({ family: fam, ifindex: l.index, device: ifname });
    const addresses = fam === 4 ? ['192.0.2.100'] : ['2001:db8::100'];
    try {
      sock.send(encodeAdvert({ version: 3, vrid: 42, priority: 100, advertIntCs: 100, addresses }, { family: fam, src, dst }), dst, src);
    } finally {
      sock.close();
    }
    out({ sent: true, ifindex: l.index });
  } else if (mode === 'na-recv') {
    const [ifname, count] = args as [string, string];
    const l = await link(ifname);
    listen(openIcmp6Socket({ ifindex: l.index, device: ifname }), Number(count));
  } else if (mode === 'capture') {
    const [ifname, ethertype, count] = args as [string, string, string];
    const l = await link(ifname);
    listen(openPacketSocket({ ifindex: l.index, ethertype: Number(ethertype) }), Number(count));
  } else if (mode === 'garp' || mode === 'na') {
    const [ifname, vip] = args as [string, string];
    const l = await link(ifname);
    if (mode === 'garp') {
      const sock = openPacketSocket({ ifindex: l.index });
      try {
        sendGarp(sock, l.mac, vip);
      } finally {
        sock.close();
      }
    } else {
      const sock = openIcmp6Socket({ ifindex: l.index, device: ifname });
      try {
        sendUnsolicitedNa(sock, l.mac, vip);
      } finally {
        sock.close();
      }
    }
    out({ sent: true, mac: l.mac });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((e: unknown) => {
  const err = e as { message?: string; code?: string; errno?: number; syscall?: string };
  out({ error: err.message ?? String(e), code: err.code, errno: err.errno, syscall: err.syscall });
  process.exitCode = 1;
});
