// The checker side's scripts at configuration time (config/check-scripts.ts): the user each runs as, the ones
// keepalived 2.2.7 disables, and -t's SECURITY VIOLATION line, beside keepalived -t on the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');

/** A root-owned 0755 directory under /tmp (sticky) holding a safe script, a world-writable one and a directory. */
function scriptsDir(t: { after(fn: () => void): void }): { dir: string; rec: string; unsafe: string; noexec: string; sub: string } {
  const dir = mkdtempSync('/tmp/lvskc-scripts-');
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, mode: number): string => {
    const p = join(dir, name);
    writeFileSync(p, '#!/bin/sh\nexit 0\n');
    chmodSync(p, mode);
    return p;
  };
  const sub = join(dir, 'adir');
  mkdirSync(sub, { mode: 0o755 });
  return { dir, rec: file('rec', 0o755), unsafe: file('unsafe', 0o777), noexec: file('noexec', 0o644), sub };
}

const vs = (global: string, scripts: string): string => `global_defs {\n${global}}\nvirtual_server 192.0.2.70 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
${scripts}}
`;

/** `-t` of both programs on one file: exit status and the SECURITY VIOLATION line. */
function both(dir: string, text: string): { keepalived: [number | null, string]; lvskeeper: [number | null, string] } {
  const f = join(dir, 'keepalived.conf');
  writeFileSync(f, text);
  const k = spawnSync('keepalived', ['-t', '-f', f], { encoding: 'utf8' });
  const l = spawnSync(process.execPath, [cli, '-t', '-f', f], { encoding: 'utf8' });
  const violation = (s: string): string => /SECURITY VIOLATION.*$/m.exec(s)?.[0] ?? '';
  return { keepalived: [k.status, violation(k.stderr)], lvskeeper: [l.status, violation(l.stderr)] };
}

test('-t: check scripts without enable_script_security, as keepalived 2.2.7 reports them', (t) => {
  if (!needRoot(t) || !needCommand(t, 'keepalived')) return;
  const s = scriptsDir(t);
  // script_user root: keepalived -t checks the paths of scripts that run as root (with another user it dies in -t).
  const cases: [string, string][] = [
    ['an unsafe root script', `  real_server 192.0.2.1 80 {\n    weight 1\n    notify_up "${s.unsafe} x"\n  }\n`],
    ['a directory named as the script', `  real_server 192.0.2.1 80 {\n    weight 1\n    notify_up "${s.sub} x"\n  }\n`],
    ['a script not executable', `  quorum_up "${s.noexec}"\n  real_server 192.0.2.1 80 {\n    weight 1\n  }\n`],
    ['a safe MISC_CHECK', `  real_server 192.0.2.1 80 {\n    weight 1\n    MISC_CHECK {\n      misc_path "${s.rec}"\n    }\n  }\n`],
  ];
  for (const [name, scripts] of cases) {
    const r = both(s.dir, vs('  script_user root\n', scripts));
    assert.equal(r.keepalived[0], 6, name);
    assert.deepEqual(r.lvskeeper, r.keepalived, name);
  }
});

test('resolved check scripts: the user each runs as, and the ones keepalived disables with its lines', (t) => {
  if (!needRoot(t)) return;
  const s = scriptsDir(t);
  const text = vs('  enable_script_security\n  script_user nobody\n', `  quorum_up "${s.rec} up"
  quorum_down "${s.unsafe} down" root
  real_server 192.0.2.1 80 {
    weight 1
    notify_up "${s.rec} rs-up" root
    notify_down "${s.noexec} rs-down"
    MISC_CHECK {
      misc_path "${s.unsafe} m"
      user root
    }
    MISC_CHECK {
      misc_path "${s.rec} m"
    }
    MISC_CHECK {
      misc_path "${join(s.dir, 'missing')} m"
    }
  }
`);
  const r = parseConfigText(text, { file: join(s.dir, 'keepalived.conf') });
  const v = r.config.virtualServers[0]!;
  const rs = v.realServers[0]!;
  assert.deepEqual([v.quorumUp?.user, v.quorumDown], ['nobody', undefined], 'script_user by default; unsafe as root: off');
  assert.deepEqual([rs.notifyUp?.text, rs.notifyUp?.user, rs.notifyDown], [`${s.rec} rs-up`, undefined, undefined], 'root is ourselves; not executable by nobody: off');
  assert.deepEqual(rs.checkers.map((c) => (c.type === 'MISC_CHECK' ? [c.miscPath.text, c.miscPath.user] : [])), [[`${s.rec} m`, 'nobody']]);
  // keepalived logs these as its checker process starts (not in -t's output): the IPVS manager logs scriptLog then.
  assert.deepEqual(v.scriptLog, [
    `Unsafe permissions found for script '${s.unsafe}' - disabling.`,
    `Disabling misc script '${s.unsafe}' 'm' due to insecure`,
    `Script ${join(s.dir, 'missing')} cannot be accessed - No such file or directory`,
    `Disabling misc script '${join(s.dir, 'missing')}' 'm' since not found/accessible`,
    `Unsafe permissions found for script '${s.unsafe}' - disabling.`,
    `WARNING - script '${s.noexec}' is not executable for uid:gid 65534:65534 - disabling.`,
  ]);
  assert.deepEqual(r.diagnostics, []);
});
