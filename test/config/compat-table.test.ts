// The README's compatibility table is what the keyword tables' run-time statuses generate (npm run compat-table),
// and a status entry can only name a keyword its block has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compatRows, withCompatTable } from '../../src/config/schema/compat-table.js';
import { block, NOT_IMPLEMENTED, partial, status, values } from '../../src/config/schema/types.js';
import { repoRoot } from '../support/tier.js';

test("README's compatibility table is the one the schema generates (run npm run compat-table after changing a status)", () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  assert.equal(withCompatTable(readme), readme);
});

test('the table has a row for every keyword of every implemented block, blocks not implemented as one row', () => {
  const rows = compatRows();
  const row = (kw: string, block: string): string | undefined => rows.find((r) => r.keyword === kw && r.blocks.includes(block))?.status;
  assert.equal(row('kernel_rx_buf_size', 'vrrp_instance'), 'not implemented');
  assert.equal(row('use_vmac_addr', 'vrrp_instance'), 'runs');
  assert.equal(row('priority', 'vrrp_instance'), 'runs');
  assert.equal(row('track_group', 'top level'), 'not implemented');
  assert.equal(row('bfd_instance', 'top level'), 'runs');
  assert.equal(row('min_rx', 'bfd_instance'), 'runs');
  assert.match(row('auth_type', 'authentication') ?? '', /^partial: .*AH/);
  // Inside track_group, which has one row: no rows of its own.
  assert.equal(rows.some((r) => r.blocks.includes('track_group')), false);
  // The checkers share their timing keywords: one row naming each checker.
  assert.ok(['HTTP_GET', 'TCP_CHECK', 'MISC_CHECK'].every((c) => rows.find((r) => r.keyword === 'delay_before_retry' && r.status === 'runs')?.blocks.includes(c)));
});

test("a keyword's status is one entry in its block's status table, and an entry for a keyword the block lacks is refused", () => {
  const b = block('demo', values('runs_here', 'missing', 'half'), status({ missing: NOT_IMPLEMENTED, half: partial('some of it') }));
  assert.deepEqual([...b.keywords.values()].map((k) => [k.name, k.status.kind]), [['runs_here', 'runs'], ['missing', 'not-implemented'], ['half', 'partial']]);
  assert.throws(() => block('demo', values('a'), status({ b: NOT_IMPLEMENTED })), /status for unknown keyword 'b' in block demo/);
});
