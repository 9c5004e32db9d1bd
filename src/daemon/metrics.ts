// Prometheus text exposition (format 0.0.4) without a dependency: counters and histograms that hot paths bump,
// and collectors that read subsystem state only when scraped, so an idle daemon does no metrics work.
import type { Server, ServerResponse } from 'node:http';
import { drainedOrClosed } from './drained.js';

/** One metric family as text lines: what a child process sends for the supervisor's endpoint to merge. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly lines: readonly string[];
}

/**
 * Which processes report a family. 'own': this process alone, so its text goes out as rendered, page by page
 * (metrics-pages.ts), however many real servers it has a line for. 'shared': every process, or two, report it (the
 * process figures, the SMTP alert counter): the supervisor merges those, which are small, into one family.
 */
export type Scope = 'own' | 'shared';

type Labels = Readonly<Record<string, string>>;

const escapeValue = (v: string): string => (/[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v);

/** `k="v",…` without the braces: built once per series, however many lines (a histogram's buckets) carry it. */
function labelBody(labels: Labels): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeValue(String(labels[k]))}"`;
  return out;
}

function labelText(labels: Labels): string {
  const body = labelBody(labels);
  return body ? `{${body}}` : '';
}

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** The sample lines, produced as they are read: a page of a large family is rendered when it is sent. */
  samples(): Iterable<string>;
}

/** One series of a counter, its label text built once: a path that bumps it thousands of times a second keeps it. */
export interface LabelledCounter {
  inc(by?: number): void;
}

/** One series of a histogram, as LabelledCounter is of a counter. */
export interface LabelledHistogram {
  observe(valueS: number): void;
}

interface Observed {
  readonly counts: number[];
  sum: number;
  count: number;
  readonly labels: Labels;
}

export class Counter implements Family {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    this.add(labelText(labels), by);
  }
  /** The series `labels` name; like inc, it shows once bumped. */
  labelled(labels: Labels): LabelledCounter {
    const key = labelText(labels);
    return { inc: (by = 1) => this.add(key, by) };
  }
  private add(key: string, by: number): void {
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  *samples(): Iterable<string> {
    for (const [labels, v] of this.values) yield `${this.name}${labels} ${v}`;
  }
}

export class Histogram implements Family {
  readonly type = 'histogram';
  private readonly series = new Map<string, Observed>();
  constructor(readonly name: string, readonly help: string, private readonly bucketsS: readonly number[]) {}
  observe(labels: Labels, valueS: number): void {
    this.add(this.seriesOf(labelText(labels), labels), valueS);
  }
  /** The series `labels` name; like observe, it shows once observed. */
  labelled(labels: Labels): LabelledHistogram {
    const key = labelText(labels);
    let s: Observed | undefined;
    return { observe: (valueS) => this.add((s ??= this.seriesOf(key, labels)), valueS) };
  }
  private seriesOf(key: string, labels: Labels): Observed {
    let s = this.series.get(key);
    if (!s) {
      s = { counts: this.bucketsS.map(() => 0), sum: 0, count: 0, labels };
      this.series.set(key, s);
    }
    return s;
  }
  private add(s: Observed, valueS: number): void {
    for (let i = 0; i < this.bucketsS.length; i++) if (valueS <= this.bucketsS[i]!) s.counts[i]!++;
    s.sum += valueS;
    s.count++;
  }
  samples(): Iterable<string> {
    return histogramLines(this.name, this.bucketsS, this.series.values());
  }
}

/** One histogram series: cumulative counts per bucket bound (`le`), as Prometheus wants them. */
export interface HistogramSeries {
  readonly labels: Labels;
  readonly counts: ArrayLike<number>;
  readonly sum: number;
  readonly count: number;
}

function* histogramLines(name: string, bucketsS: readonly number[], series: Iterable<HistogramSeries>): Iterable<string> {
  const les = bucketsS.map(String);
  for (const s of series) {
    const body = labelBody(s.labels);
    const bucket = `${name}_bucket{${body}${body ? ',' : ''}le="`;
    for (let i = 0; i < les.length; i++) yield `${bucket}${les[i]}"} ${s.counts[i]}`;
    yield `${bucket}+Inf"} ${s.count}`;
    const labels = body ? `{${body}}` : '';
    yield `${name}_sum${labels} ${s.sum}`;
    yield `${name}_count${labels} ${s.count}`;
  }
}

/** A histogram whose series are read from live state at scrape time (series of servers a reload removed go with them). */
class CollectedHistogram implements Family {
  readonly type = 'histogram';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bucketsS: readonly number[],
    private readonly collect: () => Iterable<HistogramSeries>,
  ) {}
  samples(): Iterable<string> {
    return histogramLines(this.name, this.bucketsS, this.collect());
  }
}

/** A gauge or counter whose samples are read from live state at scrape time. */
class Collected implements Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    private readonly collect: () => Iterable<Sample>,
  ) {}
  *samples(): Iterable<string> {
    for (const s of this.collect()) yield `${this.name}${labelText(s.labels ?? {})} ${s.value}`;
  }
}

export class Registry {
  private readonly list: { readonly family: Family; readonly scope: Scope }[] = [];

  counter(name: string, help: string, scope: Scope = 'own'): Counter {
    return this.add(new Counter(name, help), scope);
  }

  histogram(name: string, help: string, bucketsS: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, bucketsS), 'own');
  }

  collect(name: string, help: string, type: 'counter' | 'gauge', fn: () => Iterable<Sample>, scope: Scope = 'own'): void {
    this.add(new Collected(name, help, type, fn), scope);
  }

  collectHistogram(name: string, help: string, bucketsS: readonly number[], fn: () => Iterable<HistogramSeries>): void {
    this.add(new CollectedHistogram(name, help, bucketsS, fn), 'own');
  }

  private add<F extends Family>(family: F, scope: Scope): F {
    this.list.push({ family, scope });
    return family;
  }

  /** The shared families as plain data, to cross from a child process to the supervisor's endpoint and merge there. */
  sharedFamilies(): MetricFamily[] {
    return this.list.filter((f) => f.scope === 'shared').map(({ family: f }) => ({ name: f.name, help: f.help, type: f.type, lines: [...f.samples()] }));
  }

  /** The text of the families only this process reports, a line at a time (HELP, TYPE, samples), as it is read. */
  *ownLines(): Iterable<string> {
    for (const { family: f, scope } of this.list) {
      if (scope !== 'own') continue;
      yield `# HELP ${f.name} ${f.help}`;
      yield `# TYPE ${f.name} ${f.type}`;
      yield* f.samples();
    }
  }
}

/**
 * Prometheus text of the shared families of several processes: a family two processes both report (the SMTP alert
 * counter) is written once, and a series both report is summed: only counters are.
 */
export function renderFamilies(families: readonly MetricFamily[]): string {
  const byName = new Map<string, { family: MetricFamily; series: Map<string, number> }>();
  for (const f of families) {
    let entry = byName.get(f.name);
    if (!entry) byName.set(f.name, (entry = { family: f, series: new Map() }));
    for (const line of f.lines) {
      const cut = line.lastIndexOf(' ');
      const key = line.slice(0, cut);
      entry.series.set(key, (entry.series.get(key) ?? 0) + Number(line.slice(cut + 1)));
    }
  }
  const out: string[] = [];
  for (const { family: f, series } of byName.values()) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const [key, value] of series) out.push(`${key} ${value}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** A scraper that takes nothing of a page for this long is disconnected, as the children let go of its cursors. */
const SCRAPER_IDLE_MS = 10_000;

/** A scrape refused because as many as a process allows are already under way: the endpoint answers 503. */
export class MetricsBusy extends Error {}

/**
 * Serves /metrics; binds 127.0.0.1 unless told otherwise, because the data describes the whole cluster.
 * `render` yields the text a page at a time (from every process), and each page is written once the client has taken
 * the last, so neither this process nor a child ever holds a whole exposition of 30,000 real servers. A failure once
 * the body has begun cuts the response short, which the scraper reports, rather than ending a partial exposition
 * as if whole.
 */
export function serveMetrics(render: () => AsyncIterable<string>, host: string, port: number): Promise<Server> {
  // node:http loads here, with --metrics: the checker process, which only counts, and a daemon without it never load it.
  const server = process.getBuiltinModule('node:http').createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    void streamPages(res, render());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function streamPages(res: ServerResponse, pages: AsyncIterable<string>): Promise<void> {
  try {
    // Leaving the loop early (the client went) returns the iterator, which lets the children drop their cursors.
    for await (const page of pages) {
      if (res.destroyed) break;
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      if (!res.write(page)) await drainedOrClosed(res, SCRAPER_IDLE_MS);
    }
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end();
  } catch (err) {
    if (res.headersSent) res.destroy();
    else res.writeHead(err instanceof MetricsBusy ? 503 : 500).end(`${(err as Error).message}\n`);
  }
}
