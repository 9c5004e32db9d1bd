// global_defs and the other top-level keywords of keepalived 2.2.7's core/global_parser.c.
import { block, lists, NOT_IMPLEMENTED as NO, partial, reported, required, status, values } from './types.js';

/** src/fs/notify-fifo.ts: the one way a notify FIFO differs from keepalived's. */
const FIFO_NOT_FILE = partial('a regular file found at the path is refused, where keepalived would write its lines into it');

/** src/daemon/scheduling.ts: why keepalived's default RLIMIT_RTTIME is not applied. */
const RT_LIMIT_DEFAULT = (side: string): string =>
  `RLIMIT_RTTIME only when ${side}_rlimit_rttime is given: keepalived's 10 ms default would stop a JavaScript runtime in garbage collection`;

export const GLOBAL_DEFS = block(
  'global_defs',
  lists('notification_email'),
  values(
    'process_names', 'router_id', 'smtp_helo_name', 'smtp_alert', 'max_auto_priority', 'smtp_alert_vrrp',
    'smtp_alert_checker', 'checker_log_all_failures', 'dynamic_interfaces', 'no_email_faults', 'disable_local_igmp',
    'lvs_timeouts', 'lvs_flush', 'lvs_flush_on_stop', 'lvs_flush_onstop', 'lvs_sync_daemon', 'vrrp_min_garp',
    'vrrp_vmac_garp_intvl', 'vrrp_garp_extra_if', 'vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert', 'vrrp_iptables',
    'nftables', 'nftables_ifindex', 'nftables_ipvs', 'nftables_counters', 'vrrp_check_unicast_src',
    'vrrp_skip_check_adv_addr', 'vrrp_strict', 'vrrp_no_swap', 'notify_fifo', 'notify_fifo_script', 'vrrp_notify_fifo',
    'vrrp_notify_fifo_script', 'vrrp_notify_priority_changes', 'fifo_write_vrrp_states_on_reload', 'lvs_notify_fifo',
    'lvs_notify_fifo_script', 'checker_no_swap', 'bfd_no_swap', 'enable_traps', 'enable_snmp_vrrp',
    'enable_snmp_keepalived', 'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3', 'enable_snmp_checker',
    'enable_dbus', 'script_user', 'enable_script_security', 'vrrp_netlink_cmd_rcv_bufs_force',
    'vrrp_netlink_monitor_rcv_bufs_force', 'process_monitor_rcv_bufs_force', 'lvs_netlink_cmd_rcv_bufs_force',
    'lvs_netlink_monitor_rcv_bufs_force', 'rs_init_notifies', 'no_checker_emails', 'log_unknown_vrids',
    'reload_check_config', 'reload_repeat', 'reload_file', 'include_check', 'data_use_instance',
  ),
  reported({
    notification_email_from: 'emailfrom missing - ignoring',
    startup_script: 'startup script missing',
    startup_script_timeout: 'startup_script_timeout requires value',
    shutdown_script: 'shutdown script missing',
    shutdown_script_timeout: 'shutdown_script_timeout requires value',
    min_auto_priority_delay: 'min_auto_priority_delay requires delay time',
    default_interface: 'default_interface requires interface name',
    vrrp_priority: 'No vrrp process priority specified',
    vrrp_rt_priority: 'No vrrp process real-time priority specified',
    vrrp_cpu_affinity: 'No vrrp cpu_id set specified',
    checker_priority: 'No checker process priority specified',
    checker_rt_priority: 'No checker process real-time priority specified',
    checker_cpu_affinity: 'No checker cpu_id set specified',
    bfd_priority: 'No bfd process priority specified',
    bfd_rt_priority: 'No bfd process real-time priority specified',
    bfd_cpu_affinity: 'No bfd cpu_id set specified',
    snmp_socket: 'SNMP error : snmp socket name missing',
    dbus_service_name: 'dbus_service_name missing - ignoring',
    vrrp_netlink_cmd_rcv_bufs: 'vrrp_netlink_cmd_rcv_bufs size missing',
    vrrp_netlink_monitor_rcv_bufs: 'vrrp_netlink_monitor_rcv_bufs size missing',
    process_monitor_rcv_bufs: 'process_monitor_rcv_bufs size missing',
    lvs_netlink_cmd_rcv_bufs: 'lvs_netlink_cmd_rcv_bufs size missing',
    lvs_netlink_monitor_rcv_bufs: 'lvs_netlink_monitor_rcv_bufs size missing',
    vrrp_rx_bufs_policy: 'vrrp_rx_bufs_policy missing',
    vrrp_rx_bufs_multiplier: 'Invalid vrrp_rx_bufs_multiplier',
    reload_time_file: 'reload_time_file invalid',
    tmp_config_directory: 'tmp_config_directory missing directory name',
  }),
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
  // What lvskeeper does not carry out (everything else runs): SNMP,
  // DBus, nftables for IPVS, VMAC and the timings nothing reads from the model (grep src/ checkers/).
  status({
    max_auto_priority: partial('lateness is measured on a 100 ms probe timer rather than on each timer; the VRRP process starts at lvskeeper\'s default SCHED_RR 1, so raising starts from there'),
    min_auto_priority_delay: partial('measured on a 100 ms probe timer rather than on each timer'),
    vrrp_rt_priority: partial(RT_LIMIT_DEFAULT('vrrp')),
    checker_rt_priority: partial(RT_LIMIT_DEFAULT('checker')),
    bfd_rt_priority: partial(RT_LIMIT_DEFAULT('bfd')),
    vrrp_netlink_cmd_rcv_bufs: NO, vrrp_netlink_cmd_rcv_bufs_force: NO, vrrp_netlink_monitor_rcv_bufs: NO,
    vrrp_netlink_monitor_rcv_bufs_force: NO, process_monitor_rcv_bufs: NO, process_monitor_rcv_bufs_force: NO,
    lvs_netlink_cmd_rcv_bufs: NO, lvs_netlink_cmd_rcv_bufs_force: NO, lvs_netlink_monitor_rcv_bufs: NO,
    lvs_netlink_monitor_rcv_bufs_force: NO, vrrp_rx_bufs_policy: NO, vrrp_rx_bufs_multiplier: NO,
    random_seed: NO, tmp_config_directory: NO, config_save_dir: NO, include_check: NO,
    dynamic_interfaces: NO, disable_local_igmp: NO, data_use_instance: NO,
    reload_repeat: NO, reload_file: NO, reload_time_file: NO,
    enable_traps: NO, enable_snmp_vrrp: NO, enable_snmp_keepalived: NO, enable_snmp_rfc: NO, enable_snmp_rfcv2: NO,
    enable_snmp_rfcv3: NO, enable_snmp_checker: NO, snmp_socket: NO, enable_dbus: NO, dbus_service_name: NO,
    notify_fifo: FIFO_NOT_FILE, vrrp_notify_fifo: FIFO_NOT_FILE, lvs_notify_fifo: FIFO_NOT_FILE,
    nftables_ipvs: NO, nftables_ipvs_priority: NO, nftables_ipvs_start_fwmark: NO,
  }),
);

/** Process-wide keywords that 2.2.7 accepts at the top level, outside global_defs. */
export const GLOBAL_ROOT = {
  ...values('linkbeat_use_polling', 'net_namespace_ipvs', 'namespace_with_ipsets', 'use_pid_dir'),
  ...reported({
    net_namespace: 'net_namespace name missing - ignoring',
    instance: 'instance name missing - ignoring',
  }),
  ...required('child_wait_time'),
};

export const GLOBAL_ROOT_STATUS = status({
  linkbeat_use_polling: NO,
  net_namespace: partial('the syslog ident does not carry the namespace name'),
  namespace_with_ipsets: NO, use_pid_dir: NO,
  instance: NO, child_wait_time: NO,
});
