// `npm run bench:console`: what the operator console (--http) costs the daemon. One daemon checks 1,000 real servers
// with HTTP_GET at delay_loop 1 (bench:daemon's busy case: every row changes every second); each run samples the
// process tree's CPU and RSS over a window with no page open, then with 5 pages open (each loads `/` and follows
// `/events` as the page's script does), and reports the difference. The pages are plain HTTP clients in this
// process, so no browser's CPU lands on the two shared cores; the daemon serves them exactly as it serves browsers.
import { get, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startBackend } from './backend.js';
import { cleanUp, config, Daemon, HTTP, installed, sleep } from './lvsk-daemon.js';

const RS = 1000;
const PAGES = 5;
const RUNS = 5;
const WINDOW_S = 10;
const PORT = 19790;
const METRICS = 19791;

interface Page {
  readonly bytes: () => number;
  close(): void;
}

function fetchText(port: number, path: string): Promise<{ text: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
    }).on('error', reject);
  });
}

/** The supervisor's loop per refresh, from lvskeeper_console_render_seconds: mean, and the bucket 99 % fit in. */
async function renderTimes(): Promise<string> {
  const { text } = await fetchText(METRICS, '/metrics');
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const count = num(/^lvskeeper_console_render_seconds_count (\S+)$/m);
  const sum = num(/^lvskeeper_console_render_seconds_sum (\S+)$/m);
  const buckets = [...text.matchAll(/^lvskeeper_console_render_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])] as const);
  const p99 = buckets.find(([, n]) => n >= 0.99 * count)?.[0] ?? '?';
  return `mean ${((sum / count) * 1000).toFixed(1)} ms over ${count} refreshes, 99 % within ${p99 === '+Inf' ? '> 250 ms' : `${Number(p99) * 1000} ms`}`;
}

function follow(): Promise<Page> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port: PORT, path: '/events' }, (res: IncomingMessage) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      resolve({ bytes: () => bytes, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

const spread = (xs: readonly number[], digits: number): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(digits)}, range ${s[0]!.toFixed(digits)}..${s.at(-1)!.toFixed(digits)}`;
};

const backend = await startBackend();
try {
  console.log(`operator console cost (node ${process.version}, ${RS} RS HTTP_GET at delay_loop 1, dry-run IPVS driver, ${PAGES} pages, ${RUNS} runs of ${WINDOW_S} s windows)`);
  const d = new Daemon('console', config(RS, backend.port, HTTP, 1), ['--http', `127.0.0.1:${PORT}`, '--metrics', `127.0.0.1:${METRICS}`]);
  await d.waitFor(installed(RS), 0, 120_000);
  await sleep(5000);
  const cpu0: number[] = [];
  const cpu5: number[] = [];
  const rss0: number[] = [];
  const rss5: number[] = [];
  const loads: { size: number; ms: number }[] = [];
  const streamed: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const idle = await d.sample(WINDOW_S);
    cpu0.push(idle.cpu * 100);
    rss0.push(idle.rss);
    const pages: Page[] = [];
    for (let p = 0; p < PAGES; p++) {
      const page = await fetchText(PORT, '/');
      loads.push({ size: Buffer.byteLength(page.text), ms: page.ms });
      pages.push(await follow());
    }
    await sleep(2000);
    const before = pages.map((p) => p.bytes());
    const open = await d.sample(WINDOW_S);
    streamed.push(pages.reduce((n, p, i) => n + p.bytes() - before[i]!, 0) / PAGES / WINDOW_S / 1024);
    cpu5.push(open.cpu * 100);
    rss5.push(open.rss);
    for (const p of pages) p.close();
    await sleep(3000);
    console.log(`run ${run + 1}: no page CPU ${(idle.cpu * 100).toFixed(1)} % RSS ${idle.each}; ${PAGES} pages CPU ${(open.cpu * 100).toFixed(1)} % RSS ${open.each}`);
  }
  const dCpu = cpu5.map((c, i) => c - cpu0[i]!);
  const dRss = rss5.map((r, i) => r - rss0[i]!);
  console.log(`CPU without a page: ${spread(cpu0, 1)} % of one core; with ${PAGES} pages: ${spread(cpu5, 1)} %`);
  console.log(`the pages' cost, CPU: ${spread(dCpu, 1)} % of one core; RSS: ${spread(dRss, 1)} MB (${RUNS} runs)`);
  console.log(`the supervisor's loop held by a refresh for all pages (its longest slice): ${await renderTimes()}`);
  console.log(`page load (/, ${RS} rows): ${spread(loads.map((l) => l.size / 1024), 0)} KiB, ${spread(loads.map((l) => l.ms), 0)} ms; live updates: ${spread(streamed, 1)} KiB/s per page`);
  await d.stop();
} finally {
  backend.child.kill('SIGTERM');
  cleanUp();
}
