// virtual_server, virtual_server_group, real_server and the global SSL block (keepalived 2.2.7 check/check_parser.c,
// reference §2.1–2.3).
import { CHECKERS } from './checkers.js';
import { block, values } from './types.js';

export const REAL_SERVER = block(
  'real_server',
  values(
    'weight', 'lvs_method', 'uthreshold', 'lthreshold', 'inhibit_on_failure', 'notify_up', 'notify_down', 'alpha',
    'retry', 'delay_before_retry', 'warmup', 'connect_timeout', 'delay_loop', 'smtp_alert', 'virtualhost', 'snmp_name',
  ),
  CHECKERS,
);

export const VIRTUAL_SERVER = block(
  'virtual_server',
  values(
    'ip_family', 'retry', 'delay_before_retry', 'warmup', 'connect_timeout', 'delay_loop', 'inhibit_on_failure',
    'lb_algo', 'lvs_sched', 'hashed', 'ops', 'flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port',
    'mh-fallback', 'lb_kind', 'lvs_method', 'persistence_engine', 'persistence_timeout', 'persistence_granularity',
    'protocol', 'ha_suspend', 'smtp_alert', 'virtualhost', 'snmp_name', 'alpha', 'omega', 'quorum_up', 'quorum_down',
    'quorum', 'hysteresis', 'weight', 'sorry_server', 'sorry_server_inhibit', 'sorry_server_lvs_method',
  ),
  { real_server: REAL_SERVER },
);

export const LVS_ROOT = {
  SSL: block('SSL', values('password', 'ca', 'certificate', 'key')),
  virtual_server_group: 'list',
  virtual_server: VIRTUAL_SERVER,
} as const;
