import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export interface LocalUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** An unprivileged local user (no home, no login), deleted when the test ends. Needs root and useradd (passwd). */
export function createUser(t: TestContext): LocalUser {
  const name = `lvskatk${process.pid % 100000}`;
  spawnSync('userdel', [name], { stdio: 'ignore' });
  const made = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`useradd ${name}: ${made.stderr}`);
  t.after(() => void spawnSync('userdel', [name], { stdio: 'ignore' }));
  const id = (flag: string): number => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return { name, uid: id('-u'), gid: id('-g') };
}
