import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus, parseWeight } from '../../src/cli/operator.js';

test('weight arguments are plain decimals 0..2147483647; anything else is refused before a request is sent', () => {
  assert.equal(parseWeight('0'), 0);
  assert.equal(parseWeight('7'), 7);
  assert.equal(parseWeight('2147483647'), 2147483647);
  for (const bad of ['-1', 'abc', '', ' 5', '1e3', '0x10', '2.5', '2147483648', '99999999999']) {
    assert.throws(() => parseWeight(bad), { message: `weight refused: weight must be an integer 0..2147483647, got '${bad}'` }, bad);
  }
});

test('status lists the processes, the instances, then each virtual server with its real servers, weights and overrides', () => {
  const vs = '[192.0.2.10]:tcp:80';
  const ha = '[192.0.2.30]:tcp:80';
  const text = formatStatus({
    processes: [
      { role: 'supervisor', pid: 4100, uptimeS: 93_784, restarts: 0 },
      { role: 'vrrp', pid: 4102, uptimeS: 3725, restarts: 0 },
      { role: 'checker', pid: 4230, uptimeS: 59, restarts: 1 },
    ],
    vrrp: [{ name: 'VI_1', state: 'MASTER', priority: 150 }],
    overrides: [{ vs, rs: '[192.0.2.22]:tcp:80', override: { kind: 'drain' }, since: '2026-11-22T19:00:00.000Z' }],
    haSuspend: [{ vsId: ha, addresses: 0, suspended: true }],
    ipvs: {
      driver: 'netlink',
      passes: 3,
      virtualServers: [
        {
          vsId: vs, quorumUp: true, quorum: 1, hysteresis: 0, aliveWeight: 3, sorryActive: false, services: 1,
          realServers: [
            { rsId: `${vs}/[192.0.2.21]:tcp:80`, alive: true, effectiveWeight: 3, configuredWeight: 0, dynamicWeight: 3, installed: true, installedWeight: 3 },
            { rsId: `${vs}/[192.0.2.22]:tcp:80`, alive: true, effectiveWeight: 0, configuredWeight: 1, overrideWeight: 0, installed: true, installedWeight: 0 },
            { rsId: `${vs}/[192.0.2.23]:tcp:80`, alive: false, effectiveWeight: 1, configuredWeight: 1, installed: false, installedWeight: 0 },
          ],
        },
        {
          vsId: ha, quorumUp: true, quorum: 1, hysteresis: 0, aliveWeight: 1, sorryActive: false, services: 1,
          realServers: [{ rsId: `${ha}/[192.0.2.31]:tcp:80`, alive: true, effectiveWeight: 1, configuredWeight: 1, installed: true, installedWeight: 1 }],
        },
      ],
    },
  });
  assert.equal(
    text,
    [
      'Processes:',
      '  supervisor pid 4100    up 1d 02:03:04',
      '  vrrp       pid 4102    up 01:02:05',
      '  checker    pid 4230    up 00:00:59, restarted 1 time',
      'VRRP instances:',
      '  VI_1             MASTER  priority 150',
      'Virtual servers (netlink data plane):',
      '  [192.0.2.10]:tcp:80  quorum up (alive weight 3, quorum 1)',
      '    [192.0.2.21]:tcp:80          alive  weight 3    configured 0, checker 3',
      '    [192.0.2.22]:tcp:80          alive  weight 0    configured 1, operator: drained (weight 0) since 2026-11-22T19:00:00.000Z',
      '    [192.0.2.23]:tcp:80          down   weight 1    configured 1',
      '  [192.0.2.30]:tcp:80  quorum up (alive weight 1, quorum 1), checkers suspended (ha_suspend)',
      '    [192.0.2.31]:tcp:80          alive  weight 1    configured 1',
      '',
    ].join('\n'),
  );
});
