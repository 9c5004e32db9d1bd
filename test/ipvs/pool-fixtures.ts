// Shared helpers for the pool/reconcile/manager tests: configs come from the real parser, logs from a real pino logger.
import { parseConfigText } from '../../src/config/load.js';
import type { Config, VirtualServer } from '../../src/config/model.js';
import { createLogger, type Logger } from '../../src/log.js';

export function config(text: string): Config {
  const r = parseConfigText(text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'fatal');
  if (errors.length) throw new Error(`test config rejected: ${JSON.stringify(errors)}`);
  return r.config;
}

export function firstVs(text: string): VirtualServer {
  const vs = config(text).virtualServers[0];
  if (!vs) throw new Error('test config has no virtual_server');
  return vs;
}

/** A real logger whose messages land in `lines`. */
export function collectingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: {
      write(line: string): void {
        lines.push((JSON.parse(line) as { msg: string }).msg);
      },
    },
  });
  return { log, lines };
}

/** `real_server` blocks with a TCP_CHECK, one per address (weights optional). */
export function realServers(addrs: readonly string[], port = 80, extra = ''): string {
  return addrs
    .map((a) => `  real_server ${a} ${port} {\n    ${extra}\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }`)
    .join('\n');
}
