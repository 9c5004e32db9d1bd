// The file-creation mask against keepalived 2.2.7 in twin namespaces (test/vrrp/twin-support.ts): the same config
// (no umask, a numeric one, a symbolic one, and one that -u overrides) started under each, and the modes of what
// each daemon creates compared — its pid file, its notify FIFO, a file its notify script makes, its SIGUSR1 dump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from '../vrrp/netns-support.js';
import { SIDES, Twin, logLines, type Side } from '../vrrp/twin-support.js';

/** Each side's $TMPDIR (lib/utils.c set_tmp_dir), where its SIGUSR1 dump goes: no other test's dump is taken for it. */
const tmpDir = (dir: string, side: Side): string => join(dir, `${side}-tmp`);
const dumpFile = (dir: string, side: Side): string => join(tmpDir(dir, side), side === 'ka' ? 'keepalived.data' : 'lvskeeper.data');

interface Case {
  readonly what: string;
  readonly umask?: string;
  readonly args: readonly string[];
  /** What keepalived gives: FIFO, the script's file, the dump (the pid file is always rw-r--r--). */
  readonly expect: { readonly fifo: number; readonly script: number; readonly dump: number };
  /** After a reload to `umask 077`: keepalived's FIFO and dump modes (the script's file is not made again). */
  readonly reloaded?: { readonly fifo: number; readonly dump: number };
}

const CASES: readonly Case[] = [
  { what: 'default mask', args: [], expect: { fifo: 0o600, script: 0o600, dump: 0o600 } },
  { what: 'umask 027', umask: '027', args: [], expect: { fifo: 0o640, script: 0o640, dump: 0o640 }, reloaded: { fifo: 0o600, dump: 0o600 } },
  { what: 'umask IWGRP|IWOTH', umask: 'IWGRP | IWOTH', args: [], expect: { fifo: 0o644, script: 0o644, dump: 0o644 } },
  { what: 'umask 0 under -u 077', umask: '0', args: ['-u', '077'], expect: { fifo: 0o600, script: 0o600, dump: 0o600 }, reloaded: { fifo: 0o600, dump: 0o600 } },
];

function config(dir: string, side: Side, umask: string | undefined): string {
  return `global_defs {\n${umask !== undefined ? `  umask ${umask}\n` : ''}  vrrp_notify_fifo ${join(dir, `${side}.fifo`)}\n}\n` +
    `vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n` +
    `  notify_backup "/usr/bin/touch ${join(dir, `${side}.touched`)}"\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n`;
}

const mode = (path: string): number => lstatSync(path).mode & 0o777;
const octal = (m: Readonly<Record<string, number>>): string => JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.toString(8)])));
const inode = (path: string): number | undefined => (existsSync(path) ? lstatSync(path).ino : undefined);

test('umask: pid file, notify FIFO, notify script\'s file and data dump get keepalived\'s modes, -u overriding the config', { timeout: 180_000 }, async (t) => {
  if (!needRoot(t) || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('um');
  const DUMP = { ka: dumpFile(twin.dir, 'ka'), lk: dumpFile(twin.dir, 'lk') };
  for (const side of SIDES) mkdirSync(tmpDir(twin.dir, side));
  const env = (side: Side): NodeJS.ProcessEnv => ({ ...process.env, TMPDIR: tmpDir(twin.dir, side) });
  try {
    for (const c of CASES) {
      const conf = Object.fromEntries(SIDES.map((side) => {
        const path = join(twin.dir, `${side}.conf`);
        writeFileSync(path, config(twin.dir, side, c.umask));
        return [side, path];
      })) as Record<Side, string>;
      const procs = { ka: twin.start('ka', conf.ka, repoRoot, false, c.args, env('ka')), lk: twin.start('lk', conf.lk, repoRoot, false, c.args, env('lk')) };
      const file = (side: Side, suffix: string): string => join(twin.dir, `${side}${suffix}`);
      for (const side of SIDES) {
        assert.ok(await waitFor(() => existsSync(file(side, '.fifo')) && existsSync(file(side, '.touched')) && existsSync(file(side, '.pid')), 20_000),
          `${c.what}, ${side}:\n${procs[side].log}`);
      }
      const before = { ka: inode(DUMP.ka), lk: inode(DUMP.lk) };
      for (const side of SIDES) procs[side].signal('SIGUSR1');
      // Each dump is a new file renamed into place: a new inode.
      for (const side of SIDES) assert.ok(await waitFor(() => inode(DUMP[side]) !== undefined && inode(DUMP[side]) !== before[side], 10_000), `${c.what}, ${side}: no dump`);
      const modes = (side: Side): string => octal({
        pid: mode(file(side, '.pid')), fifo: mode(file(side, '.fifo')), script: mode(file(side, '.touched')), dump: mode(DUMP[side]),
      });
      assert.equal(modes('ka'), octal({ pid: 0o644, ...c.expect }), `${c.what}: keepalived`);
      assert.equal(modes('lk'), modes('ka'), `${c.what}: lvskeeper as keepalived`);
      const ignored = (side: Side): string[] => logLines(procs[side].log, /umask command line option/);
      assert.deepEqual(ignored('lk'), ignored('ka'), c.what);
      assert.equal(ignored('ka').length, c.args.length > 0 ? 1 : 0, c.what);
      if (c.reloaded) {
        // A reload reads the mask again, in each process (keepalived's parent and VRRP child re-read the config):
        // the FIFO, closed and opened afresh, and the next dump take the new one.
        for (const side of SIDES) writeFileSync(conf[side], config(twin.dir, side, '077'));
        const reloaded: Record<Side, RegExp> = { ka: /^Reloading$/, lk: /^VRRP reload:/ };
        for (const side of SIDES) procs[side].signal('SIGHUP');
        for (const side of SIDES) assert.ok(await waitFor(() => logLines(procs[side].log, reloaded[side]).length > 0, 10_000), `${side}:\n${procs[side].log}`);
        for (const side of SIDES) assert.ok(await waitFor(() => existsSync(file(side, '.fifo')) && mode(file(side, '.fifo')) === c.reloaded?.fifo, 5000), `${c.what}, ${side}: FIFO after the reload`);
        const again = { ka: inode(DUMP.ka), lk: inode(DUMP.lk) };
        for (const side of SIDES) procs[side].signal('SIGUSR1');
        for (const side of SIDES) assert.ok(await waitFor(() => inode(DUMP[side]) !== again[side], 10_000), `${side}: no dump after the reload`);
        assert.equal(modes('lk'), modes('ka'), `${c.what}, then a reload to umask 077`);
        assert.equal(modes('ka'), octal({ pid: 0o644, ...c.expect, ...c.reloaded }), `${c.what}: keepalived after the reload`);
        // Under -u each process that reads the config again says it ignores its umask.
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(ignored('lk'), ignored('ka'), `${c.what}: after the reload`);
        if (c.args.length > 0) assert.equal(ignored('ka').length, 3, `${c.what}: keepalived's parent and VRRP child at the reload`);
      }
      for (const side of SIDES) procs[side].signal('SIGTERM');
      await Promise.all(SIDES.map((s) => procs[s].exited()));
      // keepalived removes the FIFO it made at stop; the next case makes it afresh under its own mask.
      for (const side of SIDES) assert.ok(await waitFor(() => !existsSync(file(side, '.fifo')), 5000), `${c.what}, ${side}: FIFO left`);
      for (const side of SIDES) rmSync(file(side, '.touched'));
    }
  } finally {
    await twin.destroy();
  }
});
