// Types the checker engine exports to its consumers (IPVS manager, daemon, status output).

/** An RS entered or left service, or its effective weight changed (misc_dynamic, FILE_CHECK). */
export type CheckerEvent =
  | { readonly kind: 'rs-up'; readonly vsId: string; readonly rsId: string }
  | { readonly kind: 'rs-down'; readonly vsId: string; readonly rsId: string }
  /** An alpha checker's first run failed: the server stays down, yet its notify_down runs (update_svr_checker_state). */
  | { readonly kind: 'rs-notify'; readonly vsId: string; readonly rsId: string }
  /**
   * `silent`: a server just taken down drops its misc_dynamic weight without a line (check_misc.c: a final failure
   * takes cur_weight out of effective_weight directly, not through update_svr_wgt).
   */
  | { readonly kind: 'rs-weight'; readonly vsId: string; readonly rsId: string; readonly weight: number; readonly silent?: boolean }
  /**
   * A checker's verdict keepalived mails about (SMTP_MSG_RS in each check_*.c) when the real server has smtp_alert:
   * `alive` is the real server's state after it, `rsChanged` whether this verdict changed that state
   * (no_checker_emails mails only those), `body` keepalived's text for this checker type.
   */
  | { readonly kind: 'rs-alert'; readonly vsId: string; readonly rsId: string; readonly alive: boolean; readonly rsChanged: boolean; readonly body: string };

/** The outcome of one probe attempt. `detail` is the keepalived-worded log text for a failure. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
  /** MISC_CHECK with misc_dynamic: the exit status (2..255 sets the weight). */
  readonly exitStatus?: number;
  /** The errno (EMFILE, ENOMEM …) that kept the check from being made at all: no verdict (policy.ts notRunReason). */
  readonly notRun?: string;
  /**
   * `detail` is a string the probe keeps whole and gives again at each check while nothing changes (http.ts's success
   * line per url, a constant): the engine keeps that string, not a copy of its own.
   */
  readonly detailKept?: true;
}

/**
 * Where a check started on the exchange set gives its verdict: a function made once and the context its starter
 * already holds (the engine's probe), so that a check makes no closure of its own.
 */
export type Verdict<T> = (ctx: T, r: ProbeResult) => void;

export interface CheckerSnapshot {
  /** `TCP_CHECK`, `HTTP_GET` … */
  readonly type: string;
  /** Key shared by identical probes across virtual servers. */
  readonly probeKey: string;
  readonly up: boolean;
  /** Failures since the last success while the checker was up (keepalived's retry_it). */
  readonly retryIt: number;
  readonly hasRun: boolean;
  /** Set while ha_suspend keeps the checker from checking (activation.ts). */
  readonly suspended?: true;
  readonly lastDetail?: string;
}

export interface RealServerSnapshot {
  readonly vsId: string;
  readonly rsId: string;
  readonly alive: boolean;
  /** Configured weight plus misc_dynamic / FILE_CHECK adjustments. */
  readonly weight: number;
  readonly checkers: readonly CheckerSnapshot[];
}

/** Engine counters, for the bench and metrics. */
export interface EngineStats {
  readonly checksStarted: number;
  readonly checksCompleted: number;
  readonly inFlight: number;
  /** Distinct probes running (shared probes count once). */
  readonly probes: number;
}
