import { describe, expect, it } from "vitest";
import {
  desiredPeerService,
  desiredStreamConfigMap,
  isHeadless,
  ownerReferences,
  peerServiceDrift,
  streamConfigMapMatches,
  type OwnedObjectContext,
  type ServiceObject,
} from "./objects.ts";

const sameNs: OwnedObjectContext = {
  configMap: { namespace: "nginx", name: "nginx-config" },
  workload: { kind: "Deployment", namespace: "nginx", name: "ingress" },
  configMapUid: "uid-1",
};
const otherNs: OwnedObjectContext = { ...sameNs, configMap: { namespace: "config", name: "nginx-config" } };
const spec = {
  name: "ingress-deployment-hl",
  selector: { app: "ingress" },
  port: 12345,
  publishNotReadyAddresses: true,
};

/** The desired object as the API server returns it, with defaults and fields of other managers. */
function live(desired: ServiceObject, changes: (s: ServiceObject) => void = () => {}): ServiceObject {
  const copy = structuredClone(desired);
  copy.metadata.uid = "svc-uid";
  copy.metadata.resourceVersion = "7";
  copy.metadata.labels = { ...copy.metadata.labels, "added-by": "someone" };
  copy.spec = { ...copy.spec, sessionAffinity: "None", type: "ClusterIP" } as ServiceObject["spec"];
  changes(copy);
  return copy;
}

describe("peer Service", () => {
  it("is headless, selects the workload's pods and carries the zonesync labels and the owner", () => {
    const svc = desiredPeerService(sameNs, spec);
    expect(svc.metadata).toMatchObject({
      name: "ingress-deployment-hl",
      namespace: "nginx",
      labels: { "zonesync.io/zone-sync-peers": "local", "app.kubernetes.io/component": "zone-sync" },
      annotations: {
        "zonesync.io/zone-sync-configmap": "nginx/nginx-config",
        "zonesync.io/zone-sync-workload": "Deployment/nginx/ingress",
      },
      ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "nginx-config", uid: "uid-1" }],
    });
    expect(svc.spec).toEqual({
      clusterIP: "None",
      selector: { app: "ingress" },
      ports: [{ name: "zone-sync", port: 12345, targetPort: 12345, protocol: "TCP" }],
      publishNotReadyAddresses: true,
    });
  });

  it("has no ownerReference when the ConfigMap is in another namespace or unknown", () => {
    expect(ownerReferences(otherNs)).toEqual([]);
    expect(ownerReferences({ ...sameNs, configMapUid: undefined })).toEqual([]);
    expect(desiredPeerService(otherNs, spec).metadata.ownerReferences).toEqual([]);
  });

  it("finds no drift in what the API server adds, and every drift that matters", () => {
    const desired = desiredPeerService(sameNs, spec);
    expect(peerServiceDrift(live(desired), desired)).toEqual([]);
    expect(
      peerServiceDrift(
        live(desired, (s) => (s.spec!.selector = { app: "x" })),
        desired,
      ),
    ).toEqual(["selector"]);
    expect(
      peerServiceDrift(
        live(desired, (s) => (s.spec!.selector = { app: "ingress", extra: "1" })),
        desired,
      ),
    ).toEqual(["selector"]);
    expect(
      peerServiceDrift(
        live(desired, (s) => (s.metadata.ownerReferences = [])),
        desired,
      ),
    ).toEqual(["metadata"]);
    expect(
      peerServiceDrift(
        live(desired, (s) => delete s.metadata.labels!["zonesync.io/zone-sync-peers"]),
        desired,
      ),
    ).toEqual(["metadata"]);
    expect(
      peerServiceDrift(
        live(desired, (s) => (s.spec!.publishNotReadyAddresses = false)),
        desired,
      ),
    ).toEqual(["publishNotReadyAddresses"]);
    const newPort = desiredPeerService(sameNs, { ...spec, port: 34100 });
    expect(peerServiceDrift(live(desired), newPort)).toEqual(["ports"]);
  });

  it("tells a headless Service from one with a cluster IP", () => {
    const desired = desiredPeerService(sameNs, spec);
    expect(isHeadless(live(desired))).toBe(true);
    expect(isHeadless(live(desired, (s) => (s.spec!.clusterIP = "10.0.0.7")))).toBe(false);
  });
});

describe("stream ConfigMap", () => {
  it("carries zone-sync.conf and matches only the same content", () => {
    const desired = desiredStreamConfigMap(sameNs, "ingress-zone-sync", "stream config\n");
    expect(desired.data).toEqual({ "zone-sync.conf": "stream config\n" });
    const current = { ...structuredClone(desired), metadata: { ...desired.metadata, resourceVersion: "3" } };
    expect(streamConfigMapMatches(current, desired)).toBe(true);
    expect(streamConfigMapMatches({ ...current, data: { "zone-sync.conf": "old\n" } }, desired)).toBe(false);
    expect(streamConfigMapMatches({ ...current, metadata: { ...current.metadata, labels: {} } }, desired)).toBe(false);
  });
});
