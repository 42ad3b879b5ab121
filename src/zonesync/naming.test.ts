import { describe, expect, it } from "vitest";
import { peerSelector, peerServiceName, streamConfigMapName } from "./naming.ts";

describe("peerServiceName", () => {
  it("names the Service <owner>-<kind>-hl like the NGINX Ingress Controller", () => {
    expect(peerServiceName("nginx-ingress", "Deployment")).toBe("nginx-ingress-deployment-hl");
    expect(peerServiceName("nginx-ingress", "DaemonSet")).toBe("nginx-ingress-daemonset-hl");
    expect(peerServiceName("nginx-ingress", "StatefulSet")).toBe("nginx-ingress-statefulset-hl");
  });

  it("strips the pod-template-hash of a ReplicaSet, so rollouts keep the name", () => {
    expect(peerServiceName("nginx-ingress-5d8f7c9b4", "ReplicaSet")).toBe("nginx-ingress-replicaset-hl");
    expect(peerServiceName("nginx-ingress-7b9f8d6c5d", "ReplicaSet")).toBe("nginx-ingress-replicaset-hl");
  });

  it("leaves names alone that only look like a hash, or belong to other kinds", () => {
    expect(peerServiceName("web-bff", "ReplicaSet")).toBe("web-bff-replicaset-hl");
    expect(peerServiceName("nginx-controller", "ReplicaSet")).toBe("nginx-controller-replicaset-hl");
    expect(peerServiceName("nginx-5d8f7c9b4", "Deployment")).toBe("nginx-5d8f7c9b4-deployment-hl");
  });

  it("makes a valid Service name out of any object name", () => {
    expect(peerServiceName("nginx.v2", "Deployment")).toBe("nginx-v2-deployment-hl");
    expect(peerServiceName("1nginx", "Deployment")).toBe("zs-1nginx-deployment-hl");
  });

  it("shortens long names deterministically, keeping the kind and -hl", () => {
    const owner = "a-very-long-nginx-ingress-controller-deployment-name-for-the-edge-tier";
    const name = peerServiceName(owner, "Deployment");
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^a-very-long-nginx-ingress-controller-dep-[0-9a-f]{8}-deployment-hl$/);
    expect(peerServiceName(owner, "Deployment")).toBe(name);
    expect(peerServiceName(`${owner}-2`, "Deployment")).not.toBe(name);
    expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  });

  it("keeps a name of exactly 63 characters", () => {
    const owner = "n".repeat(63 - "-deployment-hl".length);
    expect(peerServiceName(owner, "Deployment")).toBe(`${owner}-deployment-hl`);
  });

  it("needs an owner and a kind", () => {
    expect(() => peerServiceName("", "Deployment")).toThrow(RangeError);
    expect(() => peerServiceName("nginx", "")).toThrow(RangeError);
  });
});

describe("peerSelector", () => {
  it("drops pod-template-hash and sorts the keys", () => {
    const selector = peerSelector({ "pod-template-hash": "5d8f7c9b4", b: "2", "app.kubernetes.io/name": "nginx" });
    expect(selector).toEqual({ "app.kubernetes.io/name": "nginx", b: "2" });
    expect(Object.keys(selector)).toEqual(["app.kubernetes.io/name", "b"]);
  });

  it("refuses to select nothing", () => {
    expect(() => peerSelector({ "pod-template-hash": "5d8f7c9b4" })).toThrow(/no label besides pod-template-hash/);
    expect(() => peerSelector({})).toThrow(RangeError);
  });
});

describe("streamConfigMapName", () => {
  it("is <workload>-zone-sync", () => {
    expect(streamConfigMapName("nginx-ingress")).toBe("nginx-ingress-zone-sync");
  });

  it("stays within 253 characters", () => {
    const name = streamConfigMapName("x".repeat(250));
    expect(name).toHaveLength(253);
    expect(name).toMatch(/-[0-9a-f]{8}-zone-sync$/);
  });
});
