// The trackers keepalived 2.2.7 will not let move a priority (vrrp.c vrrp_complete_instance, sync_group_tracking_init):
// `lvskeeper -t` must report the same lines with the same exit status as `keepalived -t` on the same config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withConfigTestNamespace } from '../support/config-test-ns.js';
import { repoRoot } from '../support/tier.js';

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');

function config(dir: string, o: { group?: string; ownerPriority?: boolean; groupTrackers?: boolean }): string {
  const lines = [
    'global_defs {', '  enable_script_security', '  script_user root', '}',
    'vrrp_script chk_w {', '  script "/bin/true"', '  interval 1', '  weight 20', '}',
    'vrrp_script chk_0 {', '  script "/bin/true"', '  interval 1', '  weight 0', '}',
    'vrrp_script chk_z {', '  script "/bin/true"', '  interval 1', '  weight 0', '}',
    'track_file tf_def {', `  file "${dir}/tf1"`, '}',
    'track_file tf_w {', `  file "${dir}/tf2"`, '  weight 5', '}',
  ];
  if (o.group !== undefined) {
    lines.push('vrrp_sync_group G1 {', '  group {', '    VI_1', '    VI_2', '  }', o.group);
    if (o.groupTrackers) lines.push('  track_script {', '    chk_w', '    chk_0', '  }', '  track_file {', '    tf_def', '  }', '  track_interface {', '    eth1 weight 3', '  }');
    lines.push('}');
  }
  for (const [name, vrid, prio] of [['VI_1', 51, o.ownerPriority ? 255 : 150], ['VI_2', 52, 150]] as const) {
    lines.push(`vrrp_instance ${name} {`, '  interface eth0', `  virtual_router_id ${vrid}`, `  priority ${prio}`);
    lines.push('  track_script {', '    chk_w', '    chk_0', '    chk_z weight 4', '  }');
    lines.push('  track_file {', '    tf_def', '    tf_w', '  }');
    lines.push('  track_interface {', '    eth1 weight 10', '  }');
    lines.push('  virtual_ipaddress {', `    10.0.0.${vrid}/24`, '  }', '}');
  }
  return lines.join('\n') + '\n';
}

test('sync-group members and address owners: weighted trackers ignored, zeroed or dropped with keepalived\'s lines and status', (t) => {
  withConfigTestNamespace(t, 'lvskp-synctrk', (inNs) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskp-synctrk-'));
    try {
      writeFileSync(join(dir, 'tf1'), '0\n');
      writeFileSync(join(dir, 'tf2'), '0\n');
      const file = join(dir, 'keepalived.conf');
      const cases = {
        'sync group': { group: '' },
        'sync group with sync_group_tracking_weight': { group: '  sync_group_tracking_weight' },
        'address owner': { ownerPriority: true },
        'sync group with an address owner and weighted group trackers': { group: '', ownerPriority: true, groupTrackers: true },
      };
      let reports = 0;
      for (const [name, o] of Object.entries(cases)) {
        writeFileSync(file, config(dir, o));
        const ka = inNs('keepalived', ['-t', '-f', file]);
        const lk = inNs(process.execPath, [cli, '-t', '-f', file]);
        const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0).map((l) => l.replace(/^\S+:\d+: /, ''));
        assert.deepEqual(lines(lk.stderr), lines(ka.stderr), name);
        assert.equal(lk.status, ka.status, name);
        reports += lines(ka.stderr).length;
      }
      // The cases exercise the rules, not only a clean config.
      assert.ok(reports >= 12, `${reports} lines`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
