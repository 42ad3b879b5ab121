import { describe, expect, it } from "vitest";
import { histogramQuantile, parseHistogram } from "../../bench/histogram.ts";

const exposition = `# HELP zonesync_mirror_e2e_lag_seconds From a change in the target cluster to the mirror
# TYPE zonesync_mirror_e2e_lag_seconds histogram
zonesync_mirror_e2e_lag_seconds_bucket{le="0.01",link="east"} 10
zonesync_mirror_e2e_lag_seconds_bucket{le="0.05",link="east"} 90
zonesync_mirror_e2e_lag_seconds_bucket{le="0.1",link="east"} 100
zonesync_mirror_e2e_lag_seconds_bucket{le="+Inf",link="east"} 100
zonesync_mirror_e2e_lag_seconds_sum{link="east"} 3.1
zonesync_mirror_e2e_lag_seconds_count{link="east"} 100
zonesync_mirror_sync_lag_seconds_bucket{le="0.01",link="east"} 7
`;

describe("the benchmarks' histogram reading", () => {
  const buckets = parseHistogram(exposition, "zonesync_mirror_e2e_lag_seconds");

  it("reads one histogram's cumulative buckets, +Inf last, and no other metric's", () => {
    expect(buckets).toEqual([
      { le: 0.01, count: 10 },
      { le: 0.05, count: 90 },
      { le: 0.1, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ]);
  });

  it("interpolates quantiles inside the bucket as histogram_quantile does", () => {
    // rank 50 lies 40 of 80 observations into (0.01, 0.05]: 0.01 + 0.04 × 40/80.
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.03, 10);
    // rank 5 in the first bucket, whose lower bound is 0.
    expect(histogramQuantile(0.05, buckets)).toBeCloseTo(0.005, 10);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.095, 10);
  });

  it("answers the highest finite bound for a rank in +Inf, and NaN without observations", () => {
    const overflowing = [
      { le: 0.1, count: 1 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ];
    expect(histogramQuantile(0.99, overflowing)).toBe(0.1);
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(0.5, [{ le: Number.POSITIVE_INFINITY, count: 0 }])).toBeNaN();
  });
});
