// `--dump-conf`: the resolved model as JSON with keys sorted at every level, so output is stable across runs and
// diffs between configs show only real changes.

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

export function dumpConfig(config: unknown): string {
  return `${JSON.stringify(sortKeys(config), null, 2)}\n`;
}
