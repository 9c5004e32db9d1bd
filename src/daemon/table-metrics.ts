// The IPVS table's families, registered by the process that holds the table: the checker process for the kernel's
// (which it dumps at each scrape), the supervisor for an embedded one, read in place. Sending the embedded table to
// the checker process at each scrape held the supervisor's loop ~20–35 ms and the checker's ~40–100 ms at 30,000
// destinations (a structured clone each way), for figures the supervisor already had.
import type { ServiceEntry, ServiceKey, Stats, TableSize } from '../ipvs/types.js';
import type { Registry, Sample } from './metrics.js';

export interface TableView {
  size(): TableSize;
  /** The entries with their counters, a service at a time; none from a table that keeps no counters (dry-run). */
  counted(): Iterable<ServiceEntry>;
}

export function registerTableMetrics(r: Registry, table: TableView): void {
  r.collect('lvskeeper_ipvs_services', 'IPVS services in the table', 'gauge', () => [{ value: table.size().services }]);
  r.collect('lvskeeper_ipvs_destinations', 'IPVS destinations in the table', 'gauge', () => [{ value: table.size().dests }]);
  const destStat = (pick: (s: Stats) => bigint): (() => Iterable<Sample>) => function* () {
    for (const s of table.counted()) {
      const vs = keyText(s.service.key);
      for (const d of s.dests) if (d.stats) yield { labels: { vs, rs: `${d.dest.address}:${d.dest.port}` }, value: Number(pick(d.stats)) };
    }
  };
  r.collect('lvskeeper_dataplane_connections_total', 'Connections scheduled to each destination', 'counter', destStat((s) => s.conns));
  r.collect('lvskeeper_dataplane_bytes_in_total', 'Bytes from clients to each destination', 'counter', destStat((s) => s.inBytes));
  r.collect('lvskeeper_dataplane_bytes_out_total', 'Bytes from each destination to clients', 'counter', destStat((s) => s.outBytes));
}

/** A dumped table (the kernel's, as the checker process last read it). */
export function dumpedView(services: () => readonly ServiceEntry[]): TableView {
  return {
    size: () => {
      const table = services();
      return { services: table.length, dests: table.reduce((n, s) => n + s.dests.length, 0) };
    },
    counted: services,
  };
}

function keyText(k: ServiceKey): string {
  return k.fwmark !== undefined ? `FWM ${k.fwmark}` : `${k.address}:${k.port}`;
}
