// Client side of the daemon's control socket (server: src/daemon/control.ts).
// Protocol: a Unix stream socket, one JSON object per line each way.
//   request  {"cmd":"ipvs-table"}\n
//   reply    {"ok":true,"table":IpvsTable}\n   or   {"ok":false,"error":"text"}\n
// Bigint counters (Stats) travel as decimal strings and are turned back into bigints here.
import { connect } from 'node:net';
import { DEFAULT_CONTROL_SOCKET } from '../daemon/control.js';
import type { IpvsTable, Stats } from '../ipvs/types.js';

export { DEFAULT_CONTROL_SOCKET };

/** No daemon answers at the socket path (absent, or nobody listening). */
export class NoDaemonError extends Error {
  constructor(readonly socketPath: string) {
    super(`no running lvskeeper (no status socket at ${socketPath})`);
    this.name = 'NoDaemonError';
  }
}

/** The socket exists but this user may not connect: the control socket is root-only. */
export class NotPermittedError extends Error {
  constructor(readonly socketPath: string) {
    super(`permission denied on ${socketPath}: the lvskeeper control socket is root-only`);
    this.name = 'NotPermittedError';
  }
}

function connectError(err: NodeJS.ErrnoException, socketPath: string): Error {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return new NoDaemonError(socketPath);
  if (err.code === 'EACCES' || err.code === 'EPERM') return new NotPermittedError(socketPath);
  return err;
}

const STAT_FIELDS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;

function reviveStats(raw: unknown): Stats | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const out: Record<string, bigint> = {};
  for (const f of STAT_FIELDS) out[f] = BigInt(String(r[f] ?? 0));
  return out as unknown as Stats;
}

/** Turns the JSON table back into an IpvsTable (stats as bigints). */
export function reviveTable(raw: unknown): IpvsTable {
  const t = raw as { services?: unknown };
  if (typeof t !== 'object' || t === null || !Array.isArray(t.services)) throw new Error('malformed ipvs-table reply');
  const services = (t.services as Record<string, unknown>[]).map((e) => {
    const dests = ((e['dests'] as Record<string, unknown>[] | undefined) ?? []).map((d) => {
      const stats = reviveStats(d['stats']);
      return { ...d, ...(stats ? { stats } : {}) };
    });
    const stats = reviveStats(e['stats']);
    return { ...e, dests, ...(stats ? { stats } : {}) };
  });
  return { services } as unknown as IpvsTable;
}

/** Sends one request line and resolves with the first reply line, parsed. */
export function requestDaemon(socketPath: string, request: object, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    sock.setEncoding('utf8');
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no reply from ${socketPath} within ${timeoutMs} ms`)));
    sock.on('connect', () => sock.write(JSON.stringify(request) + '\n'));
    sock.on('error', (err: NodeJS.ErrnoException) => reject(connectError(err, socketPath)));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      sock.destroy();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      } catch (err) {
        reject(new Error(`bad reply from ${socketPath}: ${(err as Error).message}`));
      }
    });
    sock.on('end', () => reject(new Error(`${socketPath} closed without a reply`)));
  });
}

/** The running daemon's IPVS table, via `{"cmd":"ipvs-table"}`. */
export async function fetchTableFromDaemon(socketPath = DEFAULT_CONTROL_SOCKET): Promise<IpvsTable> {
  const reply = await requestDaemon(socketPath, { cmd: 'ipvs-table' });
  if (reply['ok'] !== true) throw new Error(`lvskeeper refused ipvs-table: ${String(reply['error'] ?? 'no reason given')}`);
  return reviveTable(reply['table']);
}

export interface EventStream {
  /** Settles when the stream ends: resolves after close(), rejects when the daemon goes away or refuses. */
  readonly done: Promise<void>;
  close(): void;
}

/** Subscribes with `{"cmd":"events"}`: after the `{"ok":true,"streaming":true}` reply, each line is one event. */
export function streamDaemonEvents(
  socketPath: string,
  onEvent: (event: Record<string, unknown>) => void,
  onSubscribed: () => void = () => undefined,
): EventStream {
  const sock = connect(socketPath);
  let closing = false;
  let subscribed = false;
  const done = new Promise<void>((resolve, reject) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('{"cmd":"events"}\n'));
    sock.on('error', (err: NodeJS.ErrnoException) => reject(connectError(err, socketPath)));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch (err) {
          sock.destroy(new Error(`bad event line from ${socketPath}: ${(err as Error).message}`));
          return;
        }
        if (subscribed) onEvent(msg);
        else if (msg['ok'] === true) {
          subscribed = true;
          onSubscribed();
        }
        else sock.destroy(new Error(`lvskeeper refused events: ${String(msg['error'] ?? 'no reason given')}`));
      }
    });
    sock.on('close', () => (closing ? resolve() : reject(new Error(`the daemon closed the event stream (${socketPath})`))));
  });
  return {
    done,
    close: () => {
      closing = true;
      sock.destroy();
    },
  };
}
