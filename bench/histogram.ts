/** One cumulative bucket of a Prometheus histogram: the count of observations ≤ `le` seconds. */
export interface Bucket {
  le: number;
  count: number;
}

/** The buckets of histogram `name` in a Prometheus text exposition (summed over label sets), sorted by `le`. */
export function parseHistogram(text: string, name: string): Bucket[] {
  const byLe = new Map<number, number>();
  const line = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\S+)$`, "gm");
  for (const match of text.matchAll(line)) {
    const le = match[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(match[1]);
    byLe.set(le, (byLe.get(le) ?? 0) + Number(match[2]));
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * The q-quantile of a histogram as PromQL's histogram_quantile computes it: linear interpolation inside the bucket
 * that holds the rank, the lower bound of the first bucket being 0, and the highest finite bound when the rank falls
 * in +Inf. NaN without observations.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lower;
      return lower + ((le - lower) * (rank - below)) / (count - below || 1);
    }
    lower = le;
    below = count;
  }
  return lower;
}
