// `lvskeeper -t` and `lvskeeper --dump-conf`: load the config, print each problem as `FILE:LINE: message`, and
// exit with keepalived's config-test status (0 OK, 4 cannot run, 5 errors but would run, 6 script security).
// Each use of a keyword lvskeeper does not carry out is one more line (`lvskeeper does not implement 'use_vmac' -
// ignored`) that leaves the status keepalived's; with `--strict-compat` those lines are fatal (4).
import { dumpConfig } from '../config/dump.js';
import { exitCodeFor, formatDiagnostic, loadConfig } from '../config/load.js';
import type { Diagnostic } from '../config/model.js';
import { DEFAULT_CONFIG_FILE } from './root-options.js';
import { netnsProblem } from '../net/netns-path.js';
import { bfdTakeoverProblems, type BfdTakeover } from '../config/bfd-takeover.js';

// Not imported: see config/load.ts (node:fs's module facade loads the stream modules `-t` never uses).
const { appendFileSync } = process.getBuiltinModule('node:fs');

export interface ConfigCliOptions {
  readonly useFile?: string;
  readonly configId?: string;
  readonly errors?: boolean;
  /** `-t LOGFILE`: append the messages there instead of writing them to stderr. */
  readonly logFile?: string;
  /** `--strict-compat`: what lvskeeper does not implement is fatal (exit 4). */
  readonly strictCompat?: boolean;
  /** `--bfd-takeover`, checked against the config's instances: a pair it cannot run makes the status 4. */
  readonly bfdTakeover?: BfdTakeover;
}

/** `extra`: lvskeeper's own lines after the config's (the command line's problems with it). */
function emit(diagnostics: readonly Diagnostic[], logFile: string | undefined, extra: readonly string[] = []): void {
  // keepalived's child processes each parse the config, so it prints most messages twice; once is enough.
  const seen = new Set<string>();
  let text = '';
  for (const line of [...diagnostics.map((d) => formatDiagnostic(d)), ...extra]) {
    if (seen.has(line)) continue;
    seen.add(line);
    text += `${line}\n`;
  }
  if (text === '') return;
  if (logFile === undefined) {
    process.stderr.write(text);
    return;
  }
  try {
    appendFileSync(logFile, text);
  } catch (err) {
    process.stderr.write(`lvskeeper: cannot write ${logFile}: ${(err as Error).message}\n${text}`);
  }
}

function load(opts: ConfigCliOptions): ReturnType<typeof loadConfig> {
  return loadConfig(opts.useFile ?? DEFAULT_CONFIG_FILE, {
    ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
    includesAreErrors: opts.errors ?? false,
    checkInterfaces: true,
    strictCompat: opts.strictCompat ?? false,
  });
}

/** Returns the process exit status. */
export function runConfigTest(opts: ConfigCliOptions): number {
  const { config, diagnostics } = load(opts);
  // keepalived -t enters net_namespace before its children read the config; when it cannot, it stops there and
  // exits 0 (core/main.c: "Unable to set network namespace %s - exiting", a log line, not a config error).
  const netns = config.global.other['net_namespace'];
  const problem = netns ? netnsProblem(netns) : undefined;
  if (problem !== undefined) {
    process.stderr.write(`${problem}\nUnable to set network namespace ${netns} - exiting\n`);
    return 0;
  }
  const refused = opts.bfdTakeover === undefined ? [] : bfdTakeoverProblems(opts.bfdTakeover, config);
  emit(diagnostics, opts.logFile, refused);
  return refused.length > 0 ? 4 : exitCodeFor(diagnostics);
}

/** Prints the resolved model as JSON on stdout, problems on stderr; returns the exit status. */
export function runDumpConf(opts: ConfigCliOptions): number {
  const { config, diagnostics } = load(opts);
  emit(diagnostics, undefined);
  process.stdout.write(dumpConfig(config));
  return exitCodeFor(diagnostics);
}

