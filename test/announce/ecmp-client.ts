// The client of the BGP ECMP topology (bgp-topology.ts), run in the client namespace: it keeps TCP connections to the
// VIP open and answers JSON commands, one a line, on stdin:
//   {"op":"open","n":N,"host":VIP,"port":P}  N new connections, each greeted once → {"conns":[Conn…]}
//   {"op":"ping"}                             one line over every open connection → {"conns":[Conn…]}
//   {"op":"close"}                            every connection closed (FIN) and forgotten → {"conns":[]}
// A connection answers with the real server's name and the director that relayed it (echo-server.ts); one that was
// reset, closed or silent for 2 s is `ok: false` and stays so.
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

interface Conn {
  readonly id: number;
  readonly localPort: number;
  ok: boolean;
  rs?: string;
  director?: string;
}

interface Open {
  readonly conn: Conn;
  readonly sock: Socket;
  pending?: (line: string | undefined) => void;
  buf: string;
}

const open: Open[] = [];

function exchange(o: Open, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (!o.conn.ok) return resolve();
    const timer = setTimeout(() => o.pending?.(undefined), 2000);
    o.pending = (line) => {
      clearTimeout(timer);
      o.pending = undefined;
      const [rs, director] = line?.split(' ') ?? [];
      if (line === undefined || !line.endsWith(` ${text}`)) o.conn.ok = false;
      else Object.assign(o.conn, { rs, director });
      resolve();
    };
    o.sock.write(`${text}\n`);
  });
}

function start(id: number, host: string, port: number): Promise<Open> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const o: Open = { conn: { id, localPort: 0, ok: true }, sock, buf: '' };
    const fail = (): void => {
      o.conn.ok = false;
      o.pending?.(undefined);
    };
    sock.on('error', fail);
    sock.on('close', fail);
    sock.on('data', (d: Buffer) => {
      o.buf += d.toString();
      const nl = o.buf.indexOf('\n');
      if (nl < 0) return;
      const line = o.buf.slice(0, nl);
      o.buf = o.buf.slice(nl + 1);
      o.pending?.(line);
    });
    const timer = setTimeout(() => {
      fail();
      sock.destroy();
      resolve(o);
    }, 3000);
    sock.once('connect', () => {
      clearTimeout(timer);
      (o.conn as { localPort: number }).localPort = sock.localPort ?? 0;
      void exchange(o, 'hello').then(() => resolve(o));
    });
    sock.once('error', () => {
      clearTimeout(timer);
      resolve(o);
    });
  });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { op: string; n?: number; host?: string; port?: number };
  void (async () => {
    if (cmd.op === 'open') {
      const made: Open[] = [];
      for (let i = 0; i < (cmd.n ?? 1); i++) made.push(await start(open.length + made.length, cmd.host!, cmd.port!));
      open.push(...made);
      process.stdout.write(`${JSON.stringify({ conns: made.map((o) => o.conn) })}\n`);
    } else if (cmd.op === 'ping') {
      await Promise.all(open.map((o) => exchange(o, 'ping')));
      process.stdout.write(`${JSON.stringify({ conns: open.map((o) => o.conn) })}\n`);
    } else if (cmd.op === 'close') {
      for (const o of open.splice(0)) o.sock.end();
      process.stdout.write(`${JSON.stringify({ conns: [] })}\n`);
    }
  })();
});
