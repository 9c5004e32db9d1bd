// The config loader's public API: file (or text) → resolved Config plus every diagnostic, never an exception.
// This file is the I/O adapter: it reads files, /sys/class/net and /etc/passwd; everything it calls is pure.
import { hostname } from 'node:os';
import { Reporter } from './errors.js';
import { TreeBuilder } from './parser.js';
import { Preprocessor } from './preprocess.js';
import { ConfigResolver } from './resolve.js';
import { DEFAULT_RT_NAMES, type RtNames } from './routes.js';
import { ROOT } from './schema/root.js';
import type { ConfigFs } from './preprocess.js';
import type { Host } from './resolve.js';
import type { Config, Diagnostic } from './model.js';

export { cannotRun, exitCodeFor, formatDiagnostic, refusedAtReload, UNIMPLEMENTED_PREFIX } from './errors.js';

// node:fs and node:buffer without their ES module facades: `import … from 'node:fs'` builds the facade by reading
// every export, and fs's ReadStream getter loads node's twenty stream modules (buffer's File getter two more), which
// `-t` never uses: about 4 ms of CPU at each start. script-secure.ts and cli/config-test.ts do the same.
const { existsSync, readdirSync, readFileSync } = process.getBuiltinModule('node:fs');
const { isAscii } = process.getBuiltinModule('node:buffer');

export interface LoadOptions {
  /** `-i`: the id `@id` lines are matched against (default: the short host name). */
  readonly configId?: string;
  /** `-e`: a missing file is an error rather than a warning. */
  readonly includesAreErrors?: boolean;
  /** Check interfaces named in the config against the host, as `keepalived -t` does. */
  readonly checkInterfaces?: boolean;
  /** `--strict-compat`: a keyword lvskeeper does not carry out is fatal (exit 4) rather than a line. */
  readonly strictCompat?: boolean;
  /**
   * The daemon reads the config to run it, rather than `-t` (keepalived's CONFIG_TEST_BIT): a number with junk after
   * its digits that keepalived's handler reads with ignore_error is then taken, with a `WARNING - ` line.
   */
  readonly daemon?: boolean;
}

export interface LoadResult {
  readonly config: Config;
  readonly diagnostics: Diagnostic[];
}

/** The system's short host name: keepalived's default config-id. */
export function shortHostname(): string {
  return hostname().split('.')[0] ?? '';
}

export const diskFs: ConfigFs = {
  readFile(path) {
    try {
      const buf = readFileSync(path);
      // Nearly every config is ASCII, which decodes as latin1 by a plain copy; UTF-8 decoding checks every byte.
      return isAscii(buf) ? buf.toString('latin1') : buf.toString('utf8');
    } catch {
      return undefined;
    }
  },
  listDir(path) {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
};

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** lib/rttables.c initialise_list: `ID NAME` lines of /etc/iproute2's files, over keepalived's defaults. */
function readRtNames(read: (path: string) => string | undefined): RtNames {
  const file = (name: string, defaults: ReadonlyMap<string, number>): Map<string, number> => {
    const m = new Map(defaults);
    for (const l of (read(`/etc/iproute2/${name}`) ?? '').split('\n')) {
      const f = l.replace(/#.*/, '').trim().split(/\s+/);
      const id = f[0] === undefined ? NaN : Number(f[0]);
      if (f.length >= 2 && Number.isInteger(id) && id >= 0) m.set(f[1]!, id);
    }
    return m;
  };
  const d = DEFAULT_RT_NAMES;
  return {
    tables: file('rt_tables', d.tables), protos: file('rt_protos', d.protos), scopes: file('rt_scopes', d.scopes),
    dsfields: file('rt_dsfield', d.dsfields), realms: file('rt_realms', d.realms), groups: file('group', d.groups),
  };
}

function hostInfo(checkInterfaces: boolean): Host {
  let passwd: Map<string, { uid: number; gid: number }> | undefined;
  let groups: Map<string, number> | undefined;
  let hosts: Set<string> | undefined;
  const users = (): Map<string, { uid: number; gid: number }> =>
    (passwd ??= new Map((readText('/etc/passwd') ?? '').split('\n').map((l) => l.split(':')).map((f) => [f[0] ?? '', { uid: Number(f[2]), gid: Number(f[3]) }])));
  return {
    hostname: hostname(),
    ...(checkInterfaces
      ? {
          interfaces: {
            exists: (name: string) => !name.includes('/') && existsSync(`/sys/class/net/${name}`),
            // ARPHRD_LOOPBACK = 772 (include/uapi/linux/if_arp.h).
            isLoopback: (name: string) => readText(`/sys/class/net/${name}/type`)?.trim() === '772',
          },
          interfacesIn: (netns: string) => {
            // Looked up here: node:child_process loads node:net, which `-t` without net_namespace never needs.
            const { spawnSync } = process.getBuiltinModule('node:child_process');
            const r = spawnSync('ip', ['-n', netns, '-j', 'link', 'show'], { encoding: 'utf8' });
            if (r.status !== 0) return undefined;
            const links = new Map((JSON.parse(r.stdout) as { ifname: string; link_type: string }[]).map((l) => [l.ifname, l.link_type]));
            return { exists: (name: string) => links.has(name), isLoopback: (name: string) => links.get(name) === 'loopback' };
          },
        }
      : {}),
    userExists(name) {
      return users().has(name);
    },
    inHostsFile: (name) => {
      hosts ??= new Set((readText('/etc/hosts') ?? '').split('\n').flatMap((l) => l.replace(/#.*/, '').trim().split(/\s+/).slice(1)));
      return hosts.has(name);
    },
    rtNames: readRtNames(readText),
    user: (name) => users().get(name),
    group: (name) => {
      groups ??= new Map((readText('/etc/group') ?? '').split('\n').map((l) => l.split(':')).map((f) => [f[0] ?? '', Number(f[2])]));
      return groups.get(name);
    },
  };
}

function run(fs: ConfigFs, main: string, text: string | undefined, opts: LoadOptions, checkDefault: boolean): LoadResult {
  const report = new Reporter({ strictCompat: opts.strictCompat ?? false });
  const resolver = new ConfigResolver(hostInfo(opts.checkInterfaces ?? checkDefault), report, opts.daemon ?? false);
  const tree = new TreeBuilder(ROOT, report, (node) => resolver.take(node));
  const pre = new Preprocessor(
    fs,
    {
      configId: opts.configId ?? shortHostname(),
      includesAreErrors: opts.includesAreErrors ?? false,
      random: Math.random,
    },
    report,
    tree,
  );
  if (text === undefined) pre.run(main);
  else pre.processText(main, text);
  const config = resolver.finish(tree.finish(), pre.files);
  return { config, diagnostics: report.list };
}

/**
 * Loads a keepalived.conf and everything it includes. Interfaces are checked against the host unless
 * `checkInterfaces: false`.
 */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadResult {
  return run(diskFs, path, undefined, opts, true);
}

/**
 * Parses config text as if it were the file `opts.file` (default `keepalived.conf` in the current directory;
 * includes resolve against its directory). Interfaces are only checked with `checkInterfaces: true`.
 */
export function parseConfigText(
  text: string,
  opts: { file?: string; configId?: string; checkInterfaces?: boolean; strictCompat?: boolean; daemon?: boolean; fs?: ConfigFs } = {},
): LoadResult {
  return run(opts.fs ?? diskFs, opts.file ?? 'keepalived.conf', text, opts, false);
}
