import { describe, expect, it } from "vitest";
import { UsageError } from "./errors.ts";
import {
  choiceFlag,
  dnsLabelFlag,
  durationFlag,
  labelsFlag,
  LOG_LEVELS,
  MAX_TOKEN_TTL_MS,
  percentFlag,
  portFlag,
} from "./flags.ts";

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("no UsageError");
}

describe("command-line values", () => {
  it("names: DNS labels only (they end up in object names and label selectors)", () => {
    expect(dnsLabelFlag("--source", "hub-1")).toBe("hub-1");
    for (const bad of ["Bad_Name", "", "-x", "x-", "a,b", "a=b", "a".repeat(64), "east,zonesync.io/link!=x"]) {
      expect(usage(() => dnsLabelFlag("--source", bad))).toMatch(/^--source: ".*" is not a valid name/);
    }
  });

  it("ports: decimal digits in 1-65535", () => {
    expect(portFlag("--zone-sync-port", "12345")).toBe(12345);
    for (const bad of ["1e3", "0x50", "0", "65536", "80.0", " 80", "", "-1"]) {
      expect(usage(() => portFlag("--zone-sync-port", bad))).toMatch(/is not a port/);
    }
  });

  it("durations: a unit is required, and bounds apply", () => {
    expect(durationFlag("--helm-timeout", "5m")).toBe(300_000);
    expect(usage(() => durationFlag("--helm-timeout", "abc"))).toMatch(/^--helm-timeout: invalid duration "abc"/);
    expect(usage(() => durationFlag("--token-ttl", "5m", { minMs: 600_000 }))).toMatch(/below the minimum of 600s/);
    expect(usage(() => durationFlag("--token-ttl", "100000h", { maxMs: MAX_TOKEN_TTL_MS }))).toMatch(
      /above the maximum of 8760h/,
    );
    expect(durationFlag("--token-ttl", "8760h", { maxMs: MAX_TOKEN_TTL_MS })).toBe(MAX_TOKEN_TTL_MS);
  });

  it("choices: log levels and formats are checked, not swallowed", () => {
    expect(choiceFlag("--log-level", "debug", LOG_LEVELS)).toBe("debug");
    expect(usage(() => choiceFlag("--log-level", "verbose", LOG_LEVELS))).toBe(
      '--log-level: "verbose" is not one of error, warn, info, debug',
    );
  });

  it("labels: key=value pairs with valid keys and values; empty is an error", () => {
    expect(labelsFlag("--selector", "zonesync.io/exported=true, tier=web")).toEqual({
      "zonesync.io/exported": "true",
      tier: "web",
    });
    expect(usage(() => labelsFlag("--selector", ""))).toMatch(/"" is not key=value/);
    expect(usage(() => labelsFlag("--selector", "tier"))).toMatch(/"tier" is not key=value/);
    expect(usage(() => labelsFlag("--selector", "Bad Key=x"))).toMatch(/not a valid label key/);
    expect(usage(() => labelsFlag("--selector", "tier=a b"))).toMatch(/not a valid label value/);
    expect(usage(() => labelsFlag("--selector", "tier=x,!y"))).toMatch(/"!y" is not key=value/);
  });

  it("percentages: 1% to 99%", () => {
    expect(percentFlag("--renew-after", "80%")).toBe(0.8);
    for (const bad of ["0%", "100%", "80", "0.8", "x%"]) {
      expect(usage(() => percentFlag("--renew-after", bad))).toMatch(/not a percentage from 1% to 99%/);
    }
  });
});
