// net_namespace A with net_namespace_ipvs B against keepalived 2.2.7 in the IPVS VM (one boot): keepalived runs the
// config, then lvskeeper; after each, ipvsadm reads B's table and sync daemons, and A's and the default namespace's.
// keepalived makes its IPVS sockets in B (core/namespaces.c nl_ipvs_connect) while its processes run in A, so the
// virtual servers and the sync daemon are in B and nowhere else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../support/tier.js';
import { runInVm, sections, vmMissing } from './harness.js';

const SIDES = ['keepalived', 'lvskeeper'] as const;
type Side = (typeof SIDES)[number];

const CONFIG = `net_namespace lvskv-a
net_namespace_ipvs lvskv-b
global_defs {
  lvs_sync_daemon lvskv1 id 7
}
virtual_server 192.0.2.50 8080 {
  lb_algo wlc
  protocol TCP
  lb_kind NAT
  real_server 192.0.2.51 8080 {
    weight 4
  }
  real_server 192.0.2.52 8081 {
    weight 6
  }
}
virtual_server fwmark 43 {
  lb_kind DR
  lb_algo sh
  real_server 192.0.2.53 {
    weight 7
  }
}
`;

const START: Record<Side, string> = {
  keepalived: 'keepalived -n -C -l -D -f "$W/keepalived.conf" -p "$W/k.pid" -c "$W/c.pid"',
  lvskeeper: 'node dist/bin/lvskeeper.js -n -C -l -D -f "$W/keepalived.conf" --ipvs-driver kernel --control-socket "$W/control.sock" --state-file "$W/overrides.json" -p "$W/pid"',
};
const READY: Record<Side, string> = {
  keepalived: `grep -q 'Startup complete' "$W/daemon.log"`,
  lvskeeper: '[ -S "$W/control.sock" ]',
};

// Both namespaces have lvskv1 (the sync daemon's interface) with an address in the test subnet, so IPVS in either
// would accept the real servers: only the socket's namespace decides where they land.
const GUEST = String.raw`
for n in lvskv-a lvskv-b; do
  ip netns add $n
  ip -n $n link set lo up
  ip -n $n link add lvskv1 type dummy
  ip -n $n link set lvskv1 up
done
ip -n lvskv-a addr add 192.0.2.2/24 dev lvskv1
ip -n lvskv-b addr add 192.0.2.3/24 dev lvskv1
B="ip netns exec lvskv-b"
settle() { # until B's table is the same over three looks 0.4 s apart (at most ~20 s)
  prev=''; same=0; i=0
  while [ $same -lt 2 ] && [ $i -lt 50 ]; do
    sleep 0.4; cur=$($B ipvsadm -Ln 2>&1)
    if [ "$cur" = "$prev" ]; then same=$((same + 1)); else same=0; fi
    prev=$cur; i=$((i + 1))
  done
}
look() {
  echo "=== $1/b"; $B ipvsadm -Ln
  echo "=== $1/b-daemon"; $B ipvsadm -Ln --daemon
  echo "=== $1/a"; ip netns exec lvskv-a ipvsadm -Ln
  echo "=== $1/a-daemon"; ip netns exec lvskv-a ipvsadm -Ln --daemon
  echo "=== $1/default"; ipvsadm -Ln
  echo "=== $1/default-daemon"; ipvsadm -Ln --daemon
}
` + SIDES.map((side) => `
W=/tmp/lvskv-nsipvs/${side}; mkdir -p "$W"; chmod 755 /tmp/lvskv-nsipvs "$W"; export W
cat > "$W/keepalived.conf" <<'CONF'
${CONFIG}CONF
${START[side]} > "$W/daemon.log" 2>&1 &
DPID=$!
i=0; until ${READY[side]}; do i=$((i + 1)); [ $i -gt 300 ] && { echo "${side} not ready" >&2; break; }; sleep 0.2; done
sleep 1; settle
look ${side}
kill -TERM $DPID; wait $DPID
echo "=== ${side}/stopped"; $B ipvsadm -Ln
echo "=== ${side}/log"; cat "$W/daemon.log"
$B ipvsadm -C
`).join('') + 'exit 0\n';

/** The service and real-server lines of one `ipvsadm -Ln` (its three header lines dropped). */
const entries = (listing: string | undefined): string[] => (listing ?? '').split('\n').slice(3).filter((l) => l.trim() !== '');

test('net_namespace_ipvs: the virtual servers and the sync daemon go to its namespace, not to net_namespace or the default one — as keepalived', { timeout: 600_000 }, async (t) => {
  const missing = vmMissing();
  if (!need(t, missing === undefined, missing ?? '')) return;
  const vm = await runInVm(GUEST, { timeoutMs: 540_000 });
  assert.equal(vm.exitCode, 0, `guest failed:\n${vm.stdout}\n${vm.stderr}\n${vm.console.slice(-2000)}`);
  const s = sections(vm.stdout);
  const why = (side: Side): string => `${vm.stdout}\n${vm.stderr}\n${side} log:\n${s.get(`${side}/log`)}`;
  // keepalived itself: the table and both sync daemons in B.
  assert.equal(entries(s.get('keepalived/b')).length, 5, why('keepalived'));
  assert.match(s.get('keepalived/b-daemon') ?? '', /sync daemon/, why('keepalived'));
  for (const side of SIDES) {
    for (const where of ['a', 'default']) {
      assert.deepEqual(entries(s.get(`${side}/${where}`)), [], `${side}: no virtual server in ${where}\n${why(side)}`);
      assert.equal((s.get(`${side}/${where}-daemon`) ?? '').trim(), '', `${side}: no sync daemon in ${where}\n${why(side)}`);
    }
  }
  assert.deepEqual(entries(s.get('lvskeeper/b')), entries(s.get('keepalived/b')), why('lvskeeper'));
  assert.equal(s.get('lvskeeper/b-daemon'), s.get('keepalived/b-daemon'), why('lvskeeper'));
  assert.deepEqual(entries(s.get('lvskeeper/stopped')), entries(s.get('keepalived/stopped')), why('lvskeeper'));
});
