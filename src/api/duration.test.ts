import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["2m500ms", 120_500],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "30", "s", "1.5s", "-1s", "1d", "30 s", "1H"])("rejects %j and names it", (text) => {
    expect(() => parseDuration(text)).toThrow(`invalid duration "${text}"`);
  });
});

describe("formatDuration", () => {
  it("formats back to the shortest form", () => {
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(3_600_250)).toBe("1h250ms");
    expect(parseDuration(formatDuration(5_400_000))).toBe(5_400_000);
  });
});
