// keepalived's HTTP_GET request bytes and an incremental response reader (check_http.c; bytes verified against
// /usr/bin/genhash 2.2.7). No sockets here: http.ts and genhash feed it chunks.
import { createHash, type Hash } from 'node:crypto';

export type HttpProtocol = '1.0' | '1.0C' | '1.1';

/**
 * `GET path HTTP/1.x`, User-Agent, `Connection: close` for 1.0C and 1.1, then Host. Joined into one flat string: the
 * engine keeps a request per real server (http.ts wireOf), and concatenation would keep its parts as well.
 */
export function buildRequest(path: string, host: string, protocol: HttpProtocol): string {
  const version = protocol === '1.1' ? '1.1' : '1.0';
  const close = protocol === '1.0' ? '' : 'Connection: close\r\n';
  return ['GET ', path, ' HTTP/', version, '\r\nUser-Agent: KeepAliveClient\r\n', close, 'Host: ', host, '\r\n\r\n'].join('');
}

/** Host header value without a virtualhost: `ip:port`, IPv6 in brackets. */
export function defaultHost(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The longest status line and headers read. */
const HEADER_LIMIT = 64 * 1024;

const DIGIT_0 = 0x30;
const isDigit = (b: number | undefined): boolean => b !== undefined && b >= DIGIT_0 && b <= DIGIT_0 + 9;
/** `HTTP/`, byte by byte: Buffer.compare with ranges made its arguments' objects at every check. */
const STATUS_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f];

/**
 * The status code of `HTTP/d.d ddd`, read from the bytes: every check reads one, and a string of the head and a
 * regex per check showed in bench:checkers' profile. Throws on any other start.
 */
function statusOf(head: Buffer): number {
  let prefixed = head.length >= 12;
  for (let i = 0; prefixed && i < STATUS_PREFIX.length; i++) prefixed = head[i] === STATUS_PREFIX[i];
  if (!prefixed || !isDigit(head[5]) || head[6] !== 0x2e || !isDigit(head[7])
    || head[8] !== 0x20 || !isDigit(head[9]) || !isDigit(head[10]) || !isDigit(head[11])) {
    throw new Error('bad status line');
  }
  return (head[9]! - DIGIT_0) * 100 + (head[10]! - DIGIT_0) * 10 + (head[11]! - DIGIT_0);
}

/** A body longer than the reader's cap: the check fails rather than judge a truncated body. */
export class BodyTooLarge extends Error {
  constructor(readonly cap: number) {
    super(`body larger than ${cap} bytes`);
  }
}

/**
 * Reads the status line and headers, then hashes the body (capped at Content-Length) as it streams in. push()
 * returns true as soon as the reader has all it needs: the head when neither a digest nor a kept body is wanted, else the
 * body up to Content-Length (without one, the body runs to the end of the stream).
 */
export class ResponseReader {
  status?: number;
  headers?: Buffer;
  contentLength?: number;
  bodyBytes = 0;
  /**
   * The head's bytes so far while they span several reads; most replies bring their whole head in one, which then
   * needs no copy and no array (an object less per check).
   */
  private partialHead: Buffer | undefined = undefined;
  private headLen = 0;
  /** Hashing costs a crypto object per check, so it happens only when a digest is wanted. */
  private readonly md5: Hash | undefined;
  /** The body kept for a regex, made when the first of it comes. */
  private keep: Buffer[] | undefined = undefined;
  private kept = 0;

  private readonly needsBody: boolean;

  /**
   * keepBodyBytes: how much of the body to retain for regex matching (0 = none); hashBody: compute the MD5;
   * bodyCap: the longest body accepted (push throws BodyTooLarge past it).
   */
  constructor(
    private readonly keepBodyBytes = 0,
    hashBody = true,
    private readonly bodyCap = Infinity,
  ) {
    this.md5 = hashBody ? createHash('md5') : undefined;
    this.needsBody = hashBody || keepBodyBytes > 0;
  }

  /**
   * The most bytes of the reply worth reading: the head, plus the body cap and one byte to tell a body over the cap
   * from one at it. Infinity without a cap.
   */
  get maxBytes(): number {
    return this.needsBody ? HEADER_LIMIT + 4 + this.bodyCap + 1 : HEADER_LIMIT + 4;
  }

  /** Feeds a chunk; returns true once the reader has all it needs (see the class). Throws on a malformed head. */
  push(chunk: Buffer): boolean {
    if (this.headers === undefined) {
      this.headLen += chunk.length;
      const all = this.partialHead === undefined ? chunk : Buffer.concat([this.partialHead, chunk]);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.headLen > HEADER_LIMIT) throw new Error('header too long');
        this.partialHead = all;
        return false;
      }
      this.headers = all.subarray(0, end + 4);
      this.partialHead = undefined;
      this.status = statusOf(this.headers);
      if (!this.needsBody) return true;
      // Content-Length matters only to a reader that goes on into the body.
      const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(this.headers.toString('latin1'));
      if (cl) this.contentLength = Number(cl[1]);
      // A declared body over the cap fails now rather than after reading the cap's worth of it.
      if (this.contentLength !== undefined && this.contentLength > this.bodyCap) throw new BodyTooLarge(this.bodyCap);
      chunk = all.subarray(end + 4);
    }
    return this.body(chunk);
  }

  get complete(): boolean {
    return this.contentLength !== undefined && this.bodyBytes >= this.contentLength;
  }

  /** True once any byte of the reply has arrived. */
  get started(): boolean {
    return this.headLen > 0;
  }

  /** The body's MD5 in hex; empty when the reader was built without hashing. */
  digest(): string {
    return this.md5?.digest('hex') ?? '';
  }

  bodyText(): string {
    return this.keep === undefined ? '' : Buffer.concat(this.keep).toString('latin1');
  }

  private body(chunk: Buffer): boolean {
    if (this.contentLength !== undefined) {
      const room = this.contentLength - this.bodyBytes;
      if (chunk.length > room) chunk = chunk.subarray(0, room);
    }
    if (this.bodyBytes + chunk.length > this.bodyCap) throw new BodyTooLarge(this.bodyCap);
    if (chunk.length > 0) {
      this.md5?.update(chunk);
      this.bodyBytes += chunk.length;
      if (this.kept < this.keepBodyBytes) {
        const part = chunk.subarray(0, this.keepBodyBytes - this.kept);
        (this.keep ??= []).push(Buffer.from(part));
        this.kept += part.length;
      }
    }
    return this.complete;
  }
}
