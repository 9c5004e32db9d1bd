// Operator weight overrides (drain / weight N), keyed by real-server identity (`vsId/rsId`).
// They are decisions, not observations: they outlive checker transitions and reloads of an unchanged server, and
// — through the state file — a daemon restart. They are dropped only when the server leaves the config.
import { renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirWithMode, readFileSafe, UnsafePathError, writeFileSafe } from '../fs/safe-write.js';
import { createMode } from '../fs/umask.js';

export const DEFAULT_STATE_FILE = '/var/lib/lvskeeper/overrides.json';

/** Far beyond any real table (about 150 bytes per override); a bigger file is refused rather than read. */
const MAX_STATE_BYTES = 32 << 20;

export type Override = { readonly kind: 'drain' } | { readonly kind: 'weight'; readonly weight: number };

export interface OverrideKey {
  readonly vs: string;
  readonly rs: string;
}

const keyOf = (k: OverrideKey): string => `${k.vs}/${k.rs}`;

export interface StoredEntry extends OverrideKey {
  readonly override: Override;
  readonly since: string;
}

export class OverrideStore {
  private readonly entries = new Map<string, StoredEntry>();
  /** Problems met while loading the state file, for the daemon to log. */
  readonly loadErrors: string[] = [];

  /** path undefined: overrides live in memory only (tests, --no-state-file). */
  constructor(private readonly path: string | undefined) {
    if (!path) return;
    let bytes: Buffer | undefined;
    try {
      // Not through a link, only a root-owned regular file in root's directories: its entries drain servers.
      bytes = readFileSafe(path, { maxBytes: MAX_STATE_BYTES });
    } catch (err) {
      const why = err instanceof UnsafePathError ? err.message : `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      this.loadErrors.push(`state file refused: ${why}; starting without overrides`);
      return;
    }
    if (bytes === undefined) return;
    let problem: string | undefined;
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as { overrides?: StoredEntry[] };
      for (const e of parsed.overrides ?? []) {
        if (typeof e.vs !== 'string' || typeof e.rs !== 'string' || !validOverride(e.override)) {
          problem = 'malformed entry';
          break;
        }
        this.entries.set(keyOf(e), e);
      }
    } catch {
      // JSON.parse's message quotes the text: the file's bytes never reach the log.
      problem = 'not valid JSON';
    }
    if (problem !== undefined) {
      // Keep the unreadable file for the operator instead of silently overwriting it with the next change.
      const aside = `${path}.corrupt`;
      renameSync(path, aside);
      this.entries.clear();
      this.loadErrors.push(`state file ${path} is unreadable (${problem}); moved to ${aside}, starting without overrides`);
    }
  }

  get(key: OverrideKey): Override | undefined {
    return this.entries.get(keyOf(key))?.override;
  }

  list(): readonly StoredEntry[] {
    return [...this.entries.values()];
  }

  set(key: OverrideKey, override: Override): void {
    this.entries.set(keyOf(key), { vs: key.vs, rs: key.rs, override, since: new Date().toISOString() });
    this.save();
  }

  /** Returns whether there was an override to clear. */
  clear(key: OverrideKey): boolean {
    const had = this.entries.delete(keyOf(key));
    if (had) this.save();
    return had;
  }

  /** Drops overrides whose server is no longer configured; returns them so the caller can log each. */
  prune(exists: (key: OverrideKey) => boolean): StoredEntry[] {
    const dropped = [...this.entries.values()].filter((e) => !exists(e));
    for (const e of dropped) this.entries.delete(keyOf(e));
    if (dropped.length > 0) this.save();
    return dropped;
  }

  private save(): void {
    if (!this.path) return;
    mkdirWithMode(dirname(this.path), 0o700);
    // A fresh file renamed over the old one: a crash mid-write never leaves a truncated state file. Never more than
    // 0600 whatever the mask: it is read back as trusted, and readFileSafe refuses a file others could write.
    writeFileSafe(this.path, JSON.stringify({ version: 1, overrides: this.list() }, null, 2) + '\n', { mode: createMode(0o600), durable: true });
  }
}

function validOverride(o: unknown): o is Override {
  if (typeof o !== 'object' || o === null) return false;
  const v = o as { kind?: unknown; weight?: unknown };
  return v.kind === 'drain' || (v.kind === 'weight' && Number.isInteger(v.weight) && (v.weight as number) >= 0);
}

/** The weight an operator override imposes on a configured/dynamic weight. */
export function applyOverride(override: Override | undefined, weight: number): number {
  if (!override) return weight;
  return override.kind === 'drain' ? 0 : override.weight;
}
