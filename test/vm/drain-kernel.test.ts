// Draining against a real IPVS kernel: the daemon on the netlink driver inside the test VM, the built CLI driving it,
// and ipvsadm -Ln reading what the kernel holds after each step. One boot for the whole scenario (TCG is slow).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestSections } from './harness.js';

// Real servers without checkers are always alive (keepalived does the same), so only the operator moves weights.
const GUEST = String.raw`
D=/tmp/lvskv-drain
mkdir -p $D
cat > $D/keepalived.conf <<'CONF'
virtual_server_group web {
  192.0.2.11 80
  192.0.2.12 80
}
virtual_server fwmark 42 {
  lb_algo wrr
  lb_kind DR
  real_server 192.0.2.31 {
    weight 2
  }
}
virtual_server group web {
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server 192.0.2.41 80 {
    weight 4
  }
}
virtual_server 192.0.2.10 80 {
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server 192.0.2.21 80 {
    weight 3
  }
  real_server 192.0.2.22 80 {
    weight 5
  }
}
CONF
L="node dist/bin/lvskeeper.js"
S="--socket $D/control.sock"
daemon() {
  $L -f $D/keepalived.conf --ipvs-driver kernel -n -l --control-socket $D/control.sock --state-file $D/overrides.json --pid $D/pid >> $D/daemon.log 2>&1 &
  PID=$!
  i=0
  until $L status $S > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 300 ] && { echo "daemon did not answer" >&2; cat $D/daemon.log >&2; exit 1; }
    sleep 0.2
  done
}
step() { echo "=== $1"; ipvsadm -Ln; }
cli() { echo "=== cli $*"; $L "$@" $S; echo "rc=$?"; }

daemon
step start
cli drain 192.0.2.10:80 192.0.2.22:80
cli drain 'fwmark 42' 192.0.2.31
cli drain web 192.0.2.41:80
step drained
cli ipvs list
kill -TERM $PID; wait $PID
step stopped
daemon
step restarted
cli weight 192.0.2.10:80 192.0.2.22:80 7
step weight
cli undrain 192.0.2.10:80 192.0.2.22:80
cli undrain 'fwmark 42' 192.0.2.31
cli undrain web 192.0.2.41:80
step undrained
kill -TERM $PID; wait $PID
step final
cat $D/daemon.log >&2
`;

/** `service -> real server` → weight, from one `ipvsadm -Ln` listing. */
function weights(listing: string | undefined): Record<string, number> {
  assert.ok(listing !== undefined);
  const w: Record<string, number> = {};
  let service = '';
  for (const line of listing.split('\n')) {
    const svc = /^(TCP|UDP|FWM) +(\S+) /.exec(line);
    if (svc) service = `${svc[1]} ${svc[2]}`;
    const d = /^\s+-> (\S+)\s+(?:Masq|Route|Tunnel)\s+(\d+)\s/.exec(line);
    if (d) w[`${service} -> ${d[1]}`] = Number(d[2]);
  }
  return w;
}

/** The table with 192.0.2.22 (VS 192.0.2.10:80) at `w22` and the fwmark and group servers at `others` or drained. */
function table(w22: number, othersDrained: boolean): Record<string, number> {
  return {
    'FWM 42 -> 192.0.2.31:0': othersDrained ? 0 : 2,
    'TCP 192.0.2.11:80 -> 192.0.2.41:80': othersDrained ? 0 : 4,
    'TCP 192.0.2.12:80 -> 192.0.2.41:80': othersDrained ? 0 : 4,
    'TCP 192.0.2.10:80 -> 192.0.2.21:80': 3,
    'TCP 192.0.2.10:80 -> 192.0.2.22:80': w22,
  };
}

test('kernel IPVS: drain sets weight 0 in ipvsadm -Ln, a restart keeps it, undrain restores the weight', { timeout: 600_000 }, async (t) => {
  const guest = await guestSections(t, GUEST);
  if (!guest) return;
  const { s, why } = guest;

  assert.deepEqual(weights(s.get('start')), table(5, false), why);
  assert.equal(s.get('cli drain 192.0.2.10:80 192.0.2.22:80'), 'drained [192.0.2.22]:tcp:80 of VS [192.0.2.10]:tcp:80: weight 0, existing connections finish\nrc=0\n');
  assert.equal(s.get('cli drain fwmark 42 192.0.2.31'), 'drained [192.0.2.31]:none:0 of VS FWM 42: weight 0, existing connections finish\nrc=0\n');
  assert.equal(s.get('cli drain web 192.0.2.41:80'), 'drained [192.0.2.41]:tcp:80 of VS [web]:0: weight 0, existing connections finish\nrc=0\n');
  assert.deepEqual(weights(s.get('drained')), table(0, true), why);
  const list = s.get('cli ipvs list') ?? '';
  assert.deepEqual(weights(list), table(0, true), 'lvskeeper ipvs list agrees with ipvsadm');
  assert.match(list, /^Operator overrides:\n {2}\[192\.0\.2\.22\]:tcp:80 of VS \[192\.0\.2\.10\]:tcp:80: drained \(weight 0\) since \S+\n/m);
  assert.deepEqual(weights(s.get('stopped')), {}, 'a stopped daemon removes what it installed');
  assert.deepEqual(weights(s.get('restarted')), table(0, true), `the restarted daemon installs drained servers at weight 0\n${why}`);
  assert.match(s.get('cli weight 192.0.2.10:80 192.0.2.22:80 7') ?? '', /rc=0\n$/);
  assert.deepEqual(weights(s.get('weight')), table(7, true), why);
  for (const c of ['cli undrain 192.0.2.10:80 192.0.2.22:80', 'cli undrain fwmark 42 192.0.2.31', 'cli undrain web 192.0.2.41:80']) {
    assert.match(s.get(c) ?? '', /: back to its effective weight\nrc=0\n$/, c);
  }
  assert.deepEqual(weights(s.get('undrained')), table(5, false), why);
  assert.deepEqual(weights(s.get('final')), {});
});
