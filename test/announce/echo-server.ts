// A real server for the BGP ECMP topology (bgp-topology.ts): on each ADDRESS:PORT:NAME given, every line a connection
// sends comes back as `NAME PEER LINE`, PEER being the address the connection came from — the director that relayed
// it (the userspace data plane connects to the real server from its own address).
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

for (const arg of process.argv.slice(2)) {
  const [host, port, name] = arg.split(':') as [string, string, string];
  createServer((sock) => {
    // A director that stops relaying resets its side: the real server forgets the connection, and lives on.
    sock.on('error', () => undefined);
    const lines = createInterface({ input: sock });
    lines.on('error', () => undefined);
    lines.on('line', (line) => sock.write(`${name} ${sock.remoteAddress ?? '?'} ${line}\n`));
  }).listen({ host, port: Number(port) }, () => process.stdout.write(`listening ${arg}\n`));
}
