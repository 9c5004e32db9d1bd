// A runnable VRRP-only process for the namespace tests and bench until the daemon (issue 6) folds this in:
// `node dist/src/vrrp/standalone.js CONFIG`. SIGTERM/SIGINT stop it the way keepalived stops (priority 0, VIPs
// removed, notify_stop); SIGHUP re-reads CONFIG and reloads (a config with fatal errors is logged and ignored).
import { pathToFileURL } from 'node:url';
import { systemClock } from '../clock.js';
import { createLogger, type Logger } from '../log.js';
import { cannotRun, exitCodeFor, formatDiagnostic, loadConfig } from '../config/load.js';
import { VrrpService } from './service.js';
import type { Config } from '../config/model.js';

function readConfig(configPath: string, logger: Logger): Config {
  const { config, diagnostics } = loadConfig(configPath);
  for (const d of diagnostics) logger.warn(formatDiagnostic(d));
  if (cannotRun(exitCodeFor(diagnostics))) throw new Error(`${configPath}: configuration cannot be used`);
  return config;
}

export async function runVrrp(configPath: string, logger: Logger): Promise<VrrpService> {
  const service = new VrrpService(readConfig(configPath, logger), { clock: systemClock, logger });
  await service.start();
  return service;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const path = process.argv[2];
  if (path === undefined) {
    process.stderr.write('usage: standalone.js CONFIG\n');
    process.exit(2);
  }
  const logger = createLogger({ console: true });
  const service = await runVrrp(path, logger);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    logger.info('Stopping');
    void service.stop().then(() => {
      logger.info('Stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    if (stopping) return;
    logger.info('Reloading');
    let config: Config;
    try {
      config = readConfig(path, logger);
    } catch (e) {
      logger.error(`${(e as Error).message}; keeping the running one`);
      return;
    }
    service.reload(config).catch((e: unknown) => logger.error(`reload failed: ${(e as Error).message}`));
  });
}
