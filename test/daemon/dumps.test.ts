import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkerDumpSection } from '../../src/daemon/dumps.js';

test('the data dump names a virtual server using ha_suspend, its address count, and each checker it keeps from checking', () => {
  const vs = '[192.0.2.10]:tcp:80';
  const rsId = `${vs}/[192.0.2.21]:tcp:80`;
  const text = checkerDumpSection(
    'data',
    {
      driver: 'netlink',
      passes: 1,
      virtualServers: [{
        vsId: vs, quorumUp: true, quorum: 1, hysteresis: 0, aliveWeight: 1, sorryActive: false, services: 1,
        realServers: [{ rsId, alive: true, effectiveWeight: 1, configuredWeight: 1, installed: true, installedWeight: 1 }],
      }],
    },
    [{
      vsId: vs, rsId, alive: true, weight: 1,
      checkers: [{ type: 'TCP_CHECK', probeKey: 'k', up: true, retryIt: 0, hasRun: false, suspended: true }],
    }],
    [{ vsId: vs, addresses: 0, suspended: true }],
  );
  assert.equal(text, [
    '------< IPVS Topology >------',
    ` VS = ${vs}`,
    '   quorum = 1, hysteresis = 0, quorum state = UP',
    '   Using HA suspend: address on this host 0 time(s), checkers suspended',
    '   RS = [192.0.2.21]:tcp:80, alive = yes, weight = 1 (configured 1)',
    '     TCP_CHECK: UP (not run yet), suspended (ha_suspend)',
    '',
  ].join('\n'));
});
