// Value readers for keyword arguments, with keepalived's messages for bad values (lib/parser.c read_int/
// read_unsigned/read_timer, check_true_false). Each returns undefined after reporting, so callers keep their default.
import { splitArgv } from './lexer.js';
import type { Reporter } from './errors.js';
import type { Node } from './parser.js';
import type { Script, SourceRef } from './model.js';

export class Values {
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

  /** `<TIMER>`: decimal seconds with up to 6 decimals, returned in milliseconds (µs resolution kept). */
  timerMs(node: Node, arg: string | undefined, minS: number, maxS: number): number | undefined {
    if (arg === undefined) {
      this.report.error(node.src, `${node.kw}: missing value`, node.kw);
      return undefined;
    }
    const whole = digits(arg);
    if (whole >= 0) return this.timerRange(node, arg, whole * 1e6, minS, maxS);
    const m = /^(\d*)(?:\.(\d*))?$/.exec(arg);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
      this.report.error(node.src, `invalid timer '${arg}' for ${node.kw}`, node.kw);
      return undefined;
    }
    let frac = m[2] ?? '';
    if (frac.length > 6) {
      this.report.warn(node.src, `${node.kw} '${arg}' has more than 6 decimal places - rounding`, node.kw);
      frac = String(Math.round(Number(`0.${frac}`) * 1e6)).padStart(6, '0');
    }
    const us = Number(m[1] || '0') * 1e6 + Number(frac.padEnd(6, '0') || '0');
    return this.timerRange(node, arg, us, minS, maxS);
  }

  private timerRange(node: Node, arg: string, us: number, minS: number, maxS: number): number | undefined {
    if (us < minS * 1e6 || us > maxS * 1e6) {
      this.report.error(node.src, `${node.kw} '${arg}' must be in [${minS}, ${maxS}] - ignoring`, node.kw);
      return undefined;
    }
    return us / 1000;
  }

  /** Integer seconds (keepalived's read_unsigned for delays that are not <TIMER>s), in milliseconds. */
  secondsMs(node: Node, arg: string | undefined, min: number, max: number): number | undefined {
    const n = this.int(node, arg, min, max);
    return n === undefined ? undefined : n * 1000;
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
