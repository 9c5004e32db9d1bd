// One supervised child process, as keepalived's parent keeps its VRRP and healthcheck children: forked, started
// over its channel, watched by a heartbeat, and respawned when it dies or stops answering — with keepalived's
// words (core/main.c, vrrp_daemon.c vrrp_respawn_thread, check_daemon.c check_respawn_thread) and a delay when it
// keeps dying, so a child that cannot live does not take the supervisor's CPU with it.
import { fork, type ChildProcess } from 'node:child_process';
import { childEnv } from './free-memory.js';
import { forkInNamespace } from './net-namespace.js';
import { Channel, type NoteMap, type RequestMap } from '../ipc/channel.js';
import type { Logger } from '../log.js';

/** How often the supervisor asks each child whether it is alive. */
const HEARTBEAT_MS = 1000;
/** Restarts within this window count towards the respawn delay. */
const RESPAWN_WINDOW_MS = 60_000;
const FREE_RESPAWNS = 3;
const MAX_RESPAWN_DELAY_MS = 30_000;

/** What every child answers, whatever else it does. */
type Base = { ping: [undefined, void]; stop: [undefined, void] };

export interface ChildSpec<Out extends RequestMap & Base, In extends RequestMap, OutNotes extends NoteMap, InNotes extends NoteMap> {
  /** keepalived's name for the child in its log lines: `VRRP`, `Healthcheck`. */
  readonly label: string;
  /** The child's module (a compiled file under dist/). */
  readonly entry: URL;
  /** No heartbeat answer for this long: the child is killed and respawned. */
  readonly hangTimeoutMs: number;
  /** net_namespace: the child runs in /var/run/netns/NAME from its first instruction (net-namespace.ts). */
  readonly netns?: string;
  /** node options for the child besides the supervisor's own, asked at every spawn (a respawn sizes afresh). */
  readonly nodeFlags?: () => readonly string[];
  /** Called when a started child exits, whatever follows (a respawn, the stop). */
  readonly exited?: () => void;
  /** Registers the supervisor's handlers on a new child's channel and starts it; rejects if it cannot start. */
  readonly begin: (channel: Channel<Out, In, OutNotes, InNotes>, respawn: boolean) => Promise<void>;
}

export class ChildSlot<Out extends RequestMap & Base, In extends RequestMap, OutNotes extends NoteMap, InNotes extends NoteMap> {
  private child: ChildProcess | undefined;
  private current: Channel<Out, In, OutNotes, InNotes> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private respawnTimer: NodeJS.Timeout | undefined;
  private lastAnswer = 0;
  /** Started and not yet exited: only then does a missing heartbeat count (a start may parse for seconds). */
  private live = false;
  /** The first start succeeded: from then on every death is respawned. */
  private supervised = false;
  /** Requests under way that may keep the child's loop busy for long (a reload parses the whole config). */
  private excused = 0;
  private stopping = false;
  private readonly deaths: number[] = [];
  private exited: Promise<void> = Promise.resolve();
  /** When the running child started, for `status`. */
  startedAt = 0;
  restarts = 0;

  constructor(
    private readonly spec: ChildSpec<Out, In, OutNotes, InNotes>,
    private readonly log: Logger,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The running child's channel; undefined between a death and the respawn. */
  get channel(): Channel<Out, In, OutNotes, InNotes> | undefined {
    return this.current;
  }

  /** Forks and starts the child; rejects (the child killed) when it cannot start. */
  async spawn(respawn = false): Promise<void> {
    const nodeArgs = [...process.execArgv, ...(this.spec.nodeFlags?.() ?? [])];
    const child = fork(this.spec.entry, [], {
      serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: childEnv(), execArgv: nodeArgs, ...forkInNamespace(this.spec.netns, nodeArgs),
    });
    this.child = child;
    const channel = new Channel<Out, In, OutNotes, InNotes>(child);
    this.current = channel;
    this.startedAt = Date.now();
    this.log.info(`Starting ${this.spec.label} child process, pid=${child.pid}`);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      channel.close('child exited');
      this.onExit(child, code, signal);
      resolve();
    }));
    try {
      await this.spec.begin(channel, respawn);
    } catch (err) {
      // Its exit decides what follows: another respawn once supervised, the caller's error before that.
      child.kill('SIGKILL');
      throw err;
    }
    this.supervised = true;
    this.live = true;
    this.lastAnswer = Date.now();
    this.heartbeat ??= setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private beat(): void {
    const channel = this.current;
    const child = this.child;
    if (!channel || !child || !this.live || this.stopping) return;
    if (this.excused > 0) this.lastAnswer = Date.now();
    else if (Date.now() - this.lastAnswer > this.spec.hangTimeoutMs) {
      this.log.error(`${this.spec.label} child process(${child.pid}) not responding for ${Math.round(this.spec.hangTimeoutMs / 1000)} s: killing it`);
      this.lastAnswer = Date.now();
      child.kill('SIGKILL');
      return;
    }
    channel.request('ping', undefined, this.spec.hangTimeoutMs).then(
      () => {
        if (this.child === child) this.lastAnswer = Date.now();
      },
      () => undefined,
    );
  }

  /**
   * Runs a request that may keep the child busy beyond the heartbeat's patience (a reload); the heartbeat does not
   * count the silence meanwhile. The request's own deadline bounds it.
   */
  async excuse<T>(work: () => Promise<T>): Promise<T> {
    this.excused++;
    try {
      return await work();
    } finally {
      this.excused--;
      this.lastAnswer = Date.now();
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.current = undefined;
    this.live = false;
    this.spec.exited?.();
    if (this.stopping || !this.supervised) return;
    this.log.error(`${this.spec.label} child process(${child.pid}) died: Respawning` + (signal ? ` (signal ${signal})` : ` (exit status ${code})`));
    this.scheduleRespawn();
  }

  private scheduleRespawn(): void {
    const now = Date.now();
    this.deaths.push(now);
    while (this.deaths.length > 0 && now - this.deaths[0]! > RESPAWN_WINDOW_MS) this.deaths.shift();
    const excess = this.deaths.length - FREE_RESPAWNS;
    const delayMs = excess > 0 ? Math.min(MAX_RESPAWN_DELAY_MS, 1000 * 2 ** (excess - 1)) : 0;
    if (delayMs > 0) this.log.info(`Restart of ${this.spec.label} process delayed ${delayMs / 1000} seconds to limit respawn rate`);
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      // A child that cannot start has exited or been killed: its exit schedules the next try.
      this.spawn(true).catch((err: Error) => this.log.error(`${this.spec.label} child process cannot start: ${err.message}`));
    }, delayMs);
  }

  /**
   * Asks the child to stop and waits up to `deadlineMs` for it to exit; a child still there is killed. The child
   * does its own graceful stop (VRRP: priority-0 adverts and VIPs removed; checkers: IPVS entries per
   * lvs_flush_on_stop).
   */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.respawnTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.current?.request('stop', undefined, deadlineMs).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs)));
    if (await Promise.race([this.exited.then(() => false), late])) {
      this.log.warn(`${this.spec.label} child process(${child.pid}) did not stop within ${deadlineMs} ms: killing it`);
      child.kill('SIGKILL');
      await this.exited;
    }
    clearTimeout(timer);
  }
}
