// One read of the config file as the supervisor needs it, done in the calling thread: by the config worker
// (config-worker.ts) at start, for `plan` and whenever no checker process runs, and by the checker process at a
// reload, whose warm parser reads a 30,000-server file in a fraction of a fresh worker's time (start-up and cold
// JIT included), and which reads the file then anyway to run it.
import { exitCodeFor, loadConfig } from '../config/load.js';
import type { Config } from '../config/model.js';
import { vrrpPart, type ConfigRead } from '../ipc/protocol.js';
import type { ReadRequest } from './config-reader.js';

export function readConfigFile(req: ReadRequest): { readonly config: Config; readonly read: ConfigRead } {
  const { config, diagnostics } = loadConfig(req.file, {
    ...(req.configId !== undefined ? { configId: req.configId } : {}),
    strictCompat: req.strictCompat,
    daemon: true,
  });
  const realServers = config.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0);
  return { config, read: { diagnostics, code: exitCodeFor(diagnostics), vrrp: vrrpPart(config), virtualServers: config.virtualServers.length, realServers } };
}
