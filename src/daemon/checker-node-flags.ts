// The checker process's V8, sized by the configuration it starts with; chosen at each spawn of the process, so a
// reload that grows the config keeps it until the next one. A flag on node's own command line is left to apply.
//
// Young generation: V8 grows a semi-space up to 16 MiB (its default on 64-bit) as soon as enough objects survive
// scavenges, as a config's parse and the checks in flight make them do, and never gives the pages back: a checker
// process checking 1,000 real servers every second held ~17 MB more than with a 1 MiB semi-space, a sixth of its
// memory. A reload of a large config needs some of that room (its new model survives scavenges; a 4 MiB cap made a
// 30,000-server reload 20-50% slower), a small one does not: the semi-space is given 1 MiB per 3,750 real servers,
// 8 MiB at 30,000, V8's own 16 MiB past 56,250. At 30,000 the 8 MiB held 13-20 MB less than 16 MiB; in bench:reload
// (two runs of each, by turns) two of its five cases were 18-86 ms slower at 8 MiB, one faster, the average of the
// five medians 337 ms against 325.
//
// Worker threads: node gives V8 four, for concurrent marking, parallel scavenges and background compiles, and each
// thread that allocates keeps a glibc arena of its own. With one, a process checking 1,000 real servers every second
// held 3-6 MB less at the same CPU; a large config's collections are where the others pay off (a 30,000-server reload
// parses ~100 MB), so a thread is given per 7,500 real servers, node's four from 22,501.

/** Real servers per MiB of semi-space. */
const REAL_SERVERS_PER_MB = 3750;
const V8_DEFAULT_SEMI_SPACE_MB = 16;
const REAL_SERVERS_PER_V8_THREAD = 7500;
const NODE_V8_POOL_SIZE = 4;

export function checkerNodeFlags(realServers: number, nodeArgs: readonly string[] = process.execArgv): string[] {
  // node takes its options' words joined by '-' or '_'.
  const given = (name: string): boolean => nodeArgs.some((a) => a.startsWith('--') && a.slice(2).replaceAll('_', '-').startsWith(name));
  const mb = Math.max(1, Math.ceil(realServers / REAL_SERVERS_PER_MB));
  const threads = Math.max(1, Math.ceil(realServers / REAL_SERVERS_PER_V8_THREAD));
  return [
    ...(mb < V8_DEFAULT_SEMI_SPACE_MB && !given('max-semi-space-size') ? [`--max-semi-space-size=${mb}`] : []),
    ...(threads < NODE_V8_POOL_SIZE && !given('v8-pool-size') ? [`--v8-pool-size=${threads}`] : []),
  ];
}
