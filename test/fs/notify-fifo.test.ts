// The notify FIFO adapter against the real kernel pipe: created 0644 when missing and removed again; an existing
// FIFO kept; a planted link or a regular file at the path never followed nor written; a reader that never reads
// fills the pipe and lines are then dropped and counted, without the writer ever blocking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotifyFifo, type NotifyFifoSpec } from '../../src/fs/notify-fifo.js';
import { createLogger } from '../../src/log.js';

function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-fifo-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const spec = (path: string): NotifyFifoSpec => ({ path, type: 'vrrp_', scriptExitLine: 'vrrp notify fifo script terminated' });
const logs: string[] = [];
const quiet = createLogger({ level: 'debug', destination: { write: (l: string) => void logs.push((JSON.parse(l) as { msg: string }).msg) } });

test('a missing FIFO is created with mode 0600, takes whole lines, and is removed at close', () => withDir(async (dir) => {
  const path = join(dir, 'n.fifo');
  const f = await NotifyFifo.open(spec(path), quiet);
  assert.ok(f.open);
  const st = lstatSync(path);
  assert.ok(st.isFIFO());
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(f.write('INSTANCE "VI_1" MASTER 150\n'), true);
  await f.close(0);
  assert.equal(existsSync(path), false);
  assert.equal(f.write('INSTANCE "VI_1" STOP 150\n'), false);
}));

test('an existing FIFO is used and left in place', () => withDir(async (dir) => {
  const path = join(dir, 'n.fifo');
  assert.equal(spawnSync('mkfifo', ['-m', '0640', path]).status, 0);
  const f = await NotifyFifo.open(spec(path), quiet);
  assert.ok(f.open);
  await f.close(0);
  assert.ok(lstatSync(path).isFIFO());
  assert.equal(lstatSync(path).mode & 0o777, 0o640);
}));

test('a planted symbolic link or a regular file at the path is neither followed nor written', () => withDir(async (dir) => {
  const target = join(dir, 'victim');
  writeFileSync(target, 'untouched\n');
  const link = join(dir, 'link.fifo');
  symlinkSync(target, link);
  const viaLink = await NotifyFifo.open(spec(link), quiet);
  assert.equal(viaLink.open, false);
  assert.equal(viaLink.write('INSTANCE "VI_1" MASTER 150\n'), false);
  await viaLink.close(0);
  assert.ok(lstatSync(link).isSymbolicLink());
  // keepalived's own line (lib/notify.c fifo_open): the open with O_NOFOLLOW fails with ELOOP.
  assert.ok(logs.includes(`Unable to open vrrp_notify fifo ${link} - errno 40`), logs.join('\n'));
  const file = await NotifyFifo.open(spec(target), quiet);
  assert.equal(file.open, false);
  await file.close(0);
  assert.ok(logs.includes(`${target} is not a FIFO: vrrp_notify fifo not used`), logs.join('\n'));
  assert.equal(readFileSync(target, 'utf8'), 'untouched\n');
}));

test('nobody reading: the pipe fills, then each line is dropped at once (counted by the caller), never blocking', () => withDir(async (dir) => {
  const path = join(dir, 'n.fifo');
  const f = await NotifyFifo.open(spec(path), quiet);
  const line = `RS [10.0.0.1]:tcp:80 [192.0.2.1]:tcp:80 DOWN${' '.repeat(20)}\n`;
  let written = 0;
  let dropped = 0;
  // A pipe holds 64 KiB by default (pipe(7)); 4,000 lines of 65 bytes are about 254 KiB.
  for (let i = 0; i < 4000; i++) if (f.write(line)) written++; else dropped++;
  await f.close(0);
  // Whole lines only: as many as fit in the 64 KiB, then none.
  assert.equal(written, Math.floor(65536 / line.length));
  assert.equal(dropped, 4000 - written);
}));
