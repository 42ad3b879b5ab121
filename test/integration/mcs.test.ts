import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion, type ResourceType } from "../../src/kube/resources.ts";
import { createLogger } from "../../src/log.ts";
import { LABEL_MCS_SERVICE_NAME, LABEL_MCS_SOURCE_CLUSTER } from "../../src/mcs/api.ts";
import { McsController } from "../../src/mcs/controller.ts";
import {
  ANNOTATION_MCS_EXPORT,
  derivedServiceName,
  importSliceLabels,
  MCS_SLICE_MANAGER,
} from "../../src/mcs/names.ts";

import { encodeRecord } from "../../src/mcs/record.ts";
import { ENDPOINTSLICE_MANAGER } from "../../src/api/names.ts";
import { LinkController } from "../../src/mirror/controller.ts";
import { runChecks } from "../../src/check/run.ts";
import type { CheckReport } from "../../src/check/types.ts";
import { sleep } from "../../src/sleep.ts";
import { ensureNamespace, installCrd, linkObject, putSecret, targetCredentials } from "../../bench/mirror/setup.ts";
import { adminClient, cluster, createNamespace, eventually, KUBE_CONTROLLERS_MS, uniqueName } from "../support.ts";

/**
 * The MCS controller on a real API server, cases named after the kubernetes-sigs/mcs-api conformance suite (v0.5.0,
 * conformance/service_import.go and endpoint_slice.go) that need only API objects. Exports of other clusters reach a
 * cluster as slices its link controllers carry in (ADR 0005); here the test writes such a slice itself.
 */

const hub = adminClient("hub");
const east = adminClient("east");
const west = adminClient("west");
const clients = { hub, east, west } as const;
/**
 * The clusters' ids in this file's clusterset: not their context names, so that links of other test files (which
 * name their targets "east" and "west") never carry these exports: a link carries only slices whose source-cluster is
 * its targetClusterName.
 */
const ID = { hub: "hub-mcs", east: "east-mcs", west: "west-mcs" } as const;
type ClusterName = keyof typeof clients;
const repoRoot = join(import.meta.dirname, "..", "..");
let slices: ResourceType;
let controller: McsController;
const others: McsController[] = [];
const links: LinkController[] = [];
const namespace = uniqueName("mcs-system");

interface ServiceImport extends KubeObject {
  spec: {
    type: string;
    ips?: string[];
    ports: Array<{ name?: string; port: number; protocol: string }>;
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  };
  status?: { clusters?: Array<{ cluster: string }> };
}
interface ServiceExport extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}
interface Slice extends KubeObject {
  endpoints?: Array<{ addresses: string[] }>;
}

function deployment(ns: string, name: string, replicas: number) {
  return {
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

/** The cluster's own controllers have put `count` endpoints in the Service's own slices (before any MCS wait). */
async function ownEndpoints(client: KubeClient, ns: string, service: string, count: number): Promise<void> {
  await eventually(
    async () => {
      const list = await client.list<Slice>(slices, ns, { labelSelector: `kubernetes.io/service-name=${service}` });
      return list.items.flatMap((s) => s.endpoints ?? []).length === count;
    },
    KUBE_CONTROLLERS_MS,
    `${count} endpoints of ${ns}/${service}`,
  );
}

async function exportService(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await hub.create(Resources.services, { metadata: { name, namespace: ns }, spec });
  await hub.create(Resources.serviceExports, { metadata: { name, namespace: ns } });
}

const importOf = (ns: string, name: string) => hub.getOptional<ServiceImport>(Resources.serviceImports, ns, name);
const condition = async (ns: string, name: string, type: string) =>
  (await hub.get<ServiceExport>(Resources.serviceExports, ns, name)).status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  for (const file of ["multicluster.x-k8s.io_serviceexports.yaml", "multicluster.x-k8s.io_serviceimports.yaml"]) {
    const crd = parse(readFileSync(join(repoRoot, "crds", file), "utf8")) as KubeObject;
    await hub.apply(Resources.crds, crd, { fieldManager: "zonesync-tests" });
  }
  await eventually(() => hub.list(Resources.serviceImports, "default"), 15_000, "the MCS CRDs to be served");
  await eventually(() => hub.list(Resources.serviceExports, "default"), 15_000, "the MCS CRDs to be served");
  slices = endpointSliceType(await servedVersion(hub, "discovery.k8s.io"));
  await createNamespace(hub, namespace);
  controller = new McsController({
    client: hub,
    clusterId: ID.hub,
    namespace,
    identity: "mcs-test",
    logger: createLogger({ level: process.env.ZONESYNC_TEST_LOG ?? "error", format: "text" }),
  });
  await controller.start();
  await eventually(async () => controller.isLeader, 15_000, "the MCS controller to lead");
});

afterAll(async () => {
  await Promise.all(links.map((l) => l.stop()));
  await Promise.all([controller, ...others].map((c) => c?.stop()));
});

describe("MCS conformance (ported), one cluster", () => {
  it("An IP should be allocated for a ClusterSetIP ServiceImport; The ports for a ClusterSetIP ServiceImport should match those of the exported service", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    const exported = Date.now();
    await exportService(ns, "web", { selector: { app: "web" }, ports: [{ name: "http", port: 80 }] });
    const imported = await eventually(
      async () => {
        const i = await importOf(ns, "web");
        // The exporters are in the status subresource, written right after the spec: ready is both.
        return i?.spec.ips?.length && i.status?.clusters?.length ? i : undefined;
      },
      20_000,
      "the ServiceImport with its IP and its exporter",
    );
    const readyMs = Date.now() - exported;
    const derived = await hub.get<KubeObject & { spec: { clusterIP: string; selector?: unknown } }>(
      Resources.services,
      ns,
      derivedServiceName("web"),
    );
    expect(imported.spec.type).toBe("ClusterSetIP");
    expect(imported.spec.ips).toEqual([derived.spec.clusterIP]);
    expect(derived.spec.selector).toBeUndefined();
    expect(imported.spec.ports).toEqual([{ name: "http", port: 80, protocol: "TCP" }]);
    expect(imported.status?.clusters).toEqual([{ cluster: ID.hub }]);
    await eventually(async () => (await condition(ns, "web", "Valid"))?.status === "True", 20_000, "Valid=True");
    expect((await condition(ns, "web", "Conflict"))?.reason).toBe("NoConflicts");
    console.log(`[figures] export → ServiceImport with IP: ${readyMs} ms`);

    // A status write lost after the spec's (a killed controller, a failed request), or an edit by hand: the
    // exporters come back, though nothing in the spec changed.
    await hub.patch(Resources.serviceImports, ns, "web", { status: { clusters: [] } }, { subresource: "status" });
    await eventually(
      async () => (await importOf(ns, "web"))?.status?.clusters?.[0]?.cluster === ID.hub,
      10_000,
      "the exporters back in the ServiceImport's status",
    );

    await hub.delete(Resources.serviceExports, ns, "web");
    await eventually(async () => (await importOf(ns, "web")) === undefined, 20_000, "the ServiceImport to go");
    await eventually(
      async () => (await hub.getOptional(Resources.services, ns, derivedServiceName("web"))) === undefined,
      20_000,
      "the derived Service to go",
    );
  });

  it("(zonesync) the derived Service of a Headless ServiceImport is headless", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    await exportService(ns, "db", { clusterIP: "None", selector: { app: "db" }, ports: [{ port: 5432 }] });
    const imported = await eventually(() => importOf(ns, "db"), 20_000, "the ServiceImport");
    expect(imported.spec.type).toBe("Headless");
    expect(imported.spec.ips).toBeUndefined();
    const derived = await hub.get<KubeObject & { spec: { clusterIP: string } }>(
      Resources.services,
      ns,
      derivedServiceName("db"),
    );
    expect(derived.spec.clusterIP).toBe("None");
  });

  it("Exporting an ExternalName service should set ServiceExport Valid condition to False", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    await exportService(ns, "ext", { type: "ExternalName", externalName: "example.com" });
    const valid = await eventually(() => condition(ns, "ext", "Valid"), 20_000, "the Valid condition");
    expect(valid).toMatchObject({ status: "False", reason: "InvalidServiceType" });
    expect(await importOf(ns, "ext")).toBeUndefined();

    // Its metrics: leading, and the invalid export counted (other cases' exports share the controller).
    const text = await controller.metrics.registry.metrics();
    expect(text).toMatch(/^zonesync_mcs_leader 1$/m);
    expect(Number(/^zonesync_mcs_service_exports\{state="invalid"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).toMatch(/^zonesync_workqueue_adds_total\{queue="mcs"\} [1-9]/m);
  });

  it("A ServiceExport without its Service is Valid=False (NoService), and becomes valid when the Service comes", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    await hub.create(Resources.serviceExports, { metadata: { name: "later", namespace: ns } });
    const valid = await eventually(() => condition(ns, "later", "Valid"), 20_000, "the Valid condition");
    expect(valid).toMatchObject({ status: "False", reason: "NoService" });
    await hub.create(Resources.services, {
      metadata: { name: "later", namespace: ns },
      spec: { ports: [{ port: 81 }] },
    });
    await eventually(async () => (await condition(ns, "later", "Valid"))?.status === "True", 20_000, "Valid=True");
    await eventually(() => importOf(ns, "later"), 20_000, "the ServiceImport");
  });

  it("Only labels and annotations specified as exported in the ServiceExport should be propagated to the ServiceImport", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    await hub.create(Resources.services, {
      metadata: { name: "labelled", namespace: ns, labels: { "svc-label": "x" }, annotations: { "svc-note": "x" } },
      spec: { ports: [{ port: 80 }] },
    });
    await hub.create(Resources.serviceExports, {
      metadata: { name: "labelled", namespace: ns, labels: { "own-label": "x" } },
      spec: {
        exportedLabels: { "dummy-label": "true", "zonesync.io/mcs": "false" },
        exportedAnnotations: { "dummy-annotation": "true" },
      },
    });
    const imported = await eventually(
      async () => {
        const si = await importOf(ns, "labelled");
        return si?.metadata.labels?.["dummy-label"] ? si : undefined;
      },
      20_000,
      "the ServiceImport with the exported label",
    );
    expect(imported.metadata.annotations).toMatchObject({ "dummy-annotation": "true" });
    expect(imported.metadata.annotations).not.toHaveProperty("svc-note");
    expect(imported.metadata.labels).not.toHaveProperty("svc-label");
    expect(imported.metadata.labels).not.toHaveProperty("own-label");
    // A reserved key is never taken from an export: zonesync's own label says the import is zonesync's.
    expect(imported.metadata.labels).toMatchObject({ "zonesync.io/mcs": "true" });

    // Unexported labels leave the import (server-side apply drops what the field manager no longer sets).
    await hub.patch(
      Resources.serviceExports,
      ns,
      "labelled",
      { spec: { exportedLabels: { "dummy-label": null, "other-label": "1" }, exportedAnnotations: null } },
      { strategy: "merge" },
    );
    const updated = await eventually(
      async () => {
        const si = await importOf(ns, "labelled");
        return si?.metadata.labels?.["other-label"] ? si : undefined;
      },
      20_000,
      "the ServiceImport with the new exported label",
    );
    expect(updated.metadata.labels).not.toHaveProperty("dummy-label");
    expect(updated.metadata.annotations).not.toHaveProperty("dummy-annotation");
  });

  it("The SessionAffinity for a ClusterSetIP ServiceImport should match the exported service's SessionAffinity", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    await exportService(ns, "sticky", {
      ports: [{ port: 80 }],
      sessionAffinity: "ClientIP",
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } },
    });
    const imported = await eventually(() => importOf(ns, "sticky"), 20_000, "the ServiceImport");
    expect(imported.spec.sessionAffinity).toBe("ClientIP");
    expect(imported.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 300 } });
  });

  it("(zonesync) a carried export with a clashing port: ports union, oldest wins, Conflict=True on the local ServiceExport", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    // east exported earlier (older wins): its "http" is 8080, and it has a port hub does not.
    const record = {
      created: new Date(Date.now() - 60_000).toISOString(),
      type: "ClusterSetIP" as const,
      ports: [
        { name: "http", protocol: "TCP" as const, port: 8080 },
        { name: "metrics", protocol: "TCP" as const, port: 9090 },
      ],
      sessionAffinity: "None" as const,
    };
    await hub.create(slices, {
      metadata: {
        name: `${derivedServiceName("web")}-east-carried`,
        namespace: ns,
        labels: importSliceLabels("web", ID.east, ENDPOINTSLICE_MANAGER),
        annotations: { [ANNOTATION_MCS_EXPORT]: encodeRecord(record) },
      },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.99.0.1"], conditions: { ready: true } }],
      ports: [{ name: "http", protocol: "TCP", port: 8080 }],
    });
    await exportService(ns, "web", {
      ports: [
        { name: "http", port: 80 },
        { name: "admin", port: 81 },
      ],
    });
    const imported = await eventually(
      async () => {
        const i = await importOf(ns, "web");
        return i?.status?.clusters?.length === 2 ? i : undefined;
      },
      20_000,
      "the ServiceImport of both clusters",
    );
    expect(imported.spec.ports.map((p) => `${p.name}:${p.port}`)).toEqual(["admin:81", "http:8080", "metrics:9090"]);
    expect(imported.status?.clusters).toEqual([{ cluster: ID.east }, { cluster: ID.hub }]);
    const conflict = await eventually(
      async () => {
        const c = await condition(ns, "web", "Conflict");
        return c?.status === "True" ? c : undefined;
      },
      20_000,
      "Conflict=True",
    );
    expect(conflict.reason).toBe("PortConflict");
    expect(conflict.message).toMatch(/east/);
  });
});

describe("MCS conformance (ported), one cluster: EndpointSlice", () => {
  it("(zonesync) the import's own EndpointSlices hold the exported Service's endpoints", async () => {
    const ns = uniqueName("mcs");
    await createNamespace(hub, ns);
    await hub.create(Resources.deployments, deployment(ns, "app", 2));
    await exportService(ns, "app", { selector: { app: "app" }, ports: [{ port: 80 }] });
    await ownEndpoints(hub, ns, "app", 2);
    const derived = derivedServiceName("app");
    const own = await eventually(
      async () => {
        const list = await hub.list<Slice>(slices, ns, { labelSelector: `${LABEL_MCS_SERVICE_NAME}=app` });
        const addresses = list.items.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses);
        return addresses.length === 2 ? list.items : undefined;
      },
      30_000,
      "the import's slice with both endpoints",
    );
    for (const slice of own) {
      expect(slice.metadata.labels).toMatchObject({
        "kubernetes.io/service-name": derived,
        [LABEL_MCS_SERVICE_NAME]: "app",
        [LABEL_MCS_SOURCE_CLUSTER]: ID.hub,
        "endpointslice.kubernetes.io/managed-by": MCS_SLICE_MANAGER,
      });
    }
    const source = await hub.list<Slice>(slices, ns, { labelSelector: "kubernetes.io/service-name=app" });
    expect(
      own
        .flatMap((s) => s.endpoints ?? [])
        .flatMap((e) => e.addresses)
        .sort(),
    ).toEqual(
      source.items
        .flatMap((s) => s.endpoints ?? [])
        .flatMap((e) => e.addresses)
        .sort(),
    );

    const unexported = Date.now();
    await hub.delete(Resources.serviceExports, ns, "app");
    await eventually(
      async () => (await hub.list(slices, ns, { labelSelector: `${LABEL_MCS_SERVICE_NAME}=app` })).items.length === 0,
      20_000,
      "the import's slices to go",
    );
    console.log(`[figures] unexport → import slices gone: ${Date.now() - unexported} ms`);
  });
});

/** The MCS checks of `zonesync check` over these clusters (each checked with the others as peers). */
async function mcsCheck(
  contexts: ClusterName[],
): Promise<(context: ClusterName, id: string) => { result: string; message: string | null; error: string | null }> {
  const report: CheckReport = await runChecks({
    clusters: contexts.map((context) => ({ context, client: clients[context] })),
    kubeconfigServers: new Map(contexts.map((c) => [c, cluster(c).server])),
    namespace,
    select: (c) => c.id.startsWith("mcs.") && c.id !== "mcs.cluster-id",
  });
  return (context, id) => {
    const found = report.clusters
      .find((c) => c.context === context)
      ?.categories.flatMap((c) => c.checks)
      .find((c) => c.id === id);
    if (!found) throw new Error(`no ${id} for ${context}`);
    return { result: found.result, message: found.message, error: found.error };
  };
}

async function exportIn(client: typeof hub, ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await client.create(Resources.services, { metadata: { name, namespace: ns }, spec });
  await client.create(Resources.serviceExports, { metadata: { name, namespace: ns } });
}

/** One MCS controller per cluster (hub's is shared with the cases above), and link controllers between them. */
async function startMesh(pairs: Array<[ClusterName, ClusterName]>): Promise<void> {
  for (const name of ["east", "west"] as const) {
    const client = clients[name];
    await installMcsCrds(client);
    await createNamespace(client, namespace).catch(() => undefined);
    const mcs = new McsController({
      client,
      clusterId: ID[name],
      namespace,
      identity: `mcs-${name}`,
      logger: createLogger({ level: process.env.ZONESYNC_TEST_LOG ?? "error", format: "text", component: name }),
    });
    await mcs.start();
    others.push(mcs);
  }
  for (const [source, target] of pairs) {
    const local = clients[source];
    await installCrd(local);
    const creds = await targetCredentials(clients[target], cluster(target), source);
    const linkNamespace = uniqueName("zs");
    await ensureNamespace(local, linkNamespace);
    await putSecret(local, linkNamespace, "creds", creds.kubeconfig);
    const name = uniqueName(target);
    // No selector: only the target's MCS exports are carried.
    await local.create(
      Resources.zoneSyncLinks,
      linkObject(linkNamespace, name, { targetClusterName: ID[target], credentialsSecret: "creds" }),
    );
    const link = new LinkController({
      client: local,
      link: name,
      namespace: linkNamespace,
      identity: `${source}-to-${target}`,
      statusIntervalMs: 200,
      logger: createLogger({
        level: process.env.ZONESYNC_TEST_LOG ?? "error",
        format: "text",
        component: `${source}<-${target}`,
      }),
    });
    await link.start();
    links.push(link);
  }
  await eventually(async () => others.every((c) => c.isLeader) && links.every((l) => l.isLeader), 20_000, "leaders");
}

async function installMcsCrds(client: typeof hub): Promise<void> {
  for (const file of ["multicluster.x-k8s.io_serviceexports.yaml", "multicluster.x-k8s.io_serviceimports.yaml"]) {
    const crd = parse(readFileSync(join(repoRoot, "crds", file), "utf8")) as KubeObject;
    await client.apply(Resources.crds, crd, { fieldManager: "zonesync-tests" });
  }
  await eventually(() => client.list(Resources.serviceImports, "default"), 15_000, "the MCS CRDs to be served");
}

describe("MCS conformance (ported), three clusters (hub imports from east and west; east and west link to each other)", () => {
  beforeAll(async () => {
    await startMesh([
      ["hub", "east"],
      ["hub", "west"],
      ["east", "west"],
      ["west", "east"],
    ]);
  });

  const everywhere = [hub, east, west] as const;
  const importIn = (client: typeof hub, ns: string, name: string) =>
    client.getOptional<ServiceImport>(Resources.serviceImports, ns, name);

  it("Exporting a ClusterIP service should create a ServiceImport of type ClusterSetIP in the service's namespace in each cluster. Unexporting should delete the ServiceImport; Exporting a service should create an MCS EndpointSlice in the service's namespace in each cluster with the required MCS labels. Unexporting should delete the EndpointSlice.", async () => {
    const ns = uniqueName("mesh");
    for (const client of everywhere) await createNamespace(client, ns);
    await east.create(Resources.deployments, deployment(ns, "hello", 1));
    await exportIn(east, ns, "hello", { selector: { app: "hello" }, ports: [{ name: "http", port: 42 }] });
    await ownEndpoints(east, ns, "hello", 1);
    const mcsSlices: Array<[typeof hub, string]> = [];
    for (const client of everywhere) {
      const imported = await eventually(
        async () => {
          const i = await importIn(client, ns, "hello");
          return i?.spec.ips?.length ? i : undefined;
        },
        20_000,
        "a ServiceImport with an IP in each cluster",
      );
      expect(imported.spec.type).toBe("ClusterSetIP");
      const slice = await eventually(
        async () =>
          (await client.list<Slice>(slices, ns, { labelSelector: `${LABEL_MCS_SERVICE_NAME}=hello` })).items.find(
            (s) => (s.endpoints ?? []).length === 1,
          ),
        20_000,
        "an MCS EndpointSlice in each cluster",
      );
      expect(slice.metadata.labels).toMatchObject({
        [LABEL_MCS_SERVICE_NAME]: "hello",
        [LABEL_MCS_SOURCE_CLUSTER]: ID.east,
      });
      expect(slice.metadata.labels?.["endpointslice.kubernetes.io/managed-by"]).not.toBe(
        "endpointslice-controller.k8s.io",
      );
      mcsSlices.push([client, slice.metadata.name!]);
    }
    const unexported = Date.now();
    await east.delete(Resources.serviceExports, ns, "hello");
    for (const [client, name] of mcsSlices) {
      await eventually(async () => (await client.getOptional(slices, ns, name)) === undefined, 20_000, "slice gone");
    }
    const slicesGoneMs = Date.now() - unexported;
    for (const client of everywhere) {
      await eventually(async () => (await importIn(client, ns, "hello")) === undefined, 20_000, "import gone");
    }
    console.log(`[figures] mesh: unexport in east → MCS EndpointSlices gone in all 3 clusters: ${slicesGoneMs} ms`);
  });

  it("Exporting a headless service should create a ServiceImport of type Headless in the service's namespace in each cluster. Unexporting should delete the ServiceImport; No clusterset IP should be allocated for a Headless ServiceImport", async () => {
    const ns = uniqueName("mesh");
    for (const client of everywhere) await createNamespace(client, ns);
    await exportIn(east, ns, "hello", { clusterIP: "None", ports: [{ name: "http", port: 42 }] });
    for (const client of everywhere) {
      const imported = await eventually(() => importIn(client, ns, "hello"), 20_000, "a ServiceImport in each cluster");
      expect(imported.spec.type).toBe("Headless");
    }
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      for (const client of everywhere) expect((await importIn(client, ns, "hello"))?.spec.ips).toBeUndefined();
    }
    await east.delete(Resources.serviceExports, ns, "hello");
    for (const client of everywhere) {
      await eventually(async () => (await importIn(client, ns, "hello")) === undefined, 20_000, "import gone");
    }
  });

  it("A service exported on two clusters with conflicting headlessness should apply the conflict resolution policy and report a Conflict condition on the ServiceExport", async () => {
    const ns = uniqueName("mesh");
    for (const client of everywhere) await createNamespace(client, ns);
    await exportIn(east, ns, "hello", { ports: [{ name: "http", port: 42 }] });
    await sleep(1100); // creation timestamps have whole seconds: east's export is the older one
    await exportIn(west, ns, "hello", { clusterIP: "None", ports: [{ name: "http", port: 42 }] });
    for (const client of [east, west]) {
      const conflict = await eventually(
        async () => {
          const e = await client.get<ServiceExport>(Resources.serviceExports, ns, "hello");
          const c = e.status?.conditions?.find((x) => x.type === "Conflict");
          return c?.status === "True" ? c : undefined;
        },
        20_000,
        "Conflict=True on both exports",
      );
      expect(conflict.reason).toBe("TypeConflict");
    }
    for (const client of everywhere) {
      const imported = await eventually(
        async () => {
          const i = await importIn(client, ns, "hello");
          return i?.status?.clusters?.length === 2 ? i : undefined;
        },
        20_000,
        "a ServiceImport of both clusters in each cluster",
      );
      expect(imported.spec.type).toBe("ClusterSetIP");
    }
    // Cluster-wide checks of the later cases must not see this conflict.
    for (const client of [east, west]) await client.delete(Resources.serviceExports, ns, "hello");
  });

  it("A ServiceImport should only exist as long as there's at least one exporting cluster; (zonesync) its endpoints by source cluster, and `zonesync check`", async () => {
    const ns = uniqueName("mesh");
    for (const client of [hub, east, west]) await createNamespace(client, ns);
    for (const client of [east, west]) {
      await client.create(Resources.deployments, deployment(ns, "web", 2));
      await client.create(Resources.services, {
        metadata: { name: "web", namespace: ns },
        spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80 }] },
      });
    }
    for (const client of [east, west]) await ownEndpoints(client, ns, "web", 2);
    const exported = Date.now();
    await east.create(Resources.serviceExports, { metadata: { name: "web", namespace: ns } });
    await west.create(Resources.serviceExports, { metadata: { name: "web", namespace: ns } });
    const hubImport = await eventually(
      async () => {
        const i = await importOf(ns, "web");
        return i?.status?.clusters?.length === 2 && i.spec.ips?.length ? i : undefined;
      },
      20_000,
      "hub's ServiceImport of east and west",
    );
    const importMs = Date.now() - exported;
    expect(hubImport.status?.clusters).toEqual([{ cluster: ID.east }, { cluster: ID.west }]);
    expect(hubImport.spec.type).toBe("ClusterSetIP");
    const bySource = async (client: typeof hub) => {
      const list = await client.list<Slice>(slices, ns, { labelSelector: `${LABEL_MCS_SERVICE_NAME}=web` });
      const out: Record<string, number> = {};
      for (const s of list.items) {
        const source = s.metadata.labels?.[LABEL_MCS_SOURCE_CLUSTER] ?? "?";
        out[source] = (out[source] ?? 0) + (s.endpoints ?? []).length;
      }
      return out;
    };
    await eventually(
      async () => {
        const counts = await bySource(hub);
        return counts[ID.east] === 2 && counts[ID.west] === 2 ? counts : undefined;
      },
      20_000,
      "hub's import slices with 2 endpoints from each cluster",
    );
    // east imports too: its own endpoints and west's, under one ServiceImport.
    await eventually(
      async () => {
        const counts = await bySource(east);
        return counts[ID.east] === 2 && counts[ID.west] === 2 ? counts : undefined;
      },
      20_000,
      "east's import of itself and west",
    );
    for (const client of [east, west]) {
      const c = await eventually(
        async () => {
          const e = await client.get<ServiceExport>(Resources.serviceExports, ns, "web");
          const conflict = e.status?.conditions?.find((x) => x.type === "Conflict");
          return conflict?.reason === "NoConflicts" ? conflict : undefined;
        },
        20_000,
        "Conflict=False on both exports",
      );
      expect(c.status).toBe("False");
    }

    const healthy = await mcsCheck(["east", "west", "hub"]);
    expect(healthy("east", "mcs.exports")).toMatchObject({ result: "ok" });
    expect(healthy("east", "mcs.exports-imported")).toMatchObject({ result: "ok" });
    expect(healthy("hub", "mcs.imports-reachable")).toMatchObject({ result: "ok" });

    // A change of endpoints in east reaches hub's import.
    const scaled = Date.now();
    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 3 } });
    await eventually(async () => (await bySource(hub))[ID.east] === 3, 20_000, "hub to see east's third endpoint");
    const endpointMs = Date.now() - scaled;

    // Unexport in west: hub's slices from west go within seconds, and the import keeps east.
    const unexported = Date.now();
    await west.delete(Resources.serviceExports, ns, "web");
    await eventually(async () => (await bySource(hub))[ID.west] === undefined, 20_000, "hub's west slices to go");
    const unexportMs = Date.now() - unexported;
    await eventually(
      async () => (await importOf(ns, "web"))?.status?.clusters?.length === 1,
      20_000,
      "hub's import to list only east",
    );
    await east.delete(Resources.serviceExports, ns, "web");
    await eventually(async () => (await importOf(ns, "web")) === undefined, 20_000, "hub's ServiceImport to go");
    console.log(
      `[figures] mesh: export → hub ServiceImport ${importMs} ms; east endpoint change → hub slice ${endpointMs} ms; ` +
        `unexport → hub slices gone ${unexportMs} ms`,
    );
  });

  it("(zonesync) check flags a link that names its target by another id than the target declares (mcs.cluster-id)", async () => {
    const ns = uniqueName("mesh");
    for (const client of everywhere) await createNamespace(client, ns);
    await exportIn(east, ns, "id", { ports: [{ port: 80 }] });
    await eventually(() => importOf(ns, "id"), 20_000, "east's export to reach hub");
    const linkNamespace = uniqueName("zs-ids");
    await ensureNamespace(hub, linkNamespace);
    const creds = await targetCredentials(east, cluster("east"), "hub");
    await putSecret(hub, linkNamespace, "creds", creds.kubeconfig);
    for (const [name, targetClusterName] of [
      ["right", ID.east],
      ["wrong", "east-old"],
    ] as const) {
      await hub.create(
        Resources.zoneSyncLinks,
        linkObject(linkNamespace, name, { targetClusterName, credentialsSecret: "creds" }),
      );
    }
    const report = await runChecks({
      clusters: [{ context: "hub", client: hub }],
      kubeconfigServers: new Map([["hub", cluster("hub").server]]),
      namespace: linkNamespace,
      select: (c) => c.id === "mcs.cluster-id" || c.id.startsWith("credentials.") || c.id.startsWith("links."),
    });
    const check = report.clusters[0]!.categories.flatMap((c) => c.checks).find((c) => c.id === "mcs.cluster-id")!;
    const byLink = new Map((check.details ?? []).map((d) => [d.subject, d]));
    expect(byLink.get(`${linkNamespace}/right`)).toMatchObject({ result: "ok" });
    expect(byLink.get(`${linkNamespace}/wrong`)).toMatchObject({
      result: "error",
      message: expect.stringContaining(`the link calls its target east-old, but the target is ${ID.east}`),
    });
    await east.delete(Resources.serviceExports, ns, "id");
  });

  it("A ClusterIP service exported on two clusters with conflicting ports should apply the conflict resolution policy and report a Conflict condition on each ServiceExport", async () => {
    const ns = uniqueName("mesh");
    for (const client of [hub, east, west]) await createNamespace(client, ns);
    await east.create(Resources.services, {
      metadata: { name: "api", namespace: ns },
      spec: { ports: [{ name: "http", port: 80 }] },
    });
    await west.create(Resources.services, {
      metadata: { name: "api", namespace: ns },
      spec: { ports: [{ name: "http", port: 8080 }] },
    });
    await east.create(Resources.serviceExports, { metadata: { name: "api", namespace: ns } });
    await sleep(1100); // creation timestamps have whole seconds: east is older
    await west.create(Resources.serviceExports, { metadata: { name: "api", namespace: ns } });
    for (const client of [east, west]) {
      const conflict = await eventually(
        async () => {
          const e = await client.get<ServiceExport>(Resources.serviceExports, ns, "api");
          const c = e.status?.conditions?.find((x) => x.type === "Conflict");
          return c?.status === "True" ? c : undefined;
        },
        20_000,
        "Conflict=True",
      );
      expect(conflict.reason).toBe("PortConflict");
    }
    const imported = await eventually(
      async () => {
        const i = await importOf(ns, "api");
        return i?.status?.clusters?.length === 2 ? i : undefined;
      },
      20_000,
      "hub's import",
    );
    expect(imported.spec.ports).toEqual([{ name: "http", port: 80, protocol: "TCP" }]);
    const checked = await mcsCheck(["west", "hub"]);
    expect(checked("west", "mcs.exports").result).toBe("error");
    expect(checked("west", "mcs.exports").error).toMatch(new RegExp(`in conflict: ${ns}/api \\(PortConflict`));
  });

  it("A service exported on two clusters with conflicting annotations and labels should report a Conflict condition on each ServiceExport and use the oldest export's", async () => {
    const ns = uniqueName("mesh");
    for (const client of [hub, east, west]) await createNamespace(client, ns);
    for (const client of [east, west]) {
      await client.create(Resources.services, {
        metadata: { name: "tagged", namespace: ns },
        spec: { ports: [{ name: "http", port: 80 }] },
      });
    }
    const exportFrom = (client: KubeClient, team: string) =>
      client.create(Resources.serviceExports, {
        metadata: { name: "tagged", namespace: ns },
        spec: { exportedLabels: { team }, exportedAnnotations: { owner: `${team}@example.com` } },
      });
    await exportFrom(east, "east");
    await sleep(1100); // creation timestamps have whole seconds: east is older
    await exportFrom(west, "west");
    for (const client of [east, west]) {
      const conflict = await eventually(
        async () => {
          const e = await client.get<ServiceExport>(Resources.serviceExports, ns, "tagged");
          const c = e.status?.conditions?.find((x) => x.type === "Conflict");
          return c?.status === "True" ? c : undefined;
        },
        20_000,
        "Conflict=True",
      );
      expect(conflict.reason).toBe("LabelsConflict,AnnotationsConflict");
    }
    // Every cluster's import carries the oldest export's: east's.
    for (const client of [hub, east, west]) {
      const imported = await eventually(
        async () => {
          const i = await client.getOptional<ServiceImport>(Resources.serviceImports, ns, "tagged");
          return i?.status?.clusters?.length === 2 ? i : undefined;
        },
        20_000,
        "the import from both clusters",
      );
      expect(imported.metadata.labels).toMatchObject({ team: "east" });
      expect(imported.metadata.annotations).toMatchObject({ owner: "east@example.com" });
    }
  });
});
