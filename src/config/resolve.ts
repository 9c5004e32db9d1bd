// The keyword tree → the resolved Config: each section's resolver, then the checks that span sections (tracked
// scripts exist, sync-group members exist) and keepalived's script-security rule (`-t` rc 6).
import { resolveGlobals, withInstanceSyncDaemon } from './resolve-global.js';
import { applyGlobalDefaults, resolveVirtualServer, resolveVsGroup } from './resolve-lvs.js';
import type { ResolvedVs } from './resolve-lvs.js';
import type { DeclaredSoFar } from './resolve-checkers.js';
import { resolveGarpGroups } from './check-parsed-only.js';
import { bfdForChecker, reportCheckerBfdDuplicates, resolveBfdInstances, resolveTrackedBfds } from './bfd.js';
import {
  groupTrackerRules, memberTrackerRules, resolveSyncGroup, resolveTrackFile, resolveTrackProcess, resolveVrrpInstance,
  resolveUpDownDelay, resolveVrrpScript,
} from './resolve-vrrp.js';
import { Values } from './values.js';
import { DEFAULT_RT_NAMES, parseRouteLine, parseRuleLine, rulePreferences, type RouteSpec, type RtNames, type RuleSpec } from './routes.js';
import { parseVip } from './resolve-vrrp.js';
import { DEFAULT_SCRIPT_USER, resolveCheckScripts, type GroupLookup, type UserLookup } from './check-scripts.js';
import { resolveVrrpScripts } from './vrrp-scripts.js';
import { vridConflicts } from './vrid-conflicts.js';
import { cmdStr, SC_INSECURE, SC_ISSCRIPT } from './script-secure.js';
import { checkStartStopScripts } from './start-stop-scripts.js';
import { InterfaceLookup, type InterfaceInfo } from './interfaces.js';
import { formatDiagnostic, Reporter } from './errors.js';
import type { Node } from './parser.js';
import type {
  Config, SourceRef, SslClient, TrackFileDef, TrackProcessDef, TrackRef, VirtualServer, VirtualServerGroup, VrrpInstance,
  VrrpScript, VrrpSyncGroup,
} from './model.js';

/** What resolution needs to know about the machine; the loader supplies the real one. */
export interface Host {
  readonly hostname: string;
  /** undefined: interfaces are not checked. */
  readonly interfaces?: InterfaceInfo;
  /** The interfaces of a named network namespace (net_namespace); undefined when it does not exist. */
  interfacesIn?(netns: string): InterfaceInfo | undefined;
  userExists(name: string): boolean;
  /** A name /etc/hosts gives an address to (the files source of getaddrinfo, which needs no network). */
  inHostsFile(name: string): boolean;
  /** A user's uid and primary gid (getpwnam). */
  user: UserLookup;
  /** A group's gid (getgrnam). */
  group: GroupLookup;
  /** /etc/iproute2 names (route tables, protocols, …); undefined: keepalived's built-in ones only. */
  readonly rtNames?: RtNames;
}

/** vrrp_daemon.c start_vrrp's line once the file is read, when an interface it names does not exist. */
const NON_EXISTENT_INTERFACE = 'Non-existent interface specified in configuration';

const NO_GROUPS: ReadonlyMap<string, VirtualServerGroup> = new Map();
/** The notify keywords that name a script (their second word is its user). */
const NOTIFY_SCRIPTS: ReadonlySet<string> = new Set([
  'notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify_deleted', 'notify_master_rx_lower_pri',
]);

/**
 * Resolves the tree into the Config. Virtual servers are resolved as their blocks close (take), which keeps the
 * keyword tree of a 10,000-server config from being held in memory; everything else once the file is read (finish).
 */
export class ConfigResolver {
  private readonly v: Values;
  /** Virtual servers in file order: resolved, or (for `group` ones, which need every group) still a node. */
  private readonly vsSlots: (ResolvedVs | { readonly node: Node; readonly declared: DeclaredSoFar })[] = [];
  private readonly declared = { trackFiles: new Set<string>(), bfdInstances: new Set<string>() };

  constructor(
    private readonly host: Host,
    private readonly report: Reporter,
    daemon = false,
  ) {
    this.v = new Values(report, daemon);
  }

  take(node: Node): boolean {
    const name = node.args[0];
    // track_file_end_handler keeps no track_file without a file: a FILE_CHECK naming it finds none.
    if ((node.kw === 'track_file' || node.kw === 'vrrp_track_file') && name !== undefined && node.children?.some((c) => c.kw === 'file' && c.args[0] !== undefined)) {
      this.declared.trackFiles.add(name);
    }
    if (node.kw === 'bfd_instance' && name !== undefined && bfdForChecker(node)) this.declared.bfdInstances.add(name);
    if (node.kw !== 'virtual_server') return false;
    if (name === 'group') {
      const { trackFiles, bfdInstances } = this.declared;
      this.vsSlots.push({ node, declared: { trackFiles: new Set(trackFiles), bfdInstances: new Set(bfdInstances) } });
    } else {
      const r = resolveVirtualServer(this.v, node, NO_GROUPS, this.declared);
      if (r) this.vsSlots.push(r);
    }
    return true;
  }

  finish(tree: readonly Node[], files: readonly string[]): Config {
    const { v, host, report } = this;
    const of = (kw: string): Node[] => tree.filter((n) => n.kw === kw);
    const rootGlobals = tree.filter((n) => !n.children && n.kw !== 'global_defs');
    const global = withInstanceSyncDaemon(resolveGlobals(v, of('global_defs'), rootGlobals, host), tree);
    // keepalived reads its interfaces after setns() into net_namespace (core/main.c set_namespaces).
    const netns = global.other['net_namespace'];
    const interfaces = netns && host.interfaces && host.interfacesIn ? host.interfacesIn(netns) : host.interfaces;
    v.interfaces = new InterfaceLookup(interfaces, global.dynamicInterfaces);

    const trackFiles = [...of('track_file'), ...of('vrrp_track_file')]
      .map((n) => resolveTrackFile(v, n))
      .filter((x): x is TrackFileDef => x !== undefined);
    // Each script's block, for the lines keepalived reports its problems at: its `user` line, its `}`.
    const scriptNode = new Map<VrrpScript, Node>();
    let vrrpScripts = of('vrrp_script').flatMap((n) => {
      const s = resolveVrrpScript(v, n);
      if (s) scriptNode.set(s, n);
      return s ? [s] : [];
    });
    const scriptEnd = (s: VrrpScript): SourceRef => scriptNode.get(s)?.end ?? s.src;
    const trackProcesses = of('vrrp_track_process')
      .map((n) => resolveTrackProcess(v, n))
      .filter((x): x is TrackProcessDef => x !== undefined);
    // Routes and rules in file order: rule preferences are handed out as keepalived reads them.
    const prefs = rulePreferences();
    const names = host.rtNames ?? DEFAULT_RT_NAMES;
    const routing = new Map<Node, { routes: RouteSpec[]; rules: RuleSpec[] }>();
    for (const n of tree) {
      const blocks = n.kw === 'vrrp_instance' ? (n.children ?? []) : [n];
      const parsed = { routes: [] as RouteSpec[], rules: [] as RuleSpec[] };
      routing.set(n, parsed);
      for (const b of blocks) {
        if (b.kw === 'static_routes' || b.kw === 'virtual_routes') {
          for (const c of b.children ?? []) parsed.routes.push(...optional(parseRouteLine(report, c, names, b.kw === 'static_routes', v.interfaces)));
        }
        if (b.kw === 'static_rules' || b.kw === 'virtual_rules') {
          for (const c of b.children ?? []) parsed.rules.push(...optional(parseRuleLine(report, c, prefs, names, b.kw === 'static_rules', v.interfaces)));
        }
      }
    }
    const staticRoutes = of('static_routes').flatMap((n) => routing.get(n)!.routes);
    const staticRules = of('static_rules').flatMap((n) => routing.get(n)!.rules);
    const staticAddresses = of('static_ipaddress').flatMap((n) => (n.children ?? []).flatMap((c) => optional(parseVip(v, c, 'static_ipaddress'))));
    // keepalived -t reports the checker process's reading, then the VRRP process's, then the BFD process's.
    reportCheckerBfdDuplicates(v, tree);
    const trackedBfds = resolveTrackedBfds(v, tree);
    const bfdsBefore = (n: Node): typeof trackedBfds => trackedBfds.filter((b) => b.at < tree.indexOf(n));
    const garpGroups = resolveGarpGroups(v, of('garp_group'));
    const interfaceUpDownDelays = of('interface_up_down_delays').flatMap((n) => (n.children ?? []).flatMap((c) => optional(resolveUpDownDelay(v, c))));
    // Each instance's and sync group's block, for the line of its first notify script (see script security below).
    const blockNode = new Map<VrrpInstance | VrrpSyncGroup, Node>();
    const resolvedInstances = of('vrrp_instance').flatMap((n) => {
      const r = resolveVrrpInstance(v, n, global, routing.get(n), bfdsBefore(n));
      if (r?.instance) blockNode.set(r.instance, n);
      return optional(r);
    });
    const instances = resolvedInstances.flatMap((r) => optional(r.instance));
    const syncGroups = of('vrrp_sync_group').flatMap((n) => {
      const g = resolveSyncGroup(v, n, global, bfdsBefore(n));
      if (g) blockNode.set(g, n);
      return g ? [g] : [];
    });
    const bfdInstances = resolveBfdInstances(v, of('bfd_instance'));
    const vsGroups = of('virtual_server_group').map((n) => resolveVsGroup(v, n)).filter((x): x is VirtualServerGroup => x !== undefined);
    const groupMap = new Map(vsGroups.map((g) => [g.name, g]));
    let virtualServers: VirtualServer[] = [];
    // A virtual_server still in the tree was never closed (unbalanced braces at the end of the file).
    const unclosed = of('virtual_server').map((node) => ({ node, declared: this.declared }));
    for (const slot of [...this.vsSlots, ...unclosed]) {
      const r = 'node' in slot ? resolveVirtualServer(v, slot.node, groupMap, slot.declared) : slot;
      if (r) virtualServers.push(applyGlobalDefaults(r, global));
    }

    if (global.scriptUser !== undefined && !host.userExists(global.scriptUser)) {
      // Reported by global_parser.c script_user_handler, on the keyword's line.
      const at = of('global_defs').flatMap((n) => n.children ?? []).filter((n) => n.kw === 'script_user').at(-1)?.src;
      report.error(at ?? { file: files[0] ?? '', line: 0 }, 'Error setting global script uid/gid', 'script_user');
    }
    for (const s of vrrpScripts) {
      if (s.script.user === undefined || host.userExists(s.script.user)) continue;
      // vrrp_parser.c vrrp_vscript_user_handler: at the `user` line.
      const at = scriptNode.get(s)?.children?.filter((c) => c.kw === 'user').at(-1)?.src ?? s.src;
      report.error(at, `Unable to set uid/gid for script '${s.script.text}'`, 'user');
    }
    // Script security (keepalived's check_script_secure / set_default_script_user).
    // lib/notify.c: a script_user that does not exist fails every later get_default_script_user, with or without
    // script security (set_default_script_user); keepalived_script missing fails it only under script security.
    const scriptUserFailed = global.scriptUser !== undefined && !host.userExists(global.scriptUser);
    const defaultUserMissing = global.scriptUser === undefined && global.enableScriptSecurity && !host.userExists(DEFAULT_SCRIPT_USER);
    if (scriptUserFailed || defaultUserMissing) {
      // lib/notify.c get_default_script_user: the first script (in file order) that needs the default user reports
      // it once; vrrp_scripts and MISC_CHECKs without one are removed with a line each.
      const needing: { file: string; line: number }[] = [];
      const removedVrrp = vrrpScripts.filter((s) => s.script.user === undefined);
      // vrrp_parser.c vrrp_vscript_end_handler: at the block's `}`.
      for (const s of removedVrrp) {
        report.error(scriptEnd(s), `Unable to set default user for vrrp script ${s.name} - removing`, 'vrrp_script');
        needing.push(scriptEnd(s));
      }
      vrrpScripts = vrrpScripts.filter((s) => s.script.user !== undefined);
      // An instance's or sync group's notify script needs it at its own line (vrrp_parser.c set_vrrp_notify_script).
      for (const b of [...instances, ...syncGroups]) {
        if (!Object.values(b.notify).some((s) => s !== undefined && s !== true && s.user === undefined)) continue;
        const at = blockNode.get(b)?.children?.find((c) => NOTIFY_SCRIPTS.has(c.kw) && c.args[0] !== undefined && c.args[1] === undefined);
        needing.push(at?.src ?? b.src);
      }
      virtualServers = virtualServers.map((vs) => ({
        ...vs,
        realServers: vs.realServers.map((rs) => ({
          ...rs,
          checkers: rs.checkers.filter((c) => {
            if (c.type !== 'MISC_CHECK' || c.miscPath.user !== undefined) return true;
            report.error(c.src, `Unable to set default user for misc script ${cmdStr(c.miscPath.argv)} - removing`, 'misc_path');
            needing.push(c.src);
            return false;
          }),
        })),
      }));
      // notify_up/down and quorum_up/down without a user meet the same failure (check-scripts.ts drops them).
      const notify = virtualServers.find((vs) => [vs.quorumUp, vs.quorumDown, ...vs.realServers.flatMap((rs) => [rs.notifyUp, rs.notifyDown])]
        .some((s) => s !== undefined && s.user === undefined));
      if (notify) needing.push(notify.src);
      const order = (r: { file: string; line: number }): number => files.indexOf(r.file) * 1e9 + r.line;
      const first = needing.sort((a, b) => order(a) - order(b))[0];
      if (first && defaultUserMissing) report.error(first, `Unable to set default user ${DEFAULT_SCRIPT_USER} for script`);
    }
    const checkScripts = resolveCheckScripts(virtualServers, global, host);
    virtualServers = checkScripts.virtualServers;

    // Cross references. The sync groups' lines (vrrp_sync.c vrrp_sync_set_group) come once chk_min_cfg passed.
    const syncLines = new Reporter();
    const scriptNames = new Set(vrrpScripts.map((s) => s.name));
    // vrrp_sync_set_group runs before vrrp_complete_instance can refuse any instance.
    const instanceByName = new Map(resolvedInstances.map((r) => [r.name, r]));
    const memberOf = new Map<string, string>();
    for (const g of syncGroups) {
      for (const m of g.members) {
        if (!instanceByName.has(m)) syncLines.error(g.src, `Virtual router ${m} specified in sync group ${g.name} doesn't exist - ignoring`, 'group');
        else memberOf.set(m, g.name);
      }
    }
    // vrrp_track.c alloc_track_process: an unknown or repeated process is dropped, in keepalived's words.
    const procRefs = (owner: string, refs: readonly TrackRef[], at: Node['src']): TrackRef[] => {
      const kept: TrackRef[] = [];
      for (const t of refs) {
        if (!trackProcesses.some((p) => p.name === t.name)) report.error(at, `(${owner}) track process ${t.name} not found, ignoring...`, 'track_process');
        else if (kept.some((k) => k.name === t.name)) report.error(at, `(${owner}) duplicate track_process ${t.name} - ignoring`, 'track_process');
        else kept.push(t);
      }
      return kept;
    };
    const namedInstances = instances.map((inst) => {
      const trackScripts = inst.trackScripts.filter((t) => {
        if (scriptNames.has(t.name)) return true;
        report.error(inst.src, `(${inst.name}) track script ${t.name} not found, ignoring...`, 'track_script');
        return false;
      });
      const sg = memberOf.get(inst.name);
      return { ...inst, trackScripts, trackProcesses: procRefs(inst.name, inst.trackProcesses, inst.src), ...(sg !== undefined ? { syncGroup: sg } : {}) };
    });
    const namedSyncGroups = syncGroups.flatMap((g) => {
      const members = g.members.filter((m) => instanceByName.has(m));
      if (g.members.length === 0) syncLines.error(g.src, `Sync group ${g.name} has no virtual router(s). removing`, 'vrrp_sync_group');
      else if (members.length === 0) syncLines.error(g.src, `Sync group ${g.name}, no matching virtual router found in group declaration - removing`, 'vrrp_sync_group');
      else if (members.length === 1) syncLines.error(g.src, `Sync group ${g.name} has only 1 virtual router(s) - this probably isn't what you want`, 'vrrp_sync_group');
      if (members.length === 0) return [];
      return [{ ...g, members, trackProcesses: procRefs(g.name, g.trackProcesses, g.src) }];
    });

    // Scripts run without enable_script_security: keepalived refuses to call that a clean config (rc 6).
    const where = { file: files[0] ?? '', line: 0 };
    // The parent's own check comes first (core/main.c, before any child reads the config).
    const startStop = checkStartStopScripts(global, host);
    if (!global.enableScriptSecurity && startStop.flags & SC_ISSCRIPT) {
      report.add('security', where, `SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.${startStop.flags & SC_INSECURE ? ' There are insecure scripts.' : ''}`);
    }
    if (!global.enableScriptSecurity && checkScripts.scripts) {
      report.add('security', where, `SECURITY VIOLATION - check scripts are being executed but script_security not enabled.${checkScripts.insecure ? ' There are insecure scripts.' : ''}`);
    }
    // vrrp_daemon.c start_vrrp, then vrrp.c vrrp_complete_init, in their order; keepalived's VRRP process stops at
    // the first refusal and reports nothing after it.
    const completed = ((): { vrrpStop: string } | Pick<Config, 'vrrpScripts' | 'vrrpInstances' | 'vrrpSyncGroups'> => {
      if (v.interfaces.missing) {
        report.error(where, NON_EXISTENT_INTERFACE, 'interface');
        return { vrrpStop: NON_EXISTENT_INTERFACE };
      }
      // check_vrrp_script_security drops missing and insecure vrrp_scripts before vrrp_complete_instance applies
      // the tracker rules, so a dropped script's weight is never reported.
      const vrrp = resolveVrrpScripts(vrrpScripts, namedInstances, namedSyncGroups, global, host, report, of('vrrp_instance').length > 0);
      if (vrrp.violation) report.add('security', where, vrrp.violation);
      // chk_min_cfg runs over every instance before vrrp_complete_instance runs on any.
      const minCfg = resolvedInstances.find((r) => r.refusedBy === 'chk_min_cfg');
      const order = minCfg ? [minCfg] : resolvedInstances;
      if (!minCfg) report.list.push(...syncLines.list);
      for (const r of order) {
        report.list.push(...r.completion);
        if (r.refusedBy) return { vrrpStop: formatDiagnostic(r.completion.at(-1)!) };
      }
      const conflicts = vridConflicts(vrrp.instances);
      for (const c of conflicts) report.error(c.src, c.message, 'virtual_router_id');
      if (conflicts[0]) return { vrrpStop: formatDiagnostic({ ...conflicts[0].src, severity: 'error', message: conflicts[0].message }) };
      const vrrpInstances = vrrp.instances.map((inst) =>
        memberTrackerRules(report, inst, vrrp.syncGroups.find((g) => g.name === inst.syncGroup), vrrp.vrrpScripts, trackFiles));
      const vrrpSyncGroups = vrrp.syncGroups.map((g) =>
        groupTrackerRules(report, g, vrrpInstances.filter((i) => g.members.includes(i.name)), vrrp.vrrpScripts, trackFiles, trackProcesses));
      return { vrrpScripts: vrrp.vrrpScripts, vrrpInstances, vrrpSyncGroups };
    })();

    return {
      global: startStop.global,
      trackFiles,
      trackProcesses,
      bfdInstances,
      ...('vrrpStop' in completed ? { vrrpScripts: [], vrrpInstances: [], vrrpSyncGroups: [], vrrpStop: completed.vrrpStop } : completed),
      ...(garpGroups.length > 0 ? { garpGroups } : {}),
      ...(interfaceUpDownDelays.length > 0 ? { interfaceUpDownDelays } : {}),
      virtualServerGroups: vsGroups,
      virtualServers,
      staticAddresses,
      staticRoutes,
      staticRules,
      files,
      ...sslBlock(of('SSL')),
    };
  }
}

/** The root SSL block's files (check_parser.c ssl_handler and its keywords); the last of each wins. */
function sslBlock(nodes: readonly Node[]): { ssl?: SslClient } {
  const ssl: { -readonly [K in keyof SslClient]: SslClient[K] } = {};
  const field = { ca: 'ca', certificate: 'certificate', key: 'key', password: 'password' } as const;
  for (const n of nodes.flatMap((b) => b.children ?? [])) {
    const f = field[n.kw as keyof typeof field];
    if (f !== undefined && n.args[0] !== undefined) ssl[f] = n.args[0];
  }
  return nodes.length > 0 ? { ssl } : {};
}

const optional = <T>(x: T | undefined): T[] => (x === undefined ? [] : [x]);
