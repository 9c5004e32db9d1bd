// keepalived's log wording for checker outcomes (check_tcp.c, check_http.c, check_smtp.c,
// check_dns.c, check_udp.c, check_ping.c, check_misc.c). Pure text builders; the engine decides when to log.
import type { Checker } from '../src/config/model.js';
import type { PolicyLog } from './policy.js';

export interface Names {
  /** The checked endpoint, `[ip]:tcp:port` (keepalived's FMT_CHK). */
  readonly target: string;
  readonly rs: string;
  readonly vs: string;
}

/** FILE_CHECK and BFD_CHECK follow another process's state: keepalived gives them no checker thread to launch. */
export const launches = (c: Checker): boolean => c.type !== 'FILE_CHECK' && c.type !== 'BFD_CHECK';

function retrySuffix(log: Extract<PolicyLog, { kind: 'failed' }>): string {
  return log.retries !== undefined ? ` failed after ${log.retries} retries.` : ' failed.';
}

/** The line for a checker coming up (or passing its first check). */
export function upLine(c: Checker, n: Names, detail: string): string {
  switch (c.type) {
    case 'TCP_CHECK':
      return `TCP connection to ${n.target} success.`;
    case 'UDP_CHECK':
      return `UDP connection to ${n.target} success.`;
    case 'PING_CHECK':
      return `ICMP connection to ${n.target} success.`;
    case 'HTTP_GET':
    case 'SSL_GET':
      return `Remote Web server ${n.target} succeed on service.`;
    case 'SMTP_CHECK':
      return `Remote SMTP server ${n.target} succeed on service.`;
    case 'DNS_CHECK':
      return `DNS_CHECK (${n.target}) succeed.`;
    case 'MISC_CHECK':
      return `Misc check for [${n.rs} VS ${n.vs}] by [${miscScript(c)}] succeeded.`;
    default:
      return `${c.type} on service ${n.target} ${detail}.`;
  }
}

/** check_misc.c names the script by its first word (script.args[0]), not its arguments. */
const miscScript = (c: Extract<Checker, { type: 'MISC_CHECK' }>): string => c.miscPath.argv[0] ?? c.miscPath.text;

/** check_misc.c: `%u %s`, retry == 1 ? "retry" : "retries". */
const retries = (n: number): string => `${n} ${n === 1 ? 'retry' : 'retries'}`;

// check_http.c serves HTTP_GET and SSL_GET alike, and names both HTTP_CHECK.
const CHECK_NAME: Partial<Record<Checker['type'], string>> = {
  TCP_CHECK: 'TCP_CHECK',
  UDP_CHECK: 'UDP_CHECK',
  HTTP_GET: 'HTTP_CHECK',
  SSL_GET: 'HTTP_CHECK',
  SMTP_CHECK: 'SMTP_CHECK',
};

/** The line for a checker going down (or failing its first check). */
export function downLine(c: Checker, n: Names, log: Extract<PolicyLog, { kind: 'failed' }>, detail: string): string {
  if (c.type === 'MISC_CHECK') {
    const how = log.retries !== undefined ? `failed after ${retries(log.retries)}` : 'failed with retry disabled';
    return `Misc check for [${n.rs} VS ${n.vs}] by [${miscScript(c)}] ${how} (${detail}).`;
  }
  if (c.type === 'DNS_CHECK') return `DNS_CHECK (${n.target})${retrySuffix(log)}`;
  if (c.type === 'PING_CHECK') {
    return log.retries !== undefined
      ? `ICMP CHECK on service ${n.target} of ${n.vs} failed after ${log.retries} retries.`
      : `ICMP CHECK on service ${n.target} failed.`;
  }
  return `${CHECK_NAME[c.type] ?? c.type} on service ${n.target}${retrySuffix(log)}`;
}

/**
 * The line for a single failed attempt: for MISC_CHECK the retry progress; for the others the failure itself
 * (`TCP connection to … timeout.`, `HTTP status code error to … status_code [503].`).
 */
export function attemptLine(c: Checker, n: Names, log: PolicyLog, detail: string): string {
  if (c.type === 'MISC_CHECK') {
    const head = `Misc check for [${n.rs} VS ${n.vs}] by [${miscScript(c)}]`;
    if (log.kind === 'retrying') {
      const how = log.attempt === 1 ? `failed, will do ${retries(log.of)}` : `failed on retry ${log.attempt - 1}/${log.of}`;
      return `${head} ${how} (${detail}).`;
    }
    return `${head} failed (${detail}).`;
  }
  switch (c.type) {
    case 'TCP_CHECK':
      return `TCP connection to ${n.target} ${detail === 'timeout' ? 'timeout' : 'failed'}.`;
    case 'UDP_CHECK':
      return `UDP connection to ${n.target} ${detail === 'timeout' ? 'timeout' : 'failed'}.`;
    case 'PING_CHECK':
      return detail === 'timeout' ? `ICMP connection to address ${n.target} timeout.` : `ICMP connection to ${n.target} of ${n.vs} failed.`;
    case 'SMTP_CHECK':
      return `SMTP connection to ${n.target} ${detail}.`;
    case 'DNS_CHECK':
      return `DNS_CHECK (${n.target}) ${detail}.`;
    default:
      return detail;
  }
}

/**
 * The body of the mail a checker's verdict sends (smtp_alert(SMTP_MSG_RS, …) in check_tcp.c, check_udp.c,
 * check_ping.c, check_http.c, check_smtp.c, check_dns.c, check_misc.c); FILE_CHECK mails nothing.
 */
export function alertBody(c: Checker, up: boolean, detail: string): string | undefined {
  switch (c.type) {
    case 'TCP_CHECK':
      return up ? '=> TCP CHECK succeed on service <=' : '=> TCP CHECK failed on service <=';
    case 'UDP_CHECK':
      return up ? '=> UDP CHECK succeed on service <=' : '=> UDP CHECK failed on service <=';
    case 'PING_CHECK':
      return up ? '=> ICMP CHECK succeed on service <=' : '=> ICMP CHECK failed on service <=';
    case 'HTTP_GET':
    case 'SSL_GET':
      return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service : HTTP request failed <=';
    case 'SMTP_CHECK':
      return up ? '=> CHECK succeed on service <=' : `=> CHECK failed on service : ${detail} <=`;
    case 'DNS_CHECK':
      return up ? '=> DNS_CHECK: succeed on service <=' : '=> DNS_CHECK: failed on service <=';
    case 'MISC_CHECK':
      return `=> MISC CHECK ${up ? 'succeeded' : detail === 'timed out' ? 'timed out' : 'failed'} on service <=`;
    default:
      return undefined;
  }
}
