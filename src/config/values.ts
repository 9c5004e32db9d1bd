// Value readers for keyword arguments, with keepalived's messages for bad values (lib/parser.c read_int/
// read_unsigned/read_timer, check_true_false). Each returns undefined after reporting, so callers keep their default.
import { splitArgv } from './lexer.js';
import type { Reporter } from './errors.js';
import { InterfaceLookup } from './interfaces.js';
import type { Node } from './parser.js';
import type { Script, SourceRef } from './model.js';

/** Timer bounds in microseconds, as keepalived keeps them. */
export type Microseconds = bigint;
/** The largest timer keepalived reads: 2^64 - 2 µs. */
export const MAX_TIMER_US: Microseconds = 18_446_744_073_709_551_614n;
/** connect_timeout's upper bound in keepalived: UINT_MAX µs. */
export const CONNECT_TIMEOUT_MAX_US: Microseconds = 4_294_967_295n;

/** Whole seconds as a timer bound. */
export const secondsUs = (s: number): Microseconds => BigInt(Math.round(s * 1e6));

const seconds = (us: Microseconds): string => `${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;

export class Values {
  /** The interfaces the config may name; set once global_defs (net_namespace, dynamic_interfaces) is read. */
  interfaces = new InterfaceLookup();

  constructor(readonly report: Reporter) {}

  /** Decimal integer in [min, max]; keepalived's strtol rules (no junk, no fraction). */
  int(node: Node, arg: string | undefined, min: number, max: number): number | undefined {
    if (arg === undefined) {
      this.report.error(node.src, `${node.kw}: missing value`, node.kw);
      return undefined;
    }
    let n = digits(arg);
    if (n < 0) {
      if (!/^[+-]?\d+$/.test(arg)) {
        this.report.error(node.src, `invalid number '${arg}'`, node.kw);
        return undefined;
      }
      n = Number(arg);
    }
    if (n < min || n > max) {
      this.report.error(node.src, `number '${arg}' outside range [${min}, ${max}]`, node.kw);
      return undefined;
    }
    return n;
  }

  /** Unsigned decimal in [min, max], reported in the words of keepalived's read_unsigned. */
  unsigned(node: Node, arg: string | undefined, min: number, max: number): number | undefined {
    if (arg === undefined) {
      this.report.error(node.src, `${node.kw}: missing value`, node.kw);
      return undefined;
    }
    // The common case, plain digits in range, without a regular expression (see digits()).
    const n = digits(arg);
    if (n >= 0 && n >= min && n <= max && n <= 4_294_967_295) return n;
    let problem: string | undefined;
    if (/^-\d+$/.test(arg)) problem = `negative number '${arg}'`;
    else if (!/^\+?\d+$/.test(arg)) problem = `invalid number '${arg}'`;
    else if (Number(arg) > 2 ** 32 - 1) problem = `number '${arg}' outside unsigned integer range`;
    else if (Number(arg) < min || Number(arg) > max) problem = `number '${arg}' outside range [${min}, ${max}]`;
    if (problem === undefined) return Number(arg);
    this.report.error(node.src, problem, node.kw);
    return undefined;
  }

  /**
   * `<TIMER>`: decimal seconds with up to 6 decimals in [min, max] (µs), returned in milliseconds, refused in the
   * words of keepalived's read_timer. `refused` is the line the keyword's own handler adds; keepalived leaves it out
   * for a word that is not a number when `quietForWords` (delay_before_retry, warmup).
   */
  timerMs(
    node: Node, arg: string | undefined, min: Microseconds, max: Microseconds, refused?: (arg: string) => string, quietForWords = false,
  ): number | undefined {
    if (arg === undefined) {
      this.report.error(node.src, `${node.kw}: missing value`, node.kw);
      return undefined;
    }
    // The common case, whole seconds, without BigInt: this runs several times for each of thousands of servers.
    const whole = digits(arg);
    if (whole >= 0 && whole <= 4_294_967_295 && whole * 1e6 >= Number(min) && whole * 1e6 <= Number(max)) return whole * 1000;
    const us = this.readTimer(node, arg, min, max);
    if (typeof us === 'bigint') return Number(us) / 1000;
    if (refused && !(quietForWords && us === 'word')) this.report.error(node.src, refused(arg), node.kw);
    return undefined;
  }

  /** keepalived's read_timer: the value in µs, or why it was refused (after reporting it). */
  private readTimer(node: Node, arg: string, min: Microseconds, max: Microseconds): bigint | 'word' | 'number' {
    const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(arg);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
      this.report.error(node.src, `invalid number '${arg}'`, node.kw);
      return 'word';
    }
    if (m[1] === '-') {
      this.report.error(node.src, `negative number '${arg}'`, node.kw);
      return 'number';
    }
    let frac = m[3] ?? '';
    if (frac.length > 6) {
      this.report.error(node.src, `number '${arg}' has too many decimal places`, node.kw);
      frac = frac.slice(0, 6);
    }
    const us = BigInt(m[2] || '0') * 1_000_000n + BigInt(frac.padEnd(6, '0'));
    if (us > MAX_TIMER_US + 1n) {
      this.report.error(node.src, `number '${arg}' outside unsigned decimal range`, node.kw);
      return 'number';
    }
    if (us < min || us > max) {
      this.report.error(node.src, `number '${arg}' outside range [${seconds(min)}, ${seconds(max)}]`, node.kw);
      return 'number';
    }
    return us;
  }

  /** Integer seconds (keepalived's read_unsigned for delays that are not <TIMER>s), in milliseconds. */
  secondsMs(node: Node, arg: string | undefined, min: number, max: number): number | undefined {
    const n = this.unsigned(node, arg, min, max);
    return n === undefined ? undefined : n * 1000;
  }

  /**
   * `[BOOL]` with the handler's own line for a word it does not take (`Invalid alpha parameter x`); undefined then,
   * so the caller keeps its value, as keepalived does.
   */
  flag(node: Node, invalid: (arg: string) => string): boolean | undefined {
    const arg = node.args[0];
    if (arg === undefined) return true;
    const w = arg.toLowerCase();
    if (w === 'on' || w === 'true' || w === 'yes') return true;
    if (w === 'off' || w === 'false' || w === 'no') return false;
    this.report.error(node.src, invalid(arg), node.kw);
    return undefined;
  }

  /** `[BOOL]`: a missing value means true. */
  bool(node: Node, arg: string | undefined = node.args[0]): boolean {
    if (arg === undefined) return true;
    const v = arg.toLowerCase();
    if (v === 'on' || v === 'true' || v === 'yes') return true;
    if (v === 'off' || v === 'false' || v === 'no') return false;
    this.report.error(node.src, `Invalid value '${arg}' for ${node.kw} - assuming true`, node.kw);
    return true;
  }

  /** `keyword "cmd args" [user [group]]`: the command string split into argv like keepalived. */
  script(node: Node, args: readonly string[] = node.args): Script | undefined {
    const [cmd, user, group] = args;
    if (cmd === undefined || cmd.trim() === '') {
      this.report.error(node.src, `${node.kw} no script specified`, node.kw);
      return undefined;
    }
    return {
      argv: splitArgv(cmd),
      text: cmd,
      ...(user !== undefined ? { user } : {}),
      ...(group !== undefined ? { group } : {}),
    };
  }
}

/**
 * The value of a plain run of 1 to 15 decimal digits, else -1. The common case of int() and timerMs(), read
 * without a regular expression: they run several times for each of thousands of real servers.
 */
function digits(text: string): number {
  const len = text.length;
  if (len === 0 || len > 15) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

export function ref(src: SourceRef): SourceRef {
  return { file: src.file, line: src.line };
}
