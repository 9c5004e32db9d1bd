// Seeded generator of LVS scenarios for the run-time differential against keepalived 2.2.7 (generated-
// differential.test.ts). I/O-free: a seed and an index in, config text and a backend timeline out. A scenario is one
// virtual server (or virtual_server_group) with its real servers, checkers and scripts, and the state of each real
// server's backend in each phase of the run. Addresses derive from the scenario's index, so a scenario replayed alone
// (LVSK_DIFF_ONLY) writes the same config text and logs the same lines as inside its batch.
import { createHash } from 'node:crypto';
import { seededRandom } from '../support/seeded-random.js';

/** One scenario's own stream: the batch seed and its index mixed, so scenarios do not depend on their neighbours. */
export function scenarioRandom(seed: number, index: number): () => number {
  return seededRandom(Math.imul(seed ^ 0x9e3779b9, 2654435761) ^ Math.imul(index + 1, 0x85ebca6b));
}

class Pick {
  constructor(private readonly r: () => number) {}
  chance(p: number): boolean {
    return this.r() < p;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  one<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }
}

/** What a backend does during one phase. */
export type BackendState =
  | 'up' //       TCP accepted; HTTP answered with the expected status and body
  | 'down' //     not listening: the connect is refused
  | 'slow' //     SYN-ACKs dropped (an nft set), HTTP requests unanswered: the check times out
  | 'status' //   HTTP answered 503
  | 'digest' //   HTTP answered 200 with another body
  | `exit:${number}`; // MISC_CHECK: the script's exit code

export type CheckerKind = 'TCP_CHECK' | 'HTTP_GET' | 'MISC_CHECK' | 'none';

export interface GenRealServer {
  readonly addr: string;
  readonly port: number;
  readonly checker: CheckerKind;
  /** `[addr]:tcp:port` as both daemons log it (keepalived's FMT_RS). */
  readonly logKey: string;
  /** One state per phase (undefined for servers without a checker). */
  readonly states: readonly BackendState[];
  /** The body an `up` HTTP backend answers. */
  readonly body: string;
}

export interface GenScenario {
  readonly seed: number;
  readonly index: number;
  /** `g<seed>-<index>`: what a failure prints and LVSK_DIFF_ONLY takes. */
  readonly name: string;
  /** The virtual_server (and virtual_server_group) blocks. */
  readonly config: string;
  /** `ipvsadm -Ln` service lines belong to this scenario when their address is one of these (or fwmark). */
  readonly serviceKeys: readonly string[];
  readonly realServers: readonly GenRealServer[];
  /** The argv tag every script of this scenario carries. */
  readonly tag: string;
}

export interface GenBatch {
  readonly seed: number;
  readonly scenarios: readonly GenScenario[];
  readonly globalDefs: string;
  readonly phases: number;
  /** How long each phase lasts: enough for the slowest checker to retry and decide. */
  readonly phaseS: number;
  readonly config: string;
}

/** Where the guest puts the scripts the configs name. */
export const GUEST_DIR = '/tmp/lvskg';
export const REC = `${GUEST_DIR}/bin/rec`;
export const MISC = `${GUEST_DIR}/bin/misc`;

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf'] as const;
const PHASES = 4;
const DELAY_LOOP = [1, 2] as const;
// Phases last as long as the slowest checker takes to decide: retry and timeout bound the run's length.
const RETRY = [0, 1] as const;
// Not 1 s: a TCG guest starting ~60 checkers at once stalls either daemon long enough to time out a good server.
const CONNECT_TIMEOUT = [2] as const;

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function schedulerLines(p: Pick, algo: string, udp: boolean): string[] {
  const out: string[] = [];
  if (algo === 'sh') {
    if (p.chance(0.5)) out.push('sh-port');
    if (p.chance(0.5)) out.push('sh-fallback');
  } else if (algo === 'mh') {
    if (p.chance(0.5)) out.push('mh-port');
    if (p.chance(0.5)) out.push('mh-fallback');
  } else if (p.chance(0.1)) {
    out.push(`flag-${p.int(1, 3)}`);
  }
  if (udp && p.chance(0.3)) out.push('ops');
  return out;
}

function timeline(p: Pick, checker: CheckerKind, digest: boolean, dynamic: boolean): BackendState[] {
  if (checker === 'none') return [];
  const failing: BackendState[] = checker === 'MISC_CHECK'
    ? ['exit:1', ...(dynamic ? (['exit:2', 'exit:4', 'exit:7'] as const) : (['exit:3'] as const))]
    : checker === 'HTTP_GET'
      ? ['down', 'slow', 'status', ...(digest ? (['digest'] as const) : [])]
      : ['down', 'slow'];
  const good: BackendState = checker === 'MISC_CHECK' ? 'exit:0' : 'up';
  const bad = (): BackendState => p.one(failing);
  switch (p.int(0, 4)) {
    case 0: return Array<BackendState>(PHASES).fill(good);
    case 1: { const b = bad(); return Array<BackendState>(PHASES).fill(b); }
    case 2: { const b = bad(); return Array.from({ length: PHASES }, (_, i) => (i % 2 === 0 ? good : b)); }
    case 3: { const b = bad(); return Array.from({ length: PHASES }, (_, i) => (i % 2 === 0 ? b : good)); }
    default: return Array.from({ length: PHASES }, () => (p.chance(0.5) ? good : bad()));
  }
}

/** The slowest time a checker may take to decide after a backend changed, with room for the guest's slowness. */
function decideS(delayLoop: number, retry: number, timeout: number): number {
  return delayLoop + (retry + 1) * (timeout + 1) + 3;
}

/** One scenario: config text and timeline. Pure in (seed, index). */
export function generateScenario(seed: number, index: number): GenScenario & { readonly needS: number } {
  const p = new Pick(scenarioRandom(seed, index));
  const slot = index % 250;
  const tag = `s${index}`;
  const v6 = p.chance(0.2);
  const udp = p.chance(0.15);
  const proto = udp ? 'UDP' : 'TCP';
  const kind = p.one(['NAT', 'NAT', 'DR', 'TUN'] as const);
  const algo = p.one(SCHEDULERS);
  const vip = (k: number): string => (v6 ? `2001:db8:100:${slot.toString(16)}::${k}` : `10.100.${slot}.${k}`);
  const vsPort = p.one([80, 443, 8080, 8443]);
  const serviceKeys: string[] = [];
  const head: string[] = [];
  const shape = p.int(0, 9);
  let vsLine: string;
  if (shape < 6) {
    vsLine = `virtual_server ${vip(1)} ${vsPort}`;
    serviceKeys.push(v6 ? `[${vip(1)}]:${vsPort}` : `${vip(1)}:${vsPort}`);
  } else if (shape < 8) {
    const mark = 1000 + slot;
    vsLine = `virtual_server fwmark ${mark}`;
    serviceKeys.push(`FWM ${mark}`);
  } else {
    const group = `grp${slot}`;
    const members: string[] = [];
    const n = p.int(1, 3);
    for (let m = 0; m < n; m++) {
      const port = m === 0 ? vsPort : p.one([80, 81, 8080, 9000]);
      if (p.chance(0.4)) {
        const lo = 10 + m * 10;
        const hi = lo + p.int(1, 2);
        // vip() writes k as the last group's text (read as hex), so the range end is written the same way.
        members.push(`${vip(lo)}-${hi} ${port}`);
        for (let a = lo; a <= hi; a++) serviceKeys.push(v6 ? `[${vip(a)}]:${port}` : `${vip(a)}:${port}`);
      } else {
        members.push(`${vip(10 + m * 10)} ${port}`);
        serviceKeys.push(v6 ? `[${vip(10 + m * 10)}]:${port}` : `${vip(10 + m * 10)}:${port}`);
      }
    }
    if (p.chance(0.3)) {
      members.push(`fwmark ${2000 + slot}`);
      serviceKeys.push(`FWM ${2000 + slot}`);
    }
    head.push(`virtual_server_group ${group} {\n${members.map((m) => `  ${m}\n`).join('')}}\n`);
    vsLine = `virtual_server group ${group}`;
  }
  const delayLoop = p.one(DELAY_LOOP);
  const body: string[] = [`  delay_loop ${delayLoop}`, `  lb_algo ${algo}`, ...schedulerLines(p, algo, udp).map((l) => `  ${l}`), `  lb_kind ${kind}`, `  protocol ${proto}`];
  if (p.chance(0.3)) {
    body.push(`  persistence_timeout ${p.int(30, 600)}`);
    if (p.chance(0.5)) body.push(`  persistence_granularity ${v6 ? p.int(48, 128) : p.one(['255.255.255.0', '255.255.0.0', '24', '255.0.255.0'])}`);
  }
  if (p.chance(0.25)) body.push('  alpha');
  if (p.chance(0.2)) body.push('  omega');

  const nrs = p.int(1, 3);
  const rss: GenRealServer[] = [];
  let needS = 0;
  let weightSum = 0;
  const rsBlocks: string[] = [];
  for (let k = 0; k < nrs; k++) {
    const addr = v6 ? `fd00:200:${slot.toString(16)}::${k + 1}` : `10.200.${slot}.${k + 1}`;
    const port = p.one([80, 8080, 8000 + k]);
    const weight = p.chance(0.1) ? 0 : p.int(1, 5);
    weightSum += weight;
    const checker = p.one(['TCP_CHECK', 'TCP_CHECK', 'HTTP_GET', 'HTTP_GET', 'MISC_CHECK', 'none'] as const);
    const lines = [`    weight ${weight}`];
    if (p.chance(0.3)) lines.push('    inhibit_on_failure');
    if (p.chance(0.4)) {
      const user = p.one(['', '', ' nobody', ' root']);
      lines.push(`    notify_up "${REC} ${tag} rs-up ${k}"${user}`);
      lines.push(`    notify_down "${REC} ${tag} rs-down ${k}"${user}`);
    }
    const retry = p.one(RETRY);
    const timeout = p.one(CONNECT_TIMEOUT);
    const rsBody = `ok-${tag}-${k}`;
    let digest = false;
    let dynamic = false;
    if (checker === 'TCP_CHECK') {
      lines.push(`    TCP_CHECK {\n      connect_timeout ${timeout}\n      retry ${retry}\n      delay_before_retry 1\n    }`);
    } else if (checker === 'HTTP_GET') {
      digest = p.chance(0.5);
      const url = [`        path /${tag}`, ...(digest ? [`        digest ${md5(rsBody)}`] : []), ...(p.chance(0.7) ? ['        status_code 200'] : [])];
      lines.push(`    HTTP_GET {\n      url {\n${url.join('\n')}\n      }\n      connect_timeout ${timeout}\n      retry ${retry}\n      delay_before_retry 1\n    }`);
    } else if (checker === 'MISC_CHECK') {
      dynamic = p.chance(0.4);
      lines.push(`    MISC_CHECK {\n      misc_path "${MISC} ${tag}-${k}"\n      misc_timeout 5\n${dynamic ? '      misc_dynamic\n' : ''}      retry ${retry}\n      delay_before_retry 1\n    }`);
    }
    if (checker !== 'none') needS = Math.max(needS, decideS(delayLoop, retry, checker === 'MISC_CHECK' ? 1 : timeout));
    rsBlocks.push(`  real_server ${addr} ${port} {\n${lines.join('\n')}\n  }\n`);
    rss.push({
      addr, port, checker, body: rsBody,
      logKey: `[${addr}]:${udp ? 'udp' : 'tcp'}:${port}`,
      states: timeline(p, checker, digest, dynamic),
    });
  }
  if (p.chance(0.3) && weightSum > 0) {
    body.push(`  quorum ${p.int(1, weightSum)}`);
    if (p.chance(0.5)) body.push(`  hysteresis ${p.int(0, 1)}`);
    if (p.chance(0.6)) {
      body.push(`  quorum_up "${REC} ${tag} quorum-up"`);
      body.push(`  quorum_down "${REC} ${tag} quorum-down"`);
    }
  }
  if (p.chance(0.2)) {
    const sorry = v6 ? `fd00:201:${slot.toString(16)}::1` : `10.201.${slot}.1`;
    body.push(`  sorry_server ${sorry} ${p.one([80, 8080])}`);
    if (p.chance(0.3)) body.push('  sorry_server_inhibit');
  }
  const config = `${head.join('')}${vsLine} {\n${body.join('\n')}\n${rsBlocks.join('')}}\n`;
  return { seed, index, name: `g${seed}-${index}`, config, serviceKeys, realServers: rss, tag, needS };
}

/**
 * Scenarios `indices` of `seed` in one config, with global_defs drawn from `group` (the batch the indices belong
 * to), so that a scenario replayed alone runs under the same global_defs.
 */
export function generateBatch(seed: number, group: number, indices: readonly number[]): GenBatch {
  const scenarios = indices.map((i) => generateScenario(seed, i));
  const p = new Pick(scenarioRandom(seed ^ 0x5bd1e995, group));
  const g: string[] = [];
  if (p.chance(0.5)) g.push('  enable_script_security');
  if (p.chance(0.5)) g.push('  script_user nobody');
  const globalDefs = g.length > 0 ? `global_defs {\n${g.join('\n')}\n}\n` : '';
  const phaseS = Math.max(6, ...scenarios.map((s) => s.needS));
  return {
    seed, phases: PHASES, phaseS, globalDefs,
    scenarios: scenarios.map(({ needS: _n, ...s }) => s),
    config: globalDefs + scenarios.map((s) => s.config).join(''),
  };
}
