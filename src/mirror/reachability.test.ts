import { describe, expect, it } from "vitest";
import { Reachability, type ReachabilityObservation } from "./reachability.ts";

const MINUTE = 60_000;
const down: ReachabilityObservation = {
  reachable: false,
  failureIsUnreachable: true,
  staleAfterMs: 5 * MINUTE,
  canMarkStale: true,
};
const up: ReachabilityObservation = { ...down, reachable: true };

describe("Reachability", () => {
  it("is unreachable from construction until the first good observation, without announcing a connect", () => {
    const r = new Reachability(1000);
    expect(r.unreachableSince).toBe(1000);
    expect(r.observe(2000, up)).toEqual({ changes: [], recheckInMs: undefined });
    expect(r.unreachableSince).toBeUndefined();
  });

  it("announces an outage once, asks to be observed again when staleAfter is due, and goes stale then", () => {
    const r = new Reachability(0);
    r.observe(0, up);
    expect(r.observe(10_000, down)).toEqual({ changes: ["unreachable"], recheckInMs: 5 * MINUTE });
    expect(r.observe(70_000, down)).toEqual({ changes: [], recheckInMs: 4 * MINUTE });
    expect(r.stale).toBe(false);
    expect(r.observe(10_000 + 5 * MINUTE, down)).toEqual({ changes: ["stale"], recheckInMs: undefined });
    expect(r.stale).toBe(true);
    expect(r.observe(20 * MINUTE, down).changes).toEqual([]);
    expect(r.observe(21 * MINUTE, up).changes).toEqual(["recovered", "fresh"]);
    expect(r.stale).toBe(false);
    expect(r.unreachableSince).toBeUndefined();
  });

  it("recovers without going stale when the outage is shorter than staleAfter", () => {
    const r = new Reachability(0);
    r.observe(0, up);
    r.observe(1000, down);
    expect(r.observe(2000, up).changes).toEqual(["recovered"]);
    // A new outage counts from its own start.
    expect(r.observe(3000, down)).toEqual({ changes: ["unreachable"], recheckInMs: 5 * MINUTE });
  });

  it("does not announce refused credentials at start-up as unreachable, but still goes stale", () => {
    const r = new Reachability(0);
    const refused = { ...down, failureIsUnreachable: false };
    expect(r.observe(1000, refused)).toEqual({ changes: [], recheckInMs: 5 * MINUTE - 1000 });
    expect(r.observe(5 * MINUTE, refused).changes).toEqual(["stale"]);
  });

  it("announces nothing and never goes stale without a spec", () => {
    const r = new Reachability(0);
    expect(r.observe(60 * MINUTE, { ...down, staleAfterMs: undefined })).toEqual({
      changes: [],
      recheckInMs: undefined,
    });
    expect(r.stale).toBe(false);
  });

  it("waits to go stale until the mirrors can be marked, then does so at the next observation", () => {
    const r = new Reachability(0);
    expect(r.observe(6 * MINUTE, { ...down, canMarkStale: false })).toEqual({
      changes: ["unreachable"],
      recheckInMs: undefined,
    });
    expect(r.stale).toBe(false);
    expect(r.observe(6 * MINUTE + 1, down).changes).toEqual(["stale"]);
  });

  it("uses a shorter staleAfter from a spec change at once", () => {
    const r = new Reachability(0);
    r.observe(0, down);
    expect(r.observe(2 * MINUTE, { ...down, staleAfterMs: MINUTE }).changes).toEqual(["stale"]);
  });
});
