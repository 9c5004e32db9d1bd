// Checker model objects for probe tests (the engine tests use the real config parser instead).
import type { CheckerConnection, CheckerTiming, HttpChecker, HttpUrl } from '../../src/config/model.js';

export const timing = (over: Partial<CheckerTiming> = {}): CheckerTiming => ({
  src: { file: 'test.conf', line: 1 },
  retry: 1,
  delayBeforeRetryMs: 1000,
  delayLoopMs: 1000,
  warmupMs: 0,
  alpha: false,
  logAllFailures: false,
  ...over,
});

export const conn = (port: number, over: Partial<CheckerConnection> = {}): CheckerConnection => ({
  connectIp: '127.0.0.1',
  connectPort: port,
  family: 'inet',
  connectTimeoutMs: 1000,
  ...over,
});

export const url = (path: string, over: Partial<HttpUrl> = {}): HttpUrl => ({ path, statusCodes: [[200, 299]], regexNoMatch: false, ...over });

export const http = (port: number, over: Partial<HttpChecker> = {}): HttpChecker => ({
  ...timing(),
  ...conn(port),
  type: 'HTTP_GET',
  urls: [url('/')],
  httpProtocol: '1.0',
  fastRecovery: false,
  enableSni: false,
  tlsCompliant: false,
  ...over,
});
