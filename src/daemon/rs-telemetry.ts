// Per-real-server telemetry, kept in the checker process where the checks happen: each check's duration and verdict,
// the last failure's reason as a bounded enum (so a Prometheus label cannot grow without end), the up/down
// transitions, and a ring of fixed time buckets per server for the console's timeline. I/O-free: samples with their
// time in, rows and metric series out. Memory is bounded per server (TRANSITIONS_KEPT) and for the timelines together
// (TIMELINE_BYTES).
import type { HistogramSeries, Sample } from './metrics.js';
import { slotBytes, TimelineSlab } from './rs-timeline-slab.js';

/** What a failed check's detail comes down to; `other` catches every wording not listed. */
export const FAILURE_REASONS = ['timeout', 'connect', 'status', 'content', 'exit', 'network', 'other'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * The probes' failure details (checkers/*.ts, in keepalived's wording: check_http.c, check_tcp.c, check_misc.c …)
 * sorted into the enum.
 */
export function failureReason(detail: string): FailureReason {
  if (/timeout|timed out|no reply/i.test(detail)) return 'timeout';
  // TCP_CHECK's only other failure is its connect's (check_tcp.c tcp_check_thread).
  if (/Error connecting|refused|^failed$/i.test(detail)) return 'connect';
  if (/status code|bad rcode|Bad server greeting|Bad HELO/i.test(detail)) return 'status';
  if (/digest|Regex|reply mismatch|reply length|body larger|QR flag/i.test(detail)) return 'content';
  if (/exited with status|killed by|could not run/i.test(detail)) return 'exit';
  if (/UNREACH|ICMP|Error reading data|ECONNRESET|EPIPE/i.test(detail)) return 'network';
  return 'other';
}

/** Check durations' bucket bounds, in seconds. */
export const DURATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** The timeline keeps the last four hours: 240 buckets of a minute, 1.4 KB per server (rs-timeline-slab.ts)… */
export const TIMELINE_SPAN_MS = 4 * 3600_000;
export const TIMELINE_BUCKET_MS = 60_000;
export const TIMELINE_BUCKETS = TIMELINE_SPAN_MS / TIMELINE_BUCKET_MS;
/**
 * …while every server's timeline fits in 16 MiB, up to 11,275 servers; past that the buckets widen to 2, 4, 8, up to 16
 * minutes (30,000 servers: 4 minutes, 12 MB in all instead of 45).
 */
export const TIMELINE_BYTES = 16 * 1024 * 1024;
const WIDEST_BUCKET_MS = 16 * TIMELINE_BUCKET_MS;

/** The bucket width for `servers`' timelines: the narrowest that keeps them within TIMELINE_BYTES. */
export function timelineBucketMs(servers: number): number {
  let ms = TIMELINE_BUCKET_MS;
  while (ms < WIDEST_BUCKET_MS && servers * slotBytes(TIMELINE_SPAN_MS / ms, DURATION_BUCKETS_S.length) > TIMELINE_BYTES) ms *= 2;
  return ms;
}
export const TRANSITIONS_KEPT = 64;

export interface Transition {
  readonly at: number;
  readonly up: boolean;
  /** Why it went down: the failure that made it. */
  readonly reason?: FailureReason;
  readonly detail?: string;
}

/**
 * A server's transitions kept, and its buckets from `start` on, one a `bucketMs`, oldest first (a bucket with no check
 * has 0 checks). Typed arrays: a whole console's worth crosses from the checker process as a few copies.
 */
export interface Timeline {
  readonly transitions: readonly Transition[];
  readonly start: number;
  readonly bucketMs: number;
  readonly checks: Uint16Array;
  readonly failures: Uint16Array;
  readonly meanMs: Float32Array;
}

/** What the console shows of a real server's checks, besides the pool's state. */
export interface RsTelemetryRow {
  readonly rsId: string;
  readonly checkedAt?: number;
  readonly ok?: boolean;
  readonly ms?: number;
  readonly detail?: string;
  /** The last failure's reason and time, kept after the server recovers. */
  readonly reason?: FailureReason;
  readonly failedAt?: number;
  /** Up/down transitions since the daemon started (or the server was added). */
  readonly flaps: number;
}

interface Series {
  readonly vsId: string;
  readonly rsName: string;
  checkedAt?: number;
  ok?: boolean;
  ms?: number;
  detail?: string;
  reason?: FailureReason;
  lastFailure?: string;
  failedAt?: number;
  ups: number;
  downs: number;
  readonly transitions: Transition[];
  /** Its ring and duration histogram in the slab. */
  slot: number;
  sumS: number;
  count: number;
  /**
   * The newest bucket's number (time / bucketMs; -1: none yet). The ring holds the buckets newest - buckets + 1 …
   * newest at their number modulo buckets: those skipped over were cleared as newest moved past them.
   */
  newest: number;
  /** The revision at which the timeline last changed (a bucket began, a transition). */
  timelineRev: number;
}

function rowOf(rsId: string, s: Series): RsTelemetryRow {
  return {
    rsId, flaps: s.ups + s.downs,
    ...(s.checkedAt !== undefined ? { checkedAt: s.checkedAt, ok: s.ok!, ms: s.ms!, detail: s.detail! } : {}),
    ...(s.failedAt !== undefined ? { failedAt: s.failedAt, reason: s.reason! } : {}),
  };
}

export class RsTelemetry {
  private readonly series = new Map<string, Series>();
  private bucketMs = TIMELINE_BUCKET_MS;
  private buckets = TIMELINE_BUCKETS;
  private slab = new TimelineSlab(TIMELINE_BUCKETS, DURATION_BUCKETS_S.length);
  private rev = 0;

  /**
   * At start and after each reload, with the configured servers' count: their buckets' width (timelineBucketMs). A new
   * width moves every timeline kept into a new slab, its buckets merged into the wider ones, or each spread evenly over
   * the narrower ones it covered (when it fell within those minutes is not known).
   */
  size(servers: number): void {
    const bucketMs = timelineBucketMs(servers);
    if (bucketMs === this.bucketMs) return;
    const old = { slab: this.slab, bucketMs: this.bucketMs, buckets: this.buckets };
    this.bucketMs = bucketMs;
    this.buckets = TIMELINE_SPAN_MS / bucketMs;
    this.slab = new TimelineSlab(this.buckets, DURATION_BUCKETS_S.length);
    for (const s of this.series.values()) this.move(s, old);
  }

  private move(s: Series, old: { readonly slab: TimelineSlab; readonly bucketMs: number; readonly buckets: number }): void {
    const from = s.slot;
    s.slot = this.slab.alloc();
    this.slab.durations(s.slot).set(old.slab.durations(from));
    s.timelineRev = ++this.rev;
    const newest = s.newest;
    if (newest < 0) return;
    // The newest bucket ends at the last check: the narrower ones past it have not begun.
    const lastAt = Math.min(Math.max(s.checkedAt!, newest * old.bucketMs), (newest + 1) * old.bucketMs - 1);
    s.newest = Math.floor(lastAt / this.bucketMs);
    for (let b = Math.max(0, newest - old.buckets + 1); b <= newest; b++) {
      const { checks, failures, meanMs } = old.slab.bucket(from, b % old.buckets);
      if (checks === 0) continue;
      const first = Math.max(Math.floor((b * old.bucketMs) / this.bucketMs), s.newest - this.buckets + 1);
      const last = Math.min(Math.floor(((b + 1) * old.bucketMs - 1) / this.bucketMs), s.newest);
      const parts = last - first + 1;
      // Shares that add up to the whole, the remainders to the earliest (a part gets no more failures than checks).
      const share = (n: number, i: number): number => Math.floor(n / parts) + (i < n % parts ? 1 : 0);
      for (let i = 0; i < parts; i++) this.slab.add(s.slot, (first + i) % this.buckets, share(checks, i), share(failures, i), meanMs);
    }
  }

  private of(vsId: string, rsId: string): Series {
    let s = this.series.get(rsId);
    if (!s) {
      s = {
        vsId, rsName: rsId.slice(vsId.length + 1), ups: 0, downs: 0, transitions: [],
        slot: this.slab.alloc(), sumS: 0, count: 0, newest: -1, timelineRev: 0,
      };
      this.series.set(rsId, s);
    }
    return s;
  }

  /** A check's verdict for a server: the histogram, the last result, the current time bucket. */
  attempt(vsId: string, rsId: string, at: number, ok: boolean, durationMs: number, detail: string): void {
    const s = this.of(vsId, rsId);
    s.checkedAt = at;
    s.ok = ok;
    s.ms = durationMs;
    s.detail = detail;
    if (!ok) {
      s.reason = failureReason(detail);
      s.lastFailure = detail;
      s.failedAt = at;
    }
    const secs = durationMs / 1000;
    this.slab.countDuration(s.slot, secs, DURATION_BUCKETS_S);
    s.sumS += secs;
    s.count++;
    const b = Math.floor(at / this.bucketMs);
    if (b > s.newest) {
      // The buckets passed over (none checked in them) and the one begun: cleared of what the ring held four hours ago.
      for (let k = Math.max(s.newest + 1, b - this.buckets + 1); k <= b; k++) this.slab.clearBucket(s.slot, k % this.buckets);
      s.newest = b;
      s.timelineRev = ++this.rev;
    } else if (b <= s.newest - this.buckets) {
      return; // older than the ring: a clock stepped back more than four hours
    }
    this.slab.add(s.slot, b % this.buckets, 1, ok ? 0 : 1, durationMs);
  }

  /** The pool took the server in or out (its rs-state event): down carries the failure that made it. */
  transition(vsId: string, rsId: string, at: number, up: boolean): void {
    const s = this.of(vsId, rsId);
    if (up) s.ups++;
    else s.downs++;
    if (s.transitions.length === TRANSITIONS_KEPT) s.transitions.shift();
    s.transitions.push({ at, up, ...(!up && s.reason !== undefined ? { reason: s.reason, detail: s.lastFailure ?? '' } : {}) });
    s.timelineRev = ++this.rev;
  }

  /** After a reload: servers no longer configured are forgotten. */
  forget(rsIds: Iterable<string>): void {
    for (const id of rsIds) {
      const s = this.series.get(id);
      if (s === undefined) continue;
      this.slab.release(s.slot);
      this.series.delete(id);
    }
  }

  get revision(): number {
    return this.rev;
  }

  row(rsId: string): RsTelemetryRow | undefined {
    const s = this.series.get(rsId);
    return s && rowOf(rsId, s);
  }

  /** The real server's timeline if it changed after revision `since`. */
  timeline(rsId: string, since: number): Timeline | undefined {
    const s = this.series.get(rsId);
    if (s === undefined || s.timelineRev <= since) return undefined;
    // The oldest bucket still in the ring that holds checks, then every bucket from it to the newest.
    let first = Math.max(0, s.newest);
    for (let b = Math.max(0, s.newest - this.buckets + 1); b < s.newest; b++) {
      if (this.slab.bucket(s.slot, b % this.buckets).checks > 0) {
        first = b;
        break;
      }
    }
    const n = s.newest < 0 ? 0 : s.newest - first + 1;
    const line = { transitions: [...s.transitions], start: first * this.bucketMs, bucketMs: this.bucketMs, checks: new Uint16Array(n), failures: new Uint16Array(n), meanMs: new Float32Array(n) };
    for (let i = 0; i < n; i++) {
      const { checks, failures, meanMs } = this.slab.bucket(s.slot, (first + i) % this.buckets);
      if (checks === 0) continue;
      line.checks[i] = checks;
      line.failures[i] = failures;
      line.meanMs[i] = meanMs;
    }
    return line;
  }

  /** lvskeeper_realserver_check_duration_seconds. */
  *durationSeries(): Iterable<HistogramSeries> {
    for (const s of this.series.values()) yield { labels: { vs: s.vsId, rs: s.rsName }, counts: this.slab.durations(s.slot), sum: s.sumS, count: s.count };
  }

  /** lvskeeper_realserver_transitions_total, by direction. */
  *transitionSamples(): Iterable<Sample> {
    for (const s of this.series.values()) {
      yield { labels: { vs: s.vsId, rs: s.rsName, to: 'up' }, value: s.ups };
      yield { labels: { vs: s.vsId, rs: s.rsName, to: 'down' }, value: s.downs };
    }
  }

  /** lvskeeper_realserver_last_failure_timestamp_seconds: one series per server that ever failed, its reason a label. */
  *lastFailureSamples(): Iterable<Sample> {
    for (const s of this.series.values()) if (s.failedAt !== undefined) yield { labels: { vs: s.vsId, rs: s.rsName, reason: s.reason! }, value: s.failedAt / 1000 };
  }
}
