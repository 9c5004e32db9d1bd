// Prometheus text exposition (format 0.0.4) without a dependency: counters and histograms that hot paths bump,
// and collectors that read subsystem state only when scraped, so an idle daemon does no metrics work.
import { createServer, type Server } from 'node:http';

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
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.bucketsS.forEach((le, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(le) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
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
  private readonly families: Family[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  histogram(name: string, help: string, bucketsS: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, bucketsS));
  }

  collect(name: string, help: string, type: 'counter' | 'gauge', fn: () => Iterable<Sample>): void {
    this.add(new Collected(name, help, type, fn));
  }

  private add<F extends Family>(family: F): F {
    this.families.push(family);
    return family;
  }

  render(): string {
    const lines: string[] = [];
    for (const f of this.families) {
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.render());
    }
    return lines.join('\n') + '\n';
  }
}

/**
 * Serves /metrics; binds 127.0.0.1 unless told otherwise, because the data describes the whole cluster.
 * `refresh` runs before each render, for sources that can only be read asynchronously (the IPVS table).
 */
export function serveMetrics(registry: Registry, host: string, port: number, refresh?: () => Promise<void>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    void (refresh?.() ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(registry.render()));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
