import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { SmtpAlerter, alerts } from '../../src/daemon/smtp-alert.js';
import { silentLogger } from '../../src/log.js';
import type { GlobalDefs } from '../../src/config/model.js';

/** A real SMTP server on loopback that records the conversation; `rcptCode` lets a test refuse recipients. */
function smtpServer(rcptCode = 250): Promise<{ port: number; transcript: string[]; messages: string[]; close: () => Promise<void> }> {
  const transcript: string[] = [];
  const messages: string[] = [];
  const server = createServer((sock) => {
    sock.setEncoding('latin1');
    sock.write('220 test.example ESMTP\r\n');
    let buf = '';
    let inData = false;
    let data = '';
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let idx: number;
      while ((idx = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push(data);
            data = '';
            sock.write('250 queued\r\n');
          } else data += `${line}\n`;
          continue;
        }
        transcript.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'HELO') sock.write('250-test.example\r\n250 hello\r\n');
        else if (verb === 'MAIL') sock.write('250 ok\r\n');
        else if (verb === 'RCPT') sock.write(`${rcptCode} rcpt\r\n`);
        else if (verb === 'DATA') {
          inData = true;
          sock.write('354 go\r\n');
        } else if (verb === 'QUIT') sock.end('221 bye\r\n');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        transcript,
        messages,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

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
      alerts.realServer('director1', '[192.0.2.22]:tcp:80', '[192.0.2.10]:tcp:80', false),
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
  assert.equal(await new SmtpAlerter(globals(srv.port), silentLogger()).send(alerts.quorum('d1', '[192.0.2.10]:tcp:80', true)), false);
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
