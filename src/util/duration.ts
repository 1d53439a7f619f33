/** Durations as ward.yaml and the command line write them: `500ms`, `10s`, `5m`, `2h`, `1d`. */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds in a duration such as `500ms`, `10s`, `1m`, `2h` or `1d`; null for anything else (`off`). */
export function intervalMs(setting: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(setting);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}
