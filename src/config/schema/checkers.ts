// Checker blocks inside real_server (keepalived 2.2.7 check/check_*.c).
import { regexOptionUses, regexUses } from './uses.js';
import { block, NOT_IMPLEMENTED as NO, partial, reported, required, status, values } from './types.js';
import type { BlockSchema } from './types.js';

/** Timer options every checker with a schedule has (check_api.c), MISC_CHECK included. */
const TIMING = { ...required('retry', 'delay_before_retry', 'warmup', 'delay_loop'), ...values('alpha', 'log_all_failures') };
/** Connection options of the network checkers. */
const CONNECTION = required('connect_ip', 'connect_port', 'bindto', 'bind_port', 'bind_if', 'connect_timeout', 'fwmark');

const URL = block(
  'url',
  values(
    'status_code', 'virtualhost', 'regex', 'regex_no_match', 'regex_options', 'regex_min_offset', 'regex_max_offset',
    'regex_stack',
  ),
  required('path', 'digest'),
  status({
    regex: partial("PCRE2's common subset, run as a JavaScript RegExp with PCRE2's meaning of . $ ^ \\s; a pattern beyond it is named", regexUses),
    regex_options: partial('caseless, multiline and dotall only', regexOptionUses),
    regex_stack: NO,
  }),
);

function http(name: string): BlockSchema {
  return block(
    name,
    TIMING,
    CONNECTION,
    values('virtualhost', 'http_protocol', 'enable_sni', 'fast_recovery'),
    required('nb_get_retry'),
    { url: URL },
  );
}

export const CHECKERS: Readonly<Record<string, BlockSchema>> = {
  HTTP_GET: http('HTTP_GET'),
  SSL_GET: http('SSL_GET'),
  TCP_CHECK: block('TCP_CHECK', TIMING, CONNECTION),
  PING_CHECK: block('PING_CHECK', TIMING, CONNECTION),
  SMTP_CHECK: block(
    'SMTP_CHECK',
    TIMING,
    CONNECTION,
    reported({
      helo_name: 'SMTP_CHECK helo name missing',
    }),
    { host: block('host', CONNECTION) },
  ),
  DNS_CHECK: block('DNS_CHECK', TIMING, CONNECTION, required('type', 'name')),
  UDP_CHECK: block(
    'UDP_CHECK',
    TIMING,
    CONNECTION,
    values('require_reply'),
    reported({
      payload: 'UDP_CHECK payload requires a payload',
    }),
    required('min_reply_length', 'max_reply_length'),
  ),
  MISC_CHECK: block('MISC_CHECK', TIMING, values('misc_path', 'misc_dynamic', 'user'), required('misc_timeout')),
  FILE_CHECK: block('FILE_CHECK', values('weight'), required('track_file')),
  BFD_CHECK: block('BFD_CHECK', values('name', 'alpha')),
};
