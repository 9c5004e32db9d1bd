// Backend for `bench:checkers`, run as its own process so serving does not count against the checker's CPU: answers
// every request on one port (all of 127/8 reaches it) with a fixed HTTP/1.0 response, the same over TLS on a second
// port when given a key and certificate (argv: key.pem cert.pem), and reports how many connections it accepted
// whenever the parent writes a line to stdin (one check is one connection, whether it sends a request or, as
// TCP_CHECK and HAProxy's plain `check` do, resets at once). A request for /endless gets 200 and then a body without
// end (64 KiB chunks as fast as the client takes them), until the client goes away.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const RESPONSE = Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
const CHUNK = Buffer.alloc(64 * 1024, 'x');
let served = 0;

function serve(sock: net.Socket): void {
  sock.on('error', () => undefined);
  sock.once('data', (req) => {
    if (!req.subarray(0, 14).toString('latin1').startsWith('GET /endless ')) return void sock.end(RESPONSE);
    let open = true;
    const pump = (): void => {
      while (open && sock.write(CHUNK));
    };
    sock.on('close', () => (open = false));
    sock.on('drain', pump);
    sock.write('HTTP/1.0 200 OK\r\n\r\n');
    pump();
  });
}

function listen(server: net.Server): Promise<number> {
  server.on('connection', (sock: net.Socket) => {
    served++;
    sock.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen({ port: 0, host: '0.0.0.0', backlog: 4096 }, () => resolve((server.address() as net.AddressInfo).port)));
}

const [keyFile, certFile] = process.argv.slice(2);
const plain = await listen(net.createServer(serve));
const secure = keyFile !== undefined && certFile !== undefined
  ? await listen(tls.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, serve).on('tlsClientError', () => undefined))
  : 0;
process.stdout.write(`port ${plain} ${secure}\n`);
process.stdin.on('data', () => process.stdout.write(`served ${served}\n`));
process.stdin.on('end', () => process.exit(0));
