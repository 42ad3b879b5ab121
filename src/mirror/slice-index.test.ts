import { describe, expect, it } from "vitest";
import { emptyCounts, type DropCounts } from "./drops.ts";
import { toTargetSlice } from "./model.ts";
import { targetPolicy } from "./policy.ts";
import { SliceIndex } from "./slice-index.ts";

const raw = (name: string, addresses: string[][], addressType = "IPv4", service = "web") => ({
  metadata: { name, namespace: "shop", resourceVersion: "1", labels: { "kubernetes.io/service-name": service } },
  addressType,
  endpoints: addresses.map((a) => ({ addresses: a, conditions: { ready: true } })),
  ports: [{ name: "http", protocol: "TCP", port: 8080 }],
});
const slice = (...args: Parameters<typeof raw>) => toTargetSlice(raw(...args));
const counts = (c: Partial<DropCounts>) => ({ ...emptyCounts(), ...c });
const addressesOf = (index: SliceIndex, key = "shop/web") =>
  index.slicesOf(key).flatMap((s) => s.endpoints.flatMap((e) => e.addresses));

describe("SliceIndex", () => {
  it("totals what the slices held NOW drop: an update replaces a slice's counts, a delete removes them", () => {
    const index = new SliceIndex();
    index.set(slice("a", [["10.0.0.1"], ["127.0.0.1"], ["169.254.169.254"]]));
    index.set(slice("b", [["::1"]], "IPv6"));
    expect(index.totals()).toEqual(counts({ loopback: 2, linkLocal: 1 }));
    expect(addressesOf(index)).toEqual(["10.0.0.1"]);
    index.set(slice("a", [["10.0.0.1"], ["10.0.0.2"]])); // the target fixed slice a
    expect(index.totals()).toEqual(counts({ loopback: 1 }));
    index.delete(slice("b", [], "IPv6"));
    expect(index.totals()).toEqual(emptyCounts());
    expect(addressesOf(index)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("applies a new policy to what it holds, and names the Services to reconcile", () => {
    const index = new SliceIndex();
    index.set(slice("a", [["10.96.0.10", "10.1.0.1"], ["10.96.0.11"]]));
    index.set(slice("f", [["web-0.shop.example.com"]], "FQDN"));
    index.set(slice("x", [["10.96.0.12"]], "IPv4", "api"));
    expect(index.totals()).toEqual(counts({ fqdn: 1 })); // FQDN slices need the opt-in
    expect(index.slicesOf("shop/web").map((s) => s.metadata.name)).toEqual(["a"]);

    const keys = index.setPolicy(targetPolicy({ excludeCIDRs: ["10.96.0.0/12"], mirrorFQDN: true }));
    expect(keys.sort()).toEqual(["shop/api", "shop/web"]);
    expect(index.slicesOf("shop/web").map((s) => s.metadata.name)).toEqual(["a", "f"]);
    expect(addressesOf(index)).toEqual(["10.1.0.1", "web-0.shop.example.com"]);
    expect(index.slicesOf("shop/api").map((s) => s.endpoints)).toEqual([[]]); // an empty slice: no endpoints
    expect(index.totals()).toEqual(counts({ excluded: 3 }));

    expect(index.setPolicy(targetPolicy({ excludeCIDRs: ["10.96.0.0/12"], mirrorFQDN: true }))).toEqual([]);
    index.setPolicy(targetPolicy());
    expect(index.totals()).toEqual(counts({ fqdn: 1 }));
  });

  it("caps a Service's slices and endpoints, counted per Service and replaced as slices change", () => {
    const reports: Array<[string, Partial<DropCounts>]> = [];
    const index = new SliceIndex({
      policy: targetPolicy({}, { maxSlicesPerService: 2, maxEndpointsPerService: 3 }),
      onDropped: (object, c) => reports.push([object, c]),
    });
    index.set(slice("c", [["10.0.0.5"]]));
    index.set(slice("b", [["10.0.0.3"], ["10.0.0.4"]]));
    index.set(slice("a", [["10.0.0.1"], ["10.0.0.2", "127.0.0.1"]]));
    expect(index.slicesOf("shop/web").map((s) => [s.metadata.name, s.endpoints.length])).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
    expect(index.totals()).toEqual(counts({ tooMany: 2, loopback: 1 }));
    expect(reports).toEqual([
      ["EndpointSlice shop/a", { loopback: 1 }],
      ["Service shop/web", { tooMany: 2 }],
    ]);
    index.delete(slice("a", []));
    expect(index.totals()).toEqual(counts({})); // b and c fit now
    expect(addressesOf(index)).toEqual(["10.0.0.3", "10.0.0.4", "10.0.0.5"]);
  });
});
