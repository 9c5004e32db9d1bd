// HTTP_GET / SSL_GET over a raw socket. undici 7 always speaks HTTP/1.1 with its own headers, so it cannot send
// keepalived's HTTP/1.0 request shape; one small client here produces the exact bytes for 1.0, 1.0C and 1.1 and is
// cheaper per check than a general client (no pool, no keep-alive: keepalived closes after each check).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { translatePcre2 } from './pcre2.js';
import type { CheckerConnection, HttpChecker, HttpUrl, SslClient } from '../src/config/model.js';
import { formatEndpoint } from '../src/config/identity.js';
import { codeError, connect, errorReason, ProbeError } from './connect.js';
import { exchanges } from './exchange.js';
import { BodyTooLarge, buildRequest, defaultHost, ResponseReader } from './http-wire.js';
import type { ProbeResult } from './types.js';

/**
 * The longest body a `digest` or `regex` check reads (1 MiB); a longer one fails the check with a line saying so,
 * never a digest or match over a truncated body. keepalived 2.2.7 has no cap (check_http.c hashes the stream through
 * a 4 KiB buffer until the peer closes), so against a body without end its check never completes; health pages are
 * small, and 1 MiB keeps a regex check's kept body and a digest check's hashing bounded.
 */
export const BODY_CAP = 1024 * 1024;

export interface HttpFetchResult {
  readonly status: number;
  /** Empty when hashBody was false. */
  readonly digest: string;
  readonly headers: Buffer;
  readonly body?: string;
}

export interface HttpFetchOptions {
  readonly ssl: boolean;
  readonly host: string;
  readonly path: string;
  readonly protocol: HttpChecker['httpProtocol'];
  readonly sni?: string;
  /** What the global SSL block gives the handshake. */
  readonly client?: TlsClientFiles;
  readonly keepBody?: number;
  /** Compute the body's MD5 (default true); the probe skips it when the url it checks has no digest. */
  readonly hashBody?: boolean;
  /** The longest body accepted (default: no cap); past it the fetch rejects with BodyTooLarge. */
  readonly bodyCap?: number;
}

/**
 * One GET on a fresh connection; rejects with ProbeError on timeout, refusal, reset or a truncated body, and with
 * BodyTooLarge past `bodyCap`. It reads only what it needs: the head when neither a digest nor a body is wanted,
 * else the body to Content-Length or to the end of the stream, then closes with a reset. connect_timeout bounds the
 * connect (and TLS handshake), then the whole reply; keepalived's timer restarts on each read instead
 * (check_http.c, http_read_thread), which a peer that keeps sending holds open for ever. Plain HTTP runs on the
 * shared exchange set; SSL_GET connects there, then speaks TLS on a node:tls socket.
 */
export function httpFetch(c: CheckerConnection, o: HttpFetchOptions, signal: AbortSignal): Promise<HttpFetchResult> {
  return new Promise((resolve, reject) => {
    const reader = new ResponseReader(o.keepBody ?? 0, o.hashBody ?? true, o.bodyCap ?? Infinity);
    let done = false;
    let close: () => void = () => {};
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      close();
      if (err) return reject(err);
      if (reader.status === undefined || reader.headers === undefined) return reject(new ProbeError('error', 'no response'));
      resolve({
        status: reader.status,
        digest: reader.digest(),
        headers: reader.headers,
        ...(o.keepBody ? { body: reader.bodyText() } : {}),
      });
    };
    const onAbort = (): void => finish(new ProbeError('timeout', 'aborted'));
    const readTimeout = (): ProbeError => new ProbeError('timeout', reader.started ? 'read timeout' : 'response timeout');
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const onData = (chunk: Buffer): void => {
      try {
        if (reader.push(chunk)) finish();
      } catch (err) {
        finish(err instanceof BodyTooLarge ? err : new ProbeError('error', (err as Error).message));
      }
    };
    const onEnd = (): void => {
      if (reader.contentLength !== undefined && !reader.complete) finish(new ProbeError('error', 'body shorter than Content-Length'));
      else finish();
    };
    const request = buildRequest(o.path, o.host, o.protocol);
    if (o.ssl) {
      const tlsOpts = { ...(o.sni !== undefined ? { servername: o.sni } : {}), ...(o.client ? { client: o.client } : {}) };
      connect(c, signal, { tls: tlsOpts }).then((sock) => {
        if (done) return sock.destroy();
        // One timer for the whole reply, as the exchange set's deadline: an idle timeout would never fire on a
        // peer that keeps sending. Each 'data' is consumed at once and the socket destroyed when the reader is
        // done, so memory stays within one TLS read.
        const deadline = setTimeout(() => finish(readTimeout()), c.connectTimeoutMs);
        close = () => {
          clearTimeout(deadline);
          sock.destroy();
        };
        sock.on('data', onData);
        sock.on('end', onEnd);
        sock.on('error', (err: NodeJS.ErrnoException) => finish(errorReason(err)));
        sock.write(request);
      }, finish);
      return;
    }
    const set = exchanges();
    const handle = set.start(
      c,
      request,
      {
        connected() {},
        data: onData,
        end: onEnd,
        error: (code) => finish(codeError(code)),
        timeout: (connecting) => finish(connecting ? new ProbeError('timeout', 'connect timeout') : readTimeout()),
        // The reader fails first on a head or body too long; this only backs it.
        limit: () => finish(new ProbeError('error', 'reply too long')),
      },
      false,
      reader.maxBytes,
    );
    close = () => set.close(handle);
  });
}

function statusOk(url: HttpUrl, status: number): boolean {
  return url.statusCodes.some(([lo, hi]) => status >= lo && status <= hi);
}

/** Checks URL number `index` of the checker; the policy paces URLs one per attempt. */
/** `rs` names the server in the lines, as the engine's checker lines do (keepalived's FMT_CHK). */
export async function probeHttp(
  c: HttpChecker, index: number, signal: AbortSignal, rs = formatEndpoint(c.connectIp, 'tcp', c.connectPort), ssl?: SslClient,
): Promise<ProbeResult> {
  const url = c.urls[index] ?? c.urls[0];
  if (url === undefined) return { ok: false, detail: `No url configured for ${rs}.` };
  const host = url.virtualhost ?? c.virtualhost ?? defaultHost(c.connectIp, c.connectPort);
  const sni = c.enableSni ? (c.sniName ?? url.virtualhost ?? c.virtualhost) : undefined;
  let r: HttpFetchResult;
  try {
    r = await httpFetch(
      c,
      {
        ssl: c.type === 'SSL_GET',
        host,
        path: url.path,
        protocol: c.httpProtocol,
        hashBody: url.digest !== undefined,
        bodyCap: BODY_CAP,
        ...(sni !== undefined ? { sni } : {}),
        ...(url.regex !== undefined ? { keepBody: BODY_CAP } : {}),
        ...(c.type === 'SSL_GET' && ssl ? { client: sslClientFiles(ssl) } : {}),
      },
      signal,
    );
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      const what = url.digest !== undefined ? 'MD5 digest error' : 'Regex match failed';
      return { ok: false, detail: `${what} to ${rs} url(${url.path}), body larger than ${err.cap} bytes (the most a digest or regex check reads).` };
    }
    // keepalived's timeout_epilog lines: before any reply byte (check_http.c http_response_thread), then while
    // reading (http_read_thread, check_ssl.c ssl_read_thread).
    if (err instanceof ProbeError && err.message === 'response timeout') return { ok: false, detail: `Timeout WEB read server ${rs}.` };
    if (err instanceof ProbeError && err.message === 'read timeout') {
      return { ok: false, detail: `Timeout ${c.type === 'SSL_GET' ? 'SSL' : 'HTTP'} read server ${rs}.` };
    }
    if (err instanceof ProbeError && err.reason === 'timeout') return { ok: false, detail: `Timeout connecting server ${rs}.` };
    if (err instanceof ProbeError && err.reason === 'refused') return { ok: false, detail: `Error connecting server ${rs}.` };
    return { ok: false, detail: `Error reading data from server ${rs} (${(err as Error).message}).` };
  }
  if (!statusOk(url, r.status)) {
    return { ok: false, detail: `HTTP status code error to ${rs} url(${url.path}), status_code [${r.status}].` };
  }
  if (url.digest !== undefined && url.digest !== r.digest) {
    return { ok: false, detail: `MD5 digest error to ${rs} url(${url.path}), MD5SUM [${r.digest}].` };
  }
  if (url.regex !== undefined) {
    // regex_min_offset / regex_max_offset bound where in the body the match is searched.
    const text = (r.body ?? '').slice(url.regexMinOffset ?? 0, url.regexMaxOffset);
    const matched = compileRegex(url.regex, url.regexOptions).test(text);
    if (matched === url.regexNoMatch) return { ok: false, detail: `Regex match failed to ${rs} url(${url.path}).` };
    return { ok: true, detail: `Regex match success to ${rs} url(${url.path})` };
  }
  // check_http.c http_handle_response: "%s success to %s url(%s)", no full stop.
  if (url.digest !== undefined) return { ok: true, detail: `MD5 digest success to ${rs} url(${url.path})` };
  return { ok: true, detail: `HTTP status code success to ${rs} url(${url.path})` };
}

/**
 * PCRE2's meaning in a JavaScript RegExp (pcre2.ts); a pattern outside the common subset, already named at -t and at
 * start, runs as JavaScript reads it, with the options JavaScript has.
 */
function compileRegex(pattern: string, options: string | undefined): RegExp {
  const t = translatePcre2(pattern, options);
  if (!('differs' in t)) return new RegExp(t.source, t.flags);
  const o = new Set((options ?? '').split(/\s+/));
  return new RegExp(pattern, `${o.has('caseless') ? 'i' : ''}${o.has('multiline') ? 'm' : ''}${o.has('dotall') ? 's' : ''}`);
}

export type TlsClientFiles = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'passphrase'>;
const sslFiles = new WeakMap<SslClient, TlsClientFiles>();

/**
 * The global SSL block's files, read once per config (keepalived loads them into its SSL_CTX at start). A file that
 * cannot be read leaves its part out, so the handshake goes on without it, as keepalived's does when loading fails.
 */
function sslClientFiles(ssl: SslClient): TlsClientFiles {
  let files = sslFiles.get(ssl);
  if (files) return files;
  const read = (path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch {
      return undefined;
    }
  };
  const [ca, cert, key] = [read(ssl.ca), read(ssl.certificate), read(ssl.key)];
  files = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(ssl.password !== undefined ? { passphrase: ssl.password } : {}),
  };
  sslFiles.set(ssl, files);
  return files;
}
