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

  /**
   * `daemon`: the config is read to run, not for `-t`. keepalived's number readers then take a number whose
   * handler passes ignore_error in spite of trailing junk, with a `WARNING - ` line (lib/parser.c read_int_func,
   * read_unsigned_func: `__test_bit(CONFIG_TEST_BIT, &debug)` decides).
   */
  constructor(
    readonly report: Reporter,
    private readonly daemon = false,
  ) {}

  /**
   * Decimal integer in [min, max]; keepalived's strtol rules (no junk, no fraction). `ignoreError`: the handler
   * passes ignore_error, read as keepalived's read_int_func.
   */
  int(node: Node, arg: string | undefined, min: number, max: number, ignoreError = false): number | undefined {
    if (arg === undefined) {
      this.report.error(node.src, `${node.kw}: missing value`, node.kw);
      return undefined;
    }
    let n = digits(arg);
    if (n >= 0 && n >= min && n <= max) return n;
    if (ignoreError) return this.readInt(node, arg, min, max);
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

  /**
   * Unsigned decimal in [min, max], reported in the words of keepalived's read_unsigned. `ignoreError`: the handler
   * passes ignore_error, read as keepalived's read_unsigned_func.
   */
  unsigned(node: Node, arg: string | undefined, min: number, max: number, ignoreError = false): number | undefined {
    if (arg === undefined) {
      this.report.error(node.src, `${node.kw}: missing value`, node.kw);
      return undefined;
    }
    // The common case, plain digits in range, without a regular expression (see digits()).
    const n = digits(arg);
    if (n >= 0 && n >= min && n <= max && n <= 4_294_967_295) return n;
    if (ignoreError) return this.readUnsigned(node, arg, min, max);
    let problem: string | undefined;
    if (/^-\d+$/.test(arg)) problem = `negative number '${arg}'`;
    else if (!/^\+?\d+$/.test(arg)) problem = `invalid number '${arg}'`;
    else if (Number(arg) > 2 ** 32 - 1) problem = `number '${arg}' outside unsigned integer range`;
    else if (Number(arg) < min || Number(arg) > max) problem = `number '${arg}' outside range [${min}, ${max}]`;
    if (problem === undefined) return Number(arg);
    this.report.error(node.src, problem, node.kw);
    return undefined;
  }

  /** `WARNING - ` before a reader's line where keepalived's daemon takes the number anyway (lib/parser.c). */
  private get warn(): string {
    return this.daemon ? 'WARNING - ' : '';
  }

  /**
   * lib/parser.c read_int_func with ignore_error: strtol's reading; the daemon (not `-t`) keeps the digits before
   * any junk when they are in range. A value outside [min, max] is refused in both, without the warning.
   */
  private readInt(node: Node, arg: string, min: number, max: number): number | undefined {
    const { value, rest, erange } = strto(arg, true);
    if (rest !== '') this.report.error(node.src, `${this.warn}invalid number '${arg}'`, node.kw);
    else if (erange || value < -2_147_483_648n || value > 2_147_483_647n) this.report.error(node.src, `${this.warn}number '${arg}' outside integer range`, node.kw);
    else if (value < min || value > max) this.report.error(node.src, `number '${arg}' outside range [${min}, ${max}]`, node.kw);
    else return Number(value);
    return this.daemon && value >= min && value <= max ? Number(value) : undefined;
  }

  /** lib/parser.c read_unsigned_func with ignore_error (see readInt); leading blanks are skipped, a '-' refused. */
  private readUnsigned(node: Node, arg: string, min: number, max: number): number | undefined {
    const text = arg.replace(/^[ \t\n\v\f\r]+/, '');
    const { value, rest, erange } = strto(text, false);
    if (text.startsWith('-')) this.report.error(node.src, `${this.warn}negative number '${arg}'`, node.kw);
    else if (rest !== '') this.report.error(node.src, `${this.warn}invalid number '${arg}'`, node.kw);
    else if (erange || value > 4_294_967_295n) this.report.error(node.src, `${this.warn}number '${arg}' outside unsigned integer range`, node.kw);
    else if (value < min || value > max) this.report.error(node.src, `${this.warn}number '${arg}' outside range [${min}, ${max}]`, node.kw);
    else return Number(value);
    return this.daemon && value >= min && value <= max ? Number(value) : undefined;
  }

  /**
   * `<TIMER>`: decimal seconds with up to 6 decimals in [min, max] (µs), returned in milliseconds, read as
   * keepalived's read_timer and read_decimal_unsigned_strvec, whose every caller passes ignore_error. `refused` is
   * the line the keyword's own handler adds when the reader refuses.
   */
  timerMs(node: Node, arg: string | undefined, min: Microseconds, max: Microseconds, refused?: (arg: string) => string): number | undefined {
    if (arg === undefined) {
      this.report.error(node.src, `${node.kw}: missing value`, node.kw);
      return undefined;
    }
    // The common case, whole seconds, without BigInt: this runs several times for each of thousands of servers.
    const whole = digits(arg);
    if (whole >= 0 && whole <= 4_294_967_295 && whole * 1e6 >= Number(min) && whole * 1e6 <= Number(max)) return whole * 1000;
    const us = this.readDecimal(node, arg, min, max);
    if (us !== undefined) return Number(us) / 1000;
    if (refused) this.report.error(node.src, refused(arg), node.kw);
    return undefined;
  }

  /**
   * lib/parser.c read_decimal_unsigned_long_func with shift 6 and ignore_error: the value in µs, or undefined after
   * reporting. The point is dropped and zeros padded before strtoull reads the digits, so junk leaves the digits
   * before it, unpadded (`1x` is 1 µs); a number in range in spite of junk is taken, at `-t` too (this reader's
   * return does not test CONFIG_TEST_BIT), and a seventh decimal rounds the sixth.
   */
  private readDecimal(node: Node, arg: string, min: Microseconds, max: Microseconds): bigint | undefined {
    const shift = 6;
    if (arg.startsWith('-')) {
      this.report.error(node.src, `${this.warn}negative number '${arg}'`, node.kw);
      return undefined;
    }
    const dp = arg.indexOf('.');
    let decimals = dp < 0 ? 0 : arg.length - dp - 1;
    let roundUp = false;
    if (decimals > shift) {
      this.report.error(node.src, `${this.warn}number '${arg}' has too many decimal places`, node.kw);
      roundUp = arg.charCodeAt(dp + shift + 1) >= 0x35; // '5'
      decimals = shift;
    }
    const digitsText = (dp < 0 ? arg : arg.slice(0, dp) + arg.slice(dp + 1, dp + 1 + decimals)) + '0'.repeat(shift - decimals);
    const read = strto(digitsText, false);
    const value = read.value + (roundUp ? 1n : 0n);
    if (read.rest !== '') this.report.error(node.src, `${this.warn}invalid number '${arg}'`, node.kw);
    else if (read.erange) {
      this.report.error(node.src, `${this.warn}number '${arg}' outside unsigned decimal range`, node.kw);
      return undefined;
    } else if (value < min || value > max) {
      this.report.error(node.src, `${this.warn}number '${arg}' outside range [${seconds(min)}, ${seconds(max)}]`, node.kw);
    } else return value;
    return value >= min && value <= max ? value : undefined;
  }

  /** Integer seconds (keepalived's read_unsigned for delays that are not <TIMER>s), in milliseconds. */
  secondsMs(node: Node, arg: string | undefined, min: number, max: number, ignoreError = false): number | undefined {
    const n = this.unsigned(node, arg, min, max, ignoreError);
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

/**
 * C's strtol (`signed`) or strtoul in base 10: leading blanks and a sign, then digits. `rest` is what follows them
 * (all of `text` when there are none, the value then 0); `erange` an overflow, clamped as C does (an unsigned
 * read negates modulo 2^64).
 */
export function strto(text: string, signed: boolean): { value: bigint; rest: string; erange: boolean } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(text);
  if (!m) return { value: 0n, rest: text, erange: false };
  const rest = text.slice(m[0].length);
  const magnitude = BigInt(m[2]!);
  const negative = m[1] === '-';
  if (signed) {
    const limit = negative ? 1n << 63n : (1n << 63n) - 1n;
    if (magnitude > limit) return { value: negative ? -limit : limit, rest, erange: true };
    return { value: negative ? -magnitude : magnitude, rest, erange: false };
  }
  const max = (1n << 64n) - 1n;
  if (magnitude > max) return { value: max, rest, erange: true };
  return { value: negative && magnitude > 0n ? (1n << 64n) - magnitude : magnitude, rest, erange: false };
}

export function ref(src: SourceRef): SourceRef {
  return { file: src.file, line: src.line };
}
