import { pino, type Logger, type DestinationStream } from 'pino';
import { StdoutLines } from './stdout-lines.js';

export type { Logger };

export interface LogOptions {
  /** keepalived's -l: human-readable lines on the console instead of JSON. */
  readonly console?: boolean;
  /** keepalived's -D: debug-level detail. */
  readonly detail?: boolean;
  /** Where lines go (default stdout); tests pass a collector. */
  readonly destination?: DestinationStream;
  readonly level?: pino.LevelWithSilent;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Console lines not yet written, per output stream; written once per turn of the event loop and at exit. */
const queued = new Map<NodeJS.WritableStream, string[]>();
/** stdout when it is a pipe or socket: written without blocking (stdout-lines.ts); made on first use. */
let stdoutLines: StdoutLines | null | undefined;

function flushConsole(): void {
  for (const [out, lines] of queued) {
    if (lines.length > 0) out.write(lines.splice(0).join(''));
  }
}
process.once('exit', () => {
  flushConsole();
  stdoutLines?.flushSync();
});

/** `Sun Nov 22 11:37:16 2026` for a whole second, formatted once: a stop with 30,000 real servers logs 30,000 lines. */
let stampSecond = -1;
let stampText = '';
function stamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stampText = new Date(ms).toString().slice(0, 24);
  }
  return stampText;
}

/** A console destination also takes a record as it is logged, without the JSON between (createLogger). */
interface ConsoleDestination extends DestinationStream {
  record(level: number, component: unknown, msg: unknown): void;
}

/**
 * A destination that renders pino's JSON lines the way keepalived's console log reads:
 * `Sun Nov 22 11:37:16 2026: [subsystem] message`. The console mode is for people, and JSON stays the default under
 * a service manager.
 * Lines leave once per turn of the event loop (a write to a pipe is a system call per line); into a pipe or socket
 * without blocking (stdout-lines.ts), elsewhere in one write; at exit whatever is still queued.
 */
export function consoleDestination(out: NodeJS.WritableStream = process.stdout): ConsoleDestination {
  if (out === process.stdout && stdoutLines === undefined) {
    stdoutLines = StdoutLines.open(1, (n) => `${stamp(Date.now())}: ${n} log lines dropped: this output's reader did not keep up\n`) ?? null;
  }
  const writer = out === process.stdout ? stdoutLines : undefined;
  const lines = queued.get(out) ?? [];
  if (!writer) queued.set(out, lines);
  const enqueue = writer
    ? (text: string): void => writer.push(text)
    : (text: string): void => {
      if (lines.push(text) === 1) setImmediate(flushConsole);
    };
  const record = (level: number | undefined, component: unknown, msg: unknown, time = Date.now()): void => {
    const lv = level !== undefined && level >= 40 ? ` ${LEVEL_NAMES[level] ?? ''}:` : '';
    const comp = component ? ` ${String(component)}:` : '';
    enqueue(`${stamp(time)}:${comp}${lv} ${String(msg ?? '')}\n`);
  };
  return {
    write(line: string): void {
      let rec: { time?: number; level?: number; msg?: string; component?: string };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        enqueue(line);
        return;
      }
      record(rec.level, rec.component, rec.msg, rec.time);
    },
    record,
  };
}

/**
 * The calls a console line renders from as they are, without pino's JSON and its parsing back (a reload of 30,000
 * real servers logs 30,000 `Activating healthchecker` lines): `log.info(text)` and `log.info({ component }, text)`.
 * Anything else (format arguments, an Error, an object that sets `level` or `time`) takes pino's way.
 */
function plainCall(args: unknown[]): { component: unknown; msg: string } | undefined {
  const [a, b] = args;
  if (args.length === 1 && typeof a === 'string') return { component: undefined, msg: a };
  if (args.length !== 2 || typeof b !== 'string' || typeof a !== 'object' || a === null || a instanceof Error) return undefined;
  if (Object.getPrototypeOf(a) !== Object.prototype) return undefined;
  const o = a as Record<string, unknown>;
  return o['level'] === undefined && o['time'] === undefined && o['msg'] === undefined ? { component: o['component'], msg: b } : undefined;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (opts.detail ? 'debug' : 'info');
  const useConsole = opts.console ?? false;
  const destination = opts.destination ?? (useConsole ? consoleDestination() : pino.destination({ dest: 1, sync: false }));
  const direct = 'record' in destination ? (destination as ConsoleDestination) : undefined;
  return pino({
    level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime,
    ...(direct
      ? {
          hooks: {
            logMethod(args: unknown[], method: (...a: unknown[]) => void, lvl: number) {
              const plain = plainCall(args);
              if (plain) direct.record(lvl, plain.component, plain.msg);
              else method.apply(this, args);
            },
          },
        }
      : {}),
  }, destination);
}

/** A logger that discards everything, for library callers and unit tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
