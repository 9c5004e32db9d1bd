// The checker process's young generation, sized by the configuration it starts with. V8 grows a semi-space up to 16 MiB
// (its default on 64-bit) as soon as enough objects survive scavenges, as a config's parse and the checks in flight
// make them do, and never gives the pages back: a checker process checking 1,000 real servers every second held ~17 MB
// more than with a 1 MiB semi-space, a sixth of its memory. A reload of a large config needs that room (its new model
// survives scavenges; a 4 MiB cap made a 30,000-server reload 20-50% slower), a small one does not: the semi-space is
// given 1 MiB per 1,875 real servers, the ratio V8's default has at 30,000 (past 28,125 it is V8's own size). The size
// is chosen at each spawn of the process; a reload that grows the config keeps it until the next one. A
// --max-semi-space-size of node's own command line is left to apply.

/** Real servers per MiB of semi-space: V8's 16 MiB at 30,000. */
const REAL_SERVERS_PER_MB = 1875;
const V8_DEFAULT_SEMI_SPACE_MB = 16;

export function checkerNodeFlags(realServers: number, nodeArgs: readonly string[] = process.execArgv): string[] {
  if (nodeArgs.some((a) => a.startsWith('--max-semi-space-size') || a.startsWith('--max_semi_space_size'))) return [];
  const mb = Math.max(1, Math.ceil(realServers / REAL_SERVERS_PER_MB));
  return mb >= V8_DEFAULT_SEMI_SPACE_MB ? [] : [`--max-semi-space-size=${mb}`];
}
