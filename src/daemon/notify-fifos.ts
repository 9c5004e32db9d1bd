// The notify FIFOs (notify_fifo, vrrp_notify_fifo, lvs_notify_fifo), owned by the supervisor: one writer per FIFO
// and one run of each FIFO script, however many processes produce lines. In keepalived each child opens the FIFOs of
// its side (vrrp.c vrrp_complete_init and check_daemon.c start_check, notify_fifo_open); here the VRRP and checker
// children send their lines (vrrp_notify.c notify_fifo, ipwrapper.c notify_fifo_vs/notify_fifo_rs) as notes and
// the supervisor writes them: VRRP lines to notify_fifo and vrrp_notify_fifo, LVS lines to notify_fifo and
// lvs_notify_fifo. The same path named twice is one FIFO, as global_data.c init_global_data decides.
import type { Fifo, GlobalDefs } from '../config/model.js';
import { lookupId, primaryGid } from '../exec/script.js';
import { NotifyFifo } from '../fs/notify-fifo.js';
import type { Logger } from '../log.js';
import { scriptPolicy } from '../vrrp/notify.js';
import type { Counter } from './metrics.js';

export type FifoSource = 'vrrp' | 'lvs';

/** Which children run: a FIFO of a side that does not run is not opened, as that side's process would open it. */
export interface FifoSides {
  readonly vrrp: boolean;
  readonly lvs: boolean;
}

/** A script that ignores SIGTERM is killed this long after its FIFO closed at shutdown (vrrp_daemon.c backstop). */
const SHUTDOWN_GRACE_MS = 1000;

export class NotifyFifos {
  private readonly routes: Record<FifoSource, NotifyFifo[]> = { vrrp: [], lvs: [] };
  private readonly all: NotifyFifo[] = [];

  private constructor(private readonly lines: Counter | undefined) {}

  /** `lines` counts each line per FIFO, written or dropped; the scripts start in `netns` (net_namespace's path). */
  static async open(global: GlobalDefs, sides: FifoSides, log: Logger, lines?: Counter, netns?: string): Promise<NotifyFifos> {
    const set = new NotifyFifos(lines);
    if (!sides.vrrp && !sides.lvs) return set;
    const policy = scriptPolicy(global);
    const g = global.notifyFifo;
    let v = sides.vrrp ? global.vrrpNotifyFifo : undefined;
    let l = sides.lvs ? global.lvsNotifyFifo : undefined;
    if (g && v && g.path === v.path) {
      log.info(`notify FIFO ${v.path} has been specified for global and vrrp FIFO - ignoring vrrp FIFO`);
      v = undefined;
    }
    if (g && l && g.path === l.path) {
      log.info(`notify FIFO ${l.path} has been specified for global and LVS FIFO - ignoring LVS FIFO`);
      l = undefined;
    }
    if (l && v && l.path === v.path && l.script && v.script) {
      log.info('LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script');
      const { script: _s, ...bare } = l;
      l = bare;
    }
    const open = async (f: Fifo, type: string, exitSide: string): Promise<NotifyFifo> => {
      const user = f.user ?? policy.defaultUser;
      const uid = user !== undefined ? lookupId('/etc/passwd', user) : undefined;
      const gid = f.group !== undefined ? lookupId('/etc/group', f.group) : user !== undefined ? primaryGid(user) : undefined;
      const fifo = await NotifyFifo.open({
        path: f.path, type, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}),
        ...(f.script ? { script: f.script } : {}),
        ...(policy.defaultUser !== undefined ? { defaultUser: policy.defaultUser } : {}),
        ...(policy.defaultGroup !== undefined ? { defaultGroup: policy.defaultGroup } : {}),
        scriptExitLine: `${exitSide} notify fifo script terminated`,
        ...(netns !== undefined ? { netns } : {}),
      }, log);
      set.all.push(fifo);
      return fifo;
    };
    // vrrp.c vrrp_complete_init: the global FIFO's script is run by the checker process when there is one.
    if (g) {
      const fifo = await open(g, '', sides.lvs ? 'lvs' : 'vrrp');
      set.routes.vrrp.push(fifo);
      set.routes.lvs.push(fifo);
    }
    const vf = v ? await open(v, 'vrrp_', 'vrrp') : undefined;
    if (vf) set.routes.vrrp.push(vf);
    if (l) set.routes.lvs.push(vf && l.path === vf.path ? vf : await open(l, 'lvs_', 'lvs'));
    return set;
  }

  write(from: FifoSource, lines: readonly string[]): void {
    for (const fifo of this.routes[from]) {
      for (const line of lines) {
        this.lines?.inc({ fifo: fifo.path, result: fifo.write(line) ? 'written' : 'dropped' });
      }
    }
  }

  /** script_killall(SIGTERM): shutdown and reload start with it, before the last lines are written. */
  terminateScripts(): void {
    for (const f of this.all) f.terminateScript();
  }

  /** Unlinks what we created and closes; at shutdown a script still running a second later is killed. */
  async close(shutdown: boolean): Promise<void> {
    await Promise.all(this.all.map((f) => f.close(shutdown ? SHUTDOWN_GRACE_MS : 0)));
  }
}
