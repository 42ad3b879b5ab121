import { readFileSync } from "node:fs";
import { execa } from "execa";
import { parse, stringify } from "yaml";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LABEL_MIRRORED_FROM, targetServiceAccountName } from "../../src/api/names.ts";
import { applyAll } from "../../src/cli/common.ts";
import { Helm } from "../../src/helm/helm.ts";
import { bundledChartPath } from "../../src/paths.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion, type ResourceType } from "../../src/kube/resources.ts";
import { createLogger } from "../../src/log.ts";
import { LinkController, type LinkControllerOptions } from "../../src/mirror/controller.ts";
import { targetAccessManifests } from "../../src/link/access.ts";
import { credentialsSecret, remoteKubeconfig, requestToken } from "../../src/link/credentials.ts";
import { standaloneControllerManifests } from "../../src/link/standalone.ts";
import { readTriggerTime } from "../../src/mirror/model.ts";
import { mirrorServiceName } from "../../src/mirror/naming.ts";
import { ownedLabels } from "../../src/zonesync/objects.ts";
import { ensureNamespace, installCrd, linkObject, putSecret, targetCredentials } from "../../bench/mirror/setup.ts";
import { adminClient, cluster, eventually, KUBE_CONTROLLERS_MS, sharedEnv, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

/** The EndpointSlice type the clusters serve (set in beforeAll). */
let slices: ResourceType;

interface Slice extends KubeObject {
  endpoints?: Array<{ addresses: string[]; hostname?: string; conditions?: { ready?: boolean } }>;
}
interface Service extends KubeObject {
  spec: { clusterIP?: string; selector?: Record<string, string>; ports?: Array<{ port: number; name?: string }> };
}
interface Link extends KubeObject {
  status?: {
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
    mirroredServices?: number;
    mirroredEndpoints?: number;
    droppedFromTarget?: Record<string, number>;
    nameConflicts?: string[];
    lastSyncTime?: string;
  };
}

let hub: KubeClient;
let east: KubeClient;
let eastKubeconfig: string;
const controllers: LinkController[] = [];

function deployment(namespace: string, name: string, replicas: number) {
  return {
    metadata: { name, namespace },
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

async function addresses(client: KubeClient, namespace: string, service: string, readyOnly = false): Promise<string[]> {
  const list = await client.list<Slice>(slices, namespace, { labelSelector: `kubernetes.io/service-name=${service}` });
  return list.items
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => !readyOnly || e.conditions?.ready !== false)
    .flatMap((e) => e.addresses)
    .sort();
}

async function waitForAddresses(
  client: KubeClient,
  namespace: string,
  service: string,
  count: number,
  timeoutMs = 20_000,
): Promise<string[]> {
  let last: string[] = [];
  try {
    return await eventually(
      async () => {
        last = await addresses(client, namespace, service);
        return last.length === count ? last : undefined;
      },
      timeoutMs,
      `${count} addresses for ${namespace}/${service}`,
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; last saw [${last.join(", ")}]; ${await podsOf(client, namespace, service)}`,
      {
        cause: err,
      },
    );
  }
}

/** The pods a Service selects, as a timed-out wait reports them: which side was late. */
async function podsOf(client: KubeClient, namespace: string, service: string): Promise<string> {
  const svc = await client.getOptional<Service>(Resources.services, namespace, service).catch(() => undefined);
  const selector = svc?.spec.selector;
  if (!selector) return "no selector";
  type Pod = KubeObject & {
    spec?: { nodeName?: string };
    status?: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> };
  };
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const pods = await client.list<Pod>(Resources.pods, namespace, { labelSelector }).catch(() => undefined);
  const described = (pods?.items ?? []).map((p) => {
    const ready = p.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "-";
    return `${p.metadata.name} node=${p.spec?.nodeName ?? "-"} phase=${p.status?.phase ?? "-"} ip=${p.status?.podIP ?? "-"} ready=${ready}`;
  });
  return `pods (${labelSelector}): ${described.join("; ") || "none"}`;
}

/**
 * The mirror of east's `service` with `count` addresses: first east's own slice (KUBE_CONTROLLERS_MS), then the
 * mirror within `mirrorTimeoutMs`, so a slow mirror still fails.
 */
async function waitForMirror(
  namespace: string,
  service: string,
  mirror: string,
  count: number,
  mirrorTimeoutMs = 20_000,
): Promise<string[]> {
  await waitForAddresses(east, namespace, service, count, KUBE_CONTROLLERS_MS);
  return waitForAddresses(hub, namespace, mirror, count, mirrorTimeoutMs);
}

/** A namespace for the link, its Secret and Lease; returns the link's name (unique: mirrors are labelled with it). */
async function prepareLink(
  spec: Record<string, unknown>,
  name = uniqueName("east"),
): Promise<{ name: string; namespace: string }> {
  const namespace = uniqueName("zs");
  await ensureNamespace(hub, namespace);
  await putSecret(hub, namespace, "creds", eastKubeconfig);
  await hub.create(
    Resources.zoneSyncLinks,
    linkObject(namespace, name, { targetClusterName: "east", credentialsSecret: "creds", ...spec }),
  );
  return { name, namespace };
}

async function startController(
  link: { name: string; namespace: string },
  identity = "test-a",
  options: Partial<LinkControllerOptions> = {},
): Promise<LinkController> {
  const controller = new LinkController({
    ...options,
    client: hub,
    link: link.name,
    namespace: link.namespace,
    identity,
    statusIntervalMs: 200,
    logger: createLogger({ level: process.env.ZONESYNC_TEST_LOG ?? "error", format: "text", component: identity }),
  });
  controllers.push(controller);
  await controller.start();
  return controller;
}

async function getLink(link: { name: string; namespace: string }): Promise<Link> {
  return hub.get<Link>(Resources.zoneSyncLinks, link.namespace, link.name);
}

function condition(link: Link, type: string) {
  return link.status?.conditions?.find((c) => c.type === type);
}

async function writes(controller: LinkController): Promise<number> {
  const metric = await controller.metrics.writes.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

beforeAll(async () => {
  hub = adminClient("hub");
  east = adminClient("east");
  slices = endpointSliceType(await servedVersion(hub, "discovery.k8s.io"));
  await installCrd(hub);
  const creds = await targetCredentials(east, cluster("east"), "hub");
  eastKubeconfig = creds.kubeconfig;
});

afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
});

describe("link controller on real clusters", () => {
  it("mirrors an exported Service and its endpoints within 2 s, follows scaling, removes unexported mirrors", async () => {
    const ns = uniqueName("shop");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const controller = await startController(link);
    await eventually(async () => controller.synced, 20_000, "the initial sync");

    await east.create(Resources.deployments, deployment(ns, "web", 2));
    // The pods are ready before the Service exists, so the target's EndpointSlice is written with both at once.
    await eventually(
      async () =>
        (await east.get<KubeObject & { status?: { readyReplicas?: number } }>(Resources.deployments, ns, "web")).status
          ?.readyReplicas === 2,
      20_000,
      "2 ready replicas of web in east",
    );
    await east.create(Resources.services, {
      metadata: { name: "web", namespace: ns, labels: { "export-test": token } },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 80 }] },
    });
    // From the moment the target's EndpointSlice holds the endpoints until the mirror shows them.
    const remote = await waitForAddresses(east, ns, "web", 2);
    const t0 = performance.now();
    const mirrored = await eventually(
      async () => {
        const a = await addresses(hub, ns, "web-east");
        return a.length === 2 ? a : undefined;
      },
      5000,
      "the mirrored endpoints",
    );
    const latency = performance.now() - t0;
    console.log(`endpoints in east → mirror in hub: ${latency.toFixed(0)} ms`);
    expect(mirrored).toEqual(remote);
    expect(latency).toBeLessThan(2000);

    const svc = await hub.get<Service>(Resources.services, ns, "web-east");
    expect(svc.spec.selector).toBeUndefined();
    expect(svc.spec.ports).toEqual([expect.objectContaining({ name: "http", port: 80 })]);
    expect(svc.metadata.labels).toMatchObject({ "zonesync.io/link": link.name, "zonesync.io/mirrored-from": "east" });
    expect(svc.metadata.annotations).toMatchObject({ "zonesync.io/remote-ref": `east/${ns}/web` });
    const [slice] = (await hub.list<Slice>(slices, ns, { labelSelector: "kubernetes.io/service-name=web-east" })).items;
    expect(slice!.metadata.labels).toMatchObject({
      "endpointslice.kubernetes.io/managed-by": "link-controller.zonesync.io",
      "zonesync.io/mirrored-from": "east",
      "zonesync.io/link": link.name,
    });

    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 4 } });
    expect(await waitForMirror(ns, "web", "web-east", 4)).toEqual(await addresses(east, ns, "web"));

    // The mirror carries what east's EndpointSlice controller stamped. (It drops the stamp on writes no pod or Service
    // change triggered, such as a retry after its cache lagged, so "none" is a possible final state too.)
    const triggerOf = async (client: KubeClient, service: string) =>
      (await client.list<Slice>(slices, ns, { labelSelector: `kubernetes.io/service-name=${service}` })).items[0]
        ?.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"];
    await eventually(
      async () => (await triggerOf(hub, "web-east")) === readTriggerTime(await triggerOf(east, "web")),
      10_000,
      "the mirror to carry east's trigger time (or none, as east's slice)",
    );
    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 1 } });
    expect(await waitForMirror(ns, "web", "web-east", 1)).toEqual(await addresses(east, ns, "web"));

    const status = await eventually(
      async () => {
        const l = await getLink(link);
        return condition(l, "Mirrored")?.status === "True" && l.status?.mirroredEndpoints === 1 ? l : undefined;
      },
      5000,
      "the link status",
    );
    expect(status.status?.mirroredServices).toBe(1);
    expect(condition(status, "CredentialsValid")?.status).toBe("True");
    expect(condition(status, "TargetReachable")?.status).toBe("True");
    expect(status.metadata.finalizers).toContain("zonesync.io/mirrors");

    // Steady state: no writes at all.
    await sleep(500);
    const before = await writes(controller);
    await sleep(2500);
    expect(await writes(controller)).toBe(before);

    await east.patch(Resources.services, ns, "web", { metadata: { labels: { "export-test": null } } });
    await eventually(
      async () =>
        !(await hub.getOptional(Resources.services, ns, "web-east")) &&
        (await addresses(hub, ns, "web-east")).length === 0,
      10_000,
      "the mirror to be removed",
    );
    expect(mirrorServiceName("web", "east")).toBe("web-east");
  });

  it("mirrors headless Services with per-pod hostnames, and shortens 70-character mirror names deterministically", async () => {
    const ns = uniqueName("db");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    // A Service name is at most 63 characters; with the target cluster "east-1" its mirror name would be 70.
    const longName = `s${"a".repeat(61)}z`;
    expect(`${longName}-east-1`).toHaveLength(70);
    // StatefulSet-like pods: hostname + subdomain naming the headless Service.
    for (const i of [0, 1]) {
      await east.create(Resources.pods, {
        metadata: { name: `db-${i}`, namespace: ns, labels: { app: "db-sts" } },
        spec: { hostname: `db-${i}`, subdomain: "db", containers: [{ name: "main", image: "postgres:16" }] },
      });
    }
    // Plain pods behind the long name: the naming is what is tested, not east's Deployment controllers (which, on a
    // loaded CI run, twice had not produced them within the wait).
    for (const i of [0, 1]) {
      await east.create(Resources.pods, {
        metadata: { name: `long-${i}`, namespace: ns, labels: { app: "long" } },
        spec: { containers: [{ name: "main", image: "nginx:1.27" }] },
      });
    }
    await east.create(Resources.services, {
      metadata: { name: "db", namespace: ns, labels: { "export-test": token } },
      spec: { clusterIP: "None", selector: { app: "db-sts" }, ports: [{ name: "pg", port: 5432 }] },
    });
    await east.create(Resources.services, {
      metadata: { name: longName, namespace: ns, labels: { "export-test": token } },
      spec: { selector: { app: "long" }, ports: [{ name: "http", port: 8080 }] },
    });
    const link = await prepareLink({
      targetClusterName: "east-1",
      selector: { matchLabels: { "export-test": token } },
    });
    await startController(link);

    const hostnames = await eventually(
      async () => {
        const list = await hub.list<Slice>(slices, ns, { labelSelector: "kubernetes.io/service-name=db-east-1" });
        const names = list.items
          .flatMap((s) => s.endpoints ?? [])
          .map((e) => e.hostname)
          .sort();
        return names.length === 2 ? names : undefined;
      },
      20_000,
      "the headless mirror's endpoints",
    );
    expect(hostnames).toEqual(["db-0", "db-1"]);
    const headless = await hub.get<Service>(Resources.services, ns, "db-east-1");
    expect(headless.spec.clusterIP).toBe("None");

    const shortened = mirrorServiceName(longName, "east-1");
    expect(shortened).toHaveLength(63);
    await waitForMirror(ns, longName, shortened, 2);
    const svc = await hub.get<Service>(Resources.services, ns, shortened);
    expect(svc.metadata.annotations?.["zonesync.io/remote-ref"]).toBe(`east-1/${ns}/${longName}`);
  });

  it("skips Services whose namespace is missing here (Event), and creates it when the link allows", async () => {
    const ns = uniqueName("nohub");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await east.create(Resources.services, {
      metadata: { name: "api", namespace: ns, labels: { "export-test": token } },
      spec: { ports: [{ port: 80 }] },
    });
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    await startController(link);
    const event = await eventually(
      async () => (await linkEvents(link)).find((e) => e.reason === "NamespaceMissing"),
      15_000,
      "a NamespaceMissing Event",
    );
    expect(event.message).toContain(ns);
    const status = await eventually(
      async () => {
        const l = await getLink(link);
        return condition(l, "Mirrored")?.reason === "NamespaceMissing" ? l : undefined;
      },
      5000,
      "Mirrored False with reason NamespaceMissing",
    );
    expect(condition(status, "Mirrored")?.message).toContain(ns);
    expect(await hub.getOptional(Resources.namespaces, undefined, ns)).toBeUndefined();

    await hub.patch(Resources.zoneSyncLinks, link.namespace, link.name, { spec: { createNamespaces: true } });
    await eventually(
      () => hub.getOptional(Resources.services, ns, "api-east"),
      10_000,
      "the mirror in a created namespace",
    );
    await eventually(async () => condition(await getLink(link), "Mirrored")?.status === "True", 5000, "Mirrored True");
  });

  it("adds the target's zone-sync peers as extra EndpointSlices of the local peer Service", async () => {
    const ns = uniqueName("ingress");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    for (const client of [east, hub]) {
      await client.create(Resources.deployments, deployment(ns, "nginx", 2));
      await client.create(Resources.services, {
        // As local zone-sync creates it: peer slices go only onto such a Service.
        metadata: { name: "nginx-zone-sync-hl", namespace: ns, labels: ownedLabels(true) },
        spec: { clusterIP: "None", selector: { app: "nginx" }, ports: [{ name: "zone-sync", port: 12345 }] },
      });
    }
    // Each cluster's own controllers first (see waitForMirror).
    const remote = await waitForAddresses(east, ns, "nginx-zone-sync-hl", 2, KUBE_CONTROLLERS_MS);
    const local = await waitForAddresses(hub, ns, "nginx-zone-sync-hl", 2, KUBE_CONTROLLERS_MS);
    const peer = { namespace: ns, name: "nginx-zone-sync-hl" };
    const link = await prepareLink({ zoneSync: { targetPeerService: peer, localPeerService: peer, port: 12345 } });
    await startController(link);
    const all = await waitForAddresses(hub, ns, "nginx-zone-sync-hl", 4);
    expect(all).toEqual([...remote, ...local].sort());
    // One mirrored slice per target slice (Kubernetes 1.20 keeps an empty placeholder slice next to the full one,
    // which may be mirrored a moment after the addresses): wait for the counts to match instead of sampling them.
    const peerSlices = await eventually(
      async () => {
        const [mirrored, target] = await Promise.all([
          hub.list<Slice>(slices, ns, { labelSelector: "zonesync.io/zone-sync-peers=east" }),
          east.list<Slice>(slices, ns, { labelSelector: "kubernetes.io/service-name=nginx-zone-sync-hl" }),
        ]);
        return mirrored.items.length === target.items.length ? mirrored : undefined;
      },
      10_000,
      "one mirrored peer slice per target slice",
    );
    expect(peerSlices.items[0]!.metadata.labels).toMatchObject({
      "kubernetes.io/service-name": "nginx-zone-sync-hl",
      "endpointslice.kubernetes.io/managed-by": "link-controller.zonesync.io",
    });
    await east.patch(Resources.deployments, ns, "nginx", { spec: { replicas: 3 } });
    await waitForAddresses(east, ns, "nginx-zone-sync-hl", 3, KUBE_CONTROLLERS_MS);
    await waitForAddresses(hub, ns, "nginx-zone-sync-hl", 5);
  });

  it("picks up rotated credentials without a restart; an invalid token turns CredentialsValid False and keeps the mirrors", async () => {
    const ns = uniqueName("rot");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await east.create(Resources.deployments, deployment(ns, "web", 1));
    await east.create(Resources.services, {
      metadata: { name: "web", namespace: ns, labels: { "export-test": token } },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    // The first credentials belong to a ServiceAccount of their own, so they can be revoked after the rotation.
    const first = await targetCredentials(east, cluster("east"), `rot-${link.name}`);
    await putSecret(hub, link.namespace, "creds", first.kubeconfig);
    const controller = await startController(link);
    await waitForMirror(ns, "web", "web-east", 1);

    await putSecret(hub, link.namespace, "creds", eastKubeconfig);
    await eventually(
      async () => (await linkEvents(link)).find((e) => e.reason === "CredentialsRotated"),
      15_000,
      "a CredentialsRotated Event",
    );
    // Revoke the old identity: from now on only the new token can see the target.
    await east.delete(Resources.clusterRoleBindings, undefined, first.serviceAccount);
    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 2 } });
    await waitForMirror(ns, "web", "web-east", 2);

    await putSecret(hub, link.namespace, "creds", eastKubeconfig.replace(/token: .*/, "token: not-a-valid-token"));
    const status = await eventually(
      async () => {
        const l = await getLink(link);
        return condition(l, "CredentialsValid")?.status === "False" ? l : undefined;
      },
      15_000,
      "CredentialsValid False",
    );
    expect(condition(status, "CredentialsValid")?.reason).toBe("Unauthorized");
    expect(condition(status, "CredentialsValid")?.message).not.toContain("not-a-valid-token");
    // The mirrors stay, and still follow the target through the previous (valid) credentials.
    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 3 } });
    await waitForMirror(ns, "web", "web-east", 3);
    expect(controller.isLeader).toBe(true);
  });

  it("removes every mirror when the link is deleted, then its finalizer", async () => {
    const ns = uniqueName("del");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    for (const name of ["a", "b", "c"]) {
      await east.create(Resources.services, {
        metadata: { name, namespace: ns, labels: { "export-test": token } },
        spec: { ports: [{ port: 80 }] },
      });
    }
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const controller = await startController(link);
    await eventually(async () => (await mirrorsOf(link.name)).length === 3, 15_000, "three mirrors");
    await eventually(async () => (await getLink(link)).metadata.finalizers?.includes("zonesync.io/mirrors"), 5000);
    await hub.delete(Resources.zoneSyncLinks, link.namespace, link.name);
    await eventually(
      async () => !(await hub.getOptional(Resources.zoneSyncLinks, link.namespace, link.name)),
      15_000,
      "the link to be gone",
    );
    expect(await mirrorsOf(link.name)).toEqual([]);
    expect(controller.isLeader).toBe(true);
  });

  it("lets only the Lease holder write; a standby takes over within 15 s when the leader dies", async () => {
    const ns = uniqueName("lead");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await east.create(Resources.deployments, deployment(ns, "web", 1));
    await east.create(Resources.services, {
      metadata: { name: "web", namespace: ns, labels: { "export-test": token } },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const a = await startController(link, "chart-pod");
    await eventually(async () => a.isLeader, 10_000, "a leader");
    const b = await startController(link, "standalone-pod");
    await waitForMirror(ns, "web", "web-east", 1);
    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 2 } });
    await waitForMirror(ns, "web", "web-east", 2);
    expect(b.isLeader).toBe(false);
    expect(await writes(b)).toBe(0);
    expect(await writes(a)).toBeGreaterThan(0);

    // The leader dies without releasing the Lease.
    controllers.splice(controllers.indexOf(a), 1);
    await a.stop({ releaseLease: false });
    const died = Date.now();
    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 3 } });
    await eventually(async () => b.isLeader, 20_000, "the standby to take over");
    expect(Date.now() - died).toBeLessThanOrEqual(15_000);
    await waitForMirror(ns, "web", "web-east", 3);
    expect(await writes(b)).toBeGreaterThan(0);
  });

  it("stops writing once another holder has its Lease mid-work, and catches up when it leads again", async () => {
    const ns = uniqueName("steal");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const a = await startController(link, "leader-pod");
    await eventually(async () => a.isLeader, 10_000, "a leader");

    // The target keeps changing, so the controller always has work in hand.
    let exported = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming && exported < 120) {
        await east.create(Resources.services, {
          metadata: { name: `s-${exported}`, namespace: ns, labels: { "export-test": token } },
          spec: { ports: [{ port: 80 }] },
        });
        exported++;
        await sleep(100);
      }
    })();
    const mirrored = async () =>
      (await hub.list(Resources.services, ns, { labelSelector: `${LABEL_MIRRORED_FROM}` })).items.length;
    await eventually(async () => (await mirrored()) >= 5, 20_000, "the first mirrors");

    // Another candidate takes the Lease (as after a partition that outlasted the lease) and keeps renewing it.
    type Lease = KubeObject & { spec: Record<string, unknown> };
    const name = `zonesync-link-${link.name}`;
    const lease = await hub.get<Lease>(Resources.leases, link.namespace, name);
    const stamp = () => new Date().toISOString().replace("Z", "000Z");
    await hub.replace(Resources.leases, {
      ...lease,
      spec: { ...lease.spec, holderIdentity: "intruder", acquireTime: stamp(), renewTime: stamp() },
    });
    const stolen = Date.now();
    let intruding = true;
    const intruder = (async () => {
      while (intruding) {
        await sleep(1000);
        const current = await hub.get<Lease>(Resources.leases, link.namespace, name);
        await hub.replace(Resources.leases, { ...current, spec: { ...current.spec, renewTime: stamp() } });
      }
    })();
    await eventually(async () => !a.isLeader, 15_000, "the controller to see the Lease taken");
    const noticedMs = Date.now() - stolen;
    await sleep(500); // a request already on the wire when leadership ended may still land
    const writesAtLoss = await writes(a);
    const mirrorsAtLoss = await mirrored();
    const exportedAtLoss = exported;
    await sleep(4000);
    expect(exported).toBeGreaterThan(exportedAtLoss);
    expect(await writes(a)).toBe(writesAtLoss);
    expect(await mirrored()).toBe(mirrorsAtLoss);

    // The other holder goes away without releasing: the controller leads again after expiry and mirrors everything.
    intruding = false;
    await intruder;
    streaming = false;
    await stream;
    await eventually(async () => a.isLeader, 20_000, "the controller to lead again");
    await eventually(async () => (await mirrored()) === exported, 30_000, `all ${exported} mirrors`);
    console.log(`[figures] lease taken → controller stopped leading: ${noticedMs} ms`);
    expect(noticedMs).toBeLessThanOrEqual(9_000);
  });

  it("runs as a real Deployment under its own ServiceAccount and RBAC (pod simulator), serves /readyz and /metrics", async () => {
    const ns = uniqueName("pod");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await east.create(Resources.services, {
      metadata: { name: "api", namespace: ns, labels: { "export-test": token } },
      spec: { ports: [{ port: 80 }] },
    });
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    // The link controller's own manifests: its ServiceAccount and RBAC, and the Deployment the simulator runs as
    // that ServiceAccount.
    const manifests = standaloneControllerManifests({
      link: link.name,
      namespace: link.namespace,
      image: "ghcr.io/zonesync/zonesync:dev",
      credentialsSecret: "creds",
    });
    await applyAll(hub, manifests);
    await eventually(
      () => hub.getOptional(Resources.services, ns, "api-east"),
      30_000,
      "the mirror written by the pod",
    );
    await eventually(
      async () => {
        const d = await hub.get<KubeObject & { status?: { availableReplicas?: number } }>(
          Resources.deployments,
          link.namespace,
          `zonesync-standalone-${link.name}`,
        );
        return d.status?.availableReplicas === 1;
      },
      30_000,
      "the controller pod to be ready",
    );
    const pods = await hub.list(Resources.pods, link.namespace, { labelSelector: `zonesync.io/link=${link.name}` });
    const logFile = join(
      cluster("hub").dir,
      "pods",
      `${link.namespace}_${pods.items[0]!.metadata.name}_link-controller.log`,
    );
    const url = /"url":"(http:[^"]+)"/.exec(readFileSync(logFile, "utf8"))?.[1];
    expect(url).toBeDefined();
    const metrics = await eventually(
      async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        return /zonesync_mirror_services\{[^}]*\} 1\b/.test(text) ? text : undefined;
      },
      10_000,
      "the mirrored-services gauge",
    );
    expect(metrics).toMatch(/zonesync_mirror_leader\{[^}]*\} 1\b/);
    expect(metrics).toMatch(/zonesync_mirror_target_reachable\{[^}]*\} 1\b/);
    expect(metrics).toContain("zonesync_mirror_sync_lag_seconds_bucket");
    expect(metrics).toContain("zonesync_mirror_e2e_lag_seconds_bucket");
    // The process's own: Node runtime and process metrics, and the work queue's.
    expect(metrics).toMatch(/^process_resident_memory_bytes\{[^}]*\} \d+/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_p99_seconds\{[^}]*\} /m);
    expect(metrics).toMatch(/^zonesync_workqueue_adds_total\{[^}]*queue="mirror"[^}]*\} [1-9]/m);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    // Unlinked in a safe order: the link goes first (its controller removes the mirror and the finalizer), then the
    // controller's own objects; nothing is left Terminating.
    const unlink = await execa(
      process.execPath,
      [
        "dist/src/cli/main.js",
        "unlink",
        "--cluster-name",
        link.name,
        "-n",
        link.namespace,
        "--context",
        "hub",
        "--delete",
      ],
      { env: { KUBECONFIG: sharedEnv().kubeconfigPath }, reject: false },
    );
    expect(unlink.exitCode, unlink.stderr).toBe(0);
    expect(unlink.stderr).toMatch(/link gone after [\d.]+ s/);
    expect(await hub.getOptional(Resources.services, ns, "api-east")).toBeUndefined();
    expect(await hub.getOptional(Resources.zoneSyncLinks, link.namespace, link.name)).toBeUndefined();
    for (const obj of manifests) {
      const type = Object.values(Resources).find((t) => t.kind === obj.kind)!;
      const left = await hub.getOptional<KubeObject>(type, obj.metadata.namespace, obj.metadata.name!);
      expect(left === undefined || left.metadata.deletionTimestamp !== undefined, `${obj.kind} left`).toBe(true);
    }
  });
});

describe("standalone to chart, with real controllers", () => {
  it("hands a running standalone controller over to the chart (migrate --apply): no mirror lost, no gap in its endpoints", async () => {
    const ns = uniqueName("mig");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await east.create(Resources.deployments, deployment(ns, "web", 2));
    await east.create(Resources.services, {
      metadata: { name: "web", namespace: ns, labels: { "export-test": token } },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const image = { repository: "ghcr.io/zonesync/zonesync", tag: "dev" };
    await applyAll(
      hub,
      standaloneControllerManifests({
        link: link.name,
        namespace: link.namespace,
        image: `${image.repository}:${image.tag}`,
        credentialsSecret: "creds",
      }),
    );
    await waitForMirror(ns, "web", "web-east", 2, 30_000);
    const helm = new Helm({ binary: sharedEnv().helm4, kubeconfig: cluster("hub").kubeconfigPath });
    await helm.upgradeInstall({
      release: "zonesync",
      chart: bundledChartPath(),
      namespace: link.namespace,
      values: { manager: { enabled: false }, image },
    });

    // Every 50 ms, how many endpoints hub's mirror shows, through the whole handover.
    const samples: Array<{ at: number; count: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const count = (await addresses(hub, ns, "web-east").catch(() => [])).length;
        samples.push({ at: Date.now(), count });
        await sleep(50);
      }
    })();
    const started = Date.now();
    const migrated = await execa(
      process.execPath,
      [
        "dist/src/cli/main.js",
        "migrate",
        "--context",
        "hub",
        "-n",
        link.namespace,
        "--link",
        link.name,
        "--apply",
        "--helm",
        bundledChartPath(),
        "--timeout",
        "120s",
      ],
      { env: { KUBECONFIG: sharedEnv().kubeconfigPath, HELM_BIN: sharedEnv().helm4 }, reject: false },
    );
    expect(migrated.exitCode, `${migrated.stdout}\n${migrated.stderr}`).toBe(0);
    const migratedAt = Date.now();
    // The chart's controller took the Lease over: it follows a change.
    await east.patch(Resources.deployments, ns, "web", { spec: { replicas: 3 } });
    await waitForMirror(ns, "web", "web-east", 3, 30_000);
    const followedAt = Date.now();
    sampling = false;
    await sampler;

    const during = samples.filter((s) => s.at <= migratedAt);
    expect(during.length).toBeGreaterThan(10);
    expect(during.filter((s) => s.count !== 2)).toEqual([]);
    console.log(
      `[figures] migrate --apply of a running standalone controller: ${((migratedAt - started) / 1000).toFixed(1)} s, ` +
        `${during.length} samples every 50 ms, none below 2 endpoints; the chart's controller followed a change ` +
        `${((followedAt - migratedAt) / 1000).toFixed(1)} s after`,
    );
    expect(await hub.getOptional(Resources.deployments, link.namespace, `zonesync-standalone-${link.name}`)).toBe(
      undefined,
    );
    await helm.uninstall("zonesync", link.namespace, { ignoreNotFound: true });
  });
});

async function exportFromEast(ns: string, name: string, token: string): Promise<void> {
  await east.create(Resources.services, {
    metadata: { name, namespace: ns, labels: { "export-test": token } },
    spec: { ports: [{ port: 80 }] },
  });
}

async function mirroredCondition(link: { name: string; namespace: string }, reason: string) {
  return eventually(
    async () => {
      const c = condition(await getLink(link), "Mirrored");
      return c?.reason === reason ? c : undefined;
    },
    15_000,
    `Mirrored with reason ${reason}`,
  );
}

describe("link controller: a credentials Secret is untrusted", () => {
  it("refuses token files, plain http, proxies, exec plugins and unverified TLS with a clear condition, keeping the mirrors", async () => {
    const ns = uniqueName("creds");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "web", token);
    const doc = () =>
      parse(eastKubeconfig) as {
        clusters: Array<{ cluster: Record<string, unknown> }>;
        users: Array<{ user: Record<string, unknown> }>;
      };
    const variants: Array<[string, (d: ReturnType<typeof doc>) => void, RegExp]> = [
      [
        "token file",
        (d) => (d.users[0]!.user = { tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" }),
        /token file/,
      ],
      ["plain http", (d) => (d.clusters[0]!.cluster.server = "http://127.0.0.1:8080"), /must be https/],
      ["proxy", (d) => (d.clusters[0]!.cluster["proxy-url"] = "http://127.0.0.1:3128"), /proxy/],
      [
        "exec plugin",
        (d) => (d.users[0]!.user = { exec: { command: "/bin/sh", apiVersion: "client.authentication.k8s.io/v1" } }),
        /exec plugin/,
      ],
      ["unverified TLS", (d) => (d.clusters[0]!.cluster["insecure-skip-tls-verify"] = true), /insecureSkipTLSVerify/],
    ];
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    await startController(link);
    await eventually(async () => hub.getOptional(Resources.services, ns, "web-east"), 15_000, "web mirrored");
    for (const [what, mutate, rule] of variants) {
      const hostile = doc();
      mutate(hostile);
      await putSecret(hub, link.namespace, "creds", stringify(hostile));
      const refused = await eventually(
        async () => {
          const c = condition(await getLink(link), "CredentialsValid");
          return c?.status === "False" && rule.test(c.message) ? c : undefined;
        },
        10_000,
        `CredentialsValid False for the ${what}`,
      );
      expect(refused.reason).toBe("InvalidKubeconfig");
    }
    // Refused credentials never cost the mirrors; good ones are used again at once.
    expect(await hub.getOptional(Resources.services, ns, "web-east")).toBeDefined();
    await putSecret(hub, link.namespace, "creds", eastKubeconfig);
    await eventually(
      async () => condition(await getLink(link), "CredentialsValid")?.status === "True",
      10_000,
      "CredentialsValid True again",
    );
  });
});

describe("link controller: target credentials renew themselves", () => {
  it("renews a short token before it expires into its own Secret, switches without a restart, and keeps mirroring", async () => {
    const ns = uniqueName("renew");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "web", token);
    // The target side as `zonesync allow` makes it, and a token of the TokenRequest minimum (10 min).
    const source = uniqueName("src");
    await applyAll(east, targetAccessManifests({ source, namespace: ns }));
    const serviceAccount = targetServiceAccountName(source);
    const first = await requestToken(east, ns, serviceAccount, 600);
    const name = uniqueName("east");
    const namespace = uniqueName("zs");
    await ensureNamespace(hub, namespace);
    const kubeconfig = remoteKubeconfig({
      clusterName: "east",
      server: cluster("east").server,
      caPem: cluster("east").caPem,
      token: first.token,
    });
    const secret = credentialsSecret({
      clusterName: name,
      namespace,
      kubeconfig,
      expiresAt: first.expiresAt,
      targetServiceAccount: `${ns}/${serviceAccount}`,
    });
    await hub.create(Resources.secrets, secret);
    await hub.create(
      Resources.zoneSyncLinks,
      linkObject(namespace, name, {
        targetClusterName: "east",
        credentialsSecret: secret.metadata.name!,
        selector: { matchLabels: { "export-test": token } },
      }),
    );
    const link = { name, namespace };
    // Renewal due after 2% of the lifetime: 12 s.
    const controller = await startController(link, "test-a", { renewAfter: 0.02 });
    await eventually(async () => hub.getOptional(Resources.services, ns, "web-east"), 15_000, "web mirrored");
    const expiry = async () => (await controller.metrics.credentialsExpiry.get()).values[0]?.value;
    expect(await expiry()).toBe(Math.floor(Date.parse(first.expiresAt) / 1000));
    // Its Secret names the target ServiceAccount: renewable (ZoneSyncCredentialsNotRenewable stays quiet).
    expect((await controller.metrics.credentialsRenewable.get()).values[0]?.value).toBe(1);

    const renewed = await eventually(
      async () => {
        const s = await hub.get<KubeObject & { data: Record<string, string> }>(
          Resources.secrets,
          namespace,
          secret.metadata.name!,
        );
        const text = Buffer.from(s.data.kubeconfig!, "base64").toString("utf8");
        const current = (parse(text) as { users: Array<{ user: { token: string } }> }).users[0]!.user.token;
        return current !== first.token ? { s, current } : undefined;
      },
      40_000,
      "the renewed token in the Secret",
    );
    const expiresAt = renewed.s.metadata.annotations?.["zonesync.io/token-expires-at"];
    expect(Date.parse(expiresAt!)).toBeGreaterThan(Date.parse(first.expiresAt));
    await eventually(
      async () => {
        const reasons = (await linkEvents(link)).map((e) => e.reason);
        return reasons.includes("CredentialsRenewed") && reasons.includes("CredentialsRotated");
      },
      15_000,
      "CredentialsRenewed and CredentialsRotated Events",
    );
    await eventually(
      async () => (await expiry()) === Math.floor(Date.parse(expiresAt!) / 1000),
      10_000,
      "the new expiry",
    );
    // Mirroring goes on across the switch, with the new token.
    await exportFromEast(ns, "api", token);
    await eventually(async () => hub.getOptional(Resources.services, ns, "api-east"), 15_000, "api mirrored");
    expect(await hub.getOptional(Resources.services, ns, "web-east")).toBeDefined();
    expect(condition(await getLink(link), "CredentialsValid")?.status).toBe("True");
  });
});

describe("link controller ownership: it touches only what it created", () => {
  /** A user's own Service in hub, named like a future mirror (`<svc>-east`). */
  async function usersService(ns: string, name: string): Promise<Service> {
    return hub.create<Service>(Resources.services, {
      metadata: { name, namespace: ns, labels: { app: "mine" } },
      spec: { selector: { app: "mine" }, ports: [{ name: "mine", port: 8080 }] },
    });
  }

  it("never adopts, changes or deletes a user's Service of a mirror's name; reports it once; mirrors once it is gone", async () => {
    const ns = uniqueName("own");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    const mine = await usersService(ns, "web-east");
    await exportFromEast(ns, "web", token);
    await exportFromEast(ns, "api", token);
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const controller = await startController(link);

    const conflict = await mirroredCondition(link, "NameConflict");
    expect(conflict.status).toBe("False");
    expect(conflict.message).toContain(`Service ${ns}/web-east`);
    expect((await getLink(link)).status?.nameConflicts).toEqual([`Service ${ns}/web-east`]);
    // The other exported Service is mirrored as usual.
    await eventually(async () => hub.getOptional(Resources.services, ns, "api-east"), 15_000, "the api mirror");
    // Rechecks (every 10 s) neither touch the user's Service nor repeat the Event.
    await sleep(11_000);
    const after = await hub.get<Service>(Resources.services, ns, "web-east");
    expect(after.metadata.resourceVersion).toBe(mine.metadata.resourceVersion);
    expect(after.metadata.labels).toEqual({ app: "mine" });
    expect(after.spec.ports).toEqual([expect.objectContaining({ name: "mine", port: 8080 })]);
    // Its slices are the EndpointSlice controller's (it has a selector); none of ours point at it.
    const ours =
      "kubernetes.io/service-name=web-east,endpointslice.kubernetes.io/managed-by=link-controller.zonesync.io";
    expect((await hub.list(slices, ns, { labelSelector: ours })).items).toEqual([]);
    const events = (await linkEvents(link)).filter((e) => e.reason === "NameConflict");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "Warning", message: expect.stringContaining(`Service ${ns}/web-east`) });
    expect((await controller.metrics.nameConflicts.get()).values[0]?.value).toBe(1);

    // The target stops exporting it: the user's Service stays as it is.
    await east.delete(Resources.services, ns, "web");
    await mirroredCondition(link, "Synced");
    expect((await hub.get<Service>(Resources.services, ns, "web-east")).metadata.resourceVersion).toBe(
      mine.metadata.resourceVersion,
    );

    // Exported again, and the user deletes theirs: mirroring resumes by itself.
    await exportFromEast(ns, "web", token);
    await mirroredCondition(link, "NameConflict");
    await hub.delete(Resources.services, ns, "web-east");
    const mirror = await eventually(
      async () => {
        const svc = await hub.getOptional<Service>(Resources.services, ns, "web-east");
        return svc?.metadata.labels?.["zonesync.io/link"] === link.name ? svc : undefined;
      },
      20_000,
      "the mirror in place of the deleted user's Service",
    );
    expect(mirror.metadata.labels?.["zonesync.io/link-uid"]).toBe((await getLink(link)).metadata.uid);
    await mirroredCondition(link, "Synced");
    expect((await controller.metrics.nameConflicts.get()).values[0]?.value).toBe(0);
    expect((await getLink(link)).status?.nameConflicts).toBeUndefined();
  });

  it("finds a user's Service where its mirror was after a restart, and keeps it through the link's deletion", async () => {
    const ns = uniqueName("own");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "web", token);
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const first = await startController(link);
    await eventually(async () => hub.getOptional(Resources.services, ns, "web-east"), 15_000, "the mirror");
    await first.stop();
    // While no controller runs, the user replaces the mirror with a Service of their own.
    await hub.delete(Resources.services, ns, "web-east");
    const mine = await usersService(ns, "web-east");
    await startController(link, "test-b");
    const conflict = await mirroredCondition(link, "NameConflict");
    expect(conflict.message).toContain(`Service ${ns}/web-east`);
    expect((await hub.get<Service>(Resources.services, ns, "web-east")).metadata.resourceVersion).toBe(
      mine.metadata.resourceVersion,
    );
    // The link goes: its cleanup deletes what it created, and only that.
    await hub.delete(Resources.zoneSyncLinks, link.namespace, link.name);
    await eventually(
      async () => !(await hub.getOptional(Resources.zoneSyncLinks, link.namespace, link.name)),
      15_000,
      "the link to be gone",
    );
    expect((await hub.get<Service>(Resources.services, ns, "web-east")).metadata.resourceVersion).toBe(
      mine.metadata.resourceVersion,
    );
    expect(await mirrorsOf(link.name)).toEqual([]);
  });

  it("puts peer slices only onto a zone-sync peer Service: any other is InvalidSpec, and nothing is written", async () => {
    const ns = uniqueName("ingress");
    await ensureNamespace(east, ns);
    await east.create(Resources.services, {
      metadata: { name: "nginx-zone-sync-hl", namespace: ns },
      spec: { clusterIP: "None", selector: { app: "nginx" }, ports: [{ name: "zone-sync", port: 12345 }] },
    });
    const link = await prepareLink({
      zoneSync: {
        targetPeerService: { namespace: ns, name: "nginx-zone-sync-hl" },
        localPeerService: { namespace: "default", name: "kubernetes" },
        port: 12345,
      },
    });
    await startController(link);
    const invalid = await mirroredCondition(link, "InvalidSpec");
    expect(invalid.message).toContain("default/kubernetes is not a zone-sync peer Service");
    await eventually(
      async () => (await linkEvents(link)).some((e) => e.reason === "InvalidSpec"),
      5000,
      "an InvalidSpec Event",
    );
    expect((await hub.list(slices, "default", { labelSelector: "zonesync.io/zone-sync-peers" })).items).toEqual([]);
  });

  it("never mirrors into system namespaces or the link's own namespace unless spec.namespaces lists them", async () => {
    const token = uniqueName("x");
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    await ensureNamespace(east, link.namespace);
    await exportFromEast("kube-public", "sys", token);
    await exportFromEast(link.namespace, "own", token);
    const ns = uniqueName("own");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "app", token);
    try {
      await startController(link);
      await eventually(async () => hub.getOptional(Resources.services, ns, "app-east"), 15_000, "the app mirror");
      await mirroredCondition(link, "Synced");
      expect(await hub.getOptional(Resources.services, "kube-public", "sys-east")).toBeUndefined();
      expect(await hub.getOptional(Resources.services, link.namespace, "own-east")).toBeUndefined();

      await hub.patch(Resources.zoneSyncLinks, link.namespace, link.name, { spec: { namespaces: ["kube-public"] } });
      await eventually(
        async () => hub.getOptional(Resources.services, "kube-public", "sys-east"),
        15_000,
        "the mirror in kube-public once listed",
      );
    } finally {
      await east.delete(Resources.services, "kube-public", "sys");
      // The link's cleanup removes its mirror from hub's kube-public too.
      await hub.delete(Resources.zoneSyncLinks, link.namespace, link.name);
      await eventually(
        async () => !(await hub.getOptional(Resources.services, "kube-public", "sys-east")),
        15_000,
        "the kube-public mirror to be removed with the link",
      );
    }
  });

  it("two installs with a link of the same name never touch each other's mirrors", async () => {
    const ns = uniqueName("own");
    const [tokenA, tokenB] = [uniqueName("a"), uniqueName("b")];
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "one", tokenA);
    await exportFromEast(ns, "two", tokenB);
    const name = uniqueName("east");
    const linkA = await prepareLink({ selector: { matchLabels: { "export-test": tokenA } } }, name);
    const linkB = await prepareLink({ selector: { matchLabels: { "export-test": tokenB } } }, name);
    await startController(linkA, "install-a");
    await startController(linkB, "install-b");
    const uidA = (await getLink(linkA)).metadata.uid;
    await eventually(async () => (await mirrorsOf(name)).length === 2, 15_000, "both installs' mirrors");
    await eventually(async () => (await getLink(linkB)).metadata.finalizers?.includes("zonesync.io/mirrors"), 5000);

    await hub.delete(Resources.zoneSyncLinks, linkB.namespace, linkB.name);
    await eventually(
      async () => !(await hub.getOptional(Resources.zoneSyncLinks, linkB.namespace, linkB.name)),
      15_000,
      "link B to be gone",
    );
    expect(await hub.getOptional(Resources.services, ns, "two-east")).toBeUndefined();
    const one = await hub.get<Service>(Resources.services, ns, "one-east");
    expect(one.metadata.labels?.["zonesync.io/link-uid"]).toBe(uidA);
    await mirroredCondition(linkA, "Synced");
  });
});

describe("link controller: what a target sends is untrusted", () => {
  it("drops loopback, link-local, unspecified, multicast and excluded addresses and FQDN slices; counts them in status and a metric", async () => {
    const ns = uniqueName("hostile");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "web", token);
    const labels = { "export-test": token, "kubernetes.io/service-name": "web" };
    const addresses = ["10.201.0.7", "127.0.0.1", "169.254.169.254", "224.0.0.1", "0.0.0.0", "10.201.0.8"];
    await east.create(slices, {
      metadata: { name: "web-hostile", namespace: ns, labels },
      addressType: "IPv4",
      endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
    });
    await east.create(slices, {
      metadata: { name: "web-fqdn", namespace: ns, labels },
      addressType: "FQDN",
      endpoints: [{ addresses: ["db.example.com"], conditions: { ready: true } }],
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
    });
    const link = await prepareLink({
      selector: { matchLabels: { "export-test": token } },
      excludeCIDRs: ["10.201.0.8/32"],
    });
    const controller = await startController(link);

    expect(await waitForAddresses(hub, ns, "web-east", 1)).toEqual(["10.201.0.7"]);
    const status = await eventually(
      async () => {
        const l = await getLink(link);
        return l.status?.droppedFromTarget?.fqdn ? l.status : undefined;
      },
      10_000,
      "the dropped counts in the link's status",
    );
    expect(status.droppedFromTarget).toEqual({
      loopback: 1,
      linkLocal: 1,
      multicast: 1,
      unspecified: 1,
      excluded: 1,
      fqdn: 1,
    });
    const metric = await controller.metrics.dropped.get();
    expect(metric.values.find((v) => v.labels.reason === "loopback")?.value).toBe(1);
    expect(metric.values.find((v) => v.labels.reason === "linkLocal")?.value).toBe(1);

    // The link opts in to FQDN slices: mirrored, and the count clears from the status.
    await hub.patch(Resources.zoneSyncLinks, link.namespace, link.name, { spec: { mirrorFQDN: true } });
    await eventually(
      async () =>
        (
          await hub.list<Slice & { addressType: string }>(slices, ns, {
            labelSelector: "kubernetes.io/service-name=web-east",
          })
        ).items.some((s) => s.addressType === "FQDN"),
      10_000,
      "the FQDN slice mirrored",
    );
    await eventually(
      async () => (await getLink(link)).status?.droppedFromTarget?.fqdn === undefined,
      10_000,
      "the fqdn count to clear",
    );
  });

  it("carries a slice's last-change trigger time onto the mirror and measures the lag from it: only new, well-formed times", async () => {
    const ns = uniqueName("lag");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "web", token);
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const controller = await startController(link);
    await eventually(async () => controller.synced, 20_000, "the initial sync");
    const TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time";
    const slice = (trigger: string | undefined, ready: boolean) => ({
      metadata: {
        name: "web-stamped",
        namespace: ns,
        labels: { "export-test": token, "kubernetes.io/service-name": "web" },
        ...(trigger ? { annotations: { [TRIGGER]: trigger } } : {}),
      },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.201.0.9"], conditions: { ready } }],
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
    });
    const count = async () =>
      (await controller.metrics.e2eLag.get()).values.find(
        (v) => v.metricName === "zonesync_mirror_e2e_lag_seconds_count",
      )?.value ?? 0;
    const mirrorTrigger = async () =>
      (await hub.list<Slice>(slices, ns, { labelSelector: "kubernetes.io/service-name=web-east" })).items[0]?.metadata
        .annotations?.[TRIGGER];
    const mirrorReady = async () =>
      (await hub.list<Slice>(slices, ns, { labelSelector: "kubernetes.io/service-name=web-east" })).items[0]
        ?.endpoints?.[0]?.conditions?.ready;
    const apply = (body: KubeObject) => east.apply(slices, body, { fieldManager: "zonesync-test", force: true });

    // A change stamped now: carried (to the millisecond) and measured once.
    const first = new Date().toISOString();
    await apply(slice(first, true));
    await eventually(async () => (await mirrorTrigger()) === first, 10_000, "the stamped mirror");
    await eventually(async () => (await count()) === 1, 5000, "one lag observation");
    const sum = (await controller.metrics.e2eLag.get()).values.find(
      (v) => v.metricName === "zonesync_mirror_e2e_lag_seconds_sum",
    )!.value;
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThan(5);

    // A rewrite showing the same trigger time (here: readiness changed without a new stamp) is not a new change.
    await apply(slice(first, false));
    await eventually(async () => (await mirrorReady()) === false, 10_000, "the not-ready mirror");
    expect(await count()).toBe(1);

    // A malformed stamp is ignored, the slice still mirrored; a stamp ahead of our clock counts as 0, and is counted.
    await apply(slice("<script>", true));
    await eventually(async () => (await mirrorReady()) === true && !(await mirrorTrigger()), 10_000, "no stamp");
    expect(await count()).toBe(1);
    const ahead = new Date(Date.now() + 60_000).toISOString();
    await apply(slice(ahead, true));
    await eventually(async () => (await count()) === 2, 10_000, "the second observation");
    expect((await controller.metrics.e2eLagAhead.get()).values[0]?.value).toBe(1);
  });

  it("mirrors at most spec.maxServices Services and says so in the Mirrored condition", async () => {
    const ns = uniqueName("cap");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    for (const name of ["a", "b", "c"]) await exportFromEast(ns, name, token);
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } }, maxServices: 2 });
    const controller = await startController(link);
    const over = await mirroredCondition(link, "ServicesOverCap");
    expect(over.message).toContain(`1 exported Services are over spec.maxServices (2)`);
    expect(over.message).toContain(`${ns}/c`);
    expect(await hub.getOptional(Resources.services, ns, "a-east")).toBeDefined();
    expect(await hub.getOptional(Resources.services, ns, "b-east")).toBeDefined();
    expect(await hub.getOptional(Resources.services, ns, "c-east")).toBeUndefined();
    expect((await controller.metrics.servicesOverCap.get()).values[0]?.value).toBe(1);
  });

  it("gets past a target object over the watch-line limit: counted, relisted, mirrored, the target stays Reachable", async () => {
    const ns = uniqueName("big");
    const token = uniqueName("x");
    await ensureNamespace(east, ns);
    await ensureNamespace(hub, ns);
    await exportFromEast(ns, "web", token);
    const link = await prepareLink({ selector: { matchLabels: { "export-test": token } } });
    const controller = await startController(link, "test-a", { targetLimits: { maxWatchLineBytes: 32 * 1024 } });
    await eventually(async () => hub.getOptional(Resources.services, ns, "web-east"), 15_000, "web mirrored");

    // One watch event of ~64 KiB (an annotation), with a port change only that event carries.
    await east.patch(Resources.services, ns, "web", {
      metadata: { annotations: { padding: "x".repeat(64 * 1024) } },
      spec: { ports: [{ port: 81 }] },
    });
    await eventually(
      async () => (await hub.get<Service>(Resources.services, ns, "web-east")).spec?.ports?.[0]?.port === 81,
      15_000,
      "the oversized event's change mirrored (through a relist)",
    );
    const errors = await controller.metrics.errors.get();
    expect(errors.values.find((v) => v.labels.kind === "target-ResponseTooLarge")?.value).toBeGreaterThanOrEqual(1);
    // The watch goes on past it.
    await exportFromEast(ns, "api", token);
    await eventually(async () => hub.getOptional(Resources.services, ns, "api-east"), 15_000, "api mirrored");
    expect(condition(await getLink(link), "TargetReachable")?.status).toBe("True");
    expect((await linkEvents(link)).map((e) => e.reason)).not.toContain("TargetUnreachable");
  });
});

async function linkEvents(link: {
  name: string;
  namespace: string;
}): Promise<Array<{ reason: string; message: string; type: string }>> {
  const list = await hub.list<KubeObject & { reason: string; message: string; type: string }>(
    Resources.events,
    link.namespace,
    {
      fieldSelector: `involvedObject.name=${link.name}`,
    },
  );
  return list.items;
}

async function mirrorsOf(link: string): Promise<string[]> {
  const selector = `zonesync.io/link=${link}`;
  const [svcs, eps] = await Promise.all([
    hub.list(Resources.services, undefined, { labelSelector: selector }),
    hub.list(slices, undefined, { labelSelector: selector }),
  ]);
  return [...svcs.items, ...eps.items].map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
}
