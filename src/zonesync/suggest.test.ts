import { describe, expect, it } from "vitest";
import { closest, editDistance, suggest } from "./suggest.ts";

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "", 3],
    ["", "abc", 3],
    ["port", "port", 0],
    ["prot", "port", 1],
    ["port", "ports", 1],
    ["kitten", "sitting", 3],
  ])("%j → %j is %d", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe("closest and suggest", () => {
  const keys = ["zone-sync", "zone-sync-port", "zone-sync-resolver-ipv6", "zone-sync-tls", "zone-sync-tls-secret"];
  it("finds a near key", () => {
    expect(closest("zone-sync-prot", keys)).toBe("zone-sync-port");
    expect(closest("zone-sync-something", keys)).toBeUndefined();
  });
  it("falls back to a key containing every segment", () => {
    expect(suggest("zone-sync-ipv6", keys)).toBe("zone-sync-resolver-ipv6");
    expect(suggest("zone-sync-secret", keys)).toBe("zone-sync-tls-secret");
    expect(suggest("zone-sync-bananas", keys)).toBeUndefined();
  });
});
