// global_defs and the other top-level keywords of keepalived 2.2.7's core/global_parser.c (reference §4).
import { block, lists, required, values } from './types.js';

export const GLOBAL_DEFS = block(
  'global_defs',
  lists('notification_email'),
  values(
    'process_names', 'router_id', 'notification_email_from', 'smtp_helo_name', 'smtp_alert', 'startup_script',
    'startup_script_timeout', 'shutdown_script', 'shutdown_script_timeout', 'max_auto_priority',
    'min_auto_priority_delay', 'smtp_alert_vrrp', 'smtp_alert_checker', 'checker_log_all_failures',
    'dynamic_interfaces', 'no_email_faults', 'default_interface', 'disable_local_igmp', 'lvs_timeouts', 'lvs_flush',
    'lvs_flush_on_stop', 'lvs_flush_onstop', 'lvs_sync_daemon', 'vrrp_min_garp', 'vrrp_garp_extra_if',
    'vrrp_vmac_garp_intvl', 'vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert', 'vrrp_iptables',
    'vrrp_ipsets', 'nftables', 'nftables_ifindex', 'nftables_ipvs', 'nftables_counters', 'vrrp_check_unicast_src',
    'vrrp_skip_check_adv_addr', 'vrrp_strict', 'vrrp_priority', 'vrrp_no_swap', 'vrrp_rt_priority',
    'vrrp_cpu_affinity', 'notify_fifo', 'notify_fifo_script', 'vrrp_notify_fifo', 'vrrp_notify_fifo_script',
    'vrrp_notify_priority_changes', 'fifo_write_vrrp_states_on_reload', 'lvs_notify_fifo', 'lvs_notify_fifo_script',
    'checker_priority', 'checker_no_swap', 'checker_rt_priority', 'checker_cpu_affinity', 'bfd_priority',
    'bfd_no_swap', 'bfd_rt_priority', 'bfd_cpu_affinity', 'snmp_socket', 'enable_traps', 'enable_snmp_vrrp',
    'enable_snmp_keepalived', 'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3', 'enable_snmp_checker',
    'enable_dbus', 'dbus_service_name', 'script_user', 'enable_script_security', 'vrrp_netlink_cmd_rcv_bufs',
    'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs_force',
    'process_monitor_rcv_bufs', 'process_monitor_rcv_bufs_force', 'lvs_netlink_cmd_rcv_bufs',
    'lvs_netlink_cmd_rcv_bufs_force', 'lvs_netlink_monitor_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs_force',
    'rs_init_notifies', 'no_checker_emails', 'vrrp_rx_bufs_policy', 'vrrp_rx_bufs_multiplier', 'log_unknown_vrids',
    'reload_check_config', 'reload_time_file', 'reload_repeat', 'reload_file', 'include_check', 'tmp_config_directory',
    'data_use_instance',
  ),
  required(
    'process_name', 'vrrp_process_name', 'checker_process_name', 'lvs_process_name', 'bfd_process_name', 'smtp_server',
    'smtp_connect_timeout', 'vrrp_mcast_group4', 'vrrp_mcast_group6', 'vrrp_garp_master_delay',
    'vrrp_garp_master_repeat', 'vrrp_garp_master_refresh', 'vrrp_garp_master_refresh_repeat',
    'vrrp_garp_lower_prio_delay', 'vrrp_garp_lower_prio_repeat', 'vrrp_down_timer_adverts', 'vrrp_garp_interval',
    'vrrp_gna_interval', 'vrrp_version', 'nftables_priority', 'nftables_ipvs_priority', 'nftables_ipvs_start_fwmark',
    'vrrp_rlimit_rttime', 'vrrp_rlimit_rtime', 'checker_rlimit_rttime', 'checker_rlimit_rtime', 'bfd_rlimit_rttime',
    'bfd_rlimit_rtime', 'vrrp_startup_delay', 'vmac_prefix', 'vmac_addr_prefix', 'umask', 'random_seed',
    'config_save_dir',
  ),
);

/** Process-wide keywords that 2.2.7 accepts at the top level, outside global_defs. */
export const GLOBAL_ROOT = {
  ...values('linkbeat_use_polling', 'net_namespace', 'net_namespace_ipvs', 'namespace_with_ipsets', 'use_pid_dir', 'instance'),
  ...required('child_wait_time'),
};
