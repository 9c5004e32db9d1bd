// Each child process schedules itself as keepalived's do (lib/process.c, set_process_priorities): realtime with
// *_rt_priority (and RLIMIT_RTTIME with *_rlimit_rttime), nice with *_priority, and lvskeeper's default of SCHED_RR 1
// for the VRRP process. Read back from /proc for every thread, and from a notify_master script and a MISC_CHECK
// script, which must start as ordinary processes (SCHED_RESET_ON_FORK).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { reloadYieldOver, yieldDuringReload } from '../../src/daemon/scheduling.js';
import { silentLogger } from '../../src/log.js';
import { needCommand, needRoot } from '../support/tier.js';
import { Topology, VIP, waitFor, type Proc } from '../vrrp/netns-support.js';
import { pidIn } from './isolation-support.js';

const repoRoot = new URL('../../../', import.meta.url).pathname;

/** linux/sched.h */
const POLICY: Record<number, string> = { 0: 'SCHED_OTHER', 1: 'SCHED_FIFO', 2: 'SCHED_RR' };

interface Sched {
  readonly policy: string;
  readonly rtPriority: number;
  readonly nice: number;
}

/** proc(5) /proc/[pid]/stat: nice is field 19, rt_priority 40, policy 41 (counted from the pid). */
function schedOf(statText: string): Sched {
  const f = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state).
  return { policy: POLICY[Number(f[38])] ?? f[38]!, rtPriority: Number(f[37]), nice: Number(f[16]) };
}

/** Every thread of `pid`, as one distinct scheduling (they must all agree). */
function threadsOf(pid: number): Sched[] {
  const seen = new Map<string, Sched>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const s = schedOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    seen.set(JSON.stringify(s), s);
  }
  return [...seen.values()];
}

/** `Max realtime timeout` of /proc/[pid]/limits: [soft, hard]. */
function rttimeLimit(pid: number): [string, string] {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max realtime timeout'))!;
  const [soft, hard] = line.slice('Max realtime timeout'.length).trim().split(/\s+/);
  return [soft!, hard!];
}

function config(dir: string, globals: readonly string[]): string {
  return `global_defs {
  vrrp_garp_master_delay 0
${globals.map((g) => `  ${g}`).join('\n')}
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  notify_master "${join(dir, 'record.sh')} notify"
  virtual_ipaddress {
    ${VIP}/24
  }
}
virtual_server 192.0.2.200 80 {
  delay_loop 1
  lb_kind DR
  real_server 192.0.2.3 80 {
    MISC_CHECK {
      misc_path "${join(dir, 'record.sh')} misc"
    }
  }
}
`;
}

async function run(t: TestContext, tag: string, globals: readonly string[]): Promise<{ vrrp: number; checker: number; notify: Sched; misc: Sched; topo: Topology; d: Proc }> {
  const topo = new Topology(tag);
  t.after(() => topo.destroy());
  const record = topo.writeConfig('record.sh', `#!/bin/sh\ncat /proc/$$/stat > ${topo.dir}/$1.stat.tmp && mv ${topo.dir}/$1.stat.tmp ${topo.dir}/$1.stat\n`);
  chmodSync(record, 0o755);
  const conf = topo.writeConfig('lvsk.conf', config(topo.dir, globals));
  const d = topo.startDaemon('a', ['-n', '-l', '--ipvs-driver', 'dry-run', '-f', conf, ...topo.daemonFiles('a')], repoRoot);
  const stat = (name: string): string => join(topo.dir, `${name}.stat`);
  const checkers = join(topo.dir, 'lvsk-a-checkers.pid');
  const started = await waitFor(() => existsSync(stat('notify')) && existsSync(stat('misc')) && existsSync(checkers) && pidIn(checkers) !== d.child.pid, 20_000);
  assert.ok(started, d.log);
  return {
    vrrp: pidIn(join(topo.dir, 'lvsk-a-vrrp.pid')),
    checker: pidIn(checkers),
    notify: schedOf(readFileSync(stat('notify'), 'utf8')),
    misc: schedOf(readFileSync(stat('misc'), 'utf8')),
    topo,
    d,
  };
}

/** The test runs the daemon at nice 0. */
const OTHER: Sched = { policy: 'SCHED_OTHER', rtPriority: 0, nice: 0 };

test('default: the VRRP process runs SCHED_RR 1 on every thread; the checker process and scripts as ordinary processes', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  const r = await run(t, 'sd', []);
  assert.deepEqual(threadsOf(r.vrrp), [{ policy: 'SCHED_RR', rtPriority: 1, nice: 0 }]);
  assert.deepEqual(rttimeLimit(r.vrrp), ['unlimited', 'unlimited']);
  assert.deepEqual(threadsOf(r.checker), [OTHER]);
  assert.deepEqual(r.notify, OTHER);
  assert.deepEqual(r.misc, OTHER);
});

test('vrrp_rt_priority/vrrp_rlimit_rttime and checker_rt_priority as keepalived sets them', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  const r = await run(t, 'sr', ['vrrp_rt_priority 20', 'vrrp_rlimit_rttime 500000', 'checker_rt_priority 5']);
  assert.deepEqual(threadsOf(r.vrrp), [{ policy: 'SCHED_RR', rtPriority: 20, nice: 0 }]);
  // keepalived: soft half the limit (SIGXCPU, a warning), hard the limit.
  assert.deepEqual(rttimeLimit(r.vrrp), ['250000', '500000']);
  assert.deepEqual(threadsOf(r.checker), [{ policy: 'SCHED_RR', rtPriority: 5, nice: 0 }]);
  assert.deepEqual(r.notify, OTHER);
  assert.deepEqual(r.misc, OTHER);
});

test('vrrp_priority/checker_priority alone: nice on every thread, no realtime', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  const r = await run(t, 'sn', ['vrrp_priority -5', 'checker_priority 3']);
  assert.deepEqual(threadsOf(r.vrrp), [{ policy: 'SCHED_OTHER', rtPriority: 0, nice: -5 }]);
  assert.deepEqual(threadsOf(r.checker), [{ policy: 'SCHED_OTHER', rtPriority: 0, nice: 3 }]);
  // Scripts start at the daemon's own nice, as keepalived's do.
  assert.deepEqual(r.notify, OTHER);
  assert.deepEqual(r.misc, OTHER);
  // A reload runs the checker process nicer (yieldDuringReload), and leaves it at the configured nice.
  r.d.child.kill('SIGHUP');
  assert.ok(await waitFor(() => /Reload done/.test(r.d.log), 20_000), r.d.log);
  assert.deepEqual(threadsOf(r.checker), [{ policy: 'SCHED_OTHER', rtPriority: 0, nice: 3 }]);
});

test('a reload runs every thread 10 nicer, once however often asked, and its end puts back each, a new one too', { timeout: 30_000 }, async (t) => {
  if (!needRoot(t)) return;
  const at = (nice: number): Sched[] => [{ policy: 'SCHED_OTHER', rtPriority: 0, nice }];
  assert.deepEqual(threadsOf(process.pid), at(0));
  const log = silentLogger();
  yieldDuringReload(log);
  yieldDuringReload(log);
  // A thread started meanwhile takes the nice of the thread that starts it.
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  t.after(() => worker.terminate());
  await new Promise((resolve) => worker.once('online', resolve));
  assert.deepEqual(threadsOf(process.pid), at(10));
  reloadYieldOver(log);
  assert.deepEqual(threadsOf(process.pid), at(0));
  reloadYieldOver(log);
  assert.deepEqual(threadsOf(process.pid), at(0));
});

/** What keepalived's set_process_priorities/set_process_cpu_affinity/set_process_name leave visible in /proc. */
interface Tuning {
  readonly comm: string;
  /** Cpus_allowed_list of every thread, distinct. */
  readonly cpus: string[];
  readonly locked: boolean;
}

function tuningOf(pid: number): Tuning {
  const status = (path: string, field: string): string =>
    readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))!.slice(field.length + 1).trim();
  const cpusAllowed = new Set(readdirSync(`/proc/${pid}/task`).map((tid) => status(`/proc/${pid}/task/${tid}/status`, 'Cpus_allowed_list')));
  return {
    comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(),
    cpus: [...cpusAllowed],
    // With MCL_FUTURE every page touched after mlockall is locked; an unlocked process shows 0 kB.
    locked: status(`/proc/${pid}/status`, 'VmLck') !== '0 kB',
  };
}

test('vrrp/checker no_swap, cpu_affinity and process names: each process as keepalived 2.2.7 sets its own', { timeout: 90_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'keepalived')) return;
  const last = cpus().length - 1;
  const globals = [
    'process_names', 'process_name lvsk_parent_name_too_long', 'vrrp_no_swap', 'checker_no_swap',
    `vrrp_cpu_affinity ${last}`, 'checker_cpu_affinity 0',
  ];
  const topo = new Topology('sa');
  t.after(() => topo.destroy());
  const text = config(topo.dir, globals).replace(/^ *notify_master .*$/m, '').replace(/misc_path .*$/m, 'misc_path /bin/true');
  const conf = topo.writeConfig('tuning.conf', text);
  const lvsk = topo.startDaemon('a', ['-n', '-l', '--ipvs-driver', 'dry-run', '-f', conf, ...topo.daemonFiles('a')], repoRoot);
  // Its own VRID, so that both instances become MASTER on the shared segment. keepalived's checker process cannot
  // run without kernel IPVS (it exits FATAL), so keepalived runs VRRP only and the checker side is held to what
  // check_daemon.c sets.
  const keepalived = topo.startKeepalived('b', topo.writeConfig('tuning-ka.conf', text.replace('virtual_router_id 51', 'virtual_router_id 52')));
  const pids = (prefix: string): Record<'parent' | 'vrrp' | 'checker', string> => ({ parent: `${prefix}.pid`, vrrp: `${prefix}-vrrp.pid`, checker: `${prefix}-checkers.pid` });
  const lvskPids = pids(join(topo.dir, 'lvsk-a'));
  const kaPids = pids(join(topo.dir, 'ka-b'));
  // Both settle once their VRRP instance holds the VIP (the children have tuned themselves by then).
  const files = [...Object.values(lvskPids), kaPids.parent, kaPids.vrrp];
  const settled = await waitFor(() => topo.holds('a') && topo.holds('b') && files.every((f) => existsSync(f)), 30_000);
  assert.ok(settled, `${lvsk.log}\n${keepalived.log}`);
  assert.deepEqual(tuningOf(pidIn(lvskPids.vrrp)), tuningOf(pidIn(kaPids.vrrp)));
  assert.deepEqual(tuningOf(pidIn(lvskPids.vrrp)), { comm: 'keepalived_vrrp', cpus: [String(last)], locked: true });
  assert.deepEqual(tuningOf(pidIn(lvskPids.checker)), { comm: 'keepalived_lvs', cpus: ['0'], locked: true });
  // The parent is named too (truncated to the kernel's 15 characters); keepalived's parent tunes nothing else.
  assert.equal(tuningOf(pidIn(lvskPids.parent)).comm, tuningOf(pidIn(kaPids.parent)).comm);
  assert.equal(tuningOf(pidIn(lvskPids.parent)).comm, 'lvsk_parent_nam');
  assert.match(lvsk.log, /Process name lvsk_parent_name_too_long more than 15 characters, truncating/);
});
