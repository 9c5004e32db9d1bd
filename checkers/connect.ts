// Connects the TCP (or TLS) stream every dialogue checker (SSL_GET, SMTP_CHECK) starts with. The TCP connect runs on
// the exchange set, so connect_ip/port, bindto, bind_port, bind_if and fwmark all apply; the connected descriptor is
// then handed to a net.Socket (and TLS without peer verification, as keepalived) for the dialogue.
import net from 'node:net';
import type * as tls from 'node:tls';
import type { CheckerConnection } from '../src/config/model.js';
import { exchanges } from './exchange.js';

export interface ConnectOptions {
  readonly tls?: {
    readonly servername?: string;
    /** The global SSL block's client certificate and CA (check_ssl.c init_ssl_ctx), already read. */
    readonly client?: Pick<tls.ConnectionOptions, 'ca' | 'cert' | 'key' | 'passphrase'>;
  };
}

export class ProbeError extends Error {
  constructor(readonly reason: 'timeout' | 'refused' | 'error', message: string) {
    super(message);
  }
}

export function errorReason(err: NodeJS.ErrnoException): ProbeError {
  return err.code !== undefined ? codeError(err.code) : new ProbeError('error', err.message);
}

/** A failed connect or exchange by its errno name; a refusal is told apart, as keepalived's log lines do. */
export function codeError(code: string): ProbeError {
  return new ProbeError(code === 'ECONNREFUSED' ? 'refused' : 'error', code);
}

type ClientFiles = Pick<tls.ConnectionOptions, 'ca' | 'cert' | 'key' | 'passphrase'>;

/** node:tls, loaded by the first TLS check rather than at start: a process without one never pays for it. */
const tlsModule = (): typeof tls => process.getBuiltinModule('node:tls');

const NO_FILES: ClientFiles = {};
const contexts = new WeakMap<ClientFiles, tls.SecureContext>();

/**
 * One TLS context per set of client files, as keepalived makes one SSL_CTX at start (check_ssl.c init_ssl_ctx): a
 * context built per check cost SSL_GET about 2 ms of CPU, more than its handshake. It carries no session, so each
 * check still makes a full handshake. A context that fails to build (a bad key) throws where tls.connect did.
 */
function contextFor(files: ClientFiles = NO_FILES): tls.SecureContext {
  let context = contexts.get(files);
  if (context === undefined) {
    context = tlsModule().createSecureContext(files);
    contexts.set(files, context);
  }
  return context;
}

/**
 * Resolves once connected (and the TLS handshake is done); the caller owns the socket and must destroy it.
 * connect_timeout bounds the TCP connect and then the handshake.
 */
export function connect(c: CheckerConnection, signal: AbortSignal, opts: ConnectOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const set = exchanges();
    let handle = -1;
    let sock: net.Socket | undefined;
    const fail = (err: ProbeError): void => {
      signal.removeEventListener('abort', onAbort);
      set.close(handle);
      sock?.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new ProbeError('timeout', 'aborted'));
    const connected = (): void => {
      const tcp = new net.Socket({ fd: set.detach(handle) });
      if (opts.tls === undefined) {
        signal.removeEventListener('abort', onAbort);
        return resolve(tcp);
      }
      const servername = opts.tls.servername;
      const secure = tlsModule().connect({
        socket: tcp,
        // keepalived sets no SSL_VERIFY_PEER: the server's certificate is not verified, even with a CA given.
        rejectUnauthorized: false,
        secureContext: contextFor(opts.tls.client),
        ...(servername !== undefined && net.isIP(servername) === 0 ? { servername } : {}),
      });
      sock = secure;
      const onTimeout = (): void => fail(new ProbeError('timeout', 'handshake timeout'));
      const onError = (err: NodeJS.ErrnoException): void => fail(errorReason(err));
      secure.setTimeout(c.connectTimeoutMs, onTimeout);
      secure.once('error', onError);
      secure.once('secureConnect', () => {
        secure.setTimeout(0);
        secure.removeListener('timeout', onTimeout);
        secure.removeListener('error', onError);
        signal.removeEventListener('abort', onAbort);
        resolve(secure);
      });
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const closedEarly = (): void => fail(new ProbeError('error', 'closed while connecting'));
    handle = set.start(c, null, {
      connected,
      data: closedEarly,
      end: closedEarly,
      error: (code) => fail(codeError(code)),
      timeout: () => fail(new ProbeError('timeout', 'connect timeout')),
    });
  });
}
