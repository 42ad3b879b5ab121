/** Durations in the Go/Kubernetes style used by the ZoneSyncLink spec: `500ms`, `30s`, `5m`, `1h30m`. */

/** The pattern the CRD publishes: one or more `<integer><unit>` parts, units ms, s, m, h. */
export const DURATION_PATTERN = /^([0-9]+(ms|s|m|h))+$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration string into milliseconds: `parseDuration("90s") === 90_000`, `parseDuration("1h30m") ===
 * 5_400_000`. Throws an Error naming the input when it is not a duration.
 */
export function parseDuration(text: string): number {
  if (!DURATION_PATTERN.test(text)) {
    throw new Error(`invalid duration "${text}": expected a number with a unit (ms, s, m, h), e.g. "30s" or "1h30m"`);
  }
  let total = 0;
  for (const match of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  if (!Number.isSafeInteger(total)) throw new Error(`invalid duration "${text}": too large`);
  return total;
}

/** Formats milliseconds back into the shortest duration string (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`cannot format ${ms} as a duration`);
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
    ["ms", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
