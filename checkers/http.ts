// HTTP_GET / SSL_GET over a raw socket. undici 7 always speaks HTTP/1.1 with its own headers, so it cannot send
// keepalived's HTTP/1.0 request shape; one small client here produces the exact bytes for 1.0, 1.0C and 1.1 and is
// cheaper per check than a general client (no pool, no keep-alive: keepalived closes after each check).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { translatePcre2 } from './pcre2.js';
import type { CheckerConnection, HttpChecker, HttpUrl, SslClient } from '../src/config/model.js';
import { formatEndpoint } from '../src/config/identity.js';
import { codeError, connect, errorReason, ProbeError } from './connect.js';
import { exchanges, type ExchangeHandler } from './exchange.js';
import { flatCopy } from './flat-string.js';
import { BodyTooLarge, buildRequest, defaultHost, ResponseReader } from './http-wire.js';
import type { ProbeResult, Verdict } from './types.js';

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

type FetchDone = (err: Error | undefined, r: HttpFetchResult | undefined) => void;

/** What a reader that stopped (or ended with `err`) gives its caller. */
function settle(reader: ResponseReader, keepBody: boolean, err: Error | undefined, done: FetchDone): void {
  if (err) return done(err, undefined);
  if (!replied(reader)) return done(noResponse(), undefined);
  // Two literals rather than a spread: a spread's copy showed per check in bench:checkers' profile.
  const { status, headers } = reader;
  done(undefined, keepBody ? { status, digest: reader.digest(), headers, body: reader.bodyText() } : { status, digest: reader.digest(), headers });
}

/** The reader stopped with a status line and headers read; a peer may close before it sends them. */
const replied = (reader: ResponseReader): reader is ResponseReader & { readonly status: number; readonly headers: Buffer } =>
  reader.status !== undefined && reader.headers !== undefined;

const noResponse = (): ProbeError => new ProbeError('error', 'no response');

const readTimeout = (reader: ResponseReader): ProbeError => new ProbeError('timeout', reader.started ? 'read timeout' : 'response timeout');

/** The peer closed: a body cut short of its Content-Length is an error, anything else the end of the reply. */
const endError = (reader: ResponseReader): ProbeError | undefined =>
  reader.contentLength !== undefined && !reader.complete ? new ProbeError('error', 'body shorter than Content-Length') : undefined;

const pushError = (err: unknown): Error => (err instanceof BodyTooLarge ? err : new ProbeError('error', (err as Error).message));

/**
 * A plain-HTTP GET on the shared exchange set, itself the exchange's handler: at thousands of checks a second a
 * promise, an abort listener and a closure per event cost more CPU than the check's syscalls. What the end of the
 * reply gives is the subclass's: a fetch result (httpFetch) or a check's verdict (startHttpGet).
 */
abstract class PlainFetch implements ExchangeHandler {
  private handle = -1;
  private done = false;

  constructor(protected readonly reader: ResponseReader) {}

  begin(c: CheckerConnection, request: string | Buffer): this {
    this.handle = exchanges().start(c, request, this, false, this.reader.maxBytes);
    return this;
  }

  cancel(): void {
    this.finish(new ProbeError('timeout', 'aborted'));
  }

  connected(): void {}

  data(chunk: Buffer): void {
    try {
      if (this.reader.push(chunk)) this.finish(undefined);
    } catch (err) {
      this.finish(pushError(err));
    }
  }

  end(): void {
    this.finish(endError(this.reader));
  }

  error(code: string): void {
    this.finish(codeError(code));
  }

  timeout(connecting: boolean): void {
    this.finish(connecting ? new ProbeError('timeout', 'connect timeout') : readTimeout(this.reader));
  }

  /** The reader fails first on a head or body too long; this only backs it. */
  limit(): void {
    this.finish(new ProbeError('error', 'reply too long'));
  }

  /** The reply is over: read whole (`err` undefined) or cut off by `err`. */
  protected abstract fetched(err: Error | undefined): void;

  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    exchanges().close(this.handle);
    this.fetched(err);
  }
}

/** httpFetch's plain-HTTP fetch. */
class ResultFetch extends PlainFetch {
  constructor(
    reader: ResponseReader,
    private readonly keepBody: boolean,
    private readonly onDone: FetchDone,
  ) {
    super(reader);
  }

  protected fetched(err: Error | undefined): void {
    settle(this.reader, this.keepBody, err, this.onDone);
  }
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
    const keepBody = o.keepBody !== undefined && o.keepBody > 0;
    const request = buildRequest(o.path, o.host, o.protocol);
    const done: FetchDone = (err, r) => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(r!);
    };
    let onAbort: () => void;
    if (!o.ssl) {
      const fetch = new ResultFetch(reader, keepBody, done);
      onAbort = () => fetch.cancel();
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      fetch.begin(c, request);
      return;
    }
    let finished = false;
    let close: () => void = () => {};
    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      close();
      settle(reader, keepBody, err, done);
    };
    onAbort = () => finish(new ProbeError('timeout', 'aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const tlsOpts = { ...(o.sni !== undefined ? { servername: o.sni } : {}), ...(o.client ? { client: o.client } : {}) };
    connect(c, signal, { tls: tlsOpts }).then((sock) => {
      if (finished) return sock.destroy();
      // One timer for the whole reply, as the exchange set's deadline: an idle timeout would never fire on a
      // peer that keeps sending. Each 'data' is consumed at once and the socket destroyed when the reader is
      // done, so memory stays within one TLS read.
      const deadline = setTimeout(() => finish(readTimeout(reader)), c.connectTimeoutMs);
      close = () => {
        clearTimeout(deadline);
        sock.destroy();
      };
      sock.on('data', (chunk: Buffer) => {
        try {
          if (reader.push(chunk)) finish();
        } catch (err) {
          finish(pushError(err));
        }
      });
      sock.on('end', () => finish(endError(reader)));
      sock.on('error', (err: NodeJS.ErrnoException) => finish(errorReason(err)));
      sock.write(request);
    }, finish);
  });
}

function statusOk(url: HttpUrl, status: number): boolean {
  // A loop, not some() with a destructuring callback: that made a closure and an iterator per range at every check.
  const ranges = url.statusCodes;
  for (let i = 0; i < ranges.length; i++) if (status >= ranges[i]![0] && status <= ranges[i]![1]) return true;
  return false;
}

/** The url an attempt checks: number `index` of the checker's; the policy paces URLs one per attempt. */
const urlOf = (c: HttpChecker, index: number): HttpUrl | undefined => c.urls[index] ?? c.urls[0];

const hostOf = (c: HttpChecker, url: HttpUrl): string => url.virtualhost ?? c.virtualhost ?? defaultHost(c.connectIp, c.connectPort);

const noUrl = (rs: string): ProbeResult => ({ ok: false, detail: `No url configured for ${rs}.` });

/**
 * What every check of a url repeats, made once for the checker that owns it:
 * - the request: the engine sends the same bytes every delay_loop. Kept as the string the exchange set encodes: a
 *   Buffer of it cost a view object and pool bytes besides, 2.5 MB more at 30,000 real servers (`npm run bench:heap`).
 * - the success line's detail, flat: each passing check gives the engine the string it kept from the last, which it
 *   finds equal by identity; a template literal per check had to be built, then flattened to be compared.
 */
interface UrlWire {
  readonly c: HttpChecker;
  readonly request: string;
  /** The server the success detail names (the engine's unit target), and that detail. */
  rs: string | undefined;
  success: string | undefined;
}

const wires = new WeakMap<HttpUrl, UrlWire>();

function wireOf(c: HttpChecker, url: HttpUrl): UrlWire {
  const made = wires.get(url);
  if (made?.c === c) return made;
  const wire: UrlWire = { c, request: buildRequest(url.path, hostOf(c, url), c.httpProtocol), rs: undefined, success: undefined };
  wires.set(url, wire);
  return wire;
}

function successOf(wire: UrlWire, url: HttpUrl, rs: string): string {
  if (wire.rs !== rs || wire.success === undefined) {
    wire.rs = rs;
    wire.success = flatCopy(successDetail(url, rs));
  }
  return wire.success;
}

/** A check that can be called off; its verdict then reports the abort as a timeout, as an aborted probe's does. */
export interface Cancellable {
  cancel(): void;
}

/**
 * The engine's HTTP_GET check of one url: it judges the reply straight off the reader, with no fetch result, and
 * hands the verdict on with the engine's context, so that a check makes no closure.
 */
class HttpGetCheck<T> extends PlainFetch implements Cancellable {
  constructor(
    reader: ResponseReader,
    private readonly url: HttpUrl,
    private readonly rs: string,
    /** The url's request and success line, made for its checker (`wire.c`). */
    private readonly wire: UrlWire,
    private readonly ctx: T,
    private readonly onVerdict: Verdict<T>,
  ) {
    super(reader);
  }

  protected fetched(err: Error | undefined): void {
    const { reader, url, rs } = this;
    if (err !== undefined || !replied(reader)) return this.onVerdict(this.ctx, failureVerdict(this.wire.c, url, rs, err ?? noResponse()));
    const body = url.regex !== undefined ? reader.bodyText() : undefined;
    this.onVerdict(this.ctx, replyVerdict(url, rs, reader.status, reader.digest(), body, this.wire));
  }
}

/**
 * Starts HTTP_GET's check of url number `index` on the exchange set; `done` gets `ctx` and the verdict, never
 * synchronously. The engine's path: probeHttp is the same check behind a promise and an AbortSignal.
 */
export function startHttpGet<T>(c: HttpChecker, index: number, rs: string, ctx: T, done: Verdict<T>): Cancellable {
  const url = urlOf(c, index);
  if (url === undefined) {
    queueMicrotask(() => done(ctx, noUrl(rs)));
    return { cancel: () => {} };
  }
  const keepBody = url.regex !== undefined;
  const reader = new ResponseReader(keepBody ? BODY_CAP : 0, url.digest !== undefined, BODY_CAP);
  const wire = wireOf(c, url);
  return new HttpGetCheck(reader, url, rs, wire, ctx, done).begin(c, wire.request);
}

/**
 * Checks URL number `index` of the checker behind a promise (SSL_GET, genhash, tests); the policy paces URLs one per
 * attempt. `rs` names the server in the lines, as the engine's checker lines do (keepalived's FMT_CHK).
 */
export async function probeHttp(
  c: HttpChecker, index: number, signal: AbortSignal, rs = formatEndpoint(c.connectIp, 'tcp', c.connectPort), ssl?: SslClient,
): Promise<ProbeResult> {
  const url = urlOf(c, index);
  if (url === undefined) return noUrl(rs);
  const sni = c.enableSni ? (c.sniName ?? url.virtualhost ?? c.virtualhost) : undefined;
  try {
    const r = await httpFetch(
      c,
      {
        ssl: c.type === 'SSL_GET',
        host: hostOf(c, url),
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
    return replyVerdict(url, rs, r.status, r.digest, r.body);
  } catch (err) {
    return failureVerdict(c, url, rs, err as Error);
  }
}

/** A fetch that failed: keepalived's line for why. */
function failureVerdict(c: HttpChecker, url: HttpUrl, rs: string, err: Error): ProbeResult {
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
  return { ok: false, detail: `Error reading data from server ${rs} (${err.message}).` };
}

/**
 * A reply read whole: its status, digest (empty unless the url has one) and body (only for a regex) judged; `wire`
 * (the engine's path) gives the success detail kept for the url.
 */
function replyVerdict(url: HttpUrl, rs: string, status: number, digest: string, body: string | undefined, wire?: UrlWire): ProbeResult {
  if (!statusOk(url, status)) {
    return { ok: false, detail: `HTTP status code error to ${rs} url(${url.path}), status_code [${status}].` };
  }
  if (url.digest !== undefined && url.digest !== digest) {
    return { ok: false, detail: `MD5 digest error to ${rs} url(${url.path}), MD5SUM [${digest}].` };
  }
  if (url.regex !== undefined) {
    // regex_min_offset / regex_max_offset bound where in the body the match is searched.
    const text = (body ?? '').slice(url.regexMinOffset ?? 0, url.regexMaxOffset);
    const matched = compileRegex(url.regex, url.regexOptions).test(text);
    if (matched === url.regexNoMatch) return { ok: false, detail: `Regex match failed to ${rs} url(${url.path}).` };
  }
  return wire ? { ok: true, detail: successOf(wire, url, rs), detailKept: true } : { ok: true, detail: successDetail(url, rs) };
}

/** check_http.c http_handle_response: "%s success to %s url(%s)", no full stop; the regex's, digest's or status's. */
function successDetail(url: HttpUrl, rs: string): string {
  const what = url.regex !== undefined ? 'Regex match' : url.digest !== undefined ? 'MD5 digest' : 'HTTP status code';
  return `${what} success to ${rs} url(${url.path})`;
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
