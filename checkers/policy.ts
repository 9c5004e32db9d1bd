// The up/down counting state machine of one checker (keepalived check_tcp.c tcp_epilog and the same pattern in
// every timed checker). Pure: takes a result, returns the next state, the delay before the next
// attempt and what to log. The engine runs the actions.
import type { CheckerTiming } from '../src/config/model.js';

export interface PolicyState {
  readonly up: boolean;
  /** keepalived's retry_it: failures counted while up. */
  readonly retryIt: number;
  readonly hasRun: boolean;
  /** HTTP: index of the URL the next attempt checks. */
  readonly urlIndex: number;
}

export type PolicyLog =
  | { readonly kind: 'success' }
  /** Went down (or failed on its first run): `… failed.` or `… failed after N retries.` */
  | { readonly kind: 'failed'; readonly retries?: number }
  /** A failure that will be retried after delay_before_retry (retry i of N). */
  | { readonly kind: 'retrying'; readonly attempt: number; readonly of: number }
  /** A failure while already down: logged only with log_all_failures. */
  | { readonly kind: 'still-down' }
  /** HTTP: one URL passed, more remain in this round. */
  | { readonly kind: 'url-ok' }
  /** The check could not be made here (see notRunReason): no verdict on the server. */
  | { readonly kind: 'not-run'; readonly reason: string };

export interface PolicyStep {
  readonly state: PolicyState;
  readonly delayMs: number;
  readonly transition?: 'up' | 'down';
  readonly log: PolicyLog;
}

export interface PolicyOptions {
  /** Number of URLs an HTTP checker cycles through (1 for other checkers). */
  readonly urls: number;
  readonly http: boolean;
  readonly fastRecovery: boolean;
  /**
   * MISC_CHECK words its final failure from retry alone (check_misc.c: retry_it back at 0 means " after N retry"),
   * so a first run that takes an up checker down says it too.
   */
  readonly misc?: boolean;
}

/** Without alpha a checker starts up with retry_it = retry, so its first failure takes it down at once. */
export function initialState(timing: Pick<CheckerTiming, 'alpha' | 'retry'>): PolicyState {
  return { up: !timing.alpha, retryIt: timing.alpha ? 0 : timing.retry, hasRun: false, urlIndex: 0 };
}

/** keepalived: the first check runs 1 s after start plus a random share of warmup (0 = no random part). */
export function firstDelayMs(timing: Pick<CheckerTiming, 'warmupMs'>, random: () => number): number {
  return 1000 + (timing.warmupMs > 0 ? Math.floor(random() * timing.warmupMs) : 0);
}

/**
 * A round passed: the state and line every passing check of a server that is up comes to, shared (frozen) rather than
 * made at each of thousands of checks a second.
 */
const UP: PolicyState = Object.freeze({ up: true, retryIt: 0, hasRun: true, urlIndex: 0 });
const SUCCESS: PolicyLog = Object.freeze({ kind: 'success' });

export function step(s: PolicyState, timing: CheckerTiming, ok: boolean, opts: PolicyOptions): PolicyStep {
  if (ok) {
    const next = s.urlIndex + 1;
    if (next < opts.urls) {
      // More URLs to check before the round counts: paced one per delay_loop unless fast_recovery.
      const delayMs = opts.fastRecovery && !s.up ? 0 : timing.delayLoopMs;
      return { state: { ...s, urlIndex: next }, delayMs, log: { kind: 'url-ok' } };
    }
    return s.up ? { state: UP, delayMs: timing.delayLoopMs, log: SUCCESS } : { state: UP, delayMs: timing.delayLoopMs, log: SUCCESS, transition: 'up' };
  }
  // HTTP: after a failed round the next attempt waits max(delay_before_retry, delay_loop).
  const failDelayMs = opts.http ? Math.max(timing.delayBeforeRetryMs, timing.delayLoopMs) : timing.delayLoopMs;
  // check_http.c timeout_epilog sets has_run before epilog decides what to log, so HTTP's first run counts as run:
  // a down (alpha) checker's first failure says nothing, an up one's says `failed after <retry> retries.`.
  const hasRun = s.hasRun || opts.http;
  if (!s.up) {
    const log: PolicyLog = hasRun ? { kind: 'still-down' } : { kind: 'failed' };
    return { state: { ...s, hasRun: true, urlIndex: 0 }, delayMs: failDelayMs, log };
  }
  if (s.retryIt >= timing.retry) {
    const log: PolicyLog = timing.retry > 0 && (hasRun || opts.misc === true) ? { kind: 'failed', retries: timing.retry } : { kind: 'failed' };
    return { state: { up: false, retryIt: 0, hasRun: true, urlIndex: 0 }, delayMs: failDelayMs, transition: 'down', log };
  }
  return {
    state: { ...s, retryIt: s.retryIt + 1, hasRun: true },
    delayMs: timing.delayBeforeRetryMs,
    log: { kind: 'retrying', attempt: s.retryIt + 1, of: timing.retry },
  };
}

/**
 * Errors that say this host could not make the check (no descriptor, no memory, no process slot), not that the
 * server failed it. keepalived treats a failed socket() the same way (check_tcp.c tcp_connect_thread: "TCP connect
 * fail to create socket. Rescheduling."). Returns the errno name when `code` is one.
 */
export function notRunReason(code: string): string | undefined {
  return NOT_RUN.has(code) ? code : undefined;
}

const NOT_RUN = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'ENOBUFS', 'EAGAIN']);

/** A check that could not run: the state is kept whole and the next attempt comes after delay_loop, as keepalived's. */
export function notRun(s: PolicyState, timing: CheckerTiming, reason: string): PolicyStep {
  return { state: s, delayMs: timing.delayLoopMs, log: { kind: 'not-run', reason } };
}
