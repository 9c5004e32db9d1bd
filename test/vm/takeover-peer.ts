// The two ends of the connections a director takeover must not break, run inside the IPVS VM's namespaces:
//   server NAME PORT...          echoes each line back prefixed with NAME (a real server, VIP on its loopback)
//   client VIP STATUS N PORT...  holds N connections per port, one line each 200 ms, and writes every connection's
//                                reply count and server to STATUS (JSON) every 200 ms
// A connection counts as surviving a takeover when its replies keep rising and it never closed.
import { createConnection, createServer, type Socket } from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';

export interface PeerConn {
  readonly port: number;
  server: string;
  replies: number;
  closed: boolean;
}

function lines(sock: Socket, onLine: (line: string) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

function server(name: string, ports: number[]): void {
  for (const port of ports) {
    createServer((sock) => {
      sock.on('error', () => undefined);
      lines(sock, (l) => sock.write(`${name} ${l}\n`));
    }).listen(port, '0.0.0.0');
  }
}

function client(vip: string, status: string, n: number, ports: number[]): void {
  const conns: PeerConn[] = [];
  for (const port of ports) {
    for (let i = 0; i < n; i++) {
      const c: PeerConn = { port, server: '', replies: 0, closed: false };
      conns.push(c);
      const sock = createConnection({ host: vip, port });
      sock.on('error', () => undefined);
      sock.on('close', () => { c.closed = true; });
      lines(sock, (l) => { c.server = l.split(' ')[0] ?? ''; c.replies++; });
      let seq = 0;
      const timer = setInterval(() => { if (c.closed) clearInterval(timer); else sock.write(`${seq++}\n`); }, 200);
    }
  }
  setInterval(() => {
    writeFileSync(`${status}.new`, JSON.stringify(conns));
    renameSync(`${status}.new`, status);
  }, 200);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server') server(args[0]!, args.slice(1).map(Number));
else if (mode === 'client') client(args[0]!, args[1]!, Number(args[2]), args.slice(3).map(Number));
else {
  process.stderr.write('usage: takeover-peer server NAME PORT... | client VIP STATUS N PORT...\n');
  process.exit(2);
}
