// smtp_alert end to end: real servers going down and up reach a real SMTP server the test runs, in keepalived's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig } from './daemon-setup.js';
import { smtpServer } from './smtp-server.js';

test('smtp_alert mails real server DOWN and UP to notification_email through smtp_server', { timeout: 60_000 }, async (t) => {
  const smtp = await smtpServer();
  t.after(() => smtp.close());
  const web = new Backend('web1', 19451);
  await web.start();
  t.after(() => web.stop());
  const config = httpConfig(19450, [[19451, 1]]).replace(
    'global_defs {',
    `global_defs {
    notification_email {
        ops@example.com
    }
    notification_email_from lvskeeper@director1.example
    smtp_server 127.0.0.1 ${smtp.port}
    smtp_connect_timeout 5
    smtp_alert`,
  );
  const d = new DaemonUnderTest(t, config);
  const run = d.start();
  await until('a first check', 10_000, () => (web.healthChecks > 0 ? true : undefined));
  await web.stop();
  await run.waitFor(/Removing service \[127\.0\.0\.1\]:tcp:19451/, 15_000);
  await until('the DOWN mail', 10_000, () =>
    smtp.messages.some((m) => m.includes('Subject: [lvskd-test] Realserver [127.0.0.1]:tcp:19451 of virtual server [127.0.0.1]:tcp:19450 - DOWN')) ? true : undefined);
  await web.start();
  await run.waitFor(/Adding service \[127\.0\.0\.1\]:tcp:19451/, 15_000);
  await until('the UP mail', 10_000, () =>
    smtp.messages.some((m) => m.includes('Realserver [127.0.0.1]:tcp:19451 of virtual server [127.0.0.1]:tcp:19450 - UP')) ? true : undefined);
  // The virtual server loses quorum at the same moment and mails too; the two may arrive in either order.
  const down = smtp.messages.find((m) => m.includes('Realserver [127.0.0.1]:tcp:19451 of virtual server [127.0.0.1]:tcp:19450 - DOWN'))!;
  assert.match(down, /=> CHECK failed on service <=/);
  assert.match(down, /To: ops@example\.com/);
  assert.ok(smtp.transcript.includes('RCPT TO:<ops@example.com>'));
  assert.ok(smtp.transcript.includes('MAIL FROM:<lvskeeper@director1.example>'));
  await run.waitFor(/SMTP alert successfully sent/);
  assert.equal(await run.stop(), 0);
});
