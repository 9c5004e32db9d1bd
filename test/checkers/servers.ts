// Real servers on loopback for the checker tests: raw TCP/HTTP (so tests control every byte), TLS with a
// certificate generated at test time, SMTP, DNS. Each returns its port and a close().
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

export interface Running {
  readonly port: number;
  /** Requests (HTTP) or lines (SMTP) seen, in order. */
  readonly seen: string[];
  close(): Promise<void>;
}

type Handler = (sock: net.Socket, request: string) => void;

function listen(server: net.Server, seen: string[]): Promise<Running> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        seen,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Reads one request head, records it, then hands the socket to `handler`. */
function onRequest(handler: Handler, seen: string[]) {
  return (sock: net.Socket): void => {
    let buf = '';
    sock.on('error', () => undefined);
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      seen.push(buf);
      handler(sock, buf);
    };
    sock.on('data', onData);
  };
}

export function httpServer(handler: Handler): Promise<Running> {
  const seen: string[] = [];
  return listen(net.createServer(onRequest(handler, seen)), seen);
}

export function respond(status: number, body: string | Buffer, extra = ''): Handler {
  return (sock) => {
    const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
    sock.end(Buffer.concat([Buffer.from(`HTTP/1.0 ${status} X\r\nContent-Length: ${b.length}\r\n${extra}\r\n`), b]));
  };
}

export interface Cert {
  readonly key: string;
  readonly cert: string;
}

/** A self-signed certificate made by openssl for this test run. */
export function makeCert(): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'lvskc-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=lvskc.test',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function httpsServer(cert: Cert, handler: Handler, sniSeen?: string[]): Promise<Running> {
  const seen: string[] = [];
  const server = tls.createServer({ key: cert.key, cert: cert.cert }, onRequest(handler, seen));
  server.on('tlsClientError', () => undefined);
  if (sniSeen) server.on('secureConnection', (s: tls.TLSSocket) => sniSeen.push(String((s as unknown as { servername?: string | false }).servername)));
  return listen(server, seen);
}

/** Hands each accepted socket to `onConnect` before any request arrives. */
export function rawServer(onConnect: (sock: net.Socket) => void): Promise<Running> {
  return listen(
    net.createServer((s) => {
      s.on('error', () => undefined);
      onConnect(s);
    }),
    [],
  );
}

/** Accepts connections and never answers. */
export function silentServer(): Promise<Running> {
  return listen(net.createServer((s) => s.on('error', () => undefined)), []);
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const r = await silentServer();
  await r.close();
  return r.port;
}

/** Minimal SMTP: banner, then answers HELO with `heloReply` and QUIT with 221. */
export function smtpServer(banner = '220 lvskc ESMTP', heloReply = '250 hello'): Promise<Running> {
  const seen: string[] = [];
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.write(`${banner}\r\n`);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        seen.push(line);
        if (/^HELO /i.test(line)) sock.write(`${heloReply}\r\n`);
        else if (/^QUIT/i.test(line)) sock.end('221 bye\r\n');
      }
    });
  });
  return listen(server, seen);
}

export interface DnsBehaviour {
  rcode?: number;
  /** Answer with a different ID. */
  wrongId?: boolean;
  /** Clear QR in the reply. */
  noQr?: boolean;
  silent?: boolean;
}

/** A UDP DNS responder that echoes the question with the given RCODE; `queries` collects what it got. */
export function dnsServer(b: DnsBehaviour): Promise<Running & { queries: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  const queries: Buffer[] = [];
  sock.on('message', (msg, rinfo) => {
    queries.push(msg);
    if (b.silent || msg.length < 12) return;
    const reply = Buffer.from(msg);
    if (b.wrongId) reply.writeUInt16BE((msg.readUInt16BE(0) + 1) & 0xffff, 0);
    reply.writeUInt16BE((b.noQr ? 0 : 0x8000) | 0x0100 | 0x0080 | (b.rcode ?? 0), 2);
    sock.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    sock.bind(0, '127.0.0.1', () => {
      resolve({ port: sock.address().port, seen: [], queries, close: () => new Promise((d) => sock.close(() => d())) });
    });
  });
}
