import { describe, expect, it } from "vitest";
import { derivedServiceName, importSliceLabels, importSliceName, MCS_SLICE_MANAGER } from "./names.ts";

/** A Service name: a DNS-1035 label (starts with a letter). */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** An EndpointSlice name: a DNS-1123 subdomain. */
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe("derivedServiceName", () => {
  it("appends -mcs", () => {
    expect(derivedServiceName("web")).toBe("web-mcs");
  });

  it("keeps a name that fits in 63 characters as it is", () => {
    const name = "a".repeat(59);
    expect(derivedServiceName(name)).toBe(`${name}-mcs`);
    expect(derivedServiceName(name)).toHaveLength(63);
  });

  it("shortens a longer name to a 63-character DNS label, deterministically", () => {
    const service = "a".repeat(63);
    const derived = derivedServiceName(service);
    expect(derived).toHaveLength(63);
    expect(derived).toMatch(DNS_1035_LABEL);
    expect(derived).toMatch(/^a{54}-[0-9a-f]{8}$/);
    expect(derivedServiceName(service)).toBe(derived);
  });

  it("stays a DNS label when the cut falls on dashes", () => {
    const service = `${"a".repeat(50)}----${"b".repeat(9)}`;
    const derived = derivedServiceName(service);
    expect(derived).toMatch(DNS_1035_LABEL);
    expect(derived).not.toContain("--");
    expect(derived.length).toBeLessThanOrEqual(63);
  });

  it("tells apart long names that share a prefix", () => {
    const base = "x".repeat(58);
    expect(derivedServiceName(`${base}-one`)).not.toBe(derivedServiceName(`${base}-two`));
  });
});

describe("importSliceName", () => {
  const derived = derivedServiceName("web");

  it("is the derived Service, the cluster and a hash of cluster and source slice", () => {
    const name = importSliceName(derived, "east", "web-abcde");
    expect(name).toMatch(/^web-mcs-east-[0-9a-f]{10}$/);
    expect(name).toMatch(DNS_1123_SUBDOMAIN);
    expect(importSliceName(derived, "east", "web-abcde")).toBe(name);
  });

  it("is distinct per cluster and per source slice, the empty source included", () => {
    const names = [
      importSliceName(derived, "east", "web-abcde"),
      importSliceName(derived, "east", "web-fghij"),
      importSliceName(derived, "east", ""),
      importSliceName(derived, "west", "web-abcde"),
      importSliceName(derived, "west", ""),
      // Same prefix "web-mcs-a-b" from another split of derived name and cluster id.
      importSliceName("web-mcs-a", "b", ""),
      importSliceName("web-mcs", "a-b", ""),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  it("stays within 253 characters for the longest inputs", () => {
    const longDerived = derivedServiceName("s".repeat(63));
    const longCluster = "c".repeat(63);
    const name = importSliceName(longDerived, longCluster, "e".repeat(253));
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(DNS_1123_SUBDOMAIN);
    // Inputs longer than any valid name are shortened too, still distinct by cluster.
    const huge = importSliceName(longDerived, "c".repeat(300), "e");
    expect(huge.length).toBeLessThanOrEqual(253);
    expect(huge).toMatch(DNS_1123_SUBDOMAIN);
    expect(importSliceName(longDerived, `${"c".repeat(299)}d`, "e")).not.toBe(huge);
  });
});

describe("importSliceLabels", () => {
  it("ties a slice to the derived Service, the import and its source cluster and writer", () => {
    expect(importSliceLabels("web", "east", MCS_SLICE_MANAGER)).toEqual({
      "kubernetes.io/service-name": "web-mcs",
      "multicluster.kubernetes.io/service-name": "web",
      "multicluster.kubernetes.io/source-cluster": "east",
      "endpointslice.kubernetes.io/managed-by": "mcs-controller.zonesync.io",
    });
  });

  it("points at the shortened derived Service for a long name", () => {
    const service = "a".repeat(63);
    expect(importSliceLabels(service, "east", MCS_SLICE_MANAGER)["kubernetes.io/service-name"]).toBe(
      derivedServiceName(service),
    );
  });
});
