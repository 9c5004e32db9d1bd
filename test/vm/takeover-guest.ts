// Director takeover with IPVS connection sync, in the IPVS VM (one boot, scenarios in sequence). Five namespaces on
// one bridge: two directors (each its own IPVS table), a client and two real servers carrying the VIP on their
// loopback (DR). Both directors run `lvs_sync_daemon eth0 VI_1` following VI_1; the client holds connections to a
// plain and a persistent service through the MASTER, the MASTER is killed with SIGKILL and its link cut (a dead box),
// and the client's connections are then counted as they continue through the new MASTER.
import { VM_CACHE } from './harness.js';

export type Impl = 'keepalived' | 'lvskeeper';

export interface TakeoverScenario {
  readonly name: string;
  /** Who runs on the first director (priority 150, MASTER) and the second (priority 100, BACKUP). */
  readonly d1: Impl;
  readonly d2: Impl;
}

const CONFIG = (routerId: string, priority: number): string => `global_defs {
  router_id ${routerId}
  lvs_sync_daemon eth0 VI_1 id 7 maxlen 1400 port 8850 ttl 2 group 224.0.0.82
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    10.9.0.100/32 dev eth0
  }
}
virtual_server 10.9.0.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.9.0.21 80 {
  }
  real_server 10.9.0.22 80 {
  }
}
virtual_server 10.9.0.100 81 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  persistence_timeout 600
  real_server 10.9.0.21 81 {
  }
  real_server 10.9.0.22 81 {
  }
}
`;

const START: Record<Impl, string> = {
  keepalived: 'keepalived -n -l -D -f "$W/keepalived.conf" -p "$W/k.pid" -r "$W/v.pid" -c "$W/c.pid"',
  // TCG on a loaded host: a child may take most of a minute to answer its first heartbeat.
  lvskeeper: 'node dist/bin/lvskeeper.js -n -l -f "$W/keepalived.conf" --ipvs-driver kernel --child-timeout 300 -p "$W/pid" --control-socket "$W/control.sock"',
};

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The guest script: `=== name` sections on stdout, daemon logs on stderr. `conns` connections per service. */
export function takeoverScript(scenarios: readonly TakeoverScenario[], conns: number): string {
  const runs = scenarios.map((s) => `scenario ${s.name} ${s.d1} ${s.d2}`).join('\n');
  return String.raw`
set -u
K='${VM_CACHE}/k'
modprobe -d "$K" veth; modprobe -d "$K" bridge
T=/tmp/lvskt; mkdir -p $T
P="node dist/test/vm/takeover-peer.js"
ALL="d1 d2 c r1 r2"
ip link add br0 type bridge mcast_snooping 0
ip link set br0 up
n=0
for ns in $ALL; do
  case $ns in d1) a=11;; d2) a=12;; c) a=2;; r1) a=21;; r2) a=22;; esac
  ip netns add lvt-$ns
  ip link add v-$ns type veth peer name eth0 netns lvt-$ns
  ip link set v-$ns master br0 up
  ip netns exec lvt-$ns sh -c "ip link set lo up; ip link set eth0 up; ip addr add 10.9.0.$a/24 dev eth0"
done
for r in r1 r2; do
  ip netns exec lvt-$r sh -c 'ip addr add 10.9.0.100/32 dev lo; sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2'
  ip netns exec lvt-$r $P server $r 80 81 &
done
write_conf() { # DIR ROUTER_ID PRIORITY
  mkdir -p "$1"
  if [ "$2" = d1 ]; then printf '%s' ${q(CONFIG('d1', 150))} > "$1/keepalived.conf"; else printf '%s' ${q(CONFIG('d2', 100))} > "$1/keepalived.conf"; fi
}
# Daemon logs go to stderr as they come, each line tagged: a guest that hangs still shows how far it got.
start_side() { # NS IMPL DIR
  W=$3
  case $2 in
    keepalived) ip netns exec lvt-$1 ${START.keepalived} 2>&1 | sed -u "s|^|$N/$1: |" >&2 & ;;
    lvskeeper) ip netns exec lvt-$1 ${START.lvskeeper} 2>&1 | sed -u "s|^|$N/$1: |" >&2 & ;;
  esac
}
# until CMD succeeds, for at most $1 seconds (TCG on a loaded host makes each try slow)
wait_for() { end=$(($(date +%s) + $1)); shift; until "$@"; do [ "$(date +%s)" -ge $end ] && return 1; sleep 0.2; done; }
has_vip() { ip netns exec lvt-$1 ip -4 addr show dev eth0 | grep -q 10.9.0.100; }
has_backup_syncd() { ip netns exec lvt-$1 ipvsadm -L --daemon | grep -q '^backup'; }
has_master_syncd() { ip netns exec lvt-$1 ipvsadm -L --daemon | grep -q '^master'; }
all_replied() { node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.exit(c.length===+process.argv[2]&&c.every((x)=>x.replies>=15)?0:1)' "$1" "$2" 2>/dev/null; }
# lvskeeper's own listing; its control socket comes up after the sync daemon, at the end of start-up
list_daemon() {
  wait_for 120 test -S $D/$1/control.sock
  echo "=== $N/list-daemon/$1"; ip netns exec lvt-$1 node dist/bin/lvskeeper.js ipvs list --daemon
}
no_pids() { [ -z "$(ip netns pids lvt-$1)" ]; }
scenario() { # NAME IMPL1 IMPL2
  N=$1; D=$T/$N
  echo "--- $N: $2 on d1, $3 on d2" >&2
  write_conf $D/d1 d1; write_conf $D/d2 d2
  start_side d1 $2 $D/d1
  wait_for 400 has_vip d1 || echo "$N: d1 never became MASTER" >&2
  start_side d2 $3 $D/d2
  wait_for 400 has_backup_syncd d2 || echo "$N: d2 never started its backup sync daemon" >&2
  wait_for 60 has_master_syncd d1 || echo "$N: d1 never started its master sync daemon" >&2
  echo "=== $N/daemon/d1"; ip netns exec lvt-d1 ipvsadm -L --daemon
  echo "=== $N/daemon/d2"; ip netns exec lvt-d2 ipvsadm -L --daemon
  [ $2 = lvskeeper ] && list_daemon d1
  [ $3 = lvskeeper ] && list_daemon d2
  ip netns exec lvt-c $P client 10.9.0.100 $D/client.json ${conns} 80 81 &
  CLIENT=$!
  wait_for 120 all_replied $D/client.json $((${conns} * 2)) || echo "$N: the client's connections never all answered" >&2
  sleep 2
  echo "=== $N/backup-conns"; ip netns exec lvt-d2 ipvsadm -Lnc
  ip netns pids lvt-d1 | xargs -r kill -KILL
  ip netns exec lvt-d1 ip link set eth0 down
  wait_for 60 has_vip d2 || echo "$N: d2 never became MASTER" >&2
  echo "=== $N/mid"; cat $D/client.json; echo
  sleep 10
  echo "=== $N/post"; cat $D/client.json; echo
  echo "=== $N/daemon-after/d2"; ip netns exec lvt-d2 ipvsadm -L --daemon
  kill $CLIENT
  ip netns pids lvt-d2 | xargs -r kill -TERM
  wait_for 90 no_pids d2 || echo "$N: d2 did not stop" >&2
  echo "=== $N/daemon-stopped/d2"; ip netns exec lvt-d2 ipvsadm -L --daemon
  for d in d1 d2; do
    ip netns exec lvt-$d sh -c 'ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; ipvsadm -C; ip addr del 10.9.0.100/32 dev eth0; ip link set eth0 up' 2>/dev/null
  done
}
${runs}
exit 0
`;
}

interface PeerConn { readonly port: number; readonly server: string; readonly replies: number; readonly closed: boolean }

/** Connections open at takeover that kept answering (at least 5 more replies in the 10 s after it) and never closed. */
export function survivors(mid: string | undefined, post: string | undefined): { total: number; survived: number } {
  const before = JSON.parse(mid?.trim() || '[]') as PeerConn[];
  const after = JSON.parse(post?.trim() || '[]') as PeerConn[];
  let survived = 0;
  before.forEach((c, i) => {
    const a = after[i];
    if (a && !a.closed && a.server === c.server && a.replies >= c.replies + 5) survived++;
  });
  return { total: before.length, survived };
}
