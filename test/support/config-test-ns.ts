// `-t` runs of lvskeeper and keepalived inside a namespace that holds a veth named eth0, so their interface checks
// see the same, known interfaces on any host (configs name eth0; `lo` exists in every namespace).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor, parseConfigText, UNIMPLEMENTED_PREFIX } from '../../src/config/load.js';
import { hasCommand, isRoot, need, repoRoot } from './tier.js';

export interface NsRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `body` with a runner for commands inside a namespace named after `ns`, or skips the test saying what is missing. */
export function withConfigTestNamespace(
  t: TestContext, ns: string, body: (run: (cmd: string, args: string[], cwd?: string) => NsRun) => void,
): void {
  if (!need(t, isRoot(), 'needs root (creates a network namespace)')) return;
  if (!need(t, hasCommand('keepalived'), "needs 'keepalived' 2.2.7 (apt-get install keepalived)")) return;
  if (!need(t, hasCommand('ip'), "needs 'ip' (apt-get install iproute2)")) return;
  // The pid in the name: other checkouts on the machine may run the same test at the same time.
  const name = `${ns}-${process.pid}`;
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  assert.equal(spawnSync('ip', ['netns', 'add', name]).status, 0);
  try {
    assert.equal(spawnSync('ip', ['-n', name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']).status, 0);
    body((cmd, args, cwd) => {
      const r = spawnSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    });
  } finally {
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');

function lvskeeperReader(text: string, file: string, order: (lines: string[]) => string[]): DashT {
  const r = parseConfigText(text, { file });
  return { status: exitCodeFor(r.diagnostics), lines: order(r.diagnostics.map((d) => d.message).filter((m) => !m.startsWith(UNIMPLEMENTED_PREFIX))) };
}

/** `lvskeeper -t` in the namespace; its `FILE:LINE: ` (or `FILE: `) prefix taken off. */
function lvskeeperInNs(inNs: NsRunner, file: string, dir: string, order: (lines: string[]) => string[]): DashT {
  const r = inNs(process.execPath, [cli, '-t', '-f', file], dir);
  const lines = r.stderr.split('\n').filter(Boolean).map((l) => l.startsWith(file) ? l.slice(file.length).replace(/^(:\d+)?: /, '') : l);
  return { status: r.status, lines: order(lines.filter((m) => !m.startsWith(UNIMPLEMENTED_PREFIX))) };
}

type NsRunner = Parameters<Parameters<typeof withConfigTestNamespace>[2]>[0];

interface DashT {
  readonly status: number | null;
  readonly lines: readonly string[];
}

/**
 * keepalived `-t` (in the namespace) and lvskeeper's config reader on each named config text: the cases whose lines
 * (keepalived's `(FILE: Line N)` prefix taken off, lvskeeper's not-implemented lines left out; in order unless
 * `sorted`) or exit status differ. `interfaces`: lvskeeper `-t` runs in the namespace too, so both check the
 * interfaces a config names against the same ones. `unique`: each line once (keepalived's reading processes each
 * report the file's brace errors, lib/parser.c read_line).
 */
export function dashTDifferences(
  inNs: NsRunner, cases: Iterable<readonly [string, string]>, opts: { readonly sorted?: boolean; readonly interfaces?: boolean; readonly unique?: boolean } = {},
): { name: string; keepalived: DashT; lvskeeper: DashT }[] {
  const order = (all: string[]): string[] => {
    const lines = opts.unique ? [...new Set(all)] : all;
    return opts.sorted ? lines.sort() : lines;
  };
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-dasht-'));
  try {
    const file = join(dir, 'keepalived.conf');
    return [...cases].flatMap(([name, text]) => {
      writeFileSync(file, text);
      const ka = inNs('keepalived', ['-t', '-f', file], dir);
      const keepalived = { status: ka.status, lines: order(ka.stderr.split('\n').filter(Boolean).map((l) => l.replace(/^\([^)]*Line \d+\) /, ''))) };
      const lvskeeper = opts.interfaces ? lvskeeperInNs(inNs, file, dir, order) : lvskeeperReader(text, file, order);
      return JSON.stringify(keepalived) === JSON.stringify(lvskeeper) ? [] : [{ name, keepalived, lvskeeper }];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
