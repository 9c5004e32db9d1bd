// The VRRP blocks of keepalived 2.2.7's vrrp/vrrp_parser.c and trackers/track_file.c.
import { authTypeUses, routingUses, staticAddressUses } from './uses.js';
import { block, lists, NOT_IMPLEMENTED as NO, partial, required, RUNS, status, values } from './types.js';

const TRACKERS = lists('track_interface', 'track_script', 'track_file', 'track_process', 'track_bfd');

export const VRRP_SYNC_GROUP = block(
  'vrrp_sync_group',
  lists('group'),
  TRACKERS,
  values('smtp_alert', 'global_tracking', 'sync_group_tracking_weight', 'notify_priority_changes'),
  required('notify_backup', 'notify_master', 'notify_fault', 'notify_stop', 'notify'),
);

export const VRRP_INSTANCE = block(
  'vrrp_instance',
  TRACKERS,
  lists('unicast_peer', 'virtual_ipaddress', 'virtual_ipaddress_excluded', 'virtual_routes', 'virtual_rules'),
  {
    authentication: block(
      'authentication',
      required('auth_type', 'auth_pass'),
      status({ auth_type: partial('PASS only: AH is not implemented, and the daemon does not start on it', authTypeUses) }),
    ),
  },
  values(
    'use_vmac', 'use_vmac_addr', 'vmac_xmit_base', 'use_ipvlan', 'unicast_fault_no_peer', 'check_unicast_src',
    'old_unicast_checksum', 'native_ipv6', 'dont_track_primary', 'track_src_ip', 'promote_secondaries',
    'linkbeat_use_polling', 'accept', 'no_accept', 'skip_check_adv_addr', 'strict_mode', 'preempt', 'nopreempt',
    'notify_deleted', 'smtp_alert', 'notify_priority_changes', 'garp_extra_if', 'vmac_garp_intvl',
    'lower_prio_no_advert', 'higher_prio_send_advert', 'kernel_rx_buf_size',
  ),
  required(
    'state', 'interface', 'vrf', 'mcast_src_ip', 'unicast_src_ip', 'mcast_dst_ip', 'virtual_router_id', 'unicast_ttl',
    'version', 'priority', 'advert_int', 'preempt_delay', 'debug', 'notify_backup', 'notify_master', 'notify_fault',
    'notify_stop', 'notify', 'notify_master_rx_lower_pri', 'lvs_sync_daemon_interface', 'garp_master_delay',
    'garp_master_refresh', 'garp_master_repeat', 'garp_master_refresh_repeat', 'garp_lower_prio_delay',
    'garp_lower_prio_repeat', 'down_timer_adverts',
  ),
  status({
    virtual_routes: partial('encap and vrf not implemented (such a route is not installed)', routingUses),
    virtual_rules: RUNS,
    use_vmac: RUNS,
    linkbeat_use_polling: NO, kernel_rx_buf_size: NO, vrf: NO, debug: NO,
  }),
);

export const VRRP_SCRIPT = block(
  'vrrp_script',
  values('script', 'init_fail'),
  required('interval', 'timeout', 'weight', 'rise', 'fall', 'user'),
);

export const VRRP_TRACK_PROCESS = block(
  'vrrp_track_process',
  values('param_match', 'weight', 'full_command'),
  required('process', 'quorum', 'quorum_max', 'delay', 'terminate_delay', 'fork_delay'),
);

export const TRACK_FILE = block('track_file', values('file', 'weight', 'init_file'));

export const GARP_GROUP = block('garp_group', required('garp_interval', 'gna_interval', 'interface'), lists('interfaces'));

export const VRRP_ROOT = {
  vrrp_sync_group: VRRP_SYNC_GROUP,
  vrrp_instance: VRRP_INSTANCE,
  vrrp_script: VRRP_SCRIPT,
  vrrp_track_process: VRRP_TRACK_PROCESS,
  track_file: TRACK_FILE,
  vrrp_track_file: TRACK_FILE,
  garp_group: GARP_GROUP,
  track_group: block('track_group', lists('group')),
  static_ipaddress: 'list',
  static_routes: 'list',
  static_rules: 'list',
  linkbeat_interfaces: 'list',
  interface_up_down_delays: 'list',
  bfd_instance: block(
    'bfd_instance',
    values('neighbor_ip', 'neighbour_ip', 'passive', 'vrrp', 'checker'),
    required('source_ip', 'min_rx', 'min_tx', 'idle_tx', 'multiplier', 'ttl', 'hoplimit', 'max_hops', 'weight'),
  ),
} as const;

export const VRRP_ROOT_STATUS = status({
  track_group: NO,
  static_ipaddress: partial('track_group not implemented', staticAddressUses),
  static_routes: partial('encap, vrf and track_group not implemented (such a route is not installed)', routingUses),
  static_rules: partial('track_group not implemented (such a rule is not installed)', routingUses),
  linkbeat_interfaces: NO,
});
