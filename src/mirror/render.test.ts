import { describe, expect, it } from "vitest";
import { toTargetService, toTargetSlice } from "./model.ts";
import { ANNOTATION_MIRROR_HASH } from "../api/names.ts";
import { renderPeerSlices, renderService, renderSlices, type MirrorContext } from "./render.ts";

const ctx: MirrorContext = { link: "east", linkUid: "uid-east", cluster: "east", sliceVersion: "v1beta1" };

const service = (overrides: Record<string, unknown> = {}) =>
  toTargetService({
    metadata: { name: "web", namespace: "shop", resourceVersion: "7", labels: { export: "yes" }, managedFields: [{}] },
    spec: {
      clusterIP: "10.1.2.3",
      selector: { app: "web" },
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      ...overrides,
    },
    status: {},
  });

const sliceV1beta1 = toTargetSlice({
  metadata: {
    name: "web-abcde",
    namespace: "shop",
    resourceVersion: "9",
    labels: { "kubernetes.io/service-name": "web" },
  },
  addressType: "IPv4",
  endpoints: [
    {
      addresses: ["10.201.0.9"],
      conditions: { ready: false },
      hostname: "web-1",
      topology: { "kubernetes.io/hostname": "node-a", "topology.kubernetes.io/zone": "z1" },
      targetRef: { kind: "Pod", name: "web-1" },
    },
    { addresses: ["10.201.0.3"], conditions: { ready: true, serving: true, terminating: false }, hostname: "web-0" },
  ],
  ports: [{ name: "http", protocol: "TCP", port: 8080 }],
});

describe("target object transforms", () => {
  it("keeps only what a mirror needs", () => {
    const svc = service();
    expect(svc).toEqual({
      metadata: { name: "web", namespace: "shop", resourceVersion: "7" },
      headless: false,
      serviceType: "ClusterIP",
      ports: [{ name: "http", port: 80 }],
    });
    expect(sliceV1beta1.service).toBe("web");
    expect(sliceV1beta1.endpoints[0]).toEqual({
      addresses: ["10.201.0.9"],
      ready: false,
      hostname: "web-1",
      zone: "z1",
    });
  });

  it("reads v1 slices (zone, nodeName)", () => {
    const slice = toTargetSlice({
      metadata: { name: "s", namespace: "n", labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv6",
      endpoints: [{ addresses: ["fd00::1"], conditions: { ready: true }, nodeName: "n1", zone: "z2" }],
      ports: null,
    });
    expect(slice.endpoints).toEqual([{ addresses: ["fd00::1"], ready: true, zone: "z2" }]);
    expect(slice.ports).toEqual([]);
  });

  it("marks objects that do not parse instead of throwing", () => {
    const labels = { "kubernetes.io/service-name": "web" };
    expect(toTargetSlice({ metadata: { name: "s", namespace: "n", labels }, addressType: "Carrier" }).invalid).toMatch(
      /addressType/,
    );
    expect(toTargetSlice({ metadata: { name: "s", namespace: "n" }, addressType: "IPv4" }).invalid).toMatch(
      /kubernetes.io\/service-name/,
    );
    expect(toTargetService({ metadata: { name: "s" } }).invalid).toBeDefined();
  });
});

describe("rendering mirrors", () => {
  it("renders a selector-less Service with the link's labels and the remote reference", () => {
    const d = renderService(ctx, service());
    expect(d.name).toBe("web-east");
    expect(d.body.spec).toEqual({ type: "ClusterIP", ports: [{ name: "http", protocol: "TCP", port: 80 }] });
    expect(d.body.metadata.labels).toEqual({
      "zonesync.io/link": "east",
      "zonesync.io/link-uid": "uid-east",
      "zonesync.io/mirrored-from": "east",
    });
    expect(d.body.metadata.annotations).toMatchObject({
      "zonesync.io/remote-ref": "east/shop/web",
      [ANNOTATION_MIRROR_HASH]: d.hash,
    });
  });

  it("renders headless Services headless", () => {
    expect(renderService(ctx, service({ clusterIP: "None" })).body.spec).toMatchObject({ clusterIP: "None" });
  });

  it("hashes content, not object identity or order", () => {
    expect(renderService(ctx, service()).hash).toBe(renderService(ctx, service()).hash);
    const reordered = { ...sliceV1beta1, endpoints: [...sliceV1beta1.endpoints].reverse() };
    const [a] = renderSlices(ctx, service(), [sliceV1beta1], { stale: false });
    const [b] = renderSlices(ctx, service(), [reordered], { stale: false });
    expect(a!.hash).toBe(b!.hash);
    expect(renderService(ctx, service({ ports: [{ port: 81 }] })).hash).not.toBe(a!.hash);
  });

  it("carries the target slice's last-change trigger time, so a changed trigger is a changed mirror", () => {
    const stamped = (time: string) =>
      toTargetSlice({
        metadata: {
          name: "web-abcde",
          namespace: "shop",
          labels: { "kubernetes.io/service-name": "web" },
          annotations: { "endpoints.kubernetes.io/last-change-trigger-time": time },
        },
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.201.0.3"], conditions: { ready: true } }],
      });
    const [a] = renderSlices(ctx, service(), [stamped("2026-12-03T09:00:00Z")], { stale: false });
    const [b] = renderSlices(ctx, service(), [stamped("2026-12-03T09:00:01.250Z")], { stale: false });
    expect(a!.body.metadata.annotations).toMatchObject({
      "endpoints.kubernetes.io/last-change-trigger-time": "2026-12-03T09:00:00.000Z",
    });
    expect(a!.hash).not.toBe(b!.hash);
    const [unstamped] = renderSlices(ctx, service(), [sliceV1beta1], { stale: false });
    expect(unstamped!.body.metadata.annotations).not.toHaveProperty("endpoints.kubernetes.io/last-change-trigger-time");
  });

  it("renders v1beta1 slices with topology and hostnames", () => {
    const [d] = renderSlices(ctx, service(), [sliceV1beta1], { stale: false, serviceUid: "u1" });
    expect(d!.body.metadata.labels).toEqual({
      "zonesync.io/link": "east",
      "zonesync.io/link-uid": "uid-east",
      "zonesync.io/mirrored-from": "east",
      "kubernetes.io/service-name": "web-east",
      "endpointslice.kubernetes.io/managed-by": "link-controller.zonesync.io",
    });
    expect(d!.body.metadata.ownerReferences).toEqual([
      { apiVersion: "v1", kind: "Service", name: "web-east", uid: "u1" },
    ]);
    expect(d!.body.endpoints).toEqual([
      { addresses: ["10.201.0.3"], conditions: { ready: true, serving: true, terminating: false }, hostname: "web-0" },
      {
        addresses: ["10.201.0.9"],
        conditions: { ready: false },
        hostname: "web-1",
        topology: { "topology.kubernetes.io/zone": "z1" },
      },
    ]);
  });

  it("renders v1 slices with zone", () => {
    const [d] = renderSlices({ ...ctx, sliceVersion: "v1" }, service(), [sliceV1beta1], { stale: false });
    expect((d!.body.endpoints as Array<Record<string, unknown>>)[1]).toMatchObject({ zone: "z1" });
  });

  it("marks every endpoint not ready (and not serving) when stale", () => {
    const [d] = renderSlices(ctx, service(), [sliceV1beta1], { stale: true });
    for (const e of d!.body.endpoints as Array<{ conditions: Record<string, boolean> }>) {
      expect(e.conditions.ready).toBe(false);
      expect(e.conditions.serving).toBe(false);
    }
    expect(d!.body.metadata.annotations).toMatchObject({ "zonesync.io/stale": "true" });
  });

  it("renders zone-sync peers on the local peer Service", () => {
    const [d] = renderPeerSlices(
      ctx,
      {
        target: { namespace: "nginx", name: "peers-hl" },
        local: { namespace: "ingress", name: "local-hl" },
        port: 12345,
      },
      [{ ...sliceV1beta1, ports: [] }],
      { stale: false },
    );
    expect(d!.namespace).toBe("ingress");
    expect(d!.body.metadata.labels).toMatchObject({
      "kubernetes.io/service-name": "local-hl",
      "zonesync.io/zone-sync-peers": "east",
      "endpointslice.kubernetes.io/managed-by": "link-controller.zonesync.io",
    });
    expect(d!.body.ports).toEqual([{ protocol: "TCP", port: 12345 }]);
  });
});
