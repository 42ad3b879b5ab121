import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { KubeApiError } from "../../src/kube/errors.ts";
import { endpointSliceType, Resources, servedVersion } from "../../src/kube/resources.ts";
import { kubeconfigYaml, startClusters } from "../env/index.ts";
import { trackedPids } from "../env/processes.ts";
import {
  adminClient,
  cluster,
  createNamespace,
  eventually,
  KUBE_CONTROLLERS_MS,
  sharedEnv,
  uniqueName,
} from "../support.ts";

interface Slice extends KubeObject {
  endpoints?: Array<{ addresses: string[] }>;
}

function deployment(namespace: string, name: string, replicas: number, image = "nginx:1.27") {
  return {
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image, ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

async function sliceAddresses(client: KubeClient, namespace: string, service: string): Promise<string[]> {
  const slices = endpointSliceType(await servedVersion(client, "discovery.k8s.io"));
  const list = await client.list<Slice>(slices, namespace, { labelSelector: `kubernetes.io/service-name=${service}` });
  return list.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)).sort();
}

describe("the real test clusters", () => {
  it("runs three clusters, each serving a CRD applied to it", async () => {
    expect(Object.keys(sharedEnv().clusters)).toEqual(["hub", "east", "west"]);
    const crd = {
      metadata: { name: "widgets.example.zonesync.io" },
      spec: {
        group: "example.zonesync.io",
        names: { plural: "widgets", singular: "widget", kind: "Widget" },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
              },
            },
          },
        ],
      },
    };
    for (const name of ["hub", "east", "west"]) {
      const client = adminClient(name);
      await client.apply(Resources.crds, crd);
      const widgets = {
        group: "example.zonesync.io",
        version: "v1",
        plural: "widgets",
        kind: "Widget",
        namespaced: true,
      };
      const list = await eventually(() => client.list(widgets, "default"), 15_000, `widgets served in ${name}`);
      expect(list.items).toEqual([]);
    }
  });

  it("gives each cluster its own service and pod ranges", () => {
    const { hub, east } = sharedEnv().clusters;
    expect(hub!.serviceCidr).not.toEqual(east!.serviceCidr);
    expect(hub!.podIpPrefix).not.toEqual(east!.podIpPrefix);
  });

  it("denies a restricted ServiceAccount identity through RBAC", async () => {
    const client = adminClient("east");
    const namespace = uniqueName("rbac");
    await createNamespace(client, namespace);
    await client.create(Resources.serviceAccounts, { metadata: { name: "reader", namespace } });
    const token = await client.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/reader/token`,
      { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } } },
    );
    const info = cluster("east");
    const restricted = KubeClient.fromString(
      kubeconfigYaml([{ name: "east", server: info.server, caPem: info.caPem, token: token.status.token }]),
    );
    const denied = await restricted.list(Resources.secrets, namespace).catch((err: unknown) => err);
    expect(denied).toBeInstanceOf(KubeApiError);
    expect((denied as KubeApiError).status).toBe(403);

    await client.create(Resources.roles, {
      metadata: { name: "read-services", namespace },
      rules: [{ apiGroups: [""], resources: ["services"], verbs: ["list"] }],
    });
    await client.create(Resources.roleBindings, {
      metadata: { name: "read-services", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-services" },
      subjects: [{ kind: "ServiceAccount", name: "reader", namespace }],
    });
    await eventually(() => restricted.list(Resources.services, namespace), 5000, "the binding to take effect");
    await expect(restricted.list(Resources.secrets, namespace)).rejects.toMatchObject({ status: 403 });
  });

  it("makes Deployments available and fills EndpointSlices with simulated pod IPs", async () => {
    const client = adminClient("east");
    const namespace = uniqueName("sim");
    await createNamespace(client, namespace);
    await client.create(Resources.deployments, deployment(namespace, "web", 3));
    await client.create(Resources.services, {
      metadata: { name: "web", namespace },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 80 }] },
    });
    await eventually(
      async () => {
        const d = await client.get<KubeObject & { status?: { availableReplicas?: number } }>(
          Resources.deployments,
          namespace,
          "web",
        );
        return d.status?.availableReplicas === 3;
      },
      30_000,
      "the Deployment to become available",
    );
    const addresses = await eventually(
      async () => {
        const a = await sliceAddresses(client, namespace, "web");
        return a.length === 3 ? a : undefined;
      },
      KUBE_CONTROLLERS_MS,
      "three addresses in the EndpointSlice",
    );
    for (const address of addresses) expect(address.startsWith(cluster("east").podIpPrefix)).toBe(true);

    const pods = await client.list<KubeObject & { status?: { podIP?: string } }>(Resources.pods, namespace, {
      labelSelector: "app=web",
    });
    const victim = pods.items[0]!;
    await client.delete(Resources.pods, namespace, victim.metadata.name!);
    await eventually(
      async () => !(await sliceAddresses(client, namespace, "web")).includes(victim.status!.podIP!),
      15_000,
      "the deleted pod's address to leave the slice",
    );
  });

  it("runs pods of zonesync's own image as real processes of the built CLI", async () => {
    const client = adminClient("west");
    const namespace = uniqueName("own");
    await createNamespace(client, namespace);
    const d = deployment(namespace, "cli", 1, "ghcr.io/zonesync/zonesync:test");
    (d.spec.template.spec.containers[0] as Record<string, unknown>).args = ["version"];
    await client.create(Resources.deployments, d);
    const pod = await eventually(async () => {
      const pods = await client.list(Resources.pods, namespace, { labelSelector: "app=cli" });
      return pods.items[0];
    }, 15_000);
    const logFile = join(cluster("west").dir, "pods", `${namespace}_${pod.metadata.name}_main.log`);
    const output = await eventually(
      async () =>
        existsSync(logFile) &&
        /zonesync \d+\.\d+\.\d+/.test(readFileSync(logFile, "utf8")) &&
        readFileSync(logFile, "utf8"),
      20_000,
      "the CLI process to print its version",
    );
    expect(output).toMatch(/node v24\./);

    // It runs as the pod's own ServiceAccount (a pod-bound token, as the kubelet mounts), never as an admin: it may
    // do what that ServiceAccount may (nothing here), and is refused the rest.
    const asPod = KubeClient.load({
      kubeconfig: join(cluster("west").dir, "pods", `${namespace}_${pod.metadata.name}.kubeconfig`),
    });
    const refused = await asPod.list(Resources.secrets, "kube-system").catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).status).toBe(403);
    expect((refused as KubeApiError).message).toContain(`system:serviceaccount:${namespace}:default`);
    await client.create(Resources.roleBindings, {
      metadata: { name: "view", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "ServiceAccount", name: "default", namespace }],
    });
    await eventually(
      async () => (await asPod.list(Resources.pods, namespace).catch(() => undefined))?.items.length === 1,
      10_000,
      "what a RoleBinding grants the pod's ServiceAccount",
    );
  });

  it("leaves no process behind after teardown", async () => {
    const solo = await startClusters(["solo"]);
    const pids = trackedPids();
    expect(pids.length).toBeGreaterThanOrEqual(3); // etcd, kube-apiserver, kube-controller-manager
    await solo.stop();
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
    expect(existsSync(solo.dir)).toBe(false);
  });
});
