// The young generation of lvskeeper's own processes. V8 grows a semi-space up to 16 MiB (its default on 64-bit) as
// soon as enough objects survive scavenges, and never gives the pages back.
//
// The checker process's is sized by the configuration it starts with. The parse and the checks in flight make it grow:
// a checker process checking 1,000 real servers every second held ~17 MB more than with a 1 MiB semi-space, a sixth
// of its memory. A reload of a large config needs that room (its new model survives scavenges; a 4 MiB cap made a
// 30,000-server reload 20-50% slower), a small one does not: the semi-space is given 1 MiB per 1,875 real servers,
// the ratio V8's default has at 30,000 (past 28,125 it is V8's own size). The size is chosen at each spawn of the
// process; a reload that grows the config keeps it until the next one.
//
// The supervisor's is held at its first size. What survives there is long-lived: the userspace plane's table as the
// checker process installs it (30,000 destinations grew it to 2 × 16 MiB for good), the flows it forwards. Its node
// command line is the user's, so the growth is turned off at run time: V8 reads --semi-space-growth-factor at each
// growth, where the maximum is fixed when the heap is made.
//
// A --max-semi-space-size (or growth factor) of node's own command line is left to apply in both.
import { setFlagsFromString } from 'node:v8';

/** Real servers per MiB of semi-space: V8's 16 MiB at 30,000. */
const REAL_SERVERS_PER_MB = 1875;
const V8_DEFAULT_SEMI_SPACE_MB = 16;

const userSized = (nodeArgs: readonly string[]): boolean =>
  nodeArgs.some((a) => /^--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)/.test(a));

export function checkerNodeFlags(realServers: number, nodeArgs: readonly string[] = process.execArgv): string[] {
  if (userSized(nodeArgs)) return [];
  const mb = Math.max(1, Math.ceil(realServers / REAL_SERVERS_PER_MB));
  return mb >= V8_DEFAULT_SEMI_SPACE_MB ? [] : [`--max-semi-space-size=${mb}`];
}

/**
 * Keeps the supervisor's semi-space at its first size. Starting a Worker puts V8's flags back to the command
 * line's (node 20), so the config reader calls this once its worker has answered.
 */
export function holdSupervisorYoungGeneration(nodeArgs: readonly string[] = process.execArgv): void {
  if (!userSized(nodeArgs)) setFlagsFromString('--semi-space-growth-factor=1');
}
