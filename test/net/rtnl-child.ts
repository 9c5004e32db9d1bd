// Child process for rtnl.test.ts, run inside a test namespace. Prints one JSON object per line.
//   add JSON / del JSON     AddressSpec with `ifname` instead of ifindex; prints {result}
//   lookup IFNAME           prints {link, v4, v6}
//   watch COUNT             LinkWatcher; prints {ready:true}, then {link} / {address} events until COUNT links seen
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
