// A tiny HTTP backend for the quickstart: answers every path with its own name, /health with 200.
// Run as its own process so a newcomer can stop it with `kill` and watch the checker react.
import { createServer } from 'node:http';

const [portText, name] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || !name) {
  process.stderr.write('usage: demo-backend PORT NAME\n');
  process.exit(2);
}

createServer((req, res) => {
  const body = req.url === '/health' ? 'ok\n' : `hello from ${name} (127.0.0.1:${port})\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
}).listen(port, '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
