// The top level of keepalived.conf: every root keyword of the three sections.
import { GLOBAL_DEFS, GLOBAL_ROOT } from './global.js';
import { LVS_ROOT } from './lvs.js';
import { block } from './types.js';
import { VRRP_ROOT } from './vrrp.js';

export const ROOT = block('root', GLOBAL_ROOT, { global_defs: GLOBAL_DEFS }, VRRP_ROOT, LVS_ROOT);
