// `lvskeeper -t` beside keepalived 2.2.7's `-t` on a corpus of real-world keepalived.conf files
// (test/fixtures/corpus/SOURCES.tsv says where each came from) and on seeded mutants of a subset of them: CRLF, a
// BOM, Latin-1 bytes, tabs, stray whitespace, quoted values, a file cut mid-block. Every file must get keepalived's
// exit status; the messages must match too, but for the differences listed with their reason in MESSAGES-ALLOWED.tsv
// (each row for every file, or for the files its first column names).
// Each file runs in a namespace that holds every interface the corpus names (veth pairs), so interface checks see
// the interfaces a director running that file would have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MUTATIONS } from '../support/config-mutants.js';
import { seededRandom } from '../support/seeded-random.js';
import { hasCommand, isRoot, need, repoRoot } from '../support/tier.js';

const CORPUS = join(repoRoot, 'test/fixtures/corpus');
const cli = join(repoRoot, 'dist/bin/lvskeeper.js');
/** Mutants come from MUTANT_FILES corpus files picked with this seed (issue 16); each gets every mutation. */
const SEED = 16;
const MUTANT_FILES = 8;
const WORKERS = 2;
const CONFIG_ID = 'lvskp-a';

interface Source { readonly file: string; readonly repository: string; readonly path: string; readonly commit: string }

function sources(): Source[] {
  const [head, ...rows] = readFileSync(join(CORPUS, 'SOURCES.tsv'), 'utf8').trimEnd().split('\n');
  assert.equal(head, 'file\trepository\tpath\tcommit\twhat');
  return rows.map((r) => {
    const [file = '', repository = '', path = '', commit = ''] = r.split('\t');
    return { file, repository, path, commit };
  });
}

/** Interface names a config uses: instance, sync daemon, checker and address/route `dev` names, tracked interfaces. */
function interfaceNames(text: string): string[] {
  const names = new Set<string>(['eth0']); // keepalived's default interface (DFLT_INT in vrrp_data.h)
  for (const m of text.matchAll(/^\s*(?:interface|default_interface|lvs_sync_daemon_interface|lvs_sync_daemon|bind_if)\s+(\S+)/gm)) names.add(m[1]!);
  for (const m of text.matchAll(/\bdev\s+(\S+)/g)) names.add(m[1]!);
  for (const m of text.matchAll(/^\s*track_interface\s*\{([^}]*)\}/gms)) {
    for (const l of m[1]!.split('\n')) {
      const w = l.replace(/[#!].*/, '').trim().split(/\s+/)[0];
      if (w) names.add(w);
    }
  }
  // What Linux takes as a link name (dev_valid_name): keepalived's $VAR, @id and quoted forms are left out.
  return [...names].filter((n) => /^[A-Za-z0-9_.-]{1,15}$/.test(n) && n !== 'lo' && n !== '.' && n !== '..');
}

interface Run { readonly status: number | null; readonly out: string }

function runInNs(ns: string, cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, out }));
  });
}

/** One namespace holding every name as one end of a veth pair, all up. */
function makeNamespace(ns: string, names: readonly string[]): void {
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  const ends = names.length % 2 === 0 ? [...names] : [...names, 'lvskpeer'];
  for (let i = 0; i < ends.length; i += 2) {
    const r = spawnSync('ip', ['-n', ns, 'link', 'add', ends[i]!, 'type', 'veth', 'peer', 'name', ends[i + 1]!], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  for (const n of ['lo', ...ends]) spawnSync('ip', ['-n', ns, 'link', 'set', n, 'up']);
}

/** keepalived's `(FILE: Line N) text` and lvskeeper's `FILE:N: text` both become `N: text`, spacing collapsed. */
function messages(out: string, file: string, tool: 'keepalived' | 'lvskeeper'): string[] {
  return out.split('\n').flatMap((raw) => {
    let l = raw.trim();
    if (l === '' || (tool === 'lvskeeper' && / lvskeeper does not implement '/.test(l))) return [];
    if (tool === 'keepalived') {
      const m = /^\((?:(.*?): )?Line (\d+)\) (.*)$/.exec(l);
      if (m) l = `${m[2]}: ${m[3]}`;
    } else if (l.startsWith(`${file}:`)) {
      l = l.slice(file.length + 1).replace(/^ /, '');
    }
    return [l.replace(/\s+/g, ' ')];
  });
}

interface Allowed {
  /** The corpus files the row is for (undefined: every file). */
  readonly file: RegExp | undefined;
  readonly side: 'keepalived' | 'lvskeeper';
  readonly re: RegExp;
  readonly reason: string;
  used: number;
}

/** Rows of a TSV under the corpus directory, header checked, blank lines skipped. */
function tsv(name: string, header: string): string[][] {
  const [head, ...rows] = readFileSync(join(CORPUS, name), 'utf8').trimEnd().split('\n');
  assert.equal(head, header, name);
  return rows.filter((r) => r !== '').map((r) => r.split('\t'));
}

/** Message differences understood and accepted, each with its reason (MESSAGES-ALLOWED.tsv). */
function messageAllowList(): Allowed[] {
  return tsv('MESSAGES-ALLOWED.tsv', 'file\tside\tpattern\treason').map(([file = '', side, re = '', reason = '']) => {
    assert.ok(side === 'keepalived' || side === 'lvskeeper', `MESSAGES-ALLOWED.tsv: bad side ${side}`);
    assert.ok(reason.length > 20, `MESSAGES-ALLOWED.tsv: ${re} needs its reason`);
    return { file: file === '' ? undefined : new RegExp(file), side, re: new RegExp(re), reason, used: 0 };
  });
}

/** Files whose exit status differs from keepalived's for a reason given (STATUS-ALLOWED.tsv). */
function statusAllowList(): { re: RegExp; used: number }[] {
  return tsv('STATUS-ALLOWED.tsv', 'file\treason').map(([re = '', reason = '']) => {
    assert.ok(reason.length > 20, `STATUS-ALLOWED.tsv: ${re} needs its reason`);
    return { re: new RegExp(re), used: 0 };
  });
}

test('the corpus: every file listed once with its repository, path and commit; no duplicates; 200 or more', () => {
  const rows = sources();
  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.conf')).sort();
  assert.deepEqual(rows.map((r) => r.file).sort(), files);
  assert.ok(files.length >= 200, `${files.length} files`);
  for (const r of rows) {
    assert.match(r.repository, /^[\w.-]+\/[\w.-]+$/, r.file);
    assert.match(r.commit, /^[0-9a-f]{40}$/, r.file);
    assert.ok(r.path.length > 0, r.file);
  }
  const byContent = new Map<string, string>();
  for (const f of files) {
    const text = readFileSync(join(CORPUS, f), 'latin1').replace(/\r\n/g, '\n');
    assert.equal(byContent.get(text), undefined, `${f} repeats ${byContent.get(text)}`);
    byContent.set(text, f);
  }
});

test('lvskeeper -t exits like keepalived -t on every corpus file and on seeded mutants', async (t) => {
  if (!need(t, isRoot(), 'needs root (creates network namespaces)')) return;
  if (!need(t, hasCommand('keepalived'), "needs 'keepalived' 2.2.7 (apt-get install keepalived)")) return;
  if (!need(t, hasCommand('ip'), "needs 'ip' (apt-get install iproute2)")) return;
  if (!need(t, hasCommand('unshare'), "needs 'unshare' (apt-get install util-linux)")) return;

  const work = mkdtempSync(join(tmpdir(), 'lvsk-corpus-'));
  // The pid in the names: other checkouts on the machine may run this test at the same time.
  const nss = Array.from({ length: WORKERS }, (_, i) => `lvskcorp${process.pid}-${i}`);
  try {
    const files = sources().map((s) => join(CORPUS, s.file));
    const rnd = seededRandom(SEED);
    const picked = [...files].sort().map((f) => ({ f, k: rnd() })).sort((a, b) => a.k - b.k).slice(0, MUTANT_FILES).map((x) => x.f);
    const mutants = picked.flatMap((f) => Object.entries(MUTATIONS).map(([name, mutate]) => {
      const path = join(work, `${name}--${f.slice(CORPUS.length + 1)}`);
      writeFileSync(path, mutate(readFileSync(f), rnd));
      return path;
    }));
    const all = [...files, ...mutants];
    const names = [...new Set(files.flatMap((f) => interfaceNames(readFileSync(f, 'latin1'))))].sort();
    for (const ns of nss) makeNamespace(ns, names);

    const allowed = messageAllowList();
    const statusAllowed = statusAllowList();
    const rows: { file: string; keepalived: number | null; lvskeeper: number | null; unexplained: string[] }[] = [];
    let next = 0;
    await Promise.all(nss.map(async (ns) => {
      const pid = join(work, ns);
      for (let i = next++; i < all.length; i = next++) {
        const f = all[i]!;
        // A private pid file for each process, so -t never reads or writes a running keepalived's. With net_namespace
        // keepalived -t enters /run/netns/NAME when it exists (namespaces.c set_namespaces): an empty private
        // /run/netns keeps the outcome from depending on the namespaces this host happens to have.
        const kaArgs = ['-t', '-n', '-l', '-i', CONFIG_ID, '-p', `${pid}.pid`, '-r', `${pid}-vrrp.pid`, '-c', `${pid}-chk.pid`, '-f', f];
        const ka = readFileSync(f, 'latin1').includes('net_namespace')
          ? await runInNs(ns, 'unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /run/netns && exec keepalived "$@"', 'sh', ...kaArgs])
          : await runInNs(ns, 'keepalived', kaArgs);
        const lk = await runInNs(ns, process.execPath, [cli, '-t', '-i', CONFIG_ID, '-f', f]);
        const name = f.startsWith(CORPUS) ? f.slice(CORPUS.length + 1) : f.slice(work.length + 1);
        const kaMsgs = messages(ka.out, f, 'keepalived');
        const lkMsgs = messages(lk.out, f, 'lvskeeper');
        // keepalived names no line for what it finds once the file is read; lvskeeper does, so its line number is
        // dropped where keepalived gave none.
        const bare = (m: string): string => m.replace(/^\d+: /, '');
        const lkAny = new Set([...lkMsgs, ...lkMsgs.map(bare)]);
        const unexplained = [
          ...kaMsgs.filter((m) => !lkAny.has(m)).map((m) => ['keepalived', m] as const),
          ...lkMsgs.filter((m) => !kaMsgs.includes(m) && !kaMsgs.includes(bare(m))).map((m) => ['lvskeeper', m] as const),
        ].flatMap(([side, m]) => {
          const hit = allowed.find((a) => a.side === side && (a.file === undefined || a.file.test(name)) && a.re.test(m));
          if (hit) hit.used++;
          return hit ? [] : [`${side} only: ${m}`];
        });
        rows.push({ file: name, keepalived: ka.status, lvskeeper: lk.status, unexplained });
      }
    }));
    rows.sort((a, b) => a.file.localeCompare(b.file));
    const agree = rows.filter((r) => r.keepalived === r.lvskeeper).length;
    t.diagnostic(`${agree} of ${rows.length} files agree on the exit status (${files.length} corpus, ${mutants.length} mutants)`);
    const differ = rows.filter((r) => r.keepalived !== r.lvskeeper).filter((r) => {
      const hit = statusAllowed.find((a) => a.re.test(r.file));
      if (hit) hit.used++;
      return !hit;
    });
    assert.deepEqual(differ.map(({ file, keepalived, lvskeeper }) => ({ file, keepalived, lvskeeper })), []);
    assert.deepEqual(statusAllowed.filter((a) => a.used === 0).map((a) => a.re.source), [], 'STATUS-ALLOWED.tsv entries no file needs');
    // Messages are compared on the corpus files; the mutants are there for the status. Every difference must be
    // on the allow-list, and every row of the list must still be needed.
    const corpusRows = rows.filter((r) => files.includes(join(CORPUS, r.file)));
    t.diagnostic(`${corpusRows.filter((r) => r.unexplained.length === 0).length} of ${corpusRows.length} corpus files print keepalived's messages (allow-list applied)`);
    assert.deepEqual(corpusRows.filter((r) => r.unexplained.length > 0).map(({ file, unexplained: u }) => ({ file, unexplained: u })), [], 'message differences not in MESSAGES-ALLOWED.tsv');
    assert.deepEqual(allowed.filter((a) => a.used === 0).map((a) => `${a.file?.source ?? ''} ${a.side} ${a.re.source}`), [], 'MESSAGES-ALLOWED.tsv rows no file needs');
  } finally {
    for (const ns of nss) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
});
