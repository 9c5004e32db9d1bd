#!/usr/bin/env node
// The lvskeeper command line: keepalived's flags on the root command, lvskeeper's tools as subcommands.
// Each subsystem registers its own subcommand from src/cli/, so this file stays a table of contents.
import { addRootOptions, readConfigTestArgs, type RootOpts } from '../src/cli/root-options.js';
import { umaskNumber } from '../src/fs/umask.js';

// Without node:fs's ES module facade, whose getters load node's stream modules (as src/config/load.ts explains).
const { readFileSync, statSync } = process.getBuiltinModule('node:fs');

type ConfigTestCli = typeof import('../src/cli/config-test.js');

/**
 * The `-t` path: the one-file bundle `npm run build` makes of it (scripts/bundle-config-test.mjs), or the modules
 * themselves. Only a checkout can go stale, where `tsc` may run alone after the bundle was made: there the bundle is
 * used while none of its inputs is newer. An installed package has no tsconfig.json and arrives whole, with
 * mtimes in extraction order.
 */
async function importConfigTest(): Promise<ConfigTestCli> {
  const cliDir = new URL('../src/cli/', import.meta.url);
  const bundle = new URL('config-test.bundle.js', cliDir);
  try {
    const { inputs } = JSON.parse(readFileSync(new URL('config-test.bundle.json', cliDir), 'utf8')) as { inputs: string[] };
    const checkout = statSync(new URL('../../tsconfig.json', import.meta.url), { throwIfNoEntry: false }) !== undefined;
    const built = statSync(bundle).mtimeMs;
    if (!checkout || inputs.every((path) => statSync(new URL(path, cliDir)).mtimeMs <= built)) {
      return (await import(bundle.href)) as ConfigTestCli;
    }
  } catch {
    // No bundle (a build without esbuild), or an input gone: the modules.
  }
  return import('../src/cli/config-test.js');
}

/**
 * What the root command does with its options: check or dump the config, or run the daemon. `defaults` says which
 * paths were left at their defaults (a net_namespace moves only those).
 */
async function runRoot(opts: RootOpts, defaults = { pid: true, control: true }): Promise<void> {
  const common = {
    useFile: opts.useFile,
    ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
    errors: opts.errors ?? false,
    strictCompat: opts.strictCompat ?? false,
  };
  const bfdTakeover = opts.bfdTakeover === undefined ? undefined : (await import('../src/config/bfd-takeover.js')).parseBfdTakeover(opts.bfdTakeover);
  // core/main.c set_umask: a refused -u is reported and the default mask kept.
  const umask = opts.umask === undefined ? undefined : umaskOption(opts.umask);
  // Each path loads only its own modules: `-t` never the daemon's subsystems, and the daemon never the `-t` bundle (a
  // second copy of the parser, whose reading of the config runs in a worker thread).
  if (opts.dumpConf) process.exitCode = (await importConfigTest()).runDumpConf(common);
  else if (opts.configTest !== undefined) {
    process.exitCode = (await importConfigTest()).runConfigTest({
      ...common, ...(opts.configTest !== true ? { logFile: opts.configTest } : {}), ...(bfdTakeover !== undefined ? { bfdTakeover } : {}),
    });
  } else {
    const { runDaemon, parseListenAddress, parseSeconds, parseAnnounce } = await import('../src/cli/run-daemon.js');
    const announce = parseAnnounce(opts);
    await runDaemon(
      {
        configFile: opts.useFile,
        ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
        strictCompat: opts.strictCompat ?? false,
        vrrpOnly: opts.vrrp ?? false,
        checkOnly: opts.check ?? false,
        noBfd: opts.no_bfd ?? false,
        pidFile: opts.pid,
        ...(opts.vrrp_pid !== undefined ? { vrrpPidFile: opts.vrrp_pid } : {}),
        ...(opts.checkers_pid !== undefined ? { checkersPidFile: opts.checkers_pid } : {}),
        ...(opts.bfd_pid !== undefined ? { bfdPidFile: opts.bfd_pid } : {}),
        controlSocket: opts.controlSocket,
        stateFile: opts.stateFile,
        ipvsDriver: opts.ipvsDriver,
        ...(opts.metrics !== undefined ? { metrics: parseListenAddress('--metrics', opts.metrics) } : {}),
        ...(opts.http !== undefined ? { http: parseListenAddress('--http', opts.http) } : {}),
        childTimeoutMs: parseSeconds('--child-timeout', opts.childTimeout) * 1000,
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
        ...(umask !== undefined ? { umask } : {}),
        ...(announce !== undefined ? { announce } : {}),
        ...(bfdTakeover !== undefined ? { bfdTakeover } : {}),
        defaultPaths: defaults,
        log: { console: opts.logConsole ?? process.stdout.isTTY, detail: opts.logDetail ?? false },
      },
    );
  }
}

function umaskOption(text: string): number | undefined {
  const mask = umaskNumber(text);
  if (mask === undefined) process.stderr.write(`Invalid --umask option ${text}\n`);
  return mask;
}

function fail(err: unknown): never {
  process.stderr.write(`lvskeeper: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

/** Every other command line: commander parses it, so help, errors and subcommands are its own. */
async function runCommander(): Promise<void> {
  const { Command } = await import('commander');
  const { registerSubcommands } = await import('../src/cli/subcommands.js');
  const program = new Command('lvskeeper')
    .description('keepalived-compatible HA daemon: health checkers, IPVS manager and VRRP')
    .version('0.1.0', '-v, --version');
  addRootOptions(program);
  program.action((opts: RootOpts) =>
    runRoot(opts, {
      pid: program.getOptionValueSource('pid') === 'default',
      control: program.getOptionValueSource('controlSocket') === 'default',
    }),
  );

  program
    .command('demo')
    .description('quickstart: three HTTP backends on loopback behind 127.0.0.1:8080 on the userspace data plane')
    .action(async () => {
      const { runDemo } = await import('../src/cli/run-daemon.js');
      await runDemo(new URL('../../', import.meta.url).pathname);
    });

  // The other subcommands load only when the command line can name one: `-t` pays for none of them.
  await registerSubcommands(program, process.argv.slice(2));

  // Not awaited: the daemon's promise settles only at shutdown, and a top-level await still pending when the loop
  // empties would make node exit 13.
  void program.parseAsync(process.argv).catch(fail);
}

// `-t` / `--dump-conf` written as separate words (as keepalived's users and unit files write them) need no commander.
const quick = readConfigTestArgs(process.argv.slice(2));
if (quick !== undefined) void runRoot(quick).catch(fail);
else await runCommander();
