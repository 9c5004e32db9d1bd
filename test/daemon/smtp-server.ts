// A real SMTP server for the alert tests, shared by the unit and end-to-end tests.
import { createServer, type AddressInfo } from 'node:net';

/** A real SMTP server on loopback that records the conversation; `rcptCode` lets a test refuse recipients. */
export function smtpServer(rcptCode = 250, port = 0, host = '127.0.0.1'): Promise<{ port: number; transcript: string[]; messages: string[]; close: () => Promise<void> }> {
  const transcript: string[] = [];
  const messages: string[] = [];
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
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
    server.listen(port, host, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        transcript,
        messages,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}
