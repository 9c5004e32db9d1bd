// Stable identities for virtual and real servers, used to match objects across reloads, to key checker state
// and IPVS entries, and to name them in the control socket. They are exactly the names keepalived's logs use.
import type { RealServer, VirtualServer } from './model.js';

/** `[192.0.2.10]:tcp:80`, `FWM 42`, `[group]:80` — unique per config. */
export function vsId(vs: Pick<VirtualServer, 'displayName'>): string {
  return vs.displayName;
}

/** `[192.0.2.10]:tcp:80/[192.0.2.22]:tcp:80` — unique per config. */
export function rsId(vs: Pick<VirtualServer, 'displayName'>, rs: Pick<RealServer, 'displayName'>): string {
  return [vs.displayName, '/', rs.displayName].join('');
}

/**
 * Finds the servers of a new config among those of the running one, both in config order, by id. A reload keeps
 * most servers in the same order, so a walk along the running list meets them with no index; only a server the
 * reload added or moved needs one, made once, on the first such server. Each running server is found at most once
 * (ids are unique within a config), and those never found are the ones the reload removed.
 */
export class ServerWalk<T> {
  private next = 0;
  private index: Map<string, number> | undefined;
  private readonly found: Uint8Array;
  private count = 0;

  constructor(
    private readonly running: readonly T[],
    private readonly idOf: (t: T) => string,
  ) {
    this.found = new Uint8Array(running.length);
  }

  find(id: string): T | undefined {
    // A few servers removed here: the walk steps over them.
    const end = Math.min(this.next + 4, this.running.length);
    for (let k = this.next; k < end; k++) {
      if (this.idOf(this.running[k]!) !== id) continue;
      this.next = k + 1;
      return this.take(k);
    }
    const k = (this.index ??= this.indexed()).get(id);
    return k === undefined ? undefined : this.take(k);
  }

  /** The running servers no find() asked for. */
  unfound(): T[] {
    return this.count === this.running.length ? [] : this.running.filter((_, k) => this.found[k] === 0);
  }

  /** Made with set(): entries made by map() were an array per running server, 30,000 at a time. */
  private indexed(): Map<string, number> {
    const index = new Map<string, number>();
    for (let k = 0; k < this.running.length; k++) index.set(this.idOf(this.running[k]!), k);
    return index;
  }

  private take(k: number): T {
    if (this.found[k] === 0) this.count++;
    this.found[k] = 1;
    return this.running[k]!;
  }
}

/** keepalived's FMT_RS/FMT_VS address rendering: IPv6 and IPv4 both in brackets. */
export function formatEndpoint(address: string, protocol: string, port: number): string {
  // join() yields one flat string where a template would leave a chain of cons strings: these names are kept for
  // every real server, so on large configs that is megabytes for the garbage collector to copy.
  return ['[', address, ']:', protocol.toLowerCase(), ':', port].join('');
}
