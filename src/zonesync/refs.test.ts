import { describe, expect, it } from "vitest";
import { parseConfigMapRef, parseWorkloadRef, workloadResource } from "./refs.ts";

describe("parseConfigMapRef", () => {
  it("reads <namespace>/<name>", () => {
    expect(parseConfigMapRef("nginx/nginx-config")).toEqual({ namespace: "nginx", name: "nginx-config" });
    expect(parseConfigMapRef(" nginx/nginx.config ")).toEqual({ namespace: "nginx", name: "nginx.config" });
  });

  it("says what is expected", () => {
    expect(() => parseConfigMapRef("nginx-config")).toThrow(
      '--nginx-configmap "nginx-config": expected <namespace>/<name>, for example nginx/nginx-config',
    );
    expect(() => parseConfigMapRef("a/b/c")).toThrow(/expected <namespace>\/<name>/);
    expect(() => parseConfigMapRef("/x")).toThrow(/expected <namespace>\/<name>/);
    expect(() => parseConfigMapRef("Nginx/x")).toThrow(/namespace "Nginx" is not a valid namespace name/);
    expect(() => parseConfigMapRef("nginx/X_Y")).toThrow(/name "X_Y" is not a valid object name/);
  });
});

describe("parseWorkloadRef", () => {
  it("reads <kind>/<namespace>/<name> with the kind in any case or as kubectl's short name", () => {
    expect(parseWorkloadRef("Deployment/nginx/nginx-ingress")).toEqual({
      kind: "Deployment",
      namespace: "nginx",
      name: "nginx-ingress",
    });
    expect(parseWorkloadRef("daemonset/edge/nginx").kind).toBe("DaemonSet");
    expect(parseWorkloadRef("sts/edge/nginx").kind).toBe("StatefulSet");
    expect(parseWorkloadRef("deploy/edge/nginx").kind).toBe("Deployment");
  });

  it("says what is expected", () => {
    expect(() => parseWorkloadRef("nginx/nginx-ingress")).toThrow(
      '--nginx-workload "nginx/nginx-ingress": expected <kind>/<namespace>/<name> with kind Deployment, DaemonSet, StatefulSet, for example Deployment/nginx/nginx-ingress',
    );
    expect(() => parseWorkloadRef("ReplicaSet/nginx/x")).toThrow(
      /kind "ReplicaSet" is not supported; use Deployment, DaemonSet, StatefulSet \(or deploy, ds, sts\)/,
    );
    expect(() => parseWorkloadRef("Deployment/ns!/x")).toThrow(/namespace "ns!"/);
    expect(() => parseWorkloadRef("Deployment/ns/")).toThrow(/expected <kind>/);
  });

  it("maps kinds to their REST resources", () => {
    expect(workloadResource("Deployment").plural).toBe("deployments");
    expect(workloadResource("DaemonSet").plural).toBe("daemonsets");
    expect(workloadResource("StatefulSet").plural).toBe("statefulsets");
  });
});
