// BFD_CHECK against keepalived 2.2.7 on a real IPVS kernel (the test VM, one boot): keepalived runs the config in one
// namespace, lvskeeper the same config in another (each namespace has its own IPVS table). Each router's BFD peer is
// a keepalived running only a bfd_instance in a peer namespace behind a veth, which also serves the TCP_CHECK port.
// Two virtual servers: one whose real server has BFD_CHECK alone, one whose real server has BFD_CHECK and TCP_CHECK.
// On both sides at once: the TCP port closes, the BFD peers are killed, started again, the TCP port opens again;
// `ipvsadm -Ln` is compared after each step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestSections, VM_CACHE } from './harness.js';

const SIDES = ['ka', 'lk'] as const;

// 300 ms × 3: the guest is emulated (TCG) and runs four daemons; what is compared is the table, not timing.
const CONFIG = `bfd_instance rs1 {
  neighbor_ip 10.0.0.2
  min_rx 300
  min_tx 300
  multiplier 3
}
virtual_server 10.0.0.100 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.0.2 80 {
    BFD_CHECK {
      name rs1
    }
  }
}
virtual_server 10.0.0.100 8080 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.0.2 8080 {
    weight 3
    BFD_CHECK {
      name rs1
    }
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
`;

const PEER = `bfd_instance router {
  neighbor_ip 10.0.0.1
  min_rx 300
  min_tx 300
  multiplier 3
}
`;

const START: Record<(typeof SIDES)[number], string> = {
  ka: '/usr/sbin/keepalived -n -l -D -f "$W/keepalived.conf" -p "$W/pid" -c "$W/c.pid" -r "$W/v.pid" -b "$W/b.pid"',
  lk: 'node dist/bin/lvskeeper.js -n -l -D -f "$W/keepalived.conf" --ipvs-driver kernel --control-socket "$W/control.sock" --state-file "$W/overrides.json" -p "$W/pid" -b "$W/b.pid"',
};

const GUEST = String.raw`
set -u
modprobe -d '${VM_CACHE}/k' veth
D=/tmp/hB-bfdchk; mkdir -p $D; chmod 755 $D
cat > $D/keepalived.conf <<'CONF'
${CONFIG}CONF
cat > $D/peer.conf <<'CONF'
${PEER}CONF
for s in ${SIDES.join(' ')}; do
  ip netns add hB-$s; ip netns add hB-$s-p
  ip link add eth0 netns hB-$s type veth peer name p0 netns hB-$s-p
  ip -n hB-$s addr add 10.0.0.1/24 dev eth0; ip -n hB-$s link set eth0 up; ip -n hB-$s link set lo up
  ip -n hB-$s-p addr add 10.0.0.2/24 dev p0; ip -n hB-$s-p link set p0 up; ip -n hB-$s-p link set lo up
  mkdir -p $D/$s $D/$s-p
  cp $D/keepalived.conf $D/$s/
done
tcp() { # the TCP_CHECK port of side $1: accepts and closes (a checker's reset is no error)
  ip netns exec hB-$1-p node -e 'require("net").createServer((c) => { c.on("error", () => undefined); c.end(); }).listen(8080, "10.0.0.2")' &
  echo $! > $D/$1-p/tcp.pid
}
tcp ka; tcp lk
peer() { # start the BFD peer of side $1 (keepalived, bfd_instance only)
  ip netns exec hB-$1-p /usr/sbin/keepalived -n -l -D -f $D/peer.conf -p $D/$1-p/pid -c $D/$1-p/c.pid -r $D/$1-p/v.pid -b $D/$1-p/b.pid >> $D/$1-p/log 2>&1 &
}
count() { grep -c "$2" $D/$1/log 2>/dev/null || true; }
# until both logs hold pattern $1 at least $2 times (at most ~60 s)
both() {
  i=0
  until [ "$(count ka "$1")" -ge $2 ] && [ "$(count lk "$1")" -ge $2 ]; do
    i=$((i + 1)); [ $i -gt 300 ] && { echo "timed out waiting for $2 x '$1'" >&2; return 1; }; sleep 0.2
  done
}
settle() { # until both tables are the same over three looks 0.5 s apart (at most ~30 s)
  prev=''; same=0; i=0
  while [ $same -lt 2 ] && [ $i -lt 60 ]; do
    sleep 0.5; cur="$(ip netns exec hB-ka ipvsadm -Ln 2>&1; ip netns exec hB-lk ipvsadm -Ln 2>&1)"
    if [ "$cur" = "$prev" ]; then same=$((same + 1)); else same=0; fi
    prev=$cur; i=$((i + 1))
  done
}
look() { for s in ${SIDES.join(' ')}; do echo "=== $1/$s"; ip netns exec hB-$s ipvsadm -Ln; done; }
peer ka; peer lk
W=$D/ka; export W; ip netns exec hB-ka ${START.ka} > $D/ka/log 2>&1 &
W=$D/lk; export W; ip netns exec hB-lk ${START.lk} > $D/lk/log 2>&1 &
UP='BFD check of \[rs1\] RS(\[10.0.0.2\]:tcp:80) is UP'
DOWN='BFD check of \[rs1\] RS(\[10.0.0.2\]:tcp:80) is DOWN'
TCP_OK='TCP connection to \[10.0.0.2\]:tcp:8080 success'
both "$UP" 1; both "$TCP_OK" 1; settle; look up
# The TCP port closes: the BFD_CHECK + TCP_CHECK server leaves, the BFD_CHECK one stays.
for s in ${SIDES.join(' ')}; do kill -TERM $(cat $D/$s-p/tcp.pid); done
both 'TCP_CHECK on service \[10.0.0.2\]:tcp:8080 failed' 1; settle; look tcp-down
# The peers die (SIGKILL, parent and BFD child: no AdminDown is sent): the sessions expire.
for s in ${SIDES.join(' ')}; do kill -KILL $(cat $D/$s-p/b.pid) $(cat $D/$s-p/pid); done
both "$DOWN" 1; settle; look down
# They come back, the TCP port still closed.
peer ka; peer lk
both "$UP" 2; settle; look back
tcp ka; tcp lk
both "$TCP_OK" 2; settle; look tcp-back
for s in ${SIDES.join(' ')}; do kill -TERM $(cat $D/$s/pid); done
sleep 3
for s in ${SIDES.join(' ')}; do echo "=== log/$s"; cat $D/$s/log; done
exit 0
`;

/** The service and real-server lines of one `ipvsadm -Ln` (its three header lines dropped). */
const entries = (listing: string | undefined): string[] => (listing ?? '').split('\n').slice(3).filter((l) => l.trim() !== '');

test('BFD_CHECK on a kernel IPVS table: the real servers leave and come back with the session, as keepalived', { timeout: 600_000 }, async (t) => {
  const g = await guestSections(t, GUEST);
  if (!g) return;
  const { s } = g;
  const why = `${g.why}\n---- keepalived\n${s.get('log/ka')}\n---- lvskeeper\n${s.get('log/lk')}`;
  const steps = ['up', 'tcp-down', 'down', 'back', 'tcp-back'];
  for (const step of steps) assert.deepEqual(entries(s.get(`${step}/lk`)), entries(s.get(`${step}/ka`)), `${step}\n${why}`);
  // What was compared moved: the real servers in each step (keepalived's table).
  const rs = (step: string): string[] => entries(s.get(`${step}/ka`)).filter((l) => l.includes('-> 10.0.0.2:')).map((l) => l.trim().split(/\s+/)[1]!);
  assert.deepEqual(steps.map(rs), [
    ['10.0.0.2:80', '10.0.0.2:8080'], ['10.0.0.2:80'], [], ['10.0.0.2:80'], ['10.0.0.2:80', '10.0.0.2:8080'],
  ], why);
});
