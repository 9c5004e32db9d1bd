// The operator console's HTML, rendered on the server: the page is a plain table that works without JavaScript, and
// the live updates (console.ts) send the same rows rendered by the same functions, which the small script below swaps
// in. The timeline per real server is an SVG drawn here: a band of up/down periods from the transitions, a line of
// mean check duration per one-minute bucket, a tick per bucket with failures. Pure: data and a time in, text out.
import type { ConsoleGroup, ConsoleServer } from '../ipc/protocol.js';
import type { VsStatus } from '../ipvs/manager.js';
import type { RealServerStatus } from '../ipvs/pool.js';
import type { AnnounceStatus } from './announce-owner.js';
import type { StoredEntry } from './overrides.js';
import { itemsOf, type LazyArray } from './json-stream.js';
import { TIMELINE_BUCKET_MS, TIMELINE_SPAN_MS, type RsTelemetryRow, type Timeline } from './rs-telemetry.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * A timeline shows at most TIMELINE_SPAN_MS, what the telemetry keeps; a younger history fills the width from its first
 * point, over this much at least, so that it is not stretched thin.
 */
const MIN_SPAN_MS = 15_000;
const W = 300;
const H = 40;
const BAND = 8;

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/**
 * One real server's timeline up to `now`. `alive` is its state now, which the band ends with; before its first
 * kept transition it was in the opposite state of that transition. The span is the last four hours, or the whole
 * history while it is younger.
 */
export function timelineSvg(line: Timeline, alive: boolean, now: number): string {
  const n = line.checks.length;
  const firstAt = Math.min(n > 0 ? line.start : now, line.transitions[0]?.at ?? now);
  const start = Math.max(now - TIMELINE_SPAN_MS, Math.min(firstAt, now - MIN_SPAN_MS));
  const scale = W / (now - start);
  const x = (t: number): number => Math.round((Math.max(t, start) - start) * scale);
  let band = '';
  let state = line.transitions.length > 0 ? !line.transitions[0]!.up : alive;
  // Before the first check or transition kept, the band is left empty: nothing is known of that time.
  let from = Math.max(start, firstAt);
  for (const t of line.transitions) {
    if (t.at >= start && t.at > from) band += `<rect class="${state ? 'up' : 'down'}" x="${x(from)}" y="${H - BAND}" width="${x(t.at) - x(from)}" height="${BAND}"/>`;
    state = t.up;
    from = Math.max(from, t.at);
  }
  band += `<rect class="${alive ? 'up' : 'down'}" x="${x(from)}" y="${H - BAND}" width="${W - x(from)}" height="${BAND}"/>`;
  // Buckets in the span: the mean check time as a line (each bucket drawn at its middle), failures as ticks.
  const first = Math.max(0, Math.ceil((start - line.start) / line.bucketMs) - 1);
  let maxMs = 1;
  for (let i = first; i < n; i++) if (line.checks[i]! > 0 && line.meanMs[i]! > maxMs) maxMs = line.meanMs[i]!;
  const top = H - BAND - 4;
  let points = '';
  let ticks = '';
  let drawn = 0;
  let lastY = '';
  for (let i = first; i < n; i++) {
    if (line.checks[i] === 0) continue;
    const px = x(line.start + (i + 0.5) * line.bucketMs);
    lastY = String(Math.round(top - (line.meanMs[i]! / maxMs) * (top - 2)));
    points += `${drawn++ === 0 ? '' : ' '}${px},${lastY}`;
    if (line.failures[i]! > 0) ticks += `M${px} 0v4`;
  }
  if (drawn === 1) points += ` ${W},${lastY}`;
  const last = line.transitions.at(-1);
  const title = `${alive ? 'up' : 'down'}${last ? ` since ${clock(last.at)}` : ''}; ${line.transitions.length} transitions kept; ` +
    `mean check time up to ${maxMs.toFixed(1)} ms; ${clock(start)}–${clock(now)} UTC`;
  return `<svg class="timeline" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" data-transitions="${line.transitions.length}"><title>${escapeHtml(title)}</title>` +
    `${band}${drawn > 0 ? `<polyline class="ms" points="${points}"/>` : ''}${ticks ? `<path class="fail" d="${ticks}"/>` : ''}</svg>`;
}

/** A timeline with nothing in it yet. */
export const EMPTY_TIMELINE: Timeline = { transitions: [], start: 0, bucketMs: TIMELINE_BUCKET_MS, checks: new Uint16Array(0), failures: new Uint16Array(0), meanMs: new Float32Array(0) };

/** One real server's row, as the page and the live updates show it. */
export interface ConsoleRow {
  readonly id: string;
  readonly vsId: string;
  readonly name: string;
  readonly status: RealServerStatus;
  readonly override?: StoredEntry;
  readonly telemetry?: RsTelemetryRow;
  readonly server?: ConsoleServer;
  /** Its timeline, when it changed since the last refresh. */
  readonly timeline?: Timeline;
}

/** A console refresh as the supervisor reads it: the checker process's virtual servers arrive in batches. */
export interface ConsoleSnapshot {
  /** The telemetry's revision: the next refresh asks for timelines changed after it. */
  readonly rev: number;
  readonly overrides: readonly StoredEntry[];
  readonly groups: LazyArray;
}

function cell(label: string, html: string, cls = ''): string {
  return `<td data-label="${label}"${cls ? ` class="${cls}"` : ''}>${html}</td>`;
}

/** A real server's row; `svg` undefined leaves the timeline cell empty, for the live script to keep the one it has. */
export function rowHtml(r: ConsoleRow, svg: string | undefined): string {
  const s = r.status;
  const t = r.telemetry;
  const o = r.override;
  const state = s.alive ? '<span class="badge up">up</span>' : '<span class="badge down">down</span>';
  const weight = `${s.effectiveWeight}${s.effectiveWeight !== s.configuredWeight ? ` <small>(configured ${s.configuredWeight})</small>` : ''}`;
  const override = o ? escapeHtml(o.override.kind === 'drain' ? 'drained' : `weight ${o.override.weight}`) : '';
  const checkers = escapeHtml((r.server?.checkers ?? []).join(', ') || 'none');
  const last = t?.ok === undefined ? '' : `${t.ok ? 'ok' : 'failed'} ${t.ms!.toFixed(1)} ms`;
  const failure = t?.failedAt !== undefined ? `<span title="${escapeHtml(t.detail ?? '')}">${t.reason} at ${clock(t.failedAt)}</span>` : '';
  const conns = r.server ? `${r.server.active} / ${r.server.inactive}` : '';
  return `<tr id="${r.id}" class="rs ${s.alive ? 'up' : 'down'}">` +
    cell('Real server', escapeHtml(r.name), 'name') + cell('State', state) + cell('Weight', weight) + cell('Override', override) +
    cell('Checker', `${checkers}${last ? `<br><small>${last}</small>` : ''}`) + cell('Last failure', failure) +
    cell('Flaps', String(t?.flaps ?? 0)) + cell('Active / inactive', conns) + cell('Timeline', svg ?? '', 'tl') + '</tr>';
}

export function vsHeaderHtml(id: string, vs: VsStatus): string {
  const quorum = `quorum ${vs.quorumUp ? 'up' : 'down'} (alive weight ${vs.aliveWeight}, needs ${vs.quorum + vs.hysteresis})`;
  const sorry = vs.sorryServer ? `, sorry server ${escapeHtml(vs.sorryServer)} ${vs.sorryActive ? 'active' : 'idle'}` : '';
  return `<tr id="${id}" class="vs"><th colspan="9">${escapeHtml(vs.vsId)} <small>${quorum}${sorry}</small></th></tr>`;
}

/** A VRRP instance as the supervisor knows it from the VRRP process's transition notes. */
export interface VrrpView {
  readonly name: string;
  readonly state: string;
  readonly priority?: number;
  readonly master?: string;
  readonly since?: number;
  readonly from?: string;
  readonly cause?: string;
}

export function vrrpSectionHtml(instances: readonly VrrpView[]): string {
  const rows = instances.map((i) =>
    `<tr>${cell('Instance', escapeHtml(i.name))}${cell('State', `<span class="badge ${i.state === 'MASTER' ? 'up' : i.state === 'BACKUP' ? 'idle' : 'down'}">${escapeHtml(i.state)}</span>`)}` +
    `${cell('Priority', i.priority === undefined ? '' : String(i.priority))}${cell('Master', escapeHtml(i.state === 'MASTER' ? 'this node' : (i.master ?? '')))}` +
    `${cell('Last transition', i.since === undefined ? '' : escapeHtml(`${clock(i.since)} ${i.from ?? '?'} → ${i.state}: ${i.cause ?? ''}`))}</tr>`).join('');
  const body = instances.length === 0 ? '<p>No VRRP instance.</p>'
    : `<table><thead><tr><th>Instance</th><th>State</th><th>Priority</th><th>Master</th><th>Last transition (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`;
  return `<section id="vrrp"><h2>VRRP</h2>${body}</section>`;
}

/** The VIPs this director announces for BGP ECMP (--announce-table), each with why it is or is not announced. */
export function announceSectionHtml(a: AnnounceStatus): string {
  const rows = a.vips.map((v) =>
    `<tr>${cell('VIP', escapeHtml(`${v.vip}/${v.family === 4 ? 32 : 128}`))}` +
    `${cell('State', `<span class="badge ${v.announced ? 'up' : 'down'}">${v.announced ? 'announced' : 'withdrawn'}</span>`)}` +
    `${cell('Reason', escapeHtml(v.reason))}${cell('Virtual servers', escapeHtml(v.vs.join(', ')))}</tr>`).join('');
  const body = a.vips.length === 0 ? '<p>No virtual server given by address to announce.</p>'
    : `<table><thead><tr><th>VIP</th><th>State</th><th>Reason</th><th>Virtual servers</th></tr></thead><tbody>${rows}</tbody></table>`;
  return `<section id="announce"><h2>Announcements <small>table ${a.table}${a.drained ? ', director drained' : ''}</small></h2>${body}</section>`;
}

/** What the page shows above the virtual servers, swapped whole when it changes: VRRP, then announcements if any. */
export function headHtml(vrrp: readonly VrrpView[], announce: AnnounceStatus | undefined): string {
  return `<div id="head">${vrrpSectionHtml(vrrp)}${announce ? announceSectionHtml(announce) : ''}</div>`;
}

/** The rows of a snapshot, in the pools' order: the pool's state joined with the checks, connections and overrides. */
/**
 * The snapshot's virtual servers as they arrive, each with its real servers' rows made as they are read: the caller
 * renders them a slice at a time, and 30,000 rows made at once held the supervisor's loop for a quarter of a second.
 */
export async function* consoleRows(snap: ConsoleSnapshot, idOf: (key: string) => string): AsyncGenerator<{ vs: VsStatus; id: string; rows: Iterable<ConsoleRow> }> {
  const overrides = new Map(snap.overrides.map((o) => [`${o.vs}/${o.rs}`, o]));
  for await (const { vs, rows } of itemsOf<ConsoleGroup>(snap.groups)) {
    yield {
      vs,
      id: idOf(vs.vsId),
      rows: (function* (): Generator<ConsoleRow> {
        for (const { status, telemetry, server, timeline } of rows) {
          const o = overrides.get(status.rsId);
          yield {
            id: idOf(status.rsId), vsId: vs.vsId, name: status.rsId.slice(vs.vsId.length + 1), status,
            ...(telemetry ? { telemetry } : {}), ...(o ? { override: o } : {}), ...(server ? { server } : {}), ...(timeline ? { timeline } : {}),
          };
        }
      })(),
    };
  }
}

const STYLE = `
:root{font-family:system-ui,sans-serif;color:#1b1f24;background:#f6f7f9}
body{margin:0 auto;padding:12px;max-width:1400px}
h1{font-size:1.3rem;margin:0 0 4px}h2{font-size:1.1rem;margin:18px 0 6px}
.live-note{color:#667;font-size:.85rem}body.live .live-note::after{content:" · live";color:#1a7f37;font-weight:600}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:4px 6px;border-bottom:1px solid #e3e5e8;text-align:left;vertical-align:middle;font-size:.9rem}
tr.vs th{background:#eef1f4;font-weight:600}tr.vs small{font-weight:400;color:#556}
tr.rs.down{background:#fff1f0}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:.8rem;font-weight:600;color:#fff}
.badge.up{background:#1a7f37}.badge.down{background:#cf222e}.badge.idle{background:#57606a}
td.tl{width:300px}svg.timeline{width:300px;height:40px;display:block}
svg .up{fill:#4ac26b}svg .down{fill:#cf222e}svg .ms{fill:none;stroke:#0969da;stroke-width:1.2}svg .fail{stroke:#cf222e;stroke-width:1.5}
small{color:#556}
@media (max-width:760px){
 thead{display:none}table,tbody,tr,td,th{display:block;width:auto}
 tr.rs{margin:8px 0;border:1px solid #d0d7de;border-radius:6px;padding:4px}
 td{border:0;padding:2px 4px}td::before{content:attr(data-label) ": ";font-weight:600;color:#556}
 td.tl,svg.timeline{width:100%}
}`;

export function pageHtml(o: { title: string; now: number; head: string; groups: readonly { header: string; rows: readonly string[] }[] }): string {
  const body = o.groups.length === 0 ? '<p>No virtual server.</p>'
    : '<table><thead><tr><th>Real server</th><th>State</th><th>Weight</th><th>Override</th><th>Checker, last result</th>' +
      '<th>Last failure (UTC)</th><th>Flaps</th><th>Active / inactive</th><th>Timeline (up/down, check time)</th></tr></thead>' +
      o.groups.map((g) => `<tbody>${g.header}${g.rows.join('')}</tbody>`).join('') + '</table>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(o.title)}</title><style>${STYLE}</style><script src="console.js" defer></script></head><body>` +
    `<h1>${escapeHtml(o.title)}</h1><div class="live-note">rendered ${clock(o.now)} UTC; read-only</div>${o.head}` +
    `<h2>Virtual servers</h2>${body}</body></html>\n`;
}

/**
 * The live script: server-sent events carry rows rendered by rowHtml; a row without a timeline keeps the one it has.
 * Without JavaScript the page is the same table, as rendered when loaded.
 */
export const CONSOLE_SCRIPT = `'use strict';
(() => {
  const swap = (u) => {
    const old = document.getElementById(u.id);
    if (!old) return;
    const t = document.createElement('tbody');
    t.innerHTML = u.html;
    const row = t.firstElementChild;
    const kept = old.querySelector('td.tl');
    if (!u.timeline && kept) row.querySelector('td.tl').replaceWith(kept);
    old.replaceWith(row);
  };
  const es = new EventSource('events');
  es.addEventListener('rows', (e) => JSON.parse(e.data).forEach(swap));
  es.addEventListener('head', (e) => { document.getElementById('head').outerHTML = JSON.parse(e.data); });
  es.addEventListener('reload', () => location.reload());
  // A stream that broke (the daemon restarted, or let a slow page go) may have missed rows: reload once it is back.
  let opened = false;
  es.onopen = () => {
    if (opened) location.reload();
    opened = true;
    document.body.classList.add('live');
  };
  es.onerror = () => document.body.classList.remove('live');
})();
`;
