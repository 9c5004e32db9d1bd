// smtp_alert end to end: real servers going down and up reach a real SMTP server the test runs, in keepalived's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig } from './daemon-setup.js';

const mailGlobals = (port: number, extra = ''): string => `global_defs {
    notification_email {
        ops@example.com
    }
    notification_email_from lvskeeper@director1.example
    smtp_server 127.0.0.1 ${port}
    smtp_connect_timeout 5${extra}`;
import { smtpServer } from './smtp-server.js';

test('smtp_alert mails real server DOWN and UP to notification_email through smtp_server', { timeout: 60_000 }, async (t) => {
  const smtp = await smtpServer();
  t.after(() => smtp.close());
  const web = new Backend('web1', 19451);
  await web.start();
  t.after(() => web.stop());
  const config = httpConfig(19450, [[19451, 1]]).replace('global_defs {', mailGlobals(smtp.port, '\n    smtp_alert'));
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
  assert.match(down, /=> CHECK failed on service : HTTP request failed <=/);
  assert.match(down, /To: ops@example\.com/);
  assert.ok(smtp.transcript.includes('RCPT TO:<ops@example.com>'));
  assert.ok(smtp.transcript.includes('MAIL FROM:<lvskeeper@director1.example>'));
  await run.waitFor(/SMTP alert successfully sent/);
  assert.equal(await run.stop(), 0);
});

/** A real server checked by TCP_CHECK and a MISC_CHECK that always passes, with smtp_alert. */
function twoCheckers(smtpPort: number, extra: string): string {
  return `${mailGlobals(smtpPort, extra)}
    router_id lvskd-test
}
virtual_server 127.0.0.1 19460 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 19461 {
        smtp_alert
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
        MISC_CHECK {
            misc_path /bin/true
            delay_loop 60
            warmup 0
        }
    }
}
`;
}

const rsMails = (messages: readonly string[]): string[] =>
  messages.filter((m) => m.includes('Subject: [lvskd-test] Realserver')).map((m) => {
    const subject = /^Subject: .* - (UP|DOWN)$/m.exec(m)?.[1];
    const body = /^=> .* <=$/m.exec(m)?.[0];
    return `${subject} ${body}`;
  });

for (const noCheckerEmails of [false, true]) {
  test(`checker verdicts mailed as keepalived's check_*.c mail them${noCheckerEmails ? ', no_checker_emails: only those that change the server' : ''}`, { timeout: 60_000 }, async (t) => {
    const smtp = await smtpServer();
    t.after(() => smtp.close());
    const web = new Backend('web1', 19461);
    await web.start();
    t.after(() => web.stop());
    const d = new DaemonUnderTest(t, twoCheckers(smtp.port, noCheckerEmails ? '\n    no_checker_emails' : ''));
    const run = d.start();
    await run.waitFor(/Misc check for \[\[127\.0\.0\.1\]:tcp:19461 VS \[127\.0\.0\.1\]:tcp:19460\] by \[\/bin\/true\] succeeded/, 15_000);
    await web.stop();
    await run.waitFor(/Removing service \[127\.0\.0\.1\]:tcp:19461/, 15_000);
    const expected = [...(noCheckerEmails ? [] : ['UP => MISC CHECK succeeded on service <=']), 'DOWN => TCP CHECK failed on service <='];
    await until('the mails', 10_000, () => (rsMails(smtp.messages).length >= expected.length ? true : undefined));
    assert.deepEqual(rsMails(smtp.messages), expected);
    assert.equal(await run.stop(), 0);
  });
}
