import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpAlerter, alerts } from '../../src/daemon/smtp-alert.js';
import { silentLogger } from '../../src/log.js';
import type { GlobalDefs } from '../../src/config/model.js';
import { smtpServer } from './smtp-server.js';

function globals(port: number, emails = ['ops@example.com', 'noc@example.com']): GlobalDefs {
  return {
    notificationEmail: emails,
    notificationEmailFrom: 'lvskeeper@director1.example',
    smtpServer: { host: '127.0.0.1', port },
    smtpHeloName: 'director1.example',
    smtpConnectTimeoutMs: 2000,
  } as unknown as GlobalDefs;
}

test('an alert reaches a real SMTP server with keepalived subject and every recipient', async () => {
  const srv = await smtpServer();
  try {
    const ok = await new SmtpAlerter(globals(srv.port), silentLogger()).send(
      alerts.realServer('director1', '[192.0.2.22]:tcp:80', '[192.0.2.10]:tcp:80', false, '=> CHECK failed on service <='),
    );
    assert.equal(ok, true);
    assert.deepEqual(srv.transcript, [
      'HELO director1.example',
      'MAIL FROM:<lvskeeper@director1.example>',
      'RCPT TO:<ops@example.com>',
      'RCPT TO:<noc@example.com>',
      'DATA',
      'QUIT',
    ]);
    assert.equal(srv.messages.length, 1);
    assert.match(srv.messages[0]!, /^Subject: \[director1\] Realserver \[192\.0\.2\.22\]:tcp:80 of virtual server \[192\.0\.2\.10\]:tcp:80 - DOWN$/m);
    assert.match(srv.messages[0]!, /=> CHECK failed on service <=/);
  } finally {
    await srv.close();
  }
});

test('a refused recipient or a dead server is reported as false, never thrown', async () => {
  const srv = await smtpServer(550);
  try {
    assert.equal(await new SmtpAlerter(globals(srv.port), silentLogger()).send(alerts.vrrp('d1', 'Instance', 'VI_1', 'MASTER')), false);
  } finally {
    await srv.close();
  }
  // Nothing listens on the closed port any more.
  assert.equal(await new SmtpAlerter(globals(srv.port), silentLogger()).send(alerts.quorum('d1', '[192.0.2.10]:tcp:80', { up: true, quorum: 1, hysteresis: 0, threshold: 1, weightSum: 1 })), false);
});

test('lines starting with a dot are stuffed', async () => {
  const srv = await smtpServer();
  try {
    await new SmtpAlerter(globals(srv.port, ['a@example.com']), silentLogger()).send({ subject: 's', body: '.hidden\nvisible' });
    assert.match(srv.messages[0]!, /^\.\.hidden$/m);
  } finally {
    await srv.close();
  }
});

test('VRRP instance and group alerts carry keepalived 2.2.7 subjects and bodies (vrrp_notify.c, smtp.c)', () => {
  const texts = (kind: 'Instance' | 'Group', states: string[]): string[] =>
    states.map((s) => alerts.vrrp('d1', kind, 'X', s)).map((a) => `${a.subject} | ${a.body}`);
  assert.deepEqual(texts('Instance', ['MASTER', 'BACKUP', 'FAULT', 'STOP']), [
    '[d1] VRRP Instance X - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=',
    '[d1] VRRP Instance X - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
    '[d1] VRRP Instance X - Entering FAULT state | => VRRP Instance is no longer owning VRRP VIPs <=',
    '[d1] VRRP Instance X - Stopping | => VRRP Instance stopping <=',
  ]);
  assert.deepEqual(texts('Group', ['MASTER', 'BACKUP', 'FAULT', 'STOP']), [
    '[d1] VRRP Group X - Entering MASTER state | => All VRRP group instances are now in MASTER state <=',
    '[d1] VRRP Group X - Entering BACKUP state | => All VRRP group instances are now in BACKUP state <=',
    '[d1] VRRP Group X - Entering FAULT state | => All VRRP group instances are now in FAULT state <=',
    '[d1] VRRP Group X - Stopping | => All VRRP group instances are now stopping <=',
  ]);
});

test('virtual server and shutdown alerts carry keepalived 2.2.7 bodies (ipwrapper.c do_vs_notifies, clear_service_rs)', () => {
  const vs = '[192.0.2.10]:tcp:80';
  const text = (a: { subject: string; body: string }): string => `${a.subject} | ${a.body}`;
  assert.deepEqual([
    alerts.quorum('d1', vs, { up: true, quorum: 3, hysteresis: 1, threshold: 4, weightSum: 5, init: true }),
    alerts.quorum('d1', vs, { up: true, quorum: 3, hysteresis: 1, threshold: 4, weightSum: 4 }),
    alerts.quorum('d1', vs, { up: false, quorum: 3, hysteresis: 1, threshold: 2, weightSum: 1 }),
    alerts.quorum('d1', vs, { up: false, quorum: 3, hysteresis: 1, threshold: 2, weightSum: 4, stopping: true }),
    alerts.realServerShut('d1', '[192.0.2.22]:tcp:80', vs, true),
    alerts.realServerShut('d1', '[192.0.2.22]:tcp:80', vs, false),
  ].map(text), [
    `[d1] Virtualserver ${vs} - UP | => Starting with quorum up 3+1=4 <= 5 <=`,
    `[d1] Virtualserver ${vs} - UP | => Gained quorum 3+1=4 <= 4 <=`,
    `[d1] Virtualserver ${vs} - DOWN | => Lost quorum 3+1=2 <= 1 <=`,
    `[d1] Virtualserver ${vs} - DOWN | => Shutting down <=`,
    `[d1] Realserver [192.0.2.22]:tcp:80 of virtual server ${vs} - DOWN | => Shutting down <=`,
    `[d1] Realserver [192.0.2.22]:tcp:80 of virtual server ${vs} - DOWN | => Removing <=`,
  ]);
});
