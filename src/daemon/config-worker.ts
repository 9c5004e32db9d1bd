// Runs in a worker thread of the supervisor (config-reader.ts): reads and resolves the config file, and posts back
// what the supervisor needs — the diagnostics, the exit status they make, the VRRP part, and how many virtual
// servers there are. The whole model never crosses: the checker process builds its own.
import { parentPort, workerData } from 'node:worker_threads';
import { exitCodeFor, loadConfig } from '../config/load.js';
import { vrrpPart } from '../ipc/protocol.js';
import type { ConfigRead, ReadRequest } from './config-reader.js';

const { file, configId, strictCompat } = workerData as ReadRequest;
const { config, diagnostics } = loadConfig(file, { ...(configId !== undefined ? { configId } : {}), strictCompat, daemon: true });
const read: ConfigRead = { diagnostics, code: exitCodeFor(diagnostics), vrrp: vrrpPart(config), virtualServers: config.virtualServers.length };
parentPort?.postMessage(read);
