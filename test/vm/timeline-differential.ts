// Runs generated batches (scenario-generator.ts) in the IPVS VM: keepalived in namespace k and lvskeeper in
// namespace l, started together on the same config, each with its own IPVS table, checking the same backends
// (timeline-backends.ts in the root namespace, reached over a veth from each). At the end of each phase both tables
// are taken; the notify scripts append `<netns> <uid> <argv>` to one calls log with a marker per checkpoint.
import { VM_CACHE, runInVm, sections, type VmResult } from './harness.js';
import { GUEST_DIR, MISC, REC, type GenBatch } from './scenario-generator.js';
import type { BackendSpec } from './timeline-backends.js';

export interface SideRun {
  /** `ipvsadm -Ln` at the end of each phase, then `stopped`. */
  readonly tables: readonly string[];
  readonly log: string;
  /** The log's length in bytes at each checkpoint (as `tables`): which phase a log line was written in. */
  readonly logAt: readonly number[];
  /** Calls by segment: [0] before checkpoint 0, [n] between checkpoints n-1 and n, last during the stop. */
  readonly calls: readonly string[][];
  readonly exitCode: string;
}

export interface BatchRun {
  readonly batch: GenBatch;
  readonly keepalived: SideRun;
  readonly lvskeeper: SideRun;
  readonly backendsLog: string;
}

export interface TimelineRun {
  readonly vm: VmResult;
  readonly runs: readonly BatchRun[];
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export function backendSpecs(batch: GenBatch): BackendSpec[] {
  return batch.scenarios.flatMap((s) => s.realServers.flatMap((rs, k): BackendSpec[] => {
    if (rs.checker === 'none') return [];
    const kind = rs.checker === 'MISC_CHECK' ? 'misc' : rs.checker === 'HTTP_GET' ? 'http' : 'tcp';
    return [{ id: `${s.tag}-${k}`, addr: rs.addr, port: rs.port, kind, body: rs.body, states: rs.states }];
  }));
}

/** Once per boot: the scripts the configs name, the backends' addresses and both namespaces. */
const PROLOGUE = String.raw`
G=${GUEST_DIR}
modprobe -d "${VM_CACHE}/k" veth
mkdir -p $G/bin; chmod 755 $G $G/bin
printf '#!/bin/sh\necho "$(readlink /proc/$$/ns/net) $(id -u) $*" >> ${GUEST_DIR}/calls.log\n' > ${REC}
printf '#!/bin/sh\nread c < ${GUEST_DIR}/misc/$1; exit $c\n' > ${MISC}
chmod 755 ${REC} ${MISC}
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip link add lvskb0 type dummy; ip link set lvskb0 up
# A slow backend's SYN-ACKs are dropped, not its other packets (timeline-backends.ts): a check connected before the
# backend turned slow still ends cleanly. Dropping all its packets would hold keepalived's checker in close() for the
# 5 s linger it sets on every check socket (layer4.c socket_bind_connect), again for each such connection.
modprobe -d "${VM_CACHE}/k" nf_tables
nft -f - <<'NFT'
table inet lvskslow {
  set v4 { type ipv4_addr . inet_service; }
  set v6 { type ipv6_addr . inet_service; }
  chain out {
    type filter hook output priority 0; policy accept;
    tcp flags & (syn | ack) == syn | ack ip saddr . tcp sport @v4 drop
    tcp flags & (syn | ack) == syn | ack ip6 saddr . tcp sport @v6 drop
  }
}
NFT
n=0
for s in k l; do
  n=$((n + 1))
  ip netns add $s
  ip netns exec $s sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link add v$s type veth peer name e0 netns $s
  ip addr add 10.9.$n.1/30 dev v$s; ip -6 addr add fd00:9:$n::1/64 dev v$s nodad; ip link set v$s up
  ip netns exec $s sh -c "ip link set lo up; ip link set e0 up; ip addr add 10.9.$n.2/30 dev e0; ip -6 addr add fd00:9:$n::2/64 dev e0 nodad; ip route add 10.0.0.0/8 via 10.9.$n.1; ip -6 route add fd00::/8 via fd00:9:$n::1"
  echo "=== nsid/$s"; ip netns exec $s readlink /proc/self/ns/net
done
`;

function batchShell(b: GenBatch, n: number): string {
  const specs = backendSpecs(b);
  const addrs = [...new Set(b.scenarios.flatMap((s) => s.realServers.map((r) => r.addr)))];
  const checkpoint = (what: string): string =>
    `echo "=== b${n}/table/k/${what}"; ip netns exec k ipvsadm -Ln; echo "=== b${n}/table/l/${what}"; ip netns exec l ipvsadm -Ln; echo "--- ${what}" >> $G/calls.log
` +
    `echo "=== b${n}/logat/k/${what}"; wc -c < $G/k/daemon.log; echo "=== b${n}/logat/l/${what}"; wc -c < $G/l/daemon.log`;
  const phases: string[] = [];
  for (let ph = 1; ph < b.phases; ph++) {
    phases.push(`kill -USR1 $BPID; i=0; until [ "$(cat $G/phase)" = ${ph} ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
sleep ${b.phaseS}; ${checkpoint(String(ph))}`);
  }
  return `
rm -rf $G/k $G/l $G/misc $G/phase; mkdir -p $G/k $G/l $G/misc; chmod 755 $G/misc; : > $G/calls.log; chmod 666 $G/calls.log
printf '%s' ${quote(b.config)} > $G/keepalived.conf
printf '%s' ${quote(JSON.stringify(specs))} > $G/spec.json
for a in ${addrs.join(' ')}; do case $a in *:*) ip -6 addr add $a/128 dev lvskb0 nodad;; *) ip addr add $a/32 dev lvskb0;; esac; done
node dist/test/vm/timeline-backends.js $G/spec.json $G > $G/backends.log 2>&1 &
BPID=$!
i=0; until [ -f $G/phase ] || [ $i -gt 150 ]; do i=$((i + 1)); sleep 0.2; done
ip netns exec k keepalived -n -C -l -D -f $G/keepalived.conf -p $G/k/k.pid -c $G/k/c.pid > $G/k/daemon.log 2>&1 &
KPID=$!
# Under TCG node runs many times slower than on hardware; the checker watchdog is not what this compares.
ip netns exec l node dist/bin/lvskeeper.js -n -C -l -f $G/keepalived.conf --ipvs-driver kernel --child-timeout 300 --control-socket $G/l/control.sock --state-file $G/l/overrides.json -p $G/l/pid > $G/l/daemon.log 2>&1 &
LPID=$!
# Both checker sides running (each logs this as its IPVS side starts): a slow start must not eat phase 0.
i=0; until grep -q 'Initializing ipvs' $G/k/daemon.log && grep -q 'Initializing ipvs' $G/l/daemon.log; do i=$((i + 1)); [ $i -gt 900 ] && { echo "b${n} not ready" >&2; break; }; sleep 0.2; done
sleep ${b.phaseS}; ${checkpoint('0')}
${phases.join('\n')}
kill -TERM $KPID $LPID; wait $KPID; echo "=== b${n}/exit/k"; echo $?; wait $LPID; echo "=== b${n}/exit/l"; echo $?
sleep 1; ${checkpoint('stopped')}
kill $BPID; wait $BPID
echo "=== b${n}/calls"; cat $G/calls.log
echo "=== b${n}/log/k"; cat $G/k/daemon.log
echo "=== b${n}/log/l"; cat $G/l/daemon.log
echo "=== b${n}/backends"; cat $G/backends.log
for a in ${addrs.join(' ')}; do case $a in *:*) ip -6 addr del $a/128 dev lvskb0;; *) ip addr del $a/32 dev lvskb0;; esac; done
ip netns exec k ipvsadm -C; ip netns exec l ipvsadm -C
`;
}

function splitCalls(text: string, nsid: string, checkpoints: readonly string[]): string[][] {
  const out: string[][] = [[]];
  for (const line of text.split('\n')) {
    if (line.startsWith('--- ')) {
      if (checkpoints.includes(line.slice(4))) out.push([]);
      continue;
    }
    const sp = line.indexOf(' ');
    if (sp > 0 && line.slice(0, sp) === nsid) out[out.length - 1]!.push(line.slice(sp + 1));
  }
  return out;
}

/** Boots one VM and runs each batch in turn. */
export async function runTimeline(batches: readonly GenBatch[], timeoutMs: number): Promise<TimelineRun> {
  const script = `${PROLOGUE}\n${batches.map((b, n) => batchShell(b, n)).join('\n')}\nexit 0\n`;
  const vm = await runInVm(script, { timeoutMs, memoryMb: 2048 });
  return { vm, runs: parseTimeline(vm.stdout, batches) };
}

/** The guest's records (also a kept LVSK_DIFF_KEEP output), batch by batch. */
export function parseTimeline(stdout: string, batches: readonly GenBatch[]): BatchRun[] {
  const parts = sections(stdout);
  return batches.map((batch, n): BatchRun => {
    const checkpoints = [...Array.from({ length: batch.phases }, (_, i) => String(i)), 'stopped'];
    const side = (s: 'k' | 'l'): SideRun => ({
      tables: checkpoints.map((c) => parts.get(`b${n}/table/${s}/${c}`) ?? ''),
      log: parts.get(`b${n}/log/${s}`) ?? '',
      logAt: checkpoints.map((c) => Number(parts.get(`b${n}/logat/${s}/${c}`) ?? Infinity)),
      calls: splitCalls(parts.get(`b${n}/calls`) ?? '', (parts.get(`nsid/${s}`) ?? '').trim(), checkpoints),
      exitCode: (parts.get(`b${n}/exit/${s}`) ?? '').trim(),
    });
    return { batch, keepalived: side('k'), lvskeeper: side('l'), backendsLog: parts.get(`b${n}/backends`) ?? '' };
  });
}

/** The estimated guest time of a batch, to size the VM's timeout. */
export const batchSeconds = (b: GenBatch): number => 60 + b.phaseS * b.phases;
