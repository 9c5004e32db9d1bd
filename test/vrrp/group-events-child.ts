// Child process for group-events.test.ts, run inside a test namespace: runs VrrpService on CONFIG and prints each
// 'group-transition' event as a JSON line; SIGTERM stops the service (the STOP event is printed) and exits.
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { loadConfig } from '../../src/config/load.js';
import { VrrpService } from '../../src/vrrp/service.js';

const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const { config } = loadConfig(process.argv[2] ?? '');
const service = new VrrpService(config, { clock: systemClock, logger: createLogger({ console: false }) });
service.on('group-transition', (e) => out(e));
await service.start();
out({ started: true });
process.on('SIGTERM', () => void service.stop().then(() => process.exit(0)));
