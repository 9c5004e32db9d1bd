// A runnable VRRP-only process for the namespace tests and bench until the daemon (issue 6) folds this in:
// `node dist/src/vrrp/standalone.js CONFIG`. SIGTERM/SIGINT stop it the way keepalived stops (priority 0, VIPs
// removed, notify_stop).
import { pathToFileURL } from 'node:url';
import { systemClock } from '../clock.js';
import { createLogger, type Logger } from '../log.js';
import { formatDiagnostic, loadConfig } from '../config/load.js';
import { VrrpService } from './service.js';

export async function runVrrp(configPath: string, logger: Logger): Promise<VrrpService> {
  const { config, diagnostics } = loadConfig(configPath);
  for (const d of diagnostics) logger.warn(formatDiagnostic(d));
  if (diagnostics.some((d) => d.severity === 'fatal')) throw new Error(`${configPath}: configuration cannot be used`);
  const service = new VrrpService(config, { clock: systemClock, logger });
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
}
