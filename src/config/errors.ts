// Diagnostics for the config loader. keepalived reports a problem and carries on with a corrected value; we do the
// same, collecting every report with its file and line, and let the caller turn them into an exit code.
import type { Diagnostic, Severity } from './model.js';

export class ConfigError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(formatDiagnostic(diagnostic));
    this.name = 'ConfigError';
  }
}

/** `FILE:LINE: message` (line 0 = no line: the message concerns the whole file or the resolved config). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.message}`;
}

export type ExitCode = 0 | 2 | 4 | 5 | 6;

/**
 * `lvskeeper -t` exit status, as keepalived 2.2.7's config test: 2 stopped reading (a keyword missing its parameter;
 * the first such problem or a fatal one decides), 4 cannot run, 6 scripts without enable_script_security, 5 errors
 * it corrects and runs anyway, 0 clean (warnings and what lvskeeper does not implement do not count).
 */
export function exitCodeFor(diagnostics: readonly Diagnostic[]): ExitCode {
  let code: ExitCode = 0;
  for (const d of diagnostics) {
    if (d.severity === 'config') return 2;
    if (d.severity === 'fatal') return 4;
    if (d.severity === 'security') code = 6;
    else if (d.severity === 'error' && code === 0) code = 5;
  }
  return code;
}

/** A config whose test status is 2 or 4 is not run: keepalived exits rather than start with it. */
export function cannotRun(code: ExitCode): boolean {
  return code === 2 || code === 4;
}

/** A reload also refuses errors the parser corrected (5): keepalived's reload_check_config, always on here. */
export function refusedAtReload(code: ExitCode): boolean {
  return cannotRun(code) || code === 5;
}

/** The words every line naming something lvskeeper does not carry out starts with (tests filter on them). */
export const UNIMPLEMENTED_PREFIX = 'lvskeeper does not implement ';

export function unimplementedMessage(name: string): string {
  return `${UNIMPLEMENTED_PREFIX}'${name}' - ignored`;
}

/** Collects diagnostics; the one place each stage reports through. */
export class Reporter {
  readonly list: Diagnostic[] = [];

  /**
   * `strictCompat` (`--strict-compat`): what lvskeeper does not implement is fatal (exit 4, the daemon does not
   * start) instead of a line that leaves keepalived's status alone.
   */
  constructor(private readonly opts: { readonly strictCompat?: boolean } = {}) {}

  add(severity: Severity, where: { file: string; line: number }, message: string, keyword?: string): void {
    this.list.push({ file: where.file, line: where.line, severity, message, ...(keyword !== undefined ? { keyword } : {}) });
  }

  error(where: { file: string; line: number }, message: string, keyword?: string): void {
    this.add('error', where, message, keyword);
  }

  warn(where: { file: string; line: number }, message: string, keyword?: string): void {
    this.add('warning', where, message, keyword);
  }

  /** A use of `name` (a keyword, or a keyword with the option or value concerned) that lvskeeper does not carry out. */
  unimplemented(where: { file: string; line: number }, name: string, keyword: string): void {
    this.add(this.opts.strictCompat ? 'fatal' : 'unimplemented', where, unimplementedMessage(name), keyword);
  }
}
