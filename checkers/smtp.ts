// SMTP_CHECK: 220 banner, `HELO helo_name` → 250, then QUIT (check_smtp.c).
import type { SmtpChecker } from '../src/config/model.js';
import { connect, ProbeError } from './connect.js';
import type { ProbeResult } from './types.js';

/** Reads one (possibly multi-line) SMTP reply and returns its code. */
function readReply(sock: import('node:net').Socket, buf: { data: string }, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const tryParse = (): boolean => {
      const lines = buf.data.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        const m = /^(\d{3})([ -])/.exec(lines[i] ?? '');
        if (m && m[2] === ' ') {
          buf.data = lines.slice(i + 1).join('\r\n');
          cleanup();
          resolve(Number(m[1]));
          return true;
        }
      }
      return false;
    };
    const onData = (d: Buffer): void => {
      buf.data += d.toString('latin1');
      if (buf.data.length > 16384) fail(new ProbeError('error', 'reply too long'));
      else tryParse();
    };
    const onEnd = (): void => fail(new ProbeError('error', 'connection closed'));
    const onError = (e: NodeJS.ErrnoException): void => fail(new ProbeError('error', e.code ?? e.message));
    const timer = setTimeout(() => fail(new ProbeError('timeout', 'timeout')), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      sock.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const fail = (e: ProbeError): void => {
      cleanup();
      reject(e);
    };
    if (tryParse()) return;
    sock.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

export async function probeSmtp(c: SmtpChecker, signal: AbortSignal): Promise<ProbeResult> {
  let sock: import('node:net').Socket | undefined;
  const onAbort = (): void => {
    sock?.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    sock = await connect(c, signal);
    const buf = { data: '' };
    const banner = await readReply(sock, buf, c.connectTimeoutMs);
    if (banner !== 220) return { ok: false, detail: `Bad server greeting ${banner}` };
    sock.write(`HELO ${c.heloName}\r\n`);
    const helo = await readReply(sock, buf, c.connectTimeoutMs);
    if (helo !== 250) return { ok: false, detail: `Bad HELO response ${helo}` };
    sock.write('QUIT\r\n');
    return { ok: true, detail: 'success' };
  } catch (err) {
    return { ok: false, detail: err instanceof ProbeError && err.reason === 'timeout' ? 'timeout' : `failed (${(err as Error).message})` };
  } finally {
    signal.removeEventListener('abort', onAbort);
    sock?.destroy();
  }
}
