// The test SMTP server as a process of its own, for daemons in a network namespace: listens on PORT (argv[2]) on all
// addresses, prints `port N` once listening and each received message as one JSON line.
import { smtpServer } from './smtp-server.js';

const srv = await smtpServer(250, Number(process.argv[2] ?? 0), '0.0.0.0');
process.stdout.write(`port ${srv.port}\n`);
let sent = 0;
setInterval(() => {
  for (; sent < srv.messages.length; sent++) process.stdout.write(`${JSON.stringify(srv.messages[sent])}\n`);
}, 50);
process.on('SIGTERM', () => void srv.close().then(() => process.exit(0)));
