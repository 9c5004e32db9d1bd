// The top level of keepalived.conf: every root keyword of the three sections.
import { GLOBAL_DEFS, GLOBAL_ROOT, GLOBAL_ROOT_STATUS } from './global.js';
import { LVS_ROOT, LVS_ROOT_STATUS } from './lvs.js';
import { block } from './types.js';
import { VRRP_ROOT, VRRP_ROOT_STATUS } from './vrrp.js';

export const ROOT = block(
  'root',
  GLOBAL_ROOT, { global_defs: GLOBAL_DEFS }, VRRP_ROOT, LVS_ROOT,
  GLOBAL_ROOT_STATUS, VRRP_ROOT_STATUS, LVS_ROOT_STATUS,
);
