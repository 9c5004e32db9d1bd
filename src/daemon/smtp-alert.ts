// smtp_alert: keepalived's e-mail notifications (core/smtp.c) sent to notification_email through smtp_server.
// A small SMTP client: one connection per alert, HELO/MAIL/RCPT/DATA/QUIT, bounded by smtp_connect_timeout.
// Failures are logged, never thrown: an alert must not disturb the daemon.
import { connect, type Socket } from 'node:net';
import type { GlobalDefs } from '../config/model.js';
import type { Logger } from '../log.js';

export interface Alert {
  readonly subject: string;
  readonly body: string;
}

/** Reads SMTP replies (multi-line aware) from a socket, one at a time. */
class ReplyReader {
  private buffered = '';
  private waiting: ((reply: { code: number; text: string }) => void) | undefined;
  private pending: { code: number; text: string }[] = [];

  constructor(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let lines: string[] = [];
      let idx: number;
      while ((idx = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, idx).replace(/\r$/, '');
        this.buffered = this.buffered.slice(idx + 1);
        lines.push(line);
        // "250-..." continues, "250 ..." ends a reply.
        if (line.length < 4 || line[3] !== '-') {
          this.push({ code: Number(line.slice(0, 3)), text: lines.join('\n') });
          lines = [];
        }
      }
      if (lines.length > 0) this.buffered = lines.join('\n') + '\n' + this.buffered;
    });
  }

  private push(reply: { code: number; text: string }): void {
    const waiter = this.waiting;
    if (waiter) {
      this.waiting = undefined;
      waiter(reply);
    } else this.pending.push(reply);
  }

  next(): Promise<{ code: number; text: string }> {
    const ready = this.pending.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

/** Dot-stuffing and CRLF line ends for the DATA section (RFC 5321 §4.5.2). */
function dataSection(lines: string[]): string {
  return lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n') + '\r\n.\r\n';
}

export class SmtpAlerter {
  constructor(
    private readonly global: GlobalDefs,
    private readonly logger: Logger,
  ) {}

  get configured(): boolean {
    return this.global.smtpServer !== undefined && this.global.notificationEmail.length > 0;
  }

  async send(alert: Alert): Promise<boolean> {
    const server = this.global.smtpServer;
    if (!server || this.global.notificationEmail.length === 0) return false;
    const socket = connect({ host: server.host, port: server.port });
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), this.global.smtpConnectTimeoutMs);
    const reader = new ReplyReader(socket);
    const expect = async (ok: (code: number) => boolean, step: string): Promise<void> => {
      const reply = await reader.next();
      if (!ok(reply.code)) throw new Error(`${step}: server replied ${reply.text}`);
    };
    const failed = new Promise<never>((_, reject) => socket.once('error', reject));
    failed.catch(() => undefined);
    try {
      await Promise.race([
        (async () => {
          await expect((c) => c === 220, 'banner');
          socket.write(`HELO ${this.global.smtpHeloName}\r\n`);
          await expect((c) => c === 250, 'HELO');
          socket.write(`MAIL FROM:<${this.global.notificationEmailFrom}>\r\n`);
          await expect((c) => c === 250, 'MAIL FROM');
          for (const rcpt of this.global.notificationEmail) {
            socket.write(`RCPT TO:<${rcpt}>\r\n`);
            await expect((c) => c === 250 || c === 251, 'RCPT TO');
          }
          socket.write('DATA\r\n');
          await expect((c) => c === 354, 'DATA');
          const headers = [
            `Date: ${new Date().toUTCString()}`,
            `From: ${this.global.notificationEmailFrom}`,
            `Subject: ${alert.subject}`,
            'X-Mailer: lvskeeper',
            `To: ${this.global.notificationEmail.join(', ')}`,
            '',
          ];
          socket.write(dataSection([...headers, ...alert.body.split('\n')]));
          await expect((c) => c === 250, 'message');
          socket.write('QUIT\r\n');
          await reader.next();
        })(),
        failed,
      ]);
      this.logger.info(`SMTP alert successfully sent.`);
      return true;
    } catch (err) {
      this.logger.warn(`Error sending SMTP alert to [${server.host}]:${server.port}: ${(err as Error).message}`);
      return false;
    } finally {
      clearTimeout(timer);
      socket.end();
      socket.destroy();
    }
  }
}

export interface QuorumChange {
  readonly up: boolean;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly threshold: number;
  readonly weightSum: number;
  readonly init?: true;
  readonly stopping?: true;
}

/** keepalived's subjects and bodies (core/smtp.c). */
export const alerts = {
  /** SMTP_MSG_RS: a checker's verdict, the body its check_*.c gives, the subject the real server's state after it. */
  realServer(routerId: string, rs: string, vs: string, alive: boolean, body: string): Alert {
    return { subject: `[${routerId}] Realserver ${rs} of virtual server ${vs} - ${alive ? 'UP' : 'DOWN'}`, body };
  },
  /** SMTP_MSG_RS_SHUT (ipwrapper.c clear_service_rs): a live server taken out at stop (omega) or by a reload. */
  realServerShut(routerId: string, rs: string, vs: string, stopping: boolean): Alert {
    return { subject: `[${routerId}] Realserver ${rs} of virtual server ${vs} - DOWN`, body: stopping ? '=> Shutting down <=' : '=> Removing <=' };
  },
  /** SMTP_MSG_VS (ipwrapper.c do_vs_notifies), its body as keepalived prints it, `+` and `<=` in both directions. */
  quorum(routerId: string, vs: string, q: QuorumChange): Alert {
    const what = q.up ? (q.init ? 'Starting with quorum up' : 'Gained quorum') : q.init ? 'Starting with quorum down' : 'Lost quorum';
    return {
      subject: `[${routerId}] Virtualserver ${vs} - ${q.up ? 'UP' : 'DOWN'}`,
      body: q.stopping ? '=> Shutting down <=' : `=> ${what} ${q.quorum}+${q.hysteresis}=${q.threshold} <= ${q.weightSum} <=`,
    };
  },
  /** keepalived 2.2.7 vrrp_notify.c vrrp_smtp_notifier / vrrp_sync_smtp_notifier, subjects as smtp.c builds them. */
  vrrp(routerId: string, kind: 'Instance' | 'Group', name: string, state: string): Alert {
    const subject = `[${routerId}] VRRP ${kind} ${name} - ${state === 'STOP' ? 'Stopping' : `Entering ${state} state`}`;
    if (kind === 'Group') {
      const now = state === 'STOP' ? 'stopping' : `in ${state} state`;
      return { subject, body: `=> All VRRP group instances are now ${now} <=` };
    }
    const body =
      state === 'MASTER'
        ? '=> VRRP Instance is now owning VRRP VIPs <='
        : state === 'STOP'
          ? '=> VRRP Instance stopping <='
          : '=> VRRP Instance is no longer owning VRRP VIPs <=';
    return { subject, body };
  },

};
