// Minimal configs around each value keyword of the schema, for the tests that compare lvskeeper's config test with
// keepalived 2.2.7's keyword by keyword.
import { ROOT } from '../../src/config/schema/root.js';
import type { BlockSchema } from '../../src/config/schema/types.js';

/** Block headers that need a name or an address. */
const HEADERS: Readonly<Record<string, string>> = {
  vrrp_sync_group: 'vrrp_sync_group G', vrrp_instance: 'vrrp_instance VI', vrrp_script: 'vrrp_script S',
  vrrp_track_process: 'vrrp_track_process P', track_file: 'track_file T', vrrp_track_file: 'vrrp_track_file T',
  track_group: 'track_group TG', bfd_instance: 'bfd_instance B', virtual_server: 'virtual_server 192.0.2.10 80',
  real_server: 'real_server 192.0.2.11 80',
};
/** What each block needs to be valid apart from the keyword under test. */
const FILLERS: Readonly<Record<string, readonly string[]>> = {
  vrrp_instance: ['interface eth0', 'virtual_router_id 1', 'priority 100', 'virtual_ipaddress {', '192.0.2.1', '}'],
  vrrp_track_process: ['process init'],
  bfd_instance: ['neighbor_ip 192.0.2.99'],
  vrrp_script: ['script /bin/true'],
  virtual_server: ['lb_algo rr', 'lb_kind NAT', 'protocol TCP', 'real_server 192.0.2.12 80 {', '}'],
  real_server: ['weight 1'],
  HTTP_GET: ['url {', 'path /', '}'],
  SSL_GET: ['url {', 'path /', '}'],
  url: ['path /'],
  track_file: ['file /tmp/lvskp-bare'],
};

/** Each value keyword, in a minimal config around it, followed by `value` ('' for bare). */
export function keywordConfigs(value: string): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  const walk = (block: BlockSchema, path: readonly string[]): void => {
    for (const [name, { kind }] of block.keywords) {
      if (kind === 'list') continue;
      if (typeof kind === 'object' && 'keywords' in kind) {
        walk(kind, [...path, name]);
        continue;
      }
      let text = value === '' ? name : `${name} ${value}`;
      for (const b of [...path].reverse()) {
        const filler = (FILLERS[b] ?? []).filter((l) => l.split(' ')[0] !== name);
        text = [`${HEADERS[b] ?? b} {`, ...filler, text, '}'].join('\n');
      }
      out.push({ where: [...path, name].join(' > '), text: `${text}\n` });
    }
  };
  walk(ROOT, []);
  return out;
}

