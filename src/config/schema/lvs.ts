// virtual_server, virtual_server_group, real_server and the global SSL block (keepalived 2.2.7 check/check_parser.c).
import { CHECKERS } from './checkers.js';
import { block, NOT_IMPLEMENTED as NO, reported, required, status, values } from './types.js';

export const REAL_SERVER = block(
  'real_server',
  values('inhibit_on_failure', 'alpha', 'smtp_alert'),
  reported({
    virtualhost: 'real server virtualhost missing',
    snmp_name: 'real server snmp_name missing or extra parameters',
  }),
  required(
    'weight', 'lvs_method', 'uthreshold', 'lthreshold', 'notify_up', 'notify_down', 'retry', 'delay_before_retry',
    'warmup', 'connect_timeout', 'delay_loop',
  ),
  CHECKERS,
  status({ snmp_name: NO }),
);

export const VIRTUAL_SERVER = block(
  'virtual_server',
  values(
    'inhibit_on_failure', 'hashed', 'ops', 'flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port',
    'mh-fallback', 'persistence_timeout', 'ha_suspend', 'smtp_alert', 'alpha', 'omega',
    'sorry_server_inhibit', 'sorry_server_lvs_method',
  ),
  reported({
    virtualhost: 'virtual server virtualhost missing',
    snmp_name: 'virtual server snmp_name missing or extra parameters',
  }),
  required(
    'ip_family', 'retry', 'delay_before_retry', 'warmup', 'connect_timeout', 'delay_loop', 'lb_algo', 'lvs_sched',
    'lb_kind', 'lvs_method', 'persistence_engine', 'persistence_granularity', 'protocol', 'quorum_up', 'quorum_down',
    'quorum', 'hysteresis', 'weight', 'sorry_server',
  ),
  { real_server: REAL_SERVER },
  status({ hashed: NO, snmp_name: NO }),
);

export const LVS_ROOT = {
  SSL: block('SSL', reported({
    password: 'SSL password missing',
    ca: 'SSL cafile missing',
    certificate: 'SSL certfile missing',
    key: 'SSL keyfile missing',
  })),
  virtual_server_group: 'list',
  virtual_server: VIRTUAL_SERVER,
} as const;

export const LVS_ROOT_STATUS = status({});
