// BFD_CHECK end to end: lvskeeper's checkers (userspace data plane) follow a BFD session to a real server whose
// keepalived 2.2.7 runs the other end. The server leaves the pool when its session goes Down and comes back when it
// is Up again, with check_bfd.c's lines (the pool's lines carry lvskeeper's `ipvs:` component).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needFile, needRoot } from '../support/tier.js';
import { BfdLink, lineIn, LK, PEER } from './bfd-netns.js';

const KA = `bfd_instance rs1 {\n neighbor_ip ${LK.v4}\n min_rx 50\n min_tx 50\n multiplier 3\n}\n`;
const LVSK = `bfd_instance rs1 {
 neighbor_ip ${PEER.v4}
 min_rx 50
 min_tx 50
 multiplier 3
}
virtual_server ${LK.v4} 8080 {
 lb_algo rr
 lb_kind NAT
 protocol TCP
 real_server ${PEER.v4} 80 {
  BFD_CHECK {
   name rs1
  }
 }
}
`;

test('BFD_CHECK removes the real server while its session is Down and restores it when Up, as check_bfd.c', { timeout: 90_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const l = new BfdLink('chk');
  try {
    const lk = l.startLvskeeper(LVSK);
    const rs = `[${PEER.v4}]:tcp:80`;
    const vs = `[${LK.v4}]:tcp:8080`;
    // No session yet: the BFD child's first report (Down) takes the server out (bfd_register_workers sends it).
    assert.ok(await lineIn(lk, new RegExp(`^BFD check of \\[rs1\\] RS\\(\\[${PEER.v4}\\]:tcp:80\\) is DOWN$`), 20_000), lk.log);
    assert.ok(await lineIn(lk, new RegExp(`Removing service \\[${PEER.v4}\\]:tcp:80 from VS \\[${LK.v4}\\]:tcp:8080$`), 3000), lk.log);
    const ka = l.startKeepalived(KA);
    assert.ok(await lineIn(lk, /^BFD check of \[rs1\] RS\(.*\) is UP$/, 5000), lk.log);
    const added = lk.log.length;
    assert.ok(await lineIn(lk, new RegExp(`Adding service ${rs.replace(/[[\]]/g, '\\$&')} to VS ${vs.replace(/[[\]]/g, '\\$&')}$`), 3000), lk.log);
    await l.kill(ka);
    assert.ok(await lineIn(lk, /^BFD check of \[rs1\] RS\(.*\) is DOWN$/, 3000, added), lk.log);
    assert.ok(await lineIn(lk, /Removing service .* from VS /, 3000, added), lk.log);
    const removed = lk.log.length;
    l.startKeepalived(KA, 'ka2');
    assert.ok(await lineIn(lk, /^BFD check of \[rs1\] RS\(.*\) is UP$/, 5000, removed), lk.log);
    assert.ok(await lineIn(lk, /Adding service .* to VS /, 3000, removed), lk.log);
  } finally {
    await l.destroy();
  }
});
