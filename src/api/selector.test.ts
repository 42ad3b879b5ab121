import { describe, expect, it } from "vitest";
import { labelSelectorToString, selectorIsEmpty, selectorMatches } from "./selector.ts";

describe("selectorIsEmpty", () => {
  it("treats absent, {} and empty lists as empty", () => {
    expect(selectorIsEmpty(undefined)).toBe(true);
    expect(selectorIsEmpty({})).toBe(true);
    expect(selectorIsEmpty({ matchLabels: {}, matchExpressions: [] })).toBe(true);
    expect(selectorIsEmpty({ matchLabels: { a: "b" } })).toBe(false);
    expect(selectorIsEmpty({ matchExpressions: [{ key: "a", operator: "Exists" }] })).toBe(false);
  });
});

describe("labelSelectorToString", () => {
  it("renders every operator in the API server's query form, deterministically", () => {
    const text = labelSelectorToString({
      matchLabels: { "zonesync.io/export": "true", app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["b", "a"] },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "team", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist", values: [] },
      ],
    });
    expect(text).toBe("app=web,zonesync.io/export=true,tier in (a,b),env notin (dev),team,!legacy");
  });

  it("refuses an empty selector (as a query it would select everything)", () => {
    expect(() => labelSelectorToString({})).toThrow(/selects nothing/);
    expect(() => labelSelectorToString(undefined)).toThrow(/selects nothing/);
  });

  it("refuses In without values", () => {
    expect(() => labelSelectorToString({ matchExpressions: [{ key: "a", operator: "In", values: [] }] })).toThrow(
      /needs at least one value/,
    );
  });
});

describe("selectorMatches", () => {
  const selector = {
    matchLabels: { app: "web" },
    matchExpressions: [
      { key: "tier", operator: "In" as const, values: ["front"] },
      { key: "env", operator: "NotIn" as const, values: ["dev"] },
      { key: "team", operator: "Exists" as const },
      { key: "legacy", operator: "DoesNotExist" as const },
    ],
  };

  it("agrees with labelSelectorToString's semantics", () => {
    expect(selectorMatches(selector, { app: "web", tier: "front", team: "x" })).toBe(true);
    expect(selectorMatches(selector, { app: "web", tier: "front", team: "x", env: "prod" })).toBe(true);
    expect(selectorMatches(selector, { app: "web", tier: "front", team: "x", env: "dev" })).toBe(false);
    expect(selectorMatches(selector, { app: "web", tier: "front" })).toBe(false);
    expect(selectorMatches(selector, { app: "web", tier: "front", team: "x", legacy: "" })).toBe(false);
    expect(selectorMatches(selector, { app: "api", tier: "front", team: "x" })).toBe(false);
  });

  it("matches nothing with an empty selector", () => {
    expect(selectorMatches({}, { app: "web" })).toBe(false);
    expect(selectorMatches(undefined, {})).toBe(false);
  });
});
