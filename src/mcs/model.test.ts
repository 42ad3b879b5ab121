import { describe, expect, it } from "vitest";
import { toExportedService, toImportSlice, toOwnedView, toServiceExportView } from "./model.ts";
import { LABEL_MCS_MANAGED } from "./names.ts";
import { MAX_RECORD_BYTES } from "./record.ts";

function service(spec: Record<string, unknown> | null) {
  return toExportedService({ metadata: { name: "web", namespace: "shop", resourceVersion: "7" }, spec });
}

describe("toExportedService", () => {
  it("keeps what the mirror model keeps: type, headlessness and ports", () => {
    const svc = service({
      type: "NodePort",
      clusterIP: "10.0.0.1",
      ports: [
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
        { name: "dns", protocol: "UDP", port: 53 },
      ],
    });
    expect(svc).toEqual({
      metadata: { name: "web", namespace: "shop", resourceVersion: "7" },
      headless: false,
      serviceType: "NodePort",
      ports: [
        { name: "http", protocol: "TCP", port: 80 },
        { name: "dns", protocol: "UDP", port: 53 },
      ],
      sessionAffinity: "None",
    });
    expect(service({ clusterIP: "None" }).headless).toBe(true);
  });

  it("defaults session affinity to None", () => {
    expect(service({}).sessionAffinity).toBe("None");
    expect(service(null).sessionAffinity).toBe("None");
    expect(toExportedService({ metadata: { name: "web", namespace: "shop" } }).sessionAffinity).toBe("None");
  });

  it("keeps ClientIP affinity and its timeout", () => {
    const svc = service({ sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } });
    expect(svc.sessionAffinity).toBe("ClientIP");
    expect(svc.sessionAffinityTimeoutSeconds).toBe(600);
  });

  it("leaves the timeout out when ClientIP affinity has none", () => {
    const svc = service({ sessionAffinity: "ClientIP" });
    expect(svc.sessionAffinity).toBe("ClientIP");
    expect(svc).not.toHaveProperty("sessionAffinityTimeoutSeconds");
    expect(service({ sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: {} } })).not.toHaveProperty(
      "sessionAffinityTimeoutSeconds",
    );
  });

  it("keeps a timeout only with ClientIP affinity", () => {
    const config = { clientIP: { timeoutSeconds: 600 } };
    expect(service({ sessionAffinity: "None", sessionAffinityConfig: config })).not.toHaveProperty(
      "sessionAffinityTimeoutSeconds",
    );
    expect(service({ sessionAffinityConfig: config })).not.toHaveProperty("sessionAffinityTimeoutSeconds");
  });

  it.each([0, 86_401, 1.5, "600", null])("ignores an invalid timeout (%j), keeping the affinity", (timeoutSeconds) => {
    const svc = service({ sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds } } });
    expect(svc.sessionAffinity).toBe("ClientIP");
    expect(svc).not.toHaveProperty("sessionAffinityTimeoutSeconds");
  });

  it.each(["Cookie", "clientip", "", 1, null])("ignores an invalid affinity (%j) as None", (sessionAffinity) => {
    const svc = service({
      sessionAffinity,
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      ipFamilies: ["IPv6"],
    });
    expect(svc.sessionAffinity).toBe("None");
    expect(svc).not.toHaveProperty("sessionAffinityTimeoutSeconds");
    // The other fields are still read.
    expect(svc.ipFamilies).toEqual(["IPv6"]);
  });

  it("keeps the IP families in order", () => {
    expect(service({ ipFamilies: ["IPv6", "IPv4"] }).ipFamilies).toEqual(["IPv6", "IPv4"]);
    expect(service({ ipFamilies: ["IPv4"] }).ipFamilies).toEqual(["IPv4"]);
    expect(service({})).not.toHaveProperty("ipFamilies");
  });

  it.each([[["IPv5"]], [["IPv4", "IPv6", "IPv4"]], ["IPv4"], [[4]]])("drops invalid IP families (%j)", (ipFamilies) => {
    const svc = service({ ipFamilies, sessionAffinity: "ClientIP" });
    expect(svc).not.toHaveProperty("ipFamilies");
    expect(svc.sessionAffinity).toBe("ClientIP");
  });

  it.each([
    [{ internalTrafficPolicy: "Local" }, { internalTrafficPolicy: "Local" }],
    [{ internalTrafficPolicy: "Cluster" }, {}],
    [{ internalTrafficPolicy: "local" }, {}],
    [{ trafficDistribution: "PreferSameZone" }, { trafficDistribution: "PreferSameZone" }],
    [{ trafficDistribution: "Prefer Close" }, {}],
    [{ trafficDistribution: "P".repeat(64) }, {}],
    [{ trafficDistribution: 1 }, {}],
  ])("reads the traffic policies of %j as %j (Cluster is the default; malformed is unset)", (spec, expected) => {
    const svc = service({ ...spec, ipFamilies: ["IPv4"] });
    expect({
      ...(svc.internalTrafficPolicy ? { internalTrafficPolicy: svc.internalTrafficPolicy } : {}),
      ...(svc.trafficDistribution ? { trafficDistribution: svc.trafficDistribution } : {}),
    }).toEqual(expected);
    expect(svc.ipFamilies).toEqual(["IPv4"]);
  });

  it("still reads affinity of a Service the mirror model finds invalid", () => {
    const svc = toExportedService({
      metadata: { name: "1web", namespace: "shop" },
      spec: { sessionAffinity: "ClientIP" },
    });
    expect(svc.invalid).toMatch(/DNS-1035/);
    expect(svc.sessionAffinity).toBe("ClientIP");
  });
});

const condition = (type: string, status = "True") => ({
  type,
  status,
  lastTransitionTime: "2024-05-01T10:00:00Z",
  reason: "Because",
  message: "It is so.",
});

describe("toServiceExportView", () => {
  it("keeps identity, age and generation", () => {
    const view = toServiceExportView({
      metadata: {
        name: "web",
        namespace: "shop",
        uid: "u-1",
        resourceVersion: "12",
        generation: 3,
        creationTimestamp: "2024-05-01T10:00:00Z",
        labels: { a: "b" },
        annotations: { c: "d" },
      },
      spec: {},
    });
    expect(view).toEqual({
      metadata: {
        name: "web",
        namespace: "shop",
        uid: "u-1",
        resourceVersion: "12",
        generation: 3,
        creationTimestamp: "2024-05-01T10:00:00Z",
      },
      conditions: [],
      // Its own labels and annotations are not exported: only spec.exportedLabels / exportedAnnotations are.
      exportedLabels: {},
      exportedAnnotations: {},
      ignoredExported: 0,
    });
  });

  it("keeps the acceptable exported labels and annotations, never a reserved or malformed key", () => {
    const view = toServiceExportView({
      metadata: { name: "web", namespace: "shop" },
      spec: {
        exportedLabels: {
          tier: "frontend",
          "example.com/team": "shop",
          "zonesync.io/mcs": "true",
          "multicluster.kubernetes.io/service-name": "other",
          "app.kubernetes.io/managed-by": "me",
          "sub.x-k8s.io/a": "b",
          "bad key": "x",
          long: "v".repeat(64),
          number: 1,
        },
        exportedAnnotations: { note: "a".repeat(1024), huge: "a".repeat(1025), "kubernetes.io/x": "y" },
      },
    });
    expect(view.exportedLabels).toEqual({ "example.com/team": "shop", tier: "frontend" });
    expect(view.exportedAnnotations).toEqual({ note: "a".repeat(1024) });
    expect(view.ignoredExported).toBe(9);
  });

  it("keeps at most 32 exported labels, the first by key", () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, "0")}`, "v"]));
    const view = toServiceExportView({ metadata: { name: "web", namespace: "shop" }, spec: { exportedLabels: many } });
    expect(Object.keys(view.exportedLabels ?? {})).toHaveLength(32);
    expect(view.exportedLabels).toHaveProperty("k00");
    expect(view.exportedLabels).not.toHaveProperty("k39");
    expect(view.ignoredExported).toBe(8);
  });

  it("keeps well-formed conditions of any type, dropping malformed ones", () => {
    const view = toServiceExportView({
      metadata: { name: "web", namespace: "shop" },
      status: {
        conditions: [
          condition("Valid"),
          { ...condition("Ready"), status: "Yes" },
          { ...condition("Ready"), lastTransitionTime: undefined },
          { ...condition("Ready"), reason: 42 },
          { ...condition("Ready"), message: undefined },
          { ...condition(""), status: "False" },
          "Ready",
          null,
          condition("Conflict", "False"),
          condition("example.com/Other", "Unknown"),
        ],
      },
    });
    expect(view.conditions).toEqual([
      condition("Valid"),
      condition("Conflict", "False"),
      condition("example.com/Other", "Unknown"),
    ]);
  });

  it("reads no more than 16 conditions", () => {
    const many = Array.from({ length: 20 }, (_, i) => condition(`Type${i}`));
    const view = toServiceExportView({ metadata: { name: "web", namespace: "shop" }, status: { conditions: many } });
    expect(view.conditions).toHaveLength(16);
    expect(view.conditions.map((c) => c.type)).toEqual(many.slice(0, 16).map((c) => c.type));
  });

  it.each([undefined, null, "Valid", { type: "Valid" }])("has no conditions when the list is %j", (conditions) => {
    const view = toServiceExportView({ metadata: { name: "web", namespace: "shop" }, status: { conditions } });
    expect(view.conditions).toEqual([]);
  });
});

function rawSlice(labels: Record<string, unknown>, annotations?: Record<string, unknown>): unknown {
  return {
    metadata: {
      name: "web-mcs-west-0123456789",
      namespace: "shop",
      resourceVersion: "5",
      labels: { "kubernetes.io/service-name": "web-mcs", ...labels },
      ...(annotations ? { annotations } : {}),
    },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.1.0.5"], conditions: { ready: true }, nodeName: "node-1" }],
    ports: [{ name: "http", protocol: "TCP", port: 8080 }],
  };
}

const IMPORT_LABELS = {
  "endpointslice.kubernetes.io/managed-by": "link-controller.zonesync.io",
  "multicluster.kubernetes.io/service-name": "web",
  "multicluster.kubernetes.io/source-cluster": "west",
  "zonesync.io/link-uid": "6f1c7e2a-0000-4000-8000-000000000001",
};

describe("toImportSlice", () => {
  it("keeps the slice and what ties it to an import", () => {
    const slice = toImportSlice(
      rawSlice(IMPORT_LABELS, { "zonesync.io/mcs-export": "{}", "zonesync.io/mirror-hash": "h1" }),
    );
    expect(slice).toEqual({
      metadata: { name: "web-mcs-west-0123456789", namespace: "shop", resourceVersion: "5" },
      service: "web-mcs",
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.1.0.5"], ready: true }],
      ports: [{ name: "http", protocol: "TCP", port: 8080 }],
      managedBy: "link-controller.zonesync.io",
      importName: "web",
      sourceCluster: "west",
      linkUid: "6f1c7e2a-0000-4000-8000-000000000001",
      record: "{}",
      hash: "h1",
    });
  });

  it("leaves out what is not there", () => {
    const slice = toImportSlice(rawSlice({}));
    for (const key of ["managedBy", "importName", "sourceCluster", "linkUid", "record", "hash"]) {
      expect(slice).not.toHaveProperty(key);
    }
  });

  it("takes a label of up to 63 characters, and no longer one", () => {
    const at = "c".repeat(63);
    expect(toImportSlice(rawSlice({ "multicluster.kubernetes.io/source-cluster": at })).sourceCluster).toBe(at);
    const over = toImportSlice(
      rawSlice({
        "multicluster.kubernetes.io/source-cluster": `${at}c`,
        "multicluster.kubernetes.io/service-name": "w".repeat(64),
        "endpointslice.kubernetes.io/managed-by": "m".repeat(64),
        "zonesync.io/link-uid": "u".repeat(64),
      }),
    );
    for (const key of ["managedBy", "importName", "sourceCluster", "linkUid"]) expect(over).not.toHaveProperty(key);
  });

  it("ignores labels and annotations that are not strings", () => {
    const slice = toImportSlice(
      rawSlice(
        { "multicluster.kubernetes.io/source-cluster": 7, "multicluster.kubernetes.io/service-name": "web" },
        { "zonesync.io/mcs-export": { created: "x" }, "zonesync.io/mirror-hash": 1 },
      ),
    );
    expect(slice.importName).toBe("web");
    expect(slice).not.toHaveProperty("sourceCluster");
    expect(slice).not.toHaveProperty("record");
    expect(slice).not.toHaveProperty("hash");
  });

  it("ignores labels and annotations that are not maps", () => {
    for (const [labels, annotations] of [
      [null, null],
      ["a=b", "c"],
    ]) {
      const slice = toImportSlice({
        metadata: { name: "s", namespace: "shop", labels, annotations },
        addressType: "IPv4",
      });
      expect(slice.invalid).toBeDefined();
      expect(slice).not.toHaveProperty("importName");
      expect(slice).not.toHaveProperty("record");
    }
  });

  it("keeps a record of up to MAX_RECORD_BYTES and drops a longer one", () => {
    const at = "r".repeat(MAX_RECORD_BYTES);
    expect(toImportSlice(rawSlice(IMPORT_LABELS, { "zonesync.io/mcs-export": at })).record).toBe(at);
    const over = toImportSlice(rawSlice(IMPORT_LABELS, { "zonesync.io/mcs-export": `${at}r` }));
    expect(over).not.toHaveProperty("record");
    expect(over.sourceCluster).toBe("west");
  });

  it("keeps a hash of up to 64 characters", () => {
    const hash = "h".repeat(64);
    expect(toImportSlice(rawSlice({}, { "zonesync.io/mirror-hash": hash })).hash).toBe(hash);
    expect(toImportSlice(rawSlice({}, { "zonesync.io/mirror-hash": `${hash}h` }))).not.toHaveProperty("hash");
  });

  it("does not throw on anything", () => {
    for (const raw of [null, undefined, 42, "slice", [], {}, { metadata: null }]) {
      const slice = toImportSlice(raw);
      expect(slice.invalid).toBeDefined();
    }
  });
});

describe("toOwnedView", () => {
  const view = toOwnedView(LABEL_MCS_MANAGED);
  const owned = (labels: Record<string, string> | undefined, spec?: unknown, annotations?: Record<string, string>) =>
    view({
      metadata: { name: "web-mcs", namespace: "shop", uid: "u-2", resourceVersion: "9", labels, annotations },
      spec,
    });

  it("is ours only with the managed label set to true", () => {
    expect(owned({ [LABEL_MCS_MANAGED]: "true" }).ours).toBe(true);
    expect(owned({ [LABEL_MCS_MANAGED]: "false" }).ours).toBe(false);
    expect(owned({ [LABEL_MCS_MANAGED]: "True" }).ours).toBe(false);
    expect(owned({}).ours).toBe(false);
    expect(owned(undefined).ours).toBe(false);
    expect(toOwnedView("other.io/managed")({ metadata: { labels: { [LABEL_MCS_MANAGED]: "true" } } }).ours).toBe(false);
  });

  it("keeps identity, hash and the import it belongs to", () => {
    expect(
      owned(
        { [LABEL_MCS_MANAGED]: "true", "multicluster.kubernetes.io/service-name": "web" },
        { clusterIP: "10.0.0.9", clusterIPs: ["10.0.0.9"] },
        { "zonesync.io/mirror-hash": "abc" },
      ),
    ).toEqual({
      metadata: { name: "web-mcs", namespace: "shop", uid: "u-2", resourceVersion: "9" },
      ours: true,
      hash: "abc",
      importName: "web",
      clusterIPs: ["10.0.0.9"],
      exporters: [],
    });
    const bare = owned({});
    expect(bare).not.toHaveProperty("hash");
    expect(bare).not.toHaveProperty("importName");
    expect(bare.clusterIPs).toEqual([]);
  });

  it("keeps a ServiceImport's exporters in order; a malformed entry reads as an empty id", () => {
    const withStatus = (status: unknown) =>
      view({ metadata: { name: "web", namespace: "shop" }, spec: {}, status } as never).exporters;
    expect(withStatus({ clusters: [{ cluster: "west" }, { cluster: "east" }] })).toEqual(["west", "east"]);
    expect(withStatus({ clusters: [{ cluster: 7 }, null, {}] })).toEqual(["", "", ""]);
    expect(withStatus({ clusters: "east" })).toEqual([]);
    expect(withStatus(undefined)).toEqual([]);
  });

  it("takes spec.clusterIPs, else spec.clusterIP", () => {
    expect(owned({}, { clusterIP: "10.0.0.9", clusterIPs: ["10.0.0.9", "fd00::9"] }).clusterIPs).toEqual([
      "10.0.0.9",
      "fd00::9",
    ]);
    expect(owned({}, { clusterIP: "10.0.0.9" }).clusterIPs).toEqual(["10.0.0.9"]);
  });

  it("ignores None, empty and non-string cluster IPs, and keeps at most two", () => {
    expect(owned({}, { clusterIP: "None", clusterIPs: ["None"] }).clusterIPs).toEqual([]);
    expect(owned({}, { clusterIP: "None" }).clusterIPs).toEqual([]);
    expect(owned({}, { clusterIP: "" }).clusterIPs).toEqual([]);
    expect(owned({}, { clusterIPs: [null, 7, "", "None", "10.0.0.1", "10.0.0.2", "10.0.0.3"] }).clusterIPs).toEqual([
      "10.0.0.1",
      "10.0.0.2",
    ]);
  });
});
