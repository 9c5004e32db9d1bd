// Runs inside the IPVS VM (bgp-ecmp-kernel.test.ts): the BGP ECMP topology on the kernel data plane (LVS-DR, mh,
// sloppy_tcp), three directors. Connections are established, one director is SIGKILLed with its FRR, and every
// connection is tried again once the router has dropped its path. Prints one JSON line for the host to judge.
import { BgpTopology } from '../announce/bgp-topology.js';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const topo = new BgpTopology('k', 3, repoRoot, 'kernel');
try {
  topo.startRouter();
  for (let i = 0; i < 3; i++) topo.startDirectorFrr(i);
  await topo.startRealServers();
  for (let i = 0; i < 3; i++) topo.startDaemon(i);
  topo.startClient();
  const upMs = await BgpTopology.until(() => topo.paths().length === 3, 180_000);
  const paths = topo.paths();
  const opened = await topo.client!.open(30);
  // DR: the real server answers the client directly, so the router's choice names the director.
  const before = opened.map((c) => ({ id: c.id, ok: c.ok, rs: c.rs, director: topo.pathFor(c.localPort), port: c.localPort }));
  const t0 = performance.now();
  topo.killDirector(2);
  const t1 = performance.now();
  const gone = await BgpTopology.until(() => !topo.paths().includes('10.20.0.13'), 60_000);
  const removedMs = gone === undefined ? undefined : t1 - t0 + gone;
  const after = await topo.client!.ping();
  const result = {
    upMs, paths, removedMs, pathsAfter: topo.paths(),
    conns: before.map((c) => ({ ...c, directorAfter: topo.pathFor(c.port), okAfter: after.find((a) => a.id === c.id)?.ok ?? false, rsAfter: after.find((a) => a.id === c.id)?.rs })),
    log: topo.log(0).split('\n').slice(0, 30),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} finally {
  await topo.destroy();
}
