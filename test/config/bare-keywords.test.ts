// Every value keyword of the schema, written bare (no parameter) in a minimal config around it: lvskeeper's config
// test status must equal keepalived 2.2.7's. Bare keywords are where keepalived's handlers differ most: some stop
// reading (status 2), some report in their own words (5), some pass over it (0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, parseConfigText } from '../../src/config/load.js';
import { ROOT } from '../../src/config/schema/root.js';
import type { BlockSchema } from '../../src/config/schema/types.js';
import { withConfigTestNamespace } from '../support/config-test-ns.js';

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
  vrrp_script: ['script /bin/true'],
  virtual_server: ['lb_algo rr', 'lb_kind NAT', 'protocol TCP'],
  real_server: ['weight 1'],
  HTTP_GET: ['url {', 'path /', '}'],
  SSL_GET: ['url {', 'path /', '}'],
  url: ['path /'],
  track_file: ['file /tmp/lvskp-bare'],
};
/** keepalived 2.2.7 itself crashes on these (a bare neighbour address); there is no status to compare with. */
const KEEPALIVED_CRASHES = new Set(['bfd_instance > neighbor_ip', 'bfd_instance > neighbour_ip']);

function bareConfigs(): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  const walk = (block: BlockSchema, path: readonly string[]): void => {
    for (const [name, { kind }] of block.keywords) {
      if (kind === 'list') continue;
      if (typeof kind === 'object' && 'keywords' in kind) {
        walk(kind, [...path, name]);
        continue;
      }
      let text = name;
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

test('every value keyword left bare gets the config test status keepalived 2.2.7 gives it', (t) => {
  withConfigTestNamespace(t, 'lvskp-bare', (inNs) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskp-bare-'));
    try {
      const configs = bareConfigs().filter((c) => !KEEPALIVED_CRASHES.has(c.where));
      assert.ok(configs.length > 400, `${configs.length} keywords`);
      const file = join(dir, 'keepalived.conf');
      const differ = configs.flatMap(({ where, text }) => {
        writeFileSync(file, text);
        const keepalived = inNs('keepalived', ['-t', '-f', file]).status;
        const lvskeeper = exitCodeFor(parseConfigText(text, { file }).diagnostics);
        return keepalived === lvskeeper ? [] : [{ where, keepalived, lvskeeper }];
      });
      assert.deepEqual(differ, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
