// promote_secondaries (keepalived 2.2.7 vrrp_if_config.c set_promote_secondaries / reset_promote_secondaries): an
// instance with the keyword switches net.ipv4.conf.IF.promote_secondaries on for its interface while it runs, so that
// deleting one VIP does not take the kernel's secondaries of the same subnet with it. An interface that already had it
// on is left alone; one we switched on is switched off again when the last instance holding it stops.
//
//   class PromoteSecondaries
//     constructor(sysctl?: Sysctl)      the calling process's network namespace by default (/proc/sys/net is per netns)
//     acquire(ifname): void             throws when the sysctl cannot be read or written (the caller logs it)
//     release(ifname): void
import { readFileSync, writeFileSync } from 'node:fs';

export interface Sysctl {
  read(ifname: string): number;
  write(ifname: string, value: 0 | 1): void;
}

const path = (ifname: string): string => `/proc/sys/net/ipv4/conf/${ifname}/promote_secondaries`;

export const procSysctl: Sysctl = {
  read: (ifname) => Number(readFileSync(path(ifname), 'utf8').trim()),
  write: (ifname, value) => writeFileSync(path(ifname), `${value}\n`),
};

export class PromoteSecondaries {
  /** Interfaces we switched on → instances holding them. */
  private readonly held = new Map<string, number>();

  constructor(private readonly sysctl: Sysctl = procSysctl) {}

  acquire(ifname: string): void {
    const n = this.held.get(ifname);
    if (n !== undefined) {
      this.held.set(ifname, n + 1);
      return;
    }
    if (this.sysctl.read(ifname) === 1) return;
    this.sysctl.write(ifname, 1);
    this.held.set(ifname, 1);
  }

  release(ifname: string): void {
    const n = this.held.get(ifname);
    if (n === undefined) return;
    if (n > 1) {
      this.held.set(ifname, n - 1);
      return;
    }
    this.held.delete(ifname);
    this.sysctl.write(ifname, 0);
  }
}
