// Prometheus text exposition (format 0.0.4) without a dependency: counters and histograms that hot paths bump,
// and collectors that read subsystem state only when scraped, so an idle daemon does no metrics work.
import { createServer, type Server } from 'node:http';

/** One metric family as text lines: what a child process sends for the supervisor's endpoint to merge. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly lines: readonly string[];
}

type Labels = Readonly<Record<string, string>>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(): string[];
}

export class Counter implements Family {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  render(): string[] {
    return [...this.values].map(([labels, v]) => `${this.name}${labels} ${v}`);
  }
}

export class Histogram implements Family {
  readonly type = 'histogram';
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number; labels: Labels }>();
  constructor(readonly name: string, readonly help: string, private readonly bucketsS: readonly number[]) {}
  observe(labels: Labels, valueS: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { counts: this.bucketsS.map(() => 0), sum: 0, count: 0, labels };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.bucketsS.length; i++) if (valueS <= this.bucketsS[i]!) s.counts[i]!++;
    s.sum += valueS;
    s.count++;
  }
  render(): string[] {
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

function histogramLines(name: string, bucketsS: readonly number[], series: Iterable<HistogramSeries>): string[] {
  const out: string[] = [];
  for (const s of series) {
    bucketsS.forEach((le, i) => out.push(`${name}_bucket${labelText({ ...s.labels, le: String(le) })} ${s.counts[i]}`));
    out.push(`${name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
    out.push(`${name}_sum${labelText(s.labels)} ${s.sum}`);
    out.push(`${name}_count${labelText(s.labels)} ${s.count}`);
  }
  return out;
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
  render(): string[] {
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
  render(): string[] {
    const out: string[] = [];
    for (const s of this.collect()) out.push(`${this.name}${labelText(s.labels ?? {})} ${s.value}`);
    return out;
  }
}

export class Registry {
  private readonly list: Family[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  histogram(name: string, help: string, bucketsS: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, bucketsS));
  }

  collect(name: string, help: string, type: 'counter' | 'gauge', fn: () => Iterable<Sample>): void {
    this.add(new Collected(name, help, type, fn));
  }

  collectHistogram(name: string, help: string, bucketsS: readonly number[], fn: () => Iterable<HistogramSeries>): void {
    this.add(new CollectedHistogram(name, help, bucketsS, fn));
  }

  private add<F extends Family>(family: F): F {
    this.list.push(family);
    return family;
  }

  /** The families as plain data, to cross from a child process to the supervisor's endpoint. */
  families(): MetricFamily[] {
    return this.list.map((f) => ({ name: f.name, help: f.help, type: f.type, lines: f.render() }));
  }

  render(): string {
    return renderFamilies(this.families());
  }
}

/**
 * Prometheus text of families from several processes. A family two processes both report (the SMTP alert
 * counter) is written once, and a series both report is summed: only counters are shared.
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
  return out.join('\n') + '\n';
}

/**
 * Serves /metrics; binds 127.0.0.1 unless told otherwise, because the data describes the whole cluster.
 * `render` gathers the text at each scrape (from every process).
 */
export function serveMetrics(render: () => Promise<string>, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    void render().then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
