import { describe, expect, it } from "vitest";
import { DropLedger, DropLog, DropTally, emptyCounts, totalDrops } from "./drops.ts";

describe("DropLedger", () => {
  it("keeps totals of the current state: replaced per object, removed with it", () => {
    const ledger = new DropLedger();
    ledger.set("a", { loopback: 2 });
    ledger.set("b", { loopback: 1, port: 1 });
    expect(ledger.totals()).toEqual({ ...emptyCounts(), loopback: 3, port: 1 });
    ledger.set("a", { linkLocal: 1 }); // a changed: its old counts go
    expect(ledger.totals()).toEqual({ ...emptyCounts(), loopback: 1, linkLocal: 1, port: 1 });
    ledger.set("b", undefined); // b is clean now
    ledger.delete("a");
    expect(ledger.totals()).toEqual(emptyCounts());
    expect(ledger.size).toBe(0);
  });
});

describe("DropTally", () => {
  it("counts only positive amounts and reports nothing when nothing was dropped", () => {
    const tally = new DropTally();
    tally.add("tooMany", -5);
    expect(tally.result()).toBeUndefined();
    tally.add("port");
    tally.add("port", 2);
    expect(tally.result()).toEqual({ port: 3 });
    expect(totalDrops(tally.result())).toBe(3);
  });
});

describe("DropLog", () => {
  it("logs once per (reason, object), within a bounded memory", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = new DropLog({ warn: (_m, meta) => lines.push(meta) }, 2);
    expect(log.report("EndpointSlice a/s", { loopback: 1, port: 2 })).toEqual(["loopback", "port"]);
    expect(log.report("EndpointSlice a/s", { loopback: 5 })).toEqual([]);
    expect(lines).toEqual([
      { object: "EndpointSlice a/s", reason: "loopback", count: 1 },
      { object: "EndpointSlice a/s", reason: "port", count: 2 },
    ]);
    expect(log.size).toBe(2);
    expect(log.report("EndpointSlice b/s", { loopback: 1 })).toEqual(["loopback"]);
    expect(log.size).toBe(2); // the oldest entry (a/s loopback) was forgotten…
    expect(log.report("EndpointSlice a/s", { loopback: 1 })).toEqual(["loopback"]); // …so it may log again
  });
});
