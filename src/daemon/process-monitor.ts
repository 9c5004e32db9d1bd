// The kernel side of vrrp_track_process (keepalived 2.2.7 core/track_process.c nl_connect, set_proc_ev_listen,
// handle_proc_ev, read_procs): a NETLINK_CONNECTOR socket bound to CN_IDX_PROC, PROC_CN_MCAST_LISTEN, the events
// FORK/EXEC/COMM/EXIT fed to the ProcessTracker core, and the /proc reads it asks for.
//
// It runs in the supervisor, not the VRRP child, for two reasons. The kernel sends process events in the initial
// network namespace only (the connector's socket does not exist in another: the listen request gets ECONNREFUSED),
// so with net_namespace it must be opened where the supervisor stays (keepalived opens it before its setns()).
// And a fork storm is thousands of events a second, each an exec read of /proc: that work must not share a loop with
// the adverts. The VRRP child gets one note per quorum change (supervisor.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { RawNetlinkSocket, type ErrnoException } from '../net/netlink-parts.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { TrackProcessDef } from '../config/model.js';
import type { Logger } from '../log.js';
import { ProcessTracker, type ProcInfo } from '../vrrp/process-tracker.js';

/** linux/netlink.h, linux/connector.h, linux/cn_proc.h. */
const NETLINK_CONNECTOR = 11;
const CN_IDX_PROC = 1;
const CN_VAL_PROC = 1;
const NLMSG_DONE = 3;
const PROC_CN_MCAST_LISTEN = 1;
const PROC_EVENT_NONE = 0;
const PROC_EVENT_FORK = 0x1;
const PROC_EVENT_EXEC = 0x2;
const PROC_EVENT_COMM = 0x200;
const PROC_EVENT_EXIT = 0x80000000;
/** struct nlmsghdr (16) + struct cn_msg (20): where struct proc_event starts; its event_data follows 16 bytes on. */
const PROC_EVENT_AT = 36;
const EVENT_DATA_AT = PROC_EVENT_AT + 16;

/** keepalived's proc_events_ack_timer_thread waits TIMER_HZ / 10 for PROC_EVENT_NONE. */
const ACK_WAIT_MS = 100;
/** After ENOBUFS keepalived lets things settle for a second, then counts again (process_lost_messages_timer_thread). */
const LOST_WAIT_MS = 1000;

/** set_proc_ev_listen: nlmsghdr + cn_msg { CN_IDX_PROC, CN_VAL_PROC } + PROC_CN_MCAST_LISTEN, for the kernel. */
function listenRequest(): Buffer {
  const msg = Buffer.alloc(PROC_EVENT_AT + 4);
  msg.writeUInt32LE(msg.length, 0);
  msg.writeUInt16LE(NLMSG_DONE, 4);
  msg.writeUInt32LE(process.pid, 12);
  msg.writeUInt32LE(CN_IDX_PROC, 16);
  msg.writeUInt32LE(CN_VAL_PROC, 20);
  msg.writeUInt16LE(4, 32);
  msg.writeUInt32LE(PROC_CN_MCAST_LISTEN, PROC_EVENT_AT);
  return msg;
}

/** /proc/PID/comm and /proc/PID/cmdline as the tracker asks; undefined when the process has gone. */
export function readProc(pid: number, what: { comm: boolean; cmdline: boolean }): ProcInfo | undefined {
  try {
    const cmdline = what.cmdline ? readFileSync(`/proc/${pid}/cmdline`, 'latin1') : undefined;
    const comm = what.comm ? readFileSync(`/proc/${pid}/comm`, 'latin1').replace(/\n$/, '') : undefined;
    return { ...(comm !== undefined ? { comm } : {}), ...(cmdline !== undefined ? { cmdline } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Every process in /proc (read_procs): comm from /proc/PID/stat, where a zombie is skipped, as keepalived reads it
 * (the name between the first '(' and the next ')').
 */
export function* scanProc(what: { comm: boolean; cmdline: boolean }): Generator<readonly [number, ProcInfo]> {
  for (const d of readdirSync('/proc')) {
    if (d[0]! <= '0' || d[0]! > '9') continue;
    const pid = Number(d);
    try {
      let comm: string | undefined;
      if (what.comm) {
        const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
        const open = stat.indexOf('(', 2);
        const close = stat.indexOf(')', open);
        if (open < 0 || close < 0 || stat[close + 2] === 'Z') continue;
        comm = stat.slice(open + 1, close);
      }
      const cmdline = what.cmdline ? readFileSync(`/proc/${d}/cmdline`, 'latin1') : undefined;
      yield [pid, { ...(comm !== undefined ? { comm } : {}), ...(cmdline !== undefined ? { cmdline } : {}) }];
    } catch {
      // Gone since readdir.
    }
  }
}

export class ProcessMonitor {
  readonly tracker: ProcessTracker;
  private sock: RawNetlinkSocket | undefined;
  private responded = false;
  private ackTimer: TimerHandle | undefined;
  private lostTimer: TimerHandle | undefined;

  constructor(defs: readonly TrackProcessDef[], private readonly clock: Clock, private readonly log: Logger, onQuorum: (name: string, up: boolean) => void) {
    this.tracker = new ProcessTracker(defs, { clock, logger: log, read: readProc, onQuorum });
  }

  /**
   * init_track_processes: listen, then scan. When the socket cannot be opened or the listen request fails, keepalived
   * scans nothing, so every tracked process starts with no process and no quorum; so does this.
   */
  async start(): Promise<void> {
    let sock: RawNetlinkSocket;
    try {
      sock = new RawNetlinkSocket(NETLINK_CONNECTOR, { localGroups: CN_IDX_PROC } as ConstructorParameters<typeof RawNetlinkSocket>[1]);
    } catch (e) {
      const err = e as ErrnoException;
      this.log.info(`Failed to open process monitoring socket - errno ${err.errno ?? 0} - ${err.message}`);
      this.tracker.scan([]);
      return;
    }
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port === 0) this.onMessage(msg);
    });
    sock.on('error', (err) => this.onError(err));
    const err = await new Promise<ErrnoException | undefined>((resolve) => sock.send(listenRequest(), { port: 0 }, resolve));
    if (err) {
      this.log.info(`Failed to set/clear process event listen - errno ${err.errno} - ${err.message}`);
      sock.close();
      this.tracker.scan([]);
      return;
    }
    this.sock = sock;
    this.ackTimer = this.clock.setTimeout(() => {
      this.ackTimer = undefined;
      if (!this.responded) this.log.info('WARNING - the kernel does not support proc events - track_process will not work');
    }, ACK_WAIT_MS);
    this.tracker.scan(scanProc(this.tracker.reads));
  }

  stop(): void {
    if (this.ackTimer) this.clock.clearTimeout(this.ackTimer);
    if (this.lostTimer) this.clock.clearTimeout(this.lostTimer);
    this.tracker.stop();
    this.sock?.close();
    this.sock = undefined;
  }

  /** handle_proc_ev for one datagram: a fixed amount of work, plus one /proc read for an exec. */
  private onMessage(msg: Buffer): void {
    if (msg.length < EVENT_DATA_AT + 8) return;
    if (msg.readUInt32LE(16) !== CN_IDX_PROC || msg.readUInt32LE(20) !== CN_VAL_PROC) return;
    const what = msg.readUInt32LE(PROC_EVENT_AT);
    const d = (i: number): number => msg.readUInt32LE(EVENT_DATA_AT + 4 * i);
    switch (what) {
      case PROC_EVENT_NONE:
        this.responded = true;
        break;
      case PROC_EVENT_FORK:
        // child_pid == child_tgid: a process, not a thread.
        if (d(2) === d(3)) this.tracker.fork(d(1), d(3));
        break;
      case PROC_EVENT_EXEC:
        if (d(0) === d(1)) this.tracker.exec(d(1));
        break;
      case PROC_EVENT_COMM: {
        if (d(0) !== d(1)) break;
        const raw = msg.subarray(EVENT_DATA_AT + 8, EVENT_DATA_AT + 24);
        const end = raw.indexOf(0);
        this.tracker.comm(d(1), raw.subarray(0, end < 0 ? raw.length : end).toString('latin1'));
        break;
      }
      case PROC_EVENT_EXIT:
        if (d(0) === d(1)) this.tracker.exit(d(1));
        break;
    }
  }

  /** ENOBUFS: events were lost; after a second, a bigger buffer and a fresh count (reinitialise_track_processes). */
  private onError(err: ErrnoException): void {
    if (err.code !== 'ENOBUFS') {
      this.log.info(`process monitor netlink recv error ${err.errno} - ${err.message}`);
      return;
    }
    if (this.lostTimer) this.clock.clearTimeout(this.lostTimer);
    this.lostTimer = this.clock.setTimeout(() => {
      this.lostTimer = undefined;
      const sock = this.sock;
      if (!sock) return;
      const size = sock.getRecvBufferSize() * 2;
      sock.setRecvBufferSize(size);
      this.log.info(`Setting global_def process_monitor_rcv_bufs to ${size} - recommend updating configuration file`);
      this.tracker.rescan(scanProc(this.tracker.reads));
    }, LOST_WAIT_MS);
  }
}
