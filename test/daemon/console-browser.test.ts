// The operator console in a real browser: Debian's chromium, headless, driven by playwright-core. A daemon on the
// userspace plane checks two HTTP backends; one is stopped and started again while the page is open. The row turns
// down and up live (server-sent events, no reload) and its timeline draws the transitions; the same page with
// JavaScript off is the plain table; on a phone-sized screen the rows become cards. Screenshots go to a temporary
// directory; LVSK_SCREENSHOTS=docs writes them over the ones in docs/ (so a test run leaves the checkout as it was).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import { MAX_STREAMS } from '../../src/daemon/console.js';
import { tempDir } from '../support/tempdir.js';
import { needFile, repoRoot } from '../support/tier.js';
import { DaemonUnderTest, httpConfig, startBackends, untilAllAlive } from './daemon-setup.js';

const CHROMIUM = '/usr/bin/chromium';
const VS_PORT = 19730;
const WEB1 = 19731;
const WEB2 = 19732;
const HTTP = 19733;
const URL_ = `http://127.0.0.1:${HTTP}/`;
const ROW = `tr.rs:has(td.name:text-is("[127.0.0.1]:tcp:${WEB2}"))`;

test('the console turns a row down and up live, draws the transitions, and works without JavaScript and on a phone', { timeout: 180_000 }, async (t) => {
  if (!needFile(t, CHROMIUM, 'needs Debian\'s chromium (apt-get install chromium)')) return;
  const { chromium } = await import('playwright-core');
  const [, web2] = await startBackends(t, [WEB1, WEB2]);
  const d = new DaemonUnderTest(t, httpConfig(VS_PORT, [[WEB1, 1], [WEB2, 2]]));
  d.start(['--http', `127.0.0.1:${HTTP}`]);
  await untilAllAlive(join(d.dir, 'control.sock'), 2);
  const docs = process.env['LVSK_SCREENSHOTS'] === 'docs' ? join(repoRoot, 'docs') : tempDir(t, 'lvsk-console-shots-');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 560 } });
  await page.goto(URL_);
  await page.waitForSelector('body.live', { timeout: 10_000 });
  assert.equal(await page.getAttribute(ROW, 'class'), 'rs up');
  // A mark that a reload would wipe: the row must change in this same document.
  await page.evaluate(() => ((window as unknown as { mark: number }).mark = 1));

  await web2!.stop();
  await page.waitForSelector(`${ROW}.down`, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => (window as unknown as { mark?: number }).mark), 1, 'the page was reloaded');
  assert.equal(await page.textContent(`${ROW} .badge`), 'down');
  assert.match((await page.textContent(`${ROW} td[data-label="Last failure"]`)) ?? '', /^connect at \d\d:\d\d:\d\d$/);
  await page.waitForSelector(`${ROW} svg.timeline[data-transitions="1"] rect.down`, { timeout: 10_000 });
  // The band: up until the transition, down after it.
  const band = await page.$$eval(`${ROW} svg.timeline rect`, (rs) => rs.map((r) => r.getAttribute('class')));
  assert.deepEqual(band, ['up', 'down']);
  assert.equal(await page.textContent('tr.vs small'), 'quorum up (alive weight 1, needs 1)');
  await page.screenshot({ path: join(docs, 'console-down.png'), fullPage: true });

  await web2!.start();
  await page.waitForSelector(`${ROW}.up svg.timeline[data-transitions="2"]`, { timeout: 20_000 });
  assert.deepEqual(await page.$$eval(`${ROW} svg.timeline rect`, (rs) => rs.map((r) => r.getAttribute('class'))), ['up', 'down', 'up']);
  assert.equal(await page.evaluate(() => (window as unknown as { mark?: number }).mark), 1, 'the page was reloaded');
  assert.equal(await page.textContent(`${ROW} td[data-label="Flaps"]`), '2');
  await page.screenshot({ path: join(docs, 'console.png'), fullPage: true });

  // JavaScript off: the same table as rendered, nothing live.
  const plain = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 560 } });
  const noJs = await plain.newPage();
  await noJs.goto(URL_);
  assert.equal(await noJs.$('body.live'), null);
  assert.deepEqual(await noJs.$$eval('tr.rs td.name', (tds) => tds.map((td) => td.textContent)), [`[127.0.0.1]:tcp:${WEB1}`, `[127.0.0.1]:tcp:${WEB2}`]);
  assert.deepEqual(await noJs.$$eval('tr.rs td[data-label="Weight"]', (tds) => tds.map((td) => td.textContent)), ['1', '2']);
  assert.equal(await noJs.getAttribute(ROW, 'class'), 'rs up');
  assert.equal(await noJs.getAttribute(`${ROW} svg.timeline`, 'data-transitions'), '2');
  await plain.close();

  // A phone: each row a card, the labels shown, no sideways scrolling.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  await small.goto(URL_);
  await small.waitForSelector('body.live', { timeout: 10_000 });
  assert.equal(await small.$eval('thead', (el) => getComputedStyle(el).display), 'none');
  assert.equal(await small.$eval(`${ROW} td[data-label="State"]`, (el) => getComputedStyle(el, '::before').content), '"State: "');
  assert.ok(await small.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page scrolls sideways');
  await small.screenshot({ path: join(docs, 'console-phone.png'), fullPage: true });
  await phone.close();

  // Read-only.
  const post = await fetch(URL_, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');

  // Live pages are bounded: the browser's page holds one stream, 15 more fill the cap, the next is refused.
  const streams: { status: number; close: () => void }[] = [];
  t.after(() => streams.forEach((s) => s.close()));
  const open = (): Promise<{ status: number; close: () => void }> => new Promise((resolve, reject) => {
    const req = get(`${URL_}events`, (res) => resolve({ status: res.statusCode ?? 0, close: () => req.destroy() }));
    req.on('error', reject);
  });
  for (let i = 0; i < MAX_STREAMS - 1; i++) streams.push(await open());
  assert.deepEqual(streams.map((s) => s.status), Array(MAX_STREAMS - 1).fill(200));
  const refused = await open();
  streams.push(refused);
  assert.equal(refused.status, 503);
});
