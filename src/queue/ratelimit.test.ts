import { describe, expect, it } from "vitest";
import { ExponentialBackoff, TokenBucket } from "./ratelimit.ts";

describe("TokenBucket", () => {
  it("allows a burst, then one token per 1/qps seconds", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBeCloseTo(100);
    expect(bucket.reserve()).toBeCloseTo(200); // reservations queue up behind each other
    now = 1000; // 10 tokens refilled, minus the 2 borrowed, capped at the burst
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBeCloseTo(100);
  });

  it("rejects nonsense parameters", () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0)).toThrow(RangeError);
  });
});

describe("ExponentialBackoff", () => {
  it("doubles from the base up to the maximum, per key, until forgotten", () => {
    const backoff = new ExponentialBackoff(5, 100);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => backoff.next("a"))).toEqual([5, 10, 20, 40, 80, 100, 100]);
    expect(backoff.next("b")).toBe(5);
    expect(backoff.retries("a")).toBe(7);
    backoff.forget("a");
    expect(backoff.retries("a")).toBe(0);
    expect(backoff.next("a")).toBe(5);
  });

  it("defaults to 5 ms .. 1000 s and never overflows", () => {
    const backoff = new ExponentialBackoff();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.next("k");
    expect(last).toBe(1_000_000);
  });
});
