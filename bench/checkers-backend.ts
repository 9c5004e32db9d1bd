// Backend for `bench:checkers`, run as its own process so serving does not count against the checker's CPU: answers
// every request on one port (all of 127/8 reaches it) with a fixed HTTP/1.0 response, and reports how many requests
// it served whenever the parent writes a line to stdin. A request for /endless gets 200 and then a body without end
// (64 KiB chunks as fast as the client takes them), until the client goes away.
import net from 'node:net';

const RESPONSE = Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
const CHUNK = Buffer.alloc(64 * 1024, 'x');
let served = 0;
const server = net.createServer((sock) => {
  sock.on('error', () => undefined);
  sock.once('data', (req) => {
    served++;
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
});
server.listen({ port: 0, host: '0.0.0.0', backlog: 4096 }, () => {
  process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
});
process.stdin.on('data', () => process.stdout.write(`served ${served}\n`));
process.stdin.on('end', () => process.exit(0));
