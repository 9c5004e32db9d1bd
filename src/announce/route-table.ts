// The announcement routes: one `blackhole VIP/32` (or /128) per announced VIP in a dedicated kernel table, with a
// protocol number of lvskeeper's own (rtm_protocol) so that only its routes are touched. Each sync makes the table's
// routes of that protocol exactly the wanted set: routes a crashed predecessor left are removed at start, routes
// deleted by hand come back. The type is blackhole so the route needs no interface: a routing engine that imports the
// table only reads its prefixes (and FRR's zebra installs the imported route in the main table, where the VIP's
// local route, in the local table, is looked up first).
import { formatIp } from '../net/addr.js';
import { AF_INET, AF_INET6, NetlinkError, Rtnl } from '../net/rtnl.js';
import { parseRouteNote, routeRequest } from '../net/rtnl-route.js';
import { RTN_BLACKHOLE } from '../config/routes.js';
import type { RouteSpec } from '../config/routes.js';

export interface AnnounceTableSettings {
  /** The kernel routing table (1..2^32-1, not local/main/default: 255, 254, 253). */
  readonly table: number;
  /** rtm_protocol of lvskeeper's routes. */
  readonly protocol: number;
}

interface SyncResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly failed: readonly string[];
}

const spec = (s: AnnounceTableSettings, vip: string, family: 4 | 6): RouteSpec => ({
  text: `blackhole ${vip} table ${s.table} proto ${s.protocol}`,
  family,
  dst: { address: vip, prefixlen: family === 4 ? 32 : 128 },
  type: RTN_BLACKHOLE,
  typeSet: true,
  table: s.table,
  protocol: s.protocol,
  flags: 0,
  metrics: [],
  lock: 0,
  nexthops: [],
  create: 'add',
  noTrack: false,
});

const noIfindex = (): number | undefined => undefined;

export class AnnounceTable {
  private constructor(
    private readonly settings: AnnounceTableSettings,
    private readonly rtnl: Rtnl,
  ) {}

  static open(settings: AnnounceTableSettings): AnnounceTable {
    return new AnnounceTable(settings, Rtnl.open());
  }

  /** Our routes in the table now: host routes of our protocol, by address. */
  private async present(): Promise<Map<string, 4 | 6>> {
    const out = new Map<string, 4 | 6>();
    for (const [family, af] of [[4, AF_INET], [6, AF_INET6]] as const) {
      for (const body of await this.rtnl.routeBodies(af)) {
        const n = parseRouteNote(body);
        if (!n?.dst || n.table !== this.settings.table || n.protocol !== this.settings.protocol) continue;
        out.set(`${formatIp(n.dst)}/${n.dstLen}`, family);
      }
    }
    return out;
  }

  /** Makes the table hold exactly `wanted` (VIP → family); a failed change is reported and retried by the next sync. */
  async sync(wanted: ReadonlyMap<string, 4 | 6>): Promise<SyncResult> {
    const present = await this.present();
    const want = new Map([...wanted].map(([vip, f]) => [`${vip}/${f === 4 ? 32 : 128}`, { vip, family: f }]));
    const added: string[] = [];
    const removed: string[] = [];
    const failed: string[] = [];
    for (const [key, family] of present) {
      if (want.has(key)) continue;
      const [vip, len] = key.split('/') as [string, string];
      // A host route only: a shorter prefix of our protocol is not one lvskeeper wrote, so it is left alone.
      if (Number(len) !== (family === 4 ? 32 : 128)) continue;
      try {
        await this.rtnl.change('RTM_DELROUTE', routeRequest(spec(this.settings, vip, family), 'del', noIfindex));
        removed.push(key);
      } catch (e) {
        if (!(e instanceof NetlinkError && e.code === 'ESRCH')) failed.push(`del ${key}: ${(e as Error).message}`);
      }
    }
    for (const [key, { vip, family }] of want) {
      if (present.has(key)) continue;
      try {
        await this.rtnl.change('RTM_NEWROUTE', routeRequest(spec(this.settings, vip, family), 'add', noIfindex));
        added.push(key);
      } catch (e) {
        if (!(e instanceof NetlinkError && e.code === 'EEXIST')) failed.push(`add ${key}: ${(e as Error).message}`);
      }
    }
    return { added, removed, failed };
  }

  close(): void {
    this.rtnl.close();
  }
}
