// Run-time differential against keepalived 2.2.7 in the IPVS VM: each scenario's config is run first by keepalived
// (`-n -C -l`), then by lvskeeper (`-n -C -l --ipvs-driver kernel`), on the same kernel in the same boot. After
// start, after each step and after stop, `ipvsadm -Ln` is recorded once the table has settled, together with each
// daemon's log and whatever the scenario collects (script logs …). Tests compare the two sides.
import { runInVm, type VmResult } from './harness.js';

export interface Step {
  /** `[a-z0-9-]+`: names the table recorded after it. */
  readonly name: string;
  /** Shell run while the daemon runs ($W = this side's work directory). */
  readonly shell: string;
}

export interface Scenario {
  /** `[a-z0-9-]+` */
  readonly name: string;
  /** keepalived.conf text; `@W@` becomes this side's work directory (under /tmp, root-owned 0755). */
  readonly config: string;
  /** Shell run before the daemon starts, once per side ($W set): backends, scripts, users. */
  readonly setup?: string;
  readonly steps?: readonly Step[];
  /** Shell run after the daemon stopped; its output is recorded (script logs …). */
  readonly collect?: string;
  /** Shell run after `collect` to undo `setup` (kill backends …). */
  readonly teardown?: string;
  /** Time the daemon runs after it is ready before the first table is taken (default 1 s). */
  readonly settleS?: number;
  /** lvskeeper also with -D, as keepalived always runs here (its detail lines compared). */
  readonly detail?: boolean;
}

export type Side = 'keepalived' | 'lvskeeper';

export interface SideResult {
  /** `ipvsadm -Ln` after `start`, after each step by name, and after `stopped`. */
  readonly tables: ReadonlyMap<string, string>;
  /** The daemon's console log (stdout and stderr). */
  readonly log: string;
  /** `collect`'s output. */
  readonly collected: string;
  /** The daemon's exit status after SIGTERM. */
  readonly exitCode: string;
}

export type ScenarioResult = Record<Side, SideResult>;

export interface DifferentialRun {
  readonly vm: VmResult;
  readonly results: ReadonlyMap<string, ScenarioResult>;
}

const SIDES: readonly Side[] = ['keepalived', 'lvskeeper'];

/** Shell that succeeds once the side has finished starting: keepalived's last start-up line, lvskeeper's control
 *  socket (it listens last). */
const READY: Record<Side, string> = {
  keepalived: `grep -q 'Startup complete' "$W/daemon.log"`,
  lvskeeper: '[ -S "$W/control.sock" ]',
};

const START: Record<Side, string> = {
  keepalived: 'keepalived -n -C -l -D -f "$W/keepalived.conf" -p "$W/k.pid" -c "$W/c.pid"',
  lvskeeper: 'node dist/bin/lvskeeper.js -n -C -l -f "$W/keepalived.conf" --ipvs-driver kernel --control-socket "$W/control.sock" --state-file "$W/overrides.json" -p "$W/pid"',
};

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Guest shell: helpers, then every scenario on both sides in turn. Records go to stdout as `=== scenario/side/what`. */
function guest(scenarios: readonly Scenario[]): string {
  const out: string[] = [String.raw`
settle() { # wait until ipvsadm -Ln is the same over three looks 0.4 s apart (at most ~20 s)
  prev=''; same=0; i=0
  while [ $same -lt 2 ] && [ $i -lt 50 ]; do
    sleep 0.4; cur=$(ipvsadm -Ln 2>&1)
    if [ "$cur" = "$prev" ]; then same=$((same + 1)); else same=0; fi
    prev=$cur; i=$((i + 1))
  done
}
table() { echo "=== $1/table/$2"; ipvsadm -Ln; }
`];
  for (const s of scenarios) {
    if (!/^[a-z0-9-]+$/.test(s.name)) throw new Error(`scenario name ${s.name}`);
    for (const side of SIDES) {
      const id = `${s.name}/${side}`;
      out.push(`
W=/tmp/lvskd/${s.name}/${side}; mkdir -p "$W"; chmod 755 /tmp/lvskd /tmp/lvskd/${s.name} "$W"; export W
printf '%s' ${quote(s.config)} | sed "s|@W@|$W|g" > "$W/keepalived.conf"
ipvsadm -C
${s.setup ?? ''}
${START[side]}${side === 'lvskeeper' && s.detail ? ' -D' : ''} > "$W/daemon.log" 2>&1 &
DPID=$!
i=0; until ${READY[side]}; do i=$((i + 1)); [ $i -gt 300 ] && { echo "${id} not ready" >&2; break; }; sleep 0.2; done
sleep ${s.settleS ?? 1}; settle
table ${id} start
${(s.steps ?? []).map((st) => `${st.shell}\nsettle; table ${id} ${st.name}`).join('\n')}
kill -TERM $DPID; wait $DPID; RC=$?; echo "=== ${id}/exit"; echo $RC
sleep 0.5; table ${id} stopped
echo "=== ${id}/collected"
${s.collect ?? ''}
${s.teardown ?? ''}
echo "=== ${id}/log"; cat "$W/daemon.log"
`);
    }
  }
  out.push('exit 0\n');
  return out.join('');
}

function parse(stdout: string, scenarios: readonly Scenario[]): Map<string, ScenarioResult> {
  const parts = new Map<string, string>();
  for (const part of stdout.split(/^=== /m).slice(1)) {
    const nl = part.indexOf('\n');
    parts.set(part.slice(0, nl), part.slice(nl + 1));
  }
  const results = new Map<string, ScenarioResult>();
  for (const s of scenarios) {
    const side = (sd: Side): SideResult => {
      const tables = new Map<string, string>();
      for (const name of ['start', ...(s.steps ?? []).map((st) => st.name), 'stopped']) {
        const t = parts.get(`${s.name}/${sd}/table/${name}`);
        if (t !== undefined) tables.set(name, t);
      }
      return {
        tables,
        log: parts.get(`${s.name}/${sd}/log`) ?? '',
        collected: parts.get(`${s.name}/${sd}/collected`) ?? '',
        exitCode: (parts.get(`${s.name}/${sd}/exit`) ?? '').trim(),
      };
    };
    results.set(s.name, { keepalived: side('keepalived'), lvskeeper: side('lvskeeper') });
  }
  return results;
}

/** Boots one VM and runs every scenario on both sides. */
export async function runDifferential(scenarios: readonly Scenario[], timeoutMs = 540_000): Promise<DifferentialRun> {
  const vm = await runInVm(guest(scenarios), { timeoutMs });
  return { vm, results: parse(vm.stdout, scenarios) };
}

/** `ipvsadm -Ln` without its version header and connection counters: what configuration decides. */
export function tableRows(listing: string | undefined): string[] {
  return (listing ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^(IP Virtual Server|Prot LocalAddress|\s+-> RemoteAddress)/.test(l))
    .map((l) => {
      const d = /^\s+-> (\S+)\s+(\S+)\s+(\d+)\s+\d+\s+\d+\s*$/.exec(l);
      return d ? `  -> ${d[1]} ${d[2]} ${d[3]}` : l.trim().split(/\s+/).join(' ');
    });
}

/**
 * Log messages without what each side puts before them: keepalived's `Thu Dec  3 18:40:47 2026: `, lvskeeper's
 * `Thu Dec 03 2026 18:40:47: ` and its `ipvs: ` component.
 */
export function logMessages(log: string): string[] {
  return log
    .split('\n')
    .map((l) => l
      .replace(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: /, '')
      .replace(/^\w{3} \w{3} \d\d \d{4} \d\d:\d\d:\d\d: /, '')
      .replace(/^ipvs: /, '')
      .trim())
    .filter((l) => l !== '');
}
