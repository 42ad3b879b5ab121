import { describe, expect, it } from "vitest";
import { checksumPatch, describeRolloutCause, rolloutCause, toWorkloadView } from "./workload.ts";

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "ingress", namespace: "nginx", uid: "u", resourceVersion: "5", generation: 2, managedFields: [] },
  spec: {
    selector: { matchLabels: { app: "ingress" } },
    template: { metadata: { annotations: { "zonesync.io/config-checksum": "abc", other: "x" } }, spec: {} },
  },
};

describe("toWorkloadView", () => {
  it("keeps only the selector and the checksum", () => {
    expect(toWorkloadView(deployment)).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "ingress", namespace: "nginx", uid: "u", resourceVersion: "5", generation: 2 },
      matchLabels: { app: "ingress" },
      checksum: "abc",
    });
  });

  it("reads a workload without annotations or matchLabels", () => {
    const bare = { ...deployment, spec: { selector: { matchExpressions: [] }, template: {} } };
    expect(toWorkloadView(bare)).toMatchObject({ matchLabels: {}, checksum: undefined });
  });

  it("names what it cannot read", () => {
    const odd = { ...deployment, spec: { selector: { matchLabels: { app: 7 } } } };
    expect(toWorkloadView(odd).problem).toMatch(/^unexpected Deployment spec: spec.selector.matchLabels.app/);
  });
});

describe("checksumPatch", () => {
  it("sets or removes the annotation, on the version that was read", () => {
    expect(checksumPatch("abc", "5")).toEqual({
      metadata: { resourceVersion: "5" },
      spec: { template: { metadata: { annotations: { "zonesync.io/config-checksum": "abc" } } } },
    });
    expect(checksumPatch(undefined, undefined)).toEqual({
      metadata: {},
      spec: { template: { metadata: { annotations: { "zonesync.io/config-checksum": null } } } },
    });
  });
});

describe("rolloutCause", () => {
  const state = (rendered: string, tlsChecksum?: string) => ({ rendered, tlsChecksum });
  it("names why the pods roll", () => {
    expect(rolloutCause(undefined, { checksum: "n", state: state("a") }, undefined)).toBe("enabled");
    expect(rolloutCause("o", { checksum: undefined, state: undefined }, state("a"))).toBe("disabled");
    expect(rolloutCause("o", { checksum: "n", state: state("b") }, state("a"))).toBe("config");
    expect(rolloutCause("o", { checksum: "n", state: state("a", "t2") }, state("a", "t1"))).toBe("tls");
    expect(rolloutCause("o", { checksum: "n", state: state("a") }, undefined)).toBe("drift");
    expect(rolloutCause("o", { checksum: "n", state: state("a") }, state("a"))).toBe("drift");
    expect(describeRolloutCause("tls", "nginx/tls")).toBe("the TLS material of Secret nginx/tls changed");
  });
});
