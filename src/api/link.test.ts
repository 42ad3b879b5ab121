import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/client.ts";
import { parseLink, type ZoneSyncLink } from "./link.ts";

const valid = () => ({
  apiVersion: "zonesync.io/v1alpha1",
  kind: "ZoneSyncLink",
  metadata: { name: "east", namespace: "zonesync-system", generation: 3, labels: { a: "b" }, uid: "u-1" },
  spec: {
    targetClusterName: "east",
    credentialsSecret: "cluster-credentials-east",
    selector: { matchLabels: { "zonesync.io/export": "true" } },
  },
});

function errorsOf(mutate: (link: { spec: Record<string, unknown> }) => void): string[] {
  const link = valid();
  mutate(link as unknown as { spec: Record<string, unknown> });
  const result = parseLink(link);
  if (result.ok) throw new Error("expected the link to be rejected");
  return result.errors;
}

describe("parseLink", () => {
  it("applies the defaults", () => {
    const result = parseLink(valid());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.link.spec).toMatchObject({
      targetClusterDomain: "cluster.local",
      createNamespaces: false,
      staleAfter: "2m",
    });
    expect(result.link.spec.controller).toBeUndefined();
    expect(result.link.metadata.uid).toBe("u-1");
    const asKubeObject: KubeObject = result.link; // a parsed link is a KubeObject for the REST client
    expect(asKubeObject.metadata.name).toBe("east");
  });

  it("keeps spec.controller sparse (no defaults: the chart's controllerDefaults fill in)", () => {
    const result = parseLink({ ...valid(), spec: { ...valid().spec, controller: { replicas: 2 } } });
    expect(result.ok && result.link.spec.controller).toEqual({ replicas: 2 });
  });

  it("defaults the zone-sync port", () => {
    const ref = { namespace: "nginx", name: "nginx-hl" };
    const result = parseLink({
      ...valid(),
      spec: { ...valid().spec, zoneSync: { targetPeerService: ref, localPeerService: ref } },
    });
    expect(result.ok && result.link.spec.zoneSync?.port).toBe(12345);
  });

  it("names the field of every schema error", () => {
    const errors = errorsOf((l) => {
      l.spec.targetClusterName = "East_1";
      delete (l.spec as { credentialsSecret?: string }).credentialsSecret;
      l.spec.apiServerAddress = "http://10.0.0.1:6443";
      l.spec.controller = { replicas: 11, logLevel: "loud", tolerations: [{ effect: "Sometimes" }] };
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^spec\.targetClusterName: must be a DNS-1123 label/),
        "spec.credentialsSecret: is required",
        expect.stringMatching(/^spec\.apiServerAddress: must be an https URL/),
        "spec.controller.replicas: must be at most 10",
        "spec.controller.logLevel: must be one of error, warn, info, debug",
        expect.stringMatching(/^spec\.controller\.tolerations\[0\]\.effect: /),
      ]),
    );
  });

  it("rejects a non-object and a missing spec", () => {
    expect(parseLink(42)).toMatchObject({ ok: false });
    expect(parseLink({ metadata: { name: "east" } })).toEqual({ ok: false, errors: ["spec: is required"] });
  });

  it("checks staleAfter: a duration of at least 5s", () => {
    expect(errorsOf((l) => (l.spec.staleAfter = "4s"))).toEqual(['spec.staleAfter: must be at least 5s (got "4s")']);
    expect(errorsOf((l) => (l.spec.staleAfter = "soon"))).toEqual([
      'spec.staleAfter: must be a duration such as "30s", "5m" or "1h"',
    ]);
    expect(parseLink({ ...valid(), spec: { ...valid().spec, staleAfter: "5s" } }).ok).toBe(true);
  });

  it("wants both zone-sync peer services or neither", () => {
    const errors = errorsOf((l) => (l.spec.zoneSync = { targetPeerService: { namespace: "nginx", name: "peers" } }));
    expect(errors).toEqual([expect.stringMatching(/^spec\.zoneSync: set both targetPeerService and localPeerService/)]);
    expect(parseLink({ ...valid(), spec: { ...valid().spec, zoneSync: { port: 9000 } } }).ok).toBe(true);
  });

  it("checks selector requirements and label syntax", () => {
    const errors = errorsOf((l) => {
      l.spec.selector = {
        matchLabels: { "bad key!": "x", ok: "bad value!" },
        matchExpressions: [
          { key: "a", operator: "In" },
          { key: "b", operator: "Exists", values: ["x"] },
        ],
      };
    });
    expect(errors).toEqual([
      'spec.selector.matchLabels: "bad key!" is not a valid label key',
      'spec.selector.matchLabels.ok: "bad value!" is not a valid label value',
      "spec.selector.matchExpressions[0].values: operator In needs at least one value",
      "spec.selector.matchExpressions[1].values: must be empty for operator Exists",
    ]);
  });

  it("accepts namespaces without a selector, and rejects duplicates", () => {
    const noSelector = { ...valid(), spec: { ...valid().spec, namespaces: ["web"] } };
    delete (noSelector.spec as { selector?: unknown }).selector;
    expect(parseLink(noSelector).ok).toBe(true);
    expect(errorsOf((l) => (l.spec.namespaces = ["web", "api", "web"]))).toEqual([
      'spec.namespaces[2]: duplicate namespace "web"',
    ]);
  });

  it("defaults and bounds the untrusted-target knobs: excludeCIDRs, mirrorFQDN, maxServices", () => {
    const result = parseLink(valid());
    expect(result.ok && result.link.spec).toMatchObject({ mirrorFQDN: false, maxServices: 1000 });
    expect(result.ok && result.link.spec.excludeCIDRs).toBeUndefined();
    const set = parseLink({
      ...valid(),
      spec: { ...valid().spec, excludeCIDRs: ["10.96.0.0/12", "fd00::/8"], mirrorFQDN: true, maxServices: 10_000 },
    });
    expect(set.ok && set.link.spec).toMatchObject({
      excludeCIDRs: ["10.96.0.0/12", "fd00::/8"],
      mirrorFQDN: true,
      maxServices: 10_000,
    });
    expect(errorsOf((l) => (l.spec.maxServices = 10_001))).toEqual(["spec.maxServices: must be between 1 and 10000"]);
    expect(errorsOf((l) => (l.spec.maxServices = 0))).toEqual(["spec.maxServices: must be between 1 and 10000"]);
    expect(errorsOf((l) => (l.spec.maxServices = 2.5))).toEqual(["spec.maxServices: must be an integer"]);
    expect(errorsOf((l) => (l.spec.mirrorFQDN = "yes"))).toEqual([expect.stringMatching(/^spec\.mirrorFQDN: /)]);
    expect(errorsOf((l) => (l.spec.excludeCIDRs = Array(65).fill("10.0.0.0/8")))).toEqual([
      "spec.excludeCIDRs: must have at most 64 entries",
    ]);
    expect(errorsOf((l) => (l.spec.excludeCIDRs = ["10.0.0.0"]))).toEqual([
      'spec.excludeCIDRs[0]: must be a CIDR such as "10.0.0.0/8" or "fd00::/8"',
    ]);
    // The schema's pattern lets these through; the controller's own parser does not.
    expect(
      errorsOf(
        (l) =>
          (l.spec.excludeCIDRs = ["10.0.0.0/33", "010.0.0.0/8", "fd00::/129", "1:2/8", "10.0.0.0/8", "10.0.0.0/8"]),
      ),
    ).toEqual([
      'spec.excludeCIDRs[0]: "10.0.0.0/33" is not a CIDR: the prefix length must be 0-32',
      'spec.excludeCIDRs[1]: "010.0.0.0/8" is not a CIDR: "010.0.0.0" is not an IPv4 or IPv6 address',
      'spec.excludeCIDRs[2]: "fd00::/129" is not a CIDR: the prefix length must be 0-128',
      'spec.excludeCIDRs[3]: "1:2/8" is not a CIDR: "1:2" is not an IPv4 or IPv6 address',
      'spec.excludeCIDRs[5]: duplicate CIDR "10.0.0.0/8"',
    ]);
  });

  it("strips unknown spec fields (an older manager tolerates a newer CRD)", () => {
    const result = parseLink({ ...valid(), spec: { ...valid().spec, futureField: 1, controller: { futureKnob: 2 } } });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.link.spec).not.toHaveProperty("futureField");
      expect(result.link.spec.controller).toEqual({});
    }
  });

  it("validates status conditions", () => {
    const status = {
      conditions: [{ type: "Ready", status: "Maybe", reason: "x y", message: "", lastTransitionTime: "yesterday" }],
      mirroredServices: -1,
    };
    const result = parseLink({ ...valid(), status });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^status\.conditions\[0\]\.status: /),
          "status.conditions[0].reason: must be CamelCase",
          expect.stringMatching(/^status\.conditions\[0\]\.lastTransitionTime: /),
          expect.stringMatching(/^status\.mirroredServices: /),
        ]),
      );
    }
    const good: ZoneSyncLink["status"] = {
      conditions: [
        { type: "Ready", status: "True", reason: "AllGood", message: "ok", lastTransitionTime: "2026-01-01T00:00:00Z" },
      ],
      mode: "chart",
      mirroredServices: 3,
      mirroredEndpoints: 9,
    };
    expect(parseLink({ ...valid(), status: good }).ok).toBe(true);
  });
});
