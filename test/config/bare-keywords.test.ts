// Every value keyword of the schema in a minimal config around it, written bare (no parameter) and then with a word,
// a negative number and one past 32 bits: lvskeeper's config test status must equal keepalived 2.2.7's. Bare
// keywords are where keepalived's handlers differ most: some stop reading (status 2), some report in their own words
// (5), some pass over it (0).
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
  vrrp_track_process: ['process init'],
  bfd_instance: ['neighbor_ip 192.0.2.99'],
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

/** Each value keyword, in a minimal config around it, followed by `value` ('' for bare). */
function keywordConfigs(value: string): { where: string; text: string }[] {
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

/** Runs keepalived -t in the namespace and lvskeeper's parser on each config; returns those whose status differs. */
function differing(
  inNs: (cmd: string, args: string[], cwd?: string) => { status: number | null },
  configs: readonly { where: string; text: string }[],
): { where: string; keepalived: number | null; lvskeeper: number }[] {
  // keepalived creates directories some keywords name (tmp_config_directory x): keep them in a scratch directory.
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-keywords-'));
  try {
    const file = join(dir, 'keepalived.conf');
    return configs.flatMap(({ where, text }) => {
      writeFileSync(file, text);
      const keepalived = inNs('keepalived', ['-t', '-f', file], dir).status;
      const lvskeeper = exitCodeFor(parseConfigText(text, { file }).diagnostics);
      return keepalived === lvskeeper ? [] : [{ where, keepalived, lvskeeper }];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every value keyword left bare gets the config test status keepalived 2.2.7 gives it', (t) => {
  withConfigTestNamespace(t, 'lvskp-bare', (inNs) => {
    const configs = keywordConfigs('').filter((c) => !KEEPALIVED_CRASHES.has(c.where));
    assert.ok(configs.length > 400, `${configs.length} keywords`);
    assert.deepEqual(differing(inNs, configs), []);
  });
});

/**
 * Not compared with a value: interface names are checked against the machine's interfaces, which an in-process
 * parse does not see in the test's namespace; include_check's types are not documented for 2.2.7 and are taken as
 * given.
 */
const VALUE_UNCOMPARED = new Set(['vrrp_instance > interface', 'garp_group > interface', 'global_defs > include_check']);

test('every value keyword given a word, a negative number or one past 32 bits gets the status keepalived 2.2.7 gives it', (t) => {
  withConfigTestNamespace(t, 'lvskp-kwvalues', (inNs) => {
    for (const value of ['x', '-1', '4294967296']) {
      const configs = keywordConfigs(value).filter((c) => !VALUE_UNCOMPARED.has(c.where));
      assert.ok(configs.length > 400, `${configs.length} keywords`);
      assert.deepEqual(differing(inNs, configs), [], `value ${value}`);
    }
  });
});
