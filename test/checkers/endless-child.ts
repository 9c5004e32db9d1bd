// Child process of endless.test.ts: runs HTTP_GET/SSL_GET exchanges against backends that stream without end (served
// by the parent, so only the checker's memory and event loop are measured here), next to a normal check repeated in a
// loop and a 10 ms interval, and prints one JSON line: each exchange's outcome and time, RSS before and at its peak,
// the interval's longest gap and the normal checks' tally.
import { httpFetch } from '../../checkers/http.js';
import { probeHttp } from '../../checkers/http.js';
import type { HttpChecker } from '../../src/config/model.js';
import { conn, http, url } from './model.js';

export interface ChildInput {
  readonly plainPort: number;
  readonly sslPort: number;
  readonly normalPort: number;
  readonly connectTimeoutMs: number;
}

export interface Outcome {
  readonly name: string;
  readonly ms: number;
  /** The probe's detail, or the fetch's rejection message. */
  readonly detail: string;
  readonly ok: boolean;
}

export interface ChildOutput {
  readonly outcomes: Outcome[];
  readonly rssBefore: number;
  readonly rssPeak: number;
  readonly maxGapMs: number;
  readonly normal: { readonly ok: number; readonly total: number };
}

const input = JSON.parse(process.argv[2] ?? '{}') as ChildInput;
// A fresh signal per probe that never aborts: only the probes' own bounds end them.
const never = (): AbortSignal => new AbortController().signal;
const ct = input.connectTimeoutMs;

async function timed(name: string, run: () => Promise<{ ok: boolean; detail: string }>): Promise<Outcome> {
  const t0 = performance.now();
  const r = await run().catch((err: unknown) => ({ ok: false, detail: (err as Error).message }));
  return { name, ms: Math.round(performance.now() - t0), ...r };
}

const fetchAll = (ssl: boolean) => async (): Promise<{ ok: boolean; detail: string }> => {
  // genhash's shape: the whole body hashed, no cap; only the deadline can end it.
  const r = await httpFetch(conn(ssl ? input.sslPort : input.plainPort, { connectTimeoutMs: ct }), { ssl, host: 'x', path: '/', protocol: '1.0' }, never());
  return { ok: true, detail: `status ${r.status}` };
};

const check = (ssl: boolean, over: Partial<HttpChecker>) => (): Promise<{ ok: boolean; detail: string }> =>
  probeHttp(http(ssl ? input.sslPort : input.plainPort, { connectTimeoutMs: ct, ...(ssl ? { type: 'SSL_GET' } : {}), ...over }), 0, never());

// Warm up (modules, the addon, TLS) before the baseline.
await probeHttp(http(input.normalPort), 0, never());
global.gc?.();
const rssBefore = process.memoryUsage.rss();
let rssPeak = rssBefore;
let maxGapMs = 0;
let last = performance.now();
const tick = setInterval(() => {
  const now = performance.now();
  maxGapMs = Math.max(maxGapMs, now - last);
  last = now;
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 10);

const normal = { ok: 0, total: 0 };
let running = true;
const normalLoop = (async (): Promise<void> => {
  while (running) {
    const r = await probeHttp(http(input.normalPort, { connectTimeoutMs: ct }), 0, never());
    normal.total++;
    if (r.ok) normal.ok++;
    await new Promise((d) => setTimeout(d, 20));
  }
})();

const digest = { urls: [url('/', { digest: '0'.repeat(32) })] };
const outcomes = await Promise.all([
  timed('plain fetch', fetchAll(false)),
  timed('ssl fetch', fetchAll(true)),
  timed('plain status_code', check(false, {})),
  timed('ssl status_code', check(true, {})),
  timed('plain digest', check(false, digest)),
  timed('ssl digest', check(true, digest)),
  timed('plain regex', check(false, { urls: [url('/', { regex: 'never-there' })] })),
]);
running = false;
await normalLoop;
clearInterval(tick);
const out: ChildOutput = { outcomes, rssBefore, rssPeak, maxGapMs: Math.round(maxGapMs), normal };
console.log(JSON.stringify(out));
