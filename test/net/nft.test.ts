// The `nft` runner against stand-in executables on a real pipe: an nft that fails before reading its script must
// reject apply() with its message, not leave the write's EPIPE as the process's uncaught exception (it once
// aborted the VRRP child from inside a netlink callback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Nft } from '../../src/net/nft.js';

function withNft(body: string, run: (nft: Nft) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsk-nft-'));
    const path = process.env['PATH'];
    try {
      writeFileSync(join(dir, 'nft'), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, 'nft'), 0o755);
      process.env['PATH'] = `${dir}${delimiter}${path ?? ''}`;
      const nft = Nft.find();
      assert.ok(nft);
      await run(nft);
    } finally {
      process.env['PATH'] = path;
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

// A script far larger than a pipe's buffer, so the write is still under way when the reader is gone.
const SCRIPT = 'add table ip keepalived\n'.repeat(64 * 1024);

test('an nft that exits without reading its script: apply rejects with its stderr, and nothing else is thrown', withNft(
  'echo "Error: Could not process rule: Operation not permitted" >&2; exit 1',
  async (nft) => {
    const stray: unknown[] = [];
    const onUncaught = (e: unknown): void => void stray.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      await assert.rejects(nft.apply(SCRIPT), /^Error: nft -f -: Error: Could not process rule: Operation not permitted$/);
      await new Promise((r) => setTimeout(r, 50)); // a late 'error' event would land here
      assert.deepEqual(stray, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  }));

test('an nft that reads its whole script and succeeds: apply resolves; list output is parsed', withNft(
  'if [ "$1" = list ]; then printf "table ip keepalived\\ntable ip6 keepalived\\ntable ip other\\n"; else wc -c >&2; fi',
  async (nft) => {
    await nft.apply(SCRIPT);
    assert.deepEqual(await nft.tablesNamed('keepalived'), ['ip', 'ip6']);
  }));
