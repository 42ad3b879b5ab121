import { describe, expect, it } from "vitest";
import { capServices, capServiceSlices } from "./caps.ts";
import { toTargetSlice } from "./model.ts";

describe("capServices", () => {
  it("keeps the first N by namespace, then name, whatever the input order", () => {
    const services = [
      { namespace: "b", name: "a" },
      { namespace: "a", name: "z" },
      { namespace: "a", name: "b" },
      { namespace: "c", name: "a" },
      { namespace: "a", name: "a-2" },
    ];
    const cap = capServices(services, 3);
    expect([...cap.within]).toEqual(["a/a-2", "a/b", "a/z"]);
    expect(cap.over).toEqual(["b/a", "c/a"]);
    expect(capServices([...services].reverse(), 3)).toEqual(cap);
    expect(capServices(services, 10).over).toEqual([]);
    expect(capServices(services, 0).within.size).toBe(0);
  });
});

const slice = (name: string, endpoints: number) =>
  toTargetSlice({
    metadata: { name, namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: Array.from({ length: endpoints }, (_, i) => ({ addresses: [`10.0.${name.length}.${i + 1}`] })),
  });

describe("capServiceSlices", () => {
  it("keeps the first slices by name and the first endpoints in that order, counting the rest", () => {
    const { slices, dropped } = capServiceSlices([slice("c", 2), slice("a", 2), slice("b", 2), slice("d", 1)], {
      maxSlicesPerService: 3,
      maxEndpointsPerService: 5,
    });
    expect(slices.map((s) => [s.metadata.name, s.endpoints.length])).toEqual([
      ["a", 2],
      ["b", 2],
      ["c", 1],
    ]);
    expect(dropped).toEqual({ tooMany: 2 }); // one endpoint of c, and d
  });

  it("passes invalid slices through without counting them", () => {
    const invalid = toTargetSlice({ metadata: { name: "x", namespace: "shop" }, addressType: "IPv4" });
    const { slices, dropped } = capServiceSlices([invalid, slice("a", 1)], {
      maxSlicesPerService: 1,
      maxEndpointsPerService: 1,
    });
    expect(slices.map((s) => s.metadata.name)).toEqual(["x", "a"]);
    expect(dropped).toBeUndefined();
  });
});
