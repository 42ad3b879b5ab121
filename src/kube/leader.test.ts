import { describe, expect, it } from "vitest";
import { leaseExpiry, microTime } from "./leader.ts";

describe("lease helpers", () => {
  it("writes MicroTime with six fractional digits", () => {
    expect(microTime(new Date("2024-05-06T07:08:09.123Z"))).toBe("2024-05-06T07:08:09.123000Z");
  });

  it("expires a held lease at renewTime + duration; a free one is always expired", () => {
    const renewTime = "2024-05-06T07:08:09.000000Z";
    const at = Date.parse(renewTime);
    expect(leaseExpiry({ holderIdentity: "a", renewTime, leaseDurationSeconds: 15 })).toBe(at + 15_000);
    expect(leaseExpiry({ holderIdentity: "", renewTime, leaseDurationSeconds: 15 })).toBe(-Infinity);
    expect(leaseExpiry({ holderIdentity: null })).toBe(-Infinity);
    expect(leaseExpiry({ holderIdentity: "a", acquireTime: renewTime, leaseDurationSeconds: 1 })).toBe(at + 1000);
  });
});
