// `drain --wait` against a real IPVS kernel: in the test VM a client holds a TCP connection through an LVS-DR virtual
// server (director, client and real server each in a network namespace on one bridge); the kernel counts it in the
// real server's ActiveConn. The command times out while it is open, and returns 0 once the client closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestSections, VM_CACHE } from './harness.js';

const GUEST = String.raw`
set -u
modprobe -d '${VM_CACHE}/k' veth; modprobe -d '${VM_CACHE}/k' bridge
D=/tmp/lvskv-dw; mkdir -p $D
ip link add br0 type bridge; ip link set br0 up
for ns in d c r; do
  case $ns in d) a=11;; c) a=2;; r) a=21;; esac
  ip netns add lvw-$ns
  ip link add v-$ns type veth peer name eth0 netns lvw-$ns
  ip link set v-$ns master br0 up
  ip netns exec lvw-$ns sh -c "ip link set lo up; ip link set eth0 up; ip addr add 10.9.0.$a/24 dev eth0"
done
ip netns exec lvw-d ip addr add 10.9.0.100/32 dev eth0
ip netns exec lvw-r sh -c 'ip addr add 10.9.0.100/32 dev lo; sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2'
# The real server accepts and keeps every connection open.
ip netns exec lvw-r node -e 'require("net").createServer(() => undefined).listen(80)' &
cat > $D/keepalived.conf <<'CONF'
virtual_server 10.9.0.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.9.0.21 80 {
    weight 1
  }
}
CONF
L="node dist/bin/lvskeeper.js"
S="--socket $D/control.sock"
ip netns exec lvw-d $L -f $D/keepalived.conf --ipvs-driver kernel -n -l --control-socket $D/control.sock --state-file $D/overrides.json --pid $D/pid > $D/daemon.log 2>&1 &
i=0
until $L status $S > /dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 600 ] && { echo "daemon did not answer" >&2; cat $D/daemon.log >&2; exit 1; }
  sleep 0.2
done
ip netns exec lvw-c node -e '
const s = require("net").connect(80, "10.9.0.100", () => s.write("hello"));
process.on("SIGTERM", () => { s.end(); setTimeout(() => process.exit(0), 2000); });
' &
CLIENT=$!
i=0
until ip netns exec lvw-d ipvsadm -Ln | grep -q '10.9.0.21:80 *Route *1 *1 '; do
  i=$((i + 1)); [ $i -gt 300 ] && { echo "no active connection in the kernel" >&2; ip netns exec lvw-d ipvsadm -Ln >&2; exit 1; }
  sleep 0.2
done
echo "=== before"; ip netns exec lvw-d ipvsadm -Ln
echo "=== timeout"; $L drain 10.9.0.100:80 10.9.0.21:80 --wait --timeout 3 $S 2>&1; echo "rc=$?"
$L drain 10.9.0.100:80 10.9.0.21:80 --wait --timeout 120 $S > $D/wait.out 2>&1 &
WAIT=$!
until grep -q 'left$' $D/wait.out; do sleep 0.2; done
kill -TERM $CLIENT
wait $WAIT; RC=$?
echo "=== wait"; cat $D/wait.out; echo "rc=$RC"
echo "=== after"; ip netns exec lvw-d ipvsadm -Ln
cat $D/daemon.log >&2
`;

test('kernel IPVS: drain --wait follows the kernel ActiveConn of a real server until the last connection closes', { timeout: 600_000 }, async (t) => {
  const guest = await guestSections(t, GUEST);
  if (!guest) return;
  const { s, why } = guest;
  const timedOut = s.get('timeout') ?? '';
  assert.match(timedOut, /^drained \[10\.9\.0\.21\]:tcp:80 of VS \[10\.9\.0\.100\]:tcp:80: weight 0, existing connections finish$/m, why);
  assert.match(timedOut, /^1 active connection on \[10\.9\.0\.21\]:tcp:80 of VS \[10\.9\.0\.100\]:tcp:80, \ds left$/m, why);
  assert.match(timedOut, /drain --wait timed out after 3s: 1 active connection remain on \[10\.9\.0\.21\]:tcp:80[^\n]*\nrc=1\n$/, why);
  const waited = s.get('wait') ?? '';
  assert.match(waited, /^1 active connection on .*, \d+s left$/m, why);
  assert.match(waited, /^no active connections left on \[10\.9\.0\.21\]:tcp:80 of VS \[10\.9\.0\.100\]:tcp:80\nrc=0\n$/m, why);
  // Drained, the server holds weight 0 and no active connection; the closing one is counted inactive.
  assert.match(s.get('after') ?? '', /-> 10\.9\.0\.21:80 +Route +0 +0 +\d/, why);
});
