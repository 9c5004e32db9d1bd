// What the real-world corpus (corpus-differential.test.ts) found lvskeeper -t getting wrong, each case reduced to a
// small config and run beside keepalived 2.2.7's -t in a namespace with an eth0: the same exit status, and the line
// that decides it printed by both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigTestNamespace } from '../support/config-test-ns.js';
import { repoRoot } from '../support/tier.js';

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');

const instance = (body: string): string => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
${body}}
`;
const vip = '  virtual_ipaddress {\n    192.0.2.10/24\n  }\n';

interface Case {
  readonly name: string;
  readonly text: string | Buffer;
  readonly status: number;
  /** A line both must print (FILE:LINE: / (FILE: Line N) prefixes aside). */
  readonly line?: string;
}

function cases(dir: string): Case[] {
  const safe = join(dir, 'check.sh');
  writeFileSync(safe, '#!/bin/sh\nexit 0\n');
  chmodSync(safe, 0o755);
  const missing = join(dir, 'no-such-script.sh');
  return [
    {
      name: 'a vrrp_script whose script is missing is disabled (vrrp.c check_track_script_secure)',
      text: `global_defs {\n  enable_script_security\n  script_user root\n}\nvrrp_script chk {\n  script "${missing}"\n}\n${instance(`${vip}  track_script {\n    chk\n  }\n`)}`,
      status: 5,
      line: 'Disabling track script chk since not found/accessible',
    },
    {
      name: 'a vrrp_script found on PATH runs, so without enable_script_security it is the SECURITY VIOLATION',
      text: `vrrp_script chk {\n  script "true"\n}\n${instance(`${vip}  track_script {\n    chk\n  }\n`)}`,
      status: 6,
      line: 'SECURITY VIOLATION - scripts are being executed but script_security not enabled.',
    },
    {
      name: 'a notify script that exists runs (SECURITY VIOLATION); one missing is dropped silently',
      text: instance(`${vip}  notify_master "${safe} m"\n  notify_backup "${missing}"\n`),
      status: 6,
    },
    {
      name: 'the SECURITY VIOLATION stands when the instance itself is invalid (keepalived still lists it)',
      text: `vrrp_script chk {\n  script "${safe}"\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id x\n${vip}  track_script {\n    chk\n  }\n}\n`,
      status: 6,
    },
    {
      name: 'enable_script_security, no keepalived_script user: a notify script without a user (lib/notify.c get_default_script_user)',
      text: `global_defs {\n  enable_script_security\n}\n${instance(`${vip}  notify_master "${safe}"\n`)}`,
      status: 5,
      line: 'Unable to set default user keepalived_script for script',
    },
    {
      name: 'vrrp_garp_interval 0 is refused (global_parser.c vrrp_garp_interval_handler)',
      text: `global_defs {\n  vrrp_garp_interval 0\n  vrrp_gna_interval 0\n}\n${instance(vip)}`,
      status: 5,
      line: "vrrp_garp_interval '0' is invalid",
    },
    { name: 'vrrp_garp_interval above one second is taken', text: `global_defs {\n  vrrp_garp_interval 2.5\n}\n${instance(vip)}`, status: 0 },
    {
      name: "nb_get_retry's deprecation counts as an error (check_http.c http_get_retry_handler)",
      text: 'virtual_server 192.0.2.10 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 192.0.2.20 80 {\n    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      nb_get_retry 3\n    }\n  }\n}\n',
      status: 5,
      line: "nb_get_retry is deprecated - please use 'retry'",
    },
    {
      name: 'strict mode: state MASTER without priority 255',
      text: `global_defs {\n  vrrp_strict\n}\n${instance(`  state MASTER\n${vip}`)}`,
      status: 5,
      line: '(VI_1) State MASTER must match being address owner',
    },
    {
      name: 'strict mode: authentication ignored',
      text: `global_defs {\n  vrrp_strict\n}\n${instance(`  state BACKUP\n  authentication {\n    auth_type PASS\n    auth_pass 1111\n  }\n${vip}`)}`,
      status: 5,
      line: '(VI_1) Strict mode does not support authentication. Ignoring.',
    },
    {
      name: 'nopreempt with state MASTER',
      text: instance(`  state MASTER\n  nopreempt\n${vip}`),
      status: 5,
      line: '(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing',
    },
    {
      name: 'an invalid priority is 100, not derived from state MASTER (vrrp_parser.c vrrp_prio_handler)',
      text: `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  state MASTER\n  priority LEVEL\n  nopreempt\n${vip}}\n`,
      status: 5,
      line: '(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing',
    },
    {
      name: 'AH authentication with state MASTER below priority 255',
      text: instance(`  state MASTER\n  authentication {\n    auth_type AH\n    auth_pass 1111\n  }\n${vip}`),
      status: 5,
      line: '(VI_1) Initial state master is incompatible with AH authentication - clearing',
    },
    { name: 'no VIP in VRRPv2', text: instance(''), status: 5, line: '(VI_1) No VIP specified; at least one is sensible' },
    {
      name: 'VRRPv3 advert_int not in units of 10 ms',
      text: instance(`  version 3\n  advert_int 0.333\n${vip}`),
      status: 5,
      line: '(VI_1) VRRPv3 advertisement interval 0.333000s must be in units of 10ms - rounding',
    },
    {
      name: 'VRRPv3 advert_int of 100 s',
      text: instance(`  version 3\n  advert_int 100\n${vip}`),
      status: 5,
      line: '(VI_1) VRRPv3 advertisement interval 100.00s is out of range. Must be less than 40.96s. Setting to 40.95s',
    },
    { name: 'smtp_server named in /etc/hosts', text: `global_defs {\n  smtp_server localhost\n}\n${instance(vip)}`, status: 0 },
    {
      name: 'a UTF-8 BOM is part of the first keyword',
      text: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`global_defs {\n  router_id x\n}\n${instance(vip)}`)]),
      status: 5,
      line: "Unknown keyword '\ufeffglobal_defs'",
    },
    {
      name: 'a virtual route without its own interface is not tracked (vrrp_iproute.c alloc_route)',
      text: instance(`${vip}  virtual_routes {\n    192.0.2.128/25 via 192.0.2.1\n    198.51.100.0/24 via 192.0.2.1 dev eth0\n  }\n`),
      status: 5,
      line: 'Warning - cannot track route 192.0.2.128/25 with no interface specified, not tracking',
    },
    {
      name: 'gw in a static route is deprecated',
      text: `static_routes {\n  192.0.2.128/25 gw 192.0.2.1 dev eth0\n}\n${instance(vip)}`,
      status: 5,
      line: '"gw" for routes is deprecated. Please use "via"',
    },
    {
      name: 'a rule without a preference gets 16384 counting down, across static and virtual rules (vrrp_iprule.c alloc_rule)',
      text: `static_rules {\n  from 192.0.2.0/24 table 1\n}\n${instance(`${vip}  virtual_rules {\n    from 198.51.100.0/24 table 2\n  }\n`)}`,
      status: 5,
      line: 'Rule has no preference specified - setting to 16383. This is probably not what you want.',
    },
    {
      name: 'a rule with an address parse_route refuses',
      text: `static_rules {\n  to 192.0.2./24 table 1 priority 100\n}\n${instance(vip)}`,
      status: 5,
      line: 'Invalid rule to address 192.0.2./24',
    },
    { name: 'routes and rules keepalived takes as they are', text: `static_rules {\n  from 192.0.2.0/24 table 1 priority 100\n}\n${instance(`${vip}  virtual_routes {\n    198.51.100.0/24 via 192.0.2.1 dev eth0\n  }\n`)}`, status: 0 },
    {
      name: 'a vrrp_script without a name stops the read (vrrp_parser.c vrrp_script_handler)',
      text: `vrrp_script {\n  script "${safe}"\n}\n${instance(vip)}`,
      status: 2,
      line: '*** Configuration line starting `vrrp_script` is missing a parameter after keyword `vrrp_script` at word position 2',
    },
  ];
}

/** The output's lines without keepalived's `(FILE: Line N) ` or lvskeeper's `FILE:N: ` / `FILE: ` prefixes. */
function lines(out: string, file: string): string[] {
  return out.split('\n').map((l) => l.replace(/^\((?:.*?: )?Line \d+\) /, '').replace(`${file}:`, '').replace(/^\d+: /, '').replace(/^ /, ''));
}

test('-t on what the corpus found: the status and line keepalived 2.2.7 gives', (t) => {
  // The default-user case needs a host without the keepalived_script user.
  const scriptUser = readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith('keepalived_script:'));
  withConfigTestNamespace(t, 'lvskp-corpusfix', (inNs) => {
    const dir = mkdtempSync('/tmp/lvskp-corpusfix-');
    chmodSync(dir, 0o755);
    try {
      const wrong: string[] = [];
      for (const c of cases(dir).filter((x) => !(scriptUser && x.line?.startsWith('Unable to set default user')))) {
        const f = join(dir, 'keepalived.conf');
        writeFileSync(f, c.text);
        const k = inNs('keepalived', ['-t', '-f', f]);
        const l = inNs(process.execPath, [cli, '-t', '-f', f]);
        for (const [who, r] of [['keepalived', k], ['lvskeeper', l]] as const) {
          if (r.status !== c.status) wrong.push(`${c.name}: ${who} exits ${r.status}\n${r.stderr}`);
          else if (c.line && !lines(r.stderr, f).includes(c.line)) wrong.push(`${c.name}: ${who} does not print the line\n${r.stderr}`);
        }
      }
      assert.deepEqual(wrong, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
