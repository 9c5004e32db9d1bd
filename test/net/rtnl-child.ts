// Child process for rtnl.test.ts, run inside a test namespace. Prints one JSON object per line.
//   add JSON / del JSON     AddressSpec with `ifname` instead of ifindex; prints {result}
//   lookup IFNAME           prints {link, v4, v6}
//   watch COUNT             LinkWatcher; prints {ready:true}, then {link} / {address} events until COUNT links seen
//   concurrent IFNAME       link and address dumps issued together with address adds and deletes on one socket, as
//                           instances starting side by side do; prints {links, added, removed} counts
import { Rtnl, type AddressSpec } from '../../src/net/rtnl.js';
import { LinkWatcher } from '../../src/net/links.js';

const [mode, arg] = process.argv.slice(2);
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  if (mode === 'watch') {
    const w = LinkWatcher.open();
    let links = 0;
    w.on('error', (e) => out({ error: e.message }));
    w.on('address', (a) => out({ address: a }));
    w.on('link', (l) => {
      out({ link: l });
      if (++links >= Number(arg)) w.close();
    });
    out({ ready: true });
    return;
  }
  const r = Rtnl.open();
  try {
    if (mode === 'add' || mode === 'del') {
      const { ifname, ...spec } = JSON.parse(arg ?? '{}') as Omit<AddressSpec, 'ifindex'> & { ifname: string };
      const link = await r.linkByName(ifname);
      if (link === undefined) throw new Error(`no link ${ifname}`);
      const full = { ...spec, ifindex: link.index };
      out({ result: mode === 'add' ? await r.addAddress(full) : await r.delAddress(full) });
    } else if (mode === 'lookup') {
      const link = await r.linkByName(arg ?? '');
      if (link === undefined) throw new Error(`no link ${arg}`);
      out({ link, v4: await r.primaryAddress(link.index, 4), v6: await r.primaryAddress(link.index, 6) });
    } else if (mode === 'concurrent') {
      const link = await r.linkByName(arg ?? '');
      if (link === undefined) throw new Error(`no link ${arg}`);
      const spec = (i: number): AddressSpec => ({ address: `198.51.100.${i + 1}`, prefixlen: 32, ifindex: link.index });
      const rounds = Array.from({ length: 20 }, (_, i) => i);
      const [links, added] = await Promise.all([
        Promise.all(rounds.map(() => r.links())),
        Promise.all(rounds.map((i) => Promise.all([r.addAddress(spec(i)), r.addresses()]))),
      ]);
      const removed = await Promise.all(rounds.map((i) => Promise.all([r.delAddress(spec(i)), r.linkByName(arg ?? '')])));
      out({
        links: links.filter((l) => l.some((x) => x.index === link.index)).length,
        added: added.filter(([res]) => res === 'added').length,
        removed: removed.filter(([res, l]) => res === 'removed' && l !== undefined).length,
      });
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    r.close();
  }
}

main().catch((e: unknown) => {
  const err = e as { message?: string; code?: string; op?: string };
  out({ error: err.message ?? String(e), code: err.code, op: err.op });
  process.exitCode = 1;
});
