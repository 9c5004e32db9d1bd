// /metrics a page at a time: the pages' arithmetic, a child's cursors, the endpoint's streaming, and a daemon of 3,000
// real servers scraped whole, scraped and abandoned, and by more scrapers at once than a process serves.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsBusy, Registry, serveMetrics } from '../../src/daemon/metrics.js';
import { LinePager, PAGE_BYTES, takePage } from '../../src/ipc/pages.js';
import { localPages } from '../../src/daemon/metrics-pages.js';
import { until } from './drain-harness.js';
import { DaemonUnderTest, largeTcpConfig } from './daemon-setup.js';

/** A registry with `n` gauge lines of its own and one shared counter. */
function registry(n: number): Registry {
  const r = new Registry();
  r.counter('lvskeeper_smtp_alerts_total', 'SMTP alerts.', 'shared').inc({ result: 'sent' });
  r.collect('lvskeeper_realserver_up', 'Up.', 'gauge', function* () {
    for (let i = 0; i < n; i++) yield { labels: { vs: 'v', rs: `rs-${i}` }, value: i % 2 };
  });
  return r;
}

test('pages cut the lines at the first line past the size, cover them all in order, and say done at the end', () => {
  const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}`);
  const it = lines[Symbol.iterator]();
  const pages: string[] = [];
  for (;;) {
    const p = takePage(it, 4096);
    pages.push(p.text);
    if (p.done) break;
    assert.ok(p.text.length >= 4096 && p.text.length < 4096 + 200, `page of ${p.text.length} bytes`);
  }
  assert.ok(pages.length > 10);
  assert.equal(pages.join(''), lines.join('\n') + '\n');
  assert.deepEqual(takePage([][Symbol.iterator]()), { text: '', done: true });
});

test('a child keeps a cursor per reader: a registry\'s own lines page by page, at most four at once', () => {
  const r = registry(20_000);
  const pager = new LinePager();
  const cursor = pager.open(r.ownLines());
  let text = '';
  let pages = 0;
  for (;;) {
    const p = pager.page(cursor);
    text += p.text;
    pages++;
    if (p.done) break;
    assert.ok(p.text.length <= PAGE_BYTES + 100);
  }
  assert.ok(pages > 10, `${pages} pages`);
  assert.equal(text, [...localPages(r)].join(''));
  assert.equal(text.split('\n').filter((l) => l.startsWith('lvskeeper_realserver_up{')).length, 20_000);
  assert.doesNotMatch(text, /smtp_alerts/);
  // Done: the cursor is gone.
  assert.throws(() => pager.page(cursor), /no reader/);

  const open = [1, 2, 3, 4].map(() => pager.open(r.ownLines()));
  assert.throws(() => pager.open(r.ownLines()), (err: Error & { code?: string }) => err.code === 'EBUSY');
  pager.close(open[0]!);
  assert.throws(() => pager.page(open[0]!), /no reader/);
  pager.open(r.ownLines());
});

/** The endpoint serving `render`, closed when the test ends; its URL. */
async function serve(t: TestContext, render: () => AsyncIterable<string>): Promise<string> {
  const s = await serveMetrics(render, '127.0.0.1', 0);
  t.after(() => s.close());
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`;
}

test('the endpoint writes pages as they come; a failure before the first is a 500 (503 when busy), after it a cut-short body', async (t) => {
  const page = 'y'.repeat(PAGE_BYTES - 1) + '\n';
  const whole = await serve(t, async function* () {
    for (let i = 0; i < 200; i++) yield page;
  });
  assert.equal((await (await fetch(whole)).text()).length, 200 * PAGE_BYTES);

  const broken = await serve(t, async function* () {
    yield page;
    throw new Error('the checker process went away');
  });
  const res = await fetch(broken);
  assert.equal(res.status, 200);
  await assert.rejects(res.text());

  const failed = await serve(t, async function* () {
    yield* [];
    throw new Error('nothing to say');
  });
  const r500 = await fetch(failed);
  assert.deepEqual([r500.status, await r500.text()], [500, 'nothing to say\n']);
  const busy = await serve(t, async function* () {
    yield* [];
    throw new MetricsBusy('4 scrapes already under way');
  });
  assert.equal((await fetch(busy)).status, 503);
});

test('a scraper that stops reading is disconnected after 10 s, and the pages it held are let go', { timeout: 40_000 }, async (t) => {
  let returned = false;
  const url = await serve(t, async function* () {
    try {
      for (;;) yield 'z'.repeat(PAGE_BYTES - 1) + '\n';
    } finally {
      returned = true;
    }
  });
  const t0 = Date.now();
  get(url, (res) => res.pause());
  await until('the pages given back', 20_000, () => (returned ? true : undefined));
  assert.ok(Date.now() - t0 >= 9_000, `given back after ${Date.now() - t0} ms`);
});

const METRICS = 19795;
const RS = 3000;


/** A scrape's status and body; `abandon`: the connection is destroyed once the first bytes arrived. */
function scrape(abandon = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port: METRICS, path: '/metrics' }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (abandon) {
          req.destroy();
          resolve({ status: res.statusCode!, body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The exposition's well-formedness: each family once, its samples together under its TYPE, a newline at the end. */
function assertExposition(text: string): void {
  assert.ok(text.endsWith('\n'));
  const typed = new Map<string, string>();
  let current = '';
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      assert.ok(!typed.has(type[1]!), `${type[1]} typed twice`);
      typed.set(type[1]!, type[2]!);
      current = type[1]!;
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    const family = typed.get(current) === 'histogram' ? name.replace(/_(bucket|sum|count)$/, '') : name;
    assert.equal(family, current, `a sample of ${family} under ${current}`);
  }
}

test('a daemon of 3,000 real servers: /metrics whole and well formed, abandoned scrapes free their cursors, scrapers past four at once get 503', { timeout: 120_000 }, async (t) => {
  const d = new DaemonUnderTest(t, largeTcpConfig('lvskd-pages', 19800, RS));
  const run = d.start(['--metrics', `127.0.0.1:${METRICS}`]);
  await run.waitFor(/127\.1\.29\.100\]:tcp:9/, 60_000);
  const count = (text: string, re: RegExp): number => text.split('\n').filter((l) => re.test(l)).length;

  const { status, body } = await until('a scrape with every real server checked', 30_000, async () => {
    const s = await scrape().catch(() => undefined);
    return s && count(s.body, /^lvskeeper_realserver_check_duration_seconds_count\{/) === RS ? s : undefined;
  });
  assert.equal(status, 200);
  assert.ok(body.length > 10 * PAGE_BYTES, `${body.length} bytes`);
  assertExposition(body);
  assert.equal(count(body, /^lvskeeper_realserver_up\{/), RS);
  assert.equal(count(body, /^lvskeeper_realserver_weight\{/), RS);
  assert.equal(count(body, /^lvskeeper_realserver_check_duration_seconds_bucket\{/), 13 * RS);
  assert.equal(count(body, /^lvskeeper_realserver_transitions_total\{/), 2 * RS);
  assert.match(body, /^lvskeeper_event_loop_delay_max_seconds\{process="supervisor"\} /m);
  assert.match(body, /^lvskeeper_event_loop_delay_max_seconds\{process="checker"\} /m);

  // More abandoned scrapes than a process keeps cursors for: each is closed as its client goes, not 10 s later.
  for (let i = 0; i < 6; i++) assert.equal((await scrape(true)).status, 200);
  const again = await until('a whole scrape after the abandoned ones', 5_000, async () => {
    const s = await scrape();
    return count(s.body, /^lvskeeper_realserver_up\{/) === RS ? s : undefined;
  });
  assertExposition(again.body);

  // Six scrapers at once: each is served whole or, past the four a process serves at once, refused with 503; none is
  // served without the checker's part (which one is refused depends on how fast the first ones finish).
  const six = await Promise.all([0, 1, 2, 3, 4, 5].map(() => scrape()));
  for (const s of six) {
    if (s.status === 503) continue;
    assert.equal(s.status, 200);
    assert.equal(count(s.body, /^lvskeeper_realserver_up\{/), RS);
  }
});
