// Scenarios for the run-time differential (differential.ts): each names the keepalived behaviour it pins down.
import type { Scenario } from './differential.js';

const rs = (addr: string, port: number, extra = ''): string => `  real_server ${addr} ${port} {\n    weight 1\n${extra}  }\n`;

/** sh-port / sh-fallback / mh-port / mh-fallback and flag-N: IP_VS_SVC_F_SCHED_* as ipvsadm -Ln names them. */
export const schedulerFlags: Scenario = {
  name: 'sched-flags',
  config: [
    ['192.0.2.10', 'sh', 'sh-port'],
    ['192.0.2.11', 'sh', 'sh-fallback'],
    ['192.0.2.12', 'mh', 'mh-port'],
    ['192.0.2.13', 'mh', 'mh-fallback'],
    ['192.0.2.14', 'sh', 'sh-port\n  sh-fallback'],
    ['192.0.2.15', 'rr', 'flag-1\n  flag-3'],
    ['192.0.2.16', 'sh', 'mh-port'],
  ].map(([vip, algo, flags]) => `virtual_server ${vip} 80 {\n  lb_algo ${algo}\n  ${flags}\n  lb_kind NAT\n  protocol TCP\n${rs('192.0.2.21', 80)}}\n`).join(''),
};

/** persistence_granularity: IPv4 netmasks as inet_aton reads them (solid or not), IPv6 prefixes, fwmark services. */
export const persistenceGranularity: Scenario = {
  name: 'persistence-granularity',
  config: [
    ['192.0.2.20 80', '255.255.255.0'],
    ['192.0.2.21 80', '24'],
    ['192.0.2.22 80', '255.0.255.0'],
    ['192.0.2.23 80', '0.0.0.0'],
    ['2001:db8::20 80', '64'],
    ['2001:db8::21 80', '128'],
    ['fwmark 5', '255.255.0.0'],
  ].map(([vs, g]) => `virtual_server ${vs} {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  persistence_timeout 50\n  persistence_granularity ${g}\n${rs(vs!.includes(':') ? '2001:db8::30' : '192.0.2.31', vs!.startsWith('fwmark') ? 0 : 80)}}\n`).join(''),
};

/** DR/TUN destinations take each group member's port (fwmark members: 0); NAT keeps the real server's. */
export const groupPorts: Scenario = {
  name: 'group-ports',
  config: `virtual_server_group mixed {
  192.0.2.40 80
  192.0.2.41 8080
  192.0.2.42-43 443
  fwmark 7
}
virtual_server group mixed {
  lb_algo rr
  lb_kind DR
  protocol TCP
${rs('192.0.2.50', 80)}}
virtual_server_group tun {
  192.0.2.44 81
  192.0.2.45 82
}
virtual_server group tun {
  lb_algo rr
  lb_kind TUN
  protocol TCP
${rs('192.0.2.51', 81)}}
virtual_server_group nat {
  192.0.2.46 83
  192.0.2.47 84
}
virtual_server group nat {
  lb_algo rr
  lb_kind NAT
  protocol TCP
${rs('192.0.2.52', 9000)}}
`,
};

/** HTTP on 192.0.2.1:8081 and TCP on :8082 inside the guest (node starts in ~2 s there); nothing on :8083. */
const BACKENDS = String.raw`node -e "const n=require('net');const q=(s)=>s.on('error',()=>{});n.createServer((s)=>q(s).on('data',()=>s.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'))).listen(8081,'192.0.2.1');n.createServer((s)=>q(s).end()).listen(8082,'192.0.2.1')" &
echo $! > "$W/backends.pid"; sleep 3`;

/** Shell that gives the real server `rs` (`ADDRESS PORT`) weight `w` in the side's config: its line after the server's. */
const setWeight = (rs: string, w: number): string => `sed -i '/real_server ${rs} {/{n;s/weight .*/weight ${w}/}' "$W/keepalived.conf"`;

/** TCP_CHECK against 192.0.2.1:`port`, where nothing listens: the server fails at its first check. */
const refused = (port: number): string => `    TCP_CHECK {\n      connect_ip 192.0.2.1\n      connect_port ${port}\n      connect_timeout 1\n      retry 0\n    }\n`;

/**
 * Reloads that move weights alone (ipwrapper.c clear_diff_rs, init_service_rs → update_svr_wgt): a live server's
 * entry is edited, a failed inhibited one stays at weight 0, on each member of a group too; a weight that takes the
 * live servers below the quorum brings the sorry server in, and one that gives it back takes it out. The virtual
 * server with the quorum comes first, so a reload logs a later one's weight after its quorum lines, as keepalived
 * weighs each virtual server in turn (ipwrapper.c init_service_vs); and the last reload removes a later one's server,
 * which keepalived logs before any weight or quorum (clear_diff_services).
 */
export const reloadWeights: Scenario = {
  name: 'reload-weights',
  settleS: 4,
  steps: [
    {
      name: 'weights',
      shell: `${setWeight('192.0.2.61 80', 3)}; ${setWeight('192.0.2.72 80', 2)}; ${setWeight('192.0.2.73 80', 5)}; ${setWeight('192.0.2.66 80', 3)}; kill -HUP $DPID; sleep 3`,
    },
    { name: 'quorum-lost', shell: `${setWeight('192.0.2.66 80', 1)}; kill -HUP $DPID; sleep 3` },
    { name: 'quorum-back', shell: `${setWeight('192.0.2.61 80', 1)}; ${setWeight('192.0.2.66 80', 2)}; kill -HUP $DPID; sleep 3` },
    { name: 'removed', shell: `sed -i '/real_server 192.0.2.63 80 {/,/^  }/d' "$W/keepalived.conf"; ${setWeight('192.0.2.66 80', 1)}; kill -HUP $DPID; sleep 3` },
    // The group's blocks first: the next reload walks g, 192.0.2.65, 192.0.2.60 (ipwrapper.c clear_diff_services walks
    // the last config's virtual servers), where the pools were made in the order 192.0.2.65, 192.0.2.60, g.
    {
      name: 'reordered',
      shell: `awk '/^virtual_server_group g \\{/{t=1} t{top=top $0 "\\n"; next} {rest=rest $0 "\\n"} END{printf "%s%s", top, rest}' "$W/keepalived.conf" > "$W/reordered"; ` +
        'cat "$W/reordered" > "$W/keepalived.conf"; kill -HUP $DPID; sleep 3',
    },
    {
      name: 'removed-after-reorder',
      shell: `sed -i -e '/real_server 192.0.2.62 80 {/,/^  }/d' -e '/real_server 192.0.2.72 80 {/,/^  }/d' "$W/keepalived.conf"; kill -HUP $DPID; sleep 3`,
    },
  ],
  config: `virtual_server 192.0.2.65 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  quorum 4
  sorry_server 192.0.2.69 80
${rs('192.0.2.66', 80).replace('weight 1', 'weight 2')}${rs('192.0.2.67', 80).replace('weight 1', 'weight 2')}${rs('192.0.2.68', 80, refused(8084)).replace('weight 1', 'weight 2')}}
virtual_server 192.0.2.60 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind NAT
  protocol TCP
${rs('192.0.2.61', 80)}${rs('192.0.2.62', 80)}${rs('192.0.2.63', 80)}}
virtual_server_group g {
  192.0.2.70-71 80
}
virtual_server group g {
  delay_loop 1
  lb_algo wrr
  lb_kind DR
  protocol TCP
${rs('192.0.2.72', 80)}${rs('192.0.2.73', 80, `    inhibit_on_failure\n${refused(8083)}`)}}
`,
};

/** The lines keepalived users grep for: checker activation, quorum at start, failures after retries, shutdown. */
export const checkerLog: Scenario = {
  name: 'checker-log',
  setup: BACKENDS,
  teardown: 'kill "$(cat "$W/backends.pid")"',
  settleS: 8,
  config: `virtual_server 192.0.2.60 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.0.2.1 8081 {
    weight 1
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout 2
      retry 1
      delay_before_retry 1
    }
  }
  real_server 192.0.2.1 8082 {
    weight 1
    TCP_CHECK {
      connect_timeout 2
      retry 1
      delay_before_retry 1
    }
  }
  real_server 192.0.2.1 8083 {
    weight 1
    TCP_CHECK {
      connect_timeout 2
      retry 2
      delay_before_retry 1
    }
  }
}
`,
};

/**
 * Check scripts under enable_script_security and script_user: each call records its uid and argv. notify_down of
 * the failing server, quorum_up at start and quorum_down once both servers are down run as the default user, once
 * each; MISC_CHECK runs as that user too; a world-writable script set to run as root is disabled.
 */
export const checkScripts: Scenario = {
  name: 'check-scripts',
  setup: String.raw`printf '#!/bin/sh\necho "$(id -u) $*" >> %s/calls.log\n' "$W" > "$W/rec"
printf '#!/bin/sh\necho "$(id -u) misc $*" >> %s/calls.log\nexit 1\n' "$W" > "$W/misc"
cp "$W/rec" "$W/unsafe"
: > "$W/calls.log"; chmod 666 "$W/calls.log"; chmod 755 "$W/rec" "$W/misc"; chmod 777 "$W/unsafe"`,
  collect: 'cat "$W/calls.log"',
  settleS: 6,
  config: `global_defs {
  enable_script_security
  script_user nobody
}
virtual_server 192.0.2.70 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
  quorum_up "@W@/rec quorum-up"
  quorum_down "@W@/rec quorum-down"
  real_server 192.0.2.1 8091 {
    weight 1
    notify_up "@W@/rec rs-up 8091"
    notify_down "@W@/rec rs-down 8091"
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 192.0.2.1 8092 {
    weight 1
    notify_down "@W@/unsafe rs-down 8092" root
    MISC_CHECK {
      misc_path "@W@/misc 8092"
      retry 0
    }
  }
}
`,
};

/**
 * ha_suspend (check_api.c update_checker_activity): the services stay; the checkers of 192.0.2.80 check only while
 * that address is on an interface (any interface, counted per interface), those of 192.0.2.81, whose address is
 * there from the start, from the start. The backends write a line per check, the steps marks between them.
 */
export const haSuspend: Scenario = {
  name: 'ha-suspend',
  setup: String.raw`: > "$W/hits"; chmod 666 "$W/hits"
node -e "const n=require('net');const f=require('fs');const hit=(p)=>f.appendFileSync('$W/hits','hit '+p+'\n');const q=(s)=>s.on('error',()=>{});n.createServer((s)=>{hit(8101);q(s).on('data',()=>s.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'))}).listen(8101,'192.0.2.1');n.createServer((s)=>{hit(8102);q(s).end()}).listen(8102,'192.0.2.1');n.createServer((s)=>{hit(8103);q(s).end()}).listen(8103,'192.0.2.1')" &
echo $! > "$W/backends.pid"; sleep 3
ip addr add 192.0.2.81/32 dev lvskv0`,
  teardown: 'kill "$(cat "$W/backends.pid")"; ip addr del 192.0.2.81/32 dev lvskv0',
  collect: 'cat "$W/hits"',
  settleS: 4,
  detail: true,
  steps: [
    { name: 'added', shell: 'echo mark added >> "$W/hits"; ip addr add 192.0.2.80/32 dev lvskv0; sleep 4' },
    { name: 'added-lo', shell: 'ip addr add 192.0.2.80/32 dev lo; sleep 1' },
    { name: 'removed-one', shell: 'ip addr del 192.0.2.80/32 dev lvskv0; sleep 1' },
    { name: 'reloaded', shell: 'kill -HUP $DPID; sleep 4' },
    { name: 'removed', shell: 'ip addr del 192.0.2.80/32 dev lo; sleep 2; echo mark removed >> "$W/hits"; sleep 4' },
  ],
  config: `virtual_server 192.0.2.80 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  ha_suspend
  real_server 192.0.2.1 8101 {
    weight 1
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout 2
      retry 0
    }
  }
  real_server 192.0.2.1 8102 {
    weight 1
    TCP_CHECK {
      connect_timeout 2
      retry 0
    }
  }
}
virtual_server 192.0.2.81 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  ha_suspend
  real_server 192.0.2.1 8103 {
    weight 1
    TCP_CHECK {
      connect_timeout 2
      retry 0
    }
  }
}
`,
};
