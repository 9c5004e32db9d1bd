// Runs in a worker thread of the supervisor (config-reader.ts): reads and resolves the config file, and posts back
// what the supervisor needs — the diagnostics, the exit status they make, the VRRP part, and how many virtual
// servers there are. The whole model never crosses: the checker process builds its own.
import { parentPort, workerData } from 'node:worker_threads';
import { readConfigFile } from './config-file-read.js';
import type { ReadRequest } from './config-reader.js';

parentPort?.postMessage(readConfigFile(workerData as ReadRequest).read);
