import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseLink } from "../../src/api/link.ts";
import type { KubeObject } from "../../src/kube/client.ts";
import { KubeApiError } from "../../src/kube/errors.ts";
import { Resources, servedVersion } from "../../src/kube/resources.ts";
import { kubeconfigYaml } from "../env/index.ts";
import { adminClient, cluster, createNamespace, eventually, sharedEnv, uniqueName } from "../support.ts";

/**
 * The generated CRD and the chart on a real Kubernetes 1.20 API server: the schema is accepted (structural),
 * defaults and validation apply, and the manager's RBAC really lets it `helm upgrade` its own release (adding and
 * removing link controllers) without more rights than the chart gives it.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const client = adminClient("hub");
const temps: string[] = [];

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "zonesync-chart-it-"));
  temps.push(dir);
  const file = join(dir, name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  const crd = parse(readFileSync(join(repoRoot, "crds/zonesync.io_zonesynclinks.yaml"), "utf8")) as KubeObject;
  await client.apply(Resources.crds, crd, { fieldManager: "zonesync-tests" });
  await eventually(
    async () => {
      const current = await client.get<
        KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
      >(Resources.crds, undefined, "zonesynclinks.zonesync.io");
      return current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    },
    15_000,
    "the ZoneSyncLink CRD to be established",
  );
});

describe("ZoneSyncLink CRD on Kubernetes 1.20", () => {
  it("is accepted as a structural schema, with its names", async () => {
    const crd = await client.get<
      KubeObject & {
        status: { conditions?: Array<{ type: string; status: string }>; acceptedNames: Record<string, unknown> };
      }
    >(Resources.crds, undefined, "zonesynclinks.zonesync.io");
    const conditions = Object.fromEntries((crd.status.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({ Established: "True", NamesAccepted: "True" });
    expect(conditions).not.toHaveProperty("NonStructuralSchema");
    expect(crd.status.acceptedNames).toMatchObject({
      kind: "ZoneSyncLink",
      shortNames: ["zsl"],
      categories: ["zonesync"],
    });
  });
});

describe("ZoneSyncLink objects on Kubernetes 1.20", () => {
  it("applies the defaults, prunes unknown fields, and round-trips through parseLink", async () => {
    const namespace = uniqueName("crd");
    await createNamespace(client, namespace);
    const created = await client.create(Resources.zoneSyncLinks, {
      metadata: { name: "east", namespace },
      spec: {
        targetClusterName: "east",
        credentialsSecret: "cluster-credentials-east",
        zoneSync: {
          targetPeerService: { namespace: "nginx", name: "nginx-hl" },
          localPeerService: { namespace: "nginx", name: "nginx-hl" },
        },
        controller: { replicas: 2, affinity: { nodeAffinity: { anything: ["goes"] } } },
        unknownField: true,
      },
    });
    const spec = created.spec as Record<string, unknown>;
    expect(spec).toMatchObject({
      targetClusterDomain: "cluster.local",
      createNamespaces: false,
      staleAfter: "2m",
      zoneSync: { port: 12345 },
      controller: { replicas: 2, affinity: { nodeAffinity: { anything: ["goes"] } } },
    });
    expect(spec).not.toHaveProperty("unknownField");
    const parsed = parseLink(created);
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  });

  it("rejects invalid links, naming the fields", async () => {
    const namespace = uniqueName("crd");
    await createNamespace(client, namespace);
    const error = await client
      .create(Resources.zoneSyncLinks, {
        metadata: { name: "bad", namespace },
        spec: {
          targetClusterName: "East_1",
          credentialsSecret: "creds",
          staleAfter: "soon",
          controller: { replicas: 11, logLevel: "loud", resources: { requests: { cpu: "lots" } } },
        },
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(KubeApiError);
    const message = (error as KubeApiError).message;
    expect((error as KubeApiError).status).toBe(422);
    for (const field of [
      "spec.targetClusterName",
      "spec.staleAfter",
      "spec.controller.replicas",
      "spec.controller.logLevel",
      "spec.controller.resources.requests.cpu",
    ]) {
      expect(message).toContain(field);
    }
  });

  it("has a status subresource and the printer columns", async () => {
    const namespace = uniqueName("crd");
    await createNamespace(client, namespace);
    await client.create(Resources.zoneSyncLinks, {
      metadata: { name: "west", namespace },
      spec: { targetClusterName: "west-cluster", credentialsSecret: "cluster-credentials-west" },
    });
    await client.patch(
      Resources.zoneSyncLinks,
      namespace,
      "west",
      {
        status: {
          mode: "chart",
          mirroredServices: 7,
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "Mirrored",
              message: "all good",
              lastTransitionTime: "2026-01-01T00:00:00Z",
            },
          ],
        },
      },
      { subresource: "status" },
    );
    const kubectl = await execa(sharedEnv().kubectl, [
      "--kubeconfig",
      cluster("hub").kubeconfigPath,
      "get",
      "zsl",
      "-n",
      namespace,
    ]);
    const [header, row] = kubectl.stdout.split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "TARGET", "MODE", "READY", "MIRRORED", "AGE"]);
    expect(row!.split(/\s+/).slice(0, 5)).toEqual(["west", "west-cluster", "chart", "True", "7"]);
  });
});

/** `kubectl auth can-i --list` of a ServiceAccount in a namespace, normalised for a committed fixture. */
async function canIList(
  saNamespace: string,
  serviceAccount: string,
  where: string,
  placeholders: Array<[string, string]>,
): Promise<string> {
  const listed = await execa(sharedEnv().kubectl, [
    "auth",
    "can-i",
    "--list",
    "--kubeconfig",
    cluster("hub").kubeconfigPath,
    "-n",
    where,
    `--as=system:serviceaccount:${saNamespace}:${serviceAccount}`,
  ]);
  let text = listed.stdout;
  for (const [value, placeholder] of placeholders) text = text.split(value).join(placeholder);
  // One rule per line, columns single-spaced and lines sorted: the API server lists rules in no fixed order.
  const [header, ...rules] = text.split("\n").map((line) => line.trim().split(/\s+/).join(" "));
  return `${[header, ...rules.filter(Boolean).sort()].join("\n")}\n`;
}

describe("chart on Kubernetes 1.20", () => {
  it("installs, and the manager's own RBAC suffices to add and remove link controllers with helm upgrade", async () => {
    const env = sharedEnv();
    const hub = cluster("hub");
    const namespace = uniqueName("chart");
    const release = uniqueName("zonesync");
    const [a, b] = [uniqueName("a"), uniqueName("b")];
    await createNamespace(client, namespace);
    const nginx = uniqueName("nginx");
    await createNamespace(client, nginx);
    const helm = (kubeconfig: string, args: string[]) =>
      execa(env.helm4, [...args, "--kubeconfig", kubeconfig, "--namespace", namespace], {
        reject: false,
        env: { HELM_CACHE_HOME: join(tmpdir(), "zonesync-helm-cache") },
      });
    // The release's own manager runs too (the pod simulator starts it): with `apply: none` it only reports, so its
    // own `helm upgrade` (no ZoneSyncLinks here: it would drop both entries) cannot race the upgrades below.
    const values = (names: string[]) =>
      tempFile(
        "values.json",
        JSON.stringify({
          // Local zone-sync's Role goes into the NGINX namespace: helm as the manager must read it there too.
          manager: {
            apply: "none",
            nginx: { configMap: `${nginx}/nginx-config`, workload: `Deployment/${nginx}/nginx` },
          },
          controllers: names.map((name) => ({ name, podDisruptionBudget: { enabled: true } })),
        }),
      );

    const install = await helm(hub.kubeconfigPath, [
      "install",
      release,
      join(repoRoot, "chart"),
      "--skip-crds",
      "-f",
      values([a]),
    ]);
    expect(install.exitCode, install.stderr).toBe(0);
    // The chart picks the version the server offers (policy/v1beta1 on 1.20 only).
    const pdbVersion = await servedVersion(client, "policy");
    const pdb = await client.get<KubeObject>(
      { ...Resources.podDisruptionBudgets, version: pdbVersion },
      namespace,
      `zonesync-link-${a}`,
    );
    expect(pdb.apiVersion).toBe(`policy/${pdbVersion}`);

    // From here on, Helm acts as the manager does: with the manager ServiceAccount's token.
    const manager = `${release}-manager`;
    const { status } = await client.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${manager}/token`,
      { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } } },
    );
    const asManager = tempFile(
      "kubeconfig",
      kubeconfigYaml([{ name: "hub", server: hub.server, caPem: hub.caPem, token: status.token, namespace }]),
    );

    // Client-side apply: creating an object by server-side apply is a PATCH of a name not granted yet.
    const upgrade = (names: string[]) =>
      helm(asManager, ["upgrade", release, join(repoRoot, "chart"), "--server-side=false", "-f", values(names)]);
    const add = await upgrade([a, b]);
    expect(add.exitCode, add.stderr).toBe(0);
    await client.get(Resources.deployments, namespace, `zonesync-link-${b}`);
    // Link controllers share one static ClusterRole; a link changes only the subjects of its one binding.
    const mirrorsBinding = async () =>
      (
        await client.get<KubeObject & { subjects?: Array<{ name: string }> }>(
          Resources.clusterRoleBindings,
          undefined,
          `${namespace}-${release}-mirrors`,
        )
      ).subjects?.map((s) => s.name) ?? [];
    expect(await mirrorsBinding()).toEqual([`zonesync-link-${a}`, `zonesync-link-${b}`]);
    expect(await client.getOptional(Resources.clusterRoles, undefined, `zonesync-link-${b}`)).toBeUndefined();

    // Every identity's permissions, as `kubectl auth can-i --list` tells them, against a committed expectation: a
    // widened Role fails here. Random names are replaced by placeholders.
    const placeholders: Array<[string, string]> = [
      [nginx, "<nginx-namespace>"],
      [namespace, "<release-namespace>"],
      [release, "<release>"],
      [a, "<link-a>"],
      [b, "<link-b>"],
    ];
    const canI = (serviceAccount: string, where: string) => canIList(namespace, serviceAccount, where, placeholders);
    const fixtures = join(repoRoot, "test", "fixtures", "rbac");
    await expect(await canI(manager, namespace)).toMatchFileSnapshot(
      join(fixtures, "manager-in-release-namespace.txt"),
    );
    await expect(await canI(manager, nginx)).toMatchFileSnapshot(join(fixtures, "manager-in-nginx-namespace.txt"));
    await expect(await canI(manager, "default")).toMatchFileSnapshot(join(fixtures, "manager-elsewhere.txt"));
    await expect(await canI(`zonesync-link-${a}`, namespace)).toMatchFileSnapshot(
      join(fixtures, "link-controller-in-release-namespace.txt"),
    );
    await expect(await canI(`zonesync-link-${a}`, "default")).toMatchFileSnapshot(
      join(fixtures, "link-controller-elsewhere.txt"),
    );

    const remove = await upgrade([b]);
    expect(remove.exitCode, remove.stderr).toBe(0);
    expect(await client.getOptional(Resources.deployments, namespace, `zonesync-link-${a}`)).toBeUndefined();
    expect(await client.getOptional(Resources.roles, namespace, `zonesync-link-${a}`)).toBeUndefined();
    expect(await mirrorsBinding()).toEqual([`zonesync-link-${b}`]);

    // What the manager may not do, although it edits that binding: grant anything else, or itself more.
    const denied = await helm(asManager, [
      "upgrade",
      release,
      join(repoRoot, "chart"),
      "--server-side=false",
      "-f",
      values([b]),
      "--set",
      "manager.nginx.workload=Deployment/kube-system/coredns",
    ]);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);

    const uninstall = await helm(hub.kubeconfigPath, ["uninstall", release]);
    expect(uninstall.exitCode, uninstall.stderr).toBe(0);
  });
});

describe("chart with mcs.enabled on Kubernetes 1.20", () => {
  it("runs the MCS controller as a pod under its own ServiceAccount, whose RBAC suffices to import an export", async () => {
    const env = sharedEnv();
    const namespace = uniqueName("chart-mcs");
    const release = uniqueName("zonesync");
    await createNamespace(client, namespace);
    const helm = (args: string[]) =>
      execa(env.helm4, [...args, "--kubeconfig", cluster("hub").kubeconfigPath, "--namespace", namespace], {
        reject: false,
        env: { HELM_CACHE_HOME: join(tmpdir(), "zonesync-helm-cache") },
      });
    // Cluster id "hub-mcs", as test/integration/mcs.test.ts's in-process controller on this cluster: two controllers
    // with the same id compute the same objects, so they never undo each other's writes.
    const install = await helm([
      "install",
      release,
      join(repoRoot, "chart"),
      "--skip-crds",
      "--set",
      "manager.apply=none",
      "--set",
      "mcs.enabled=true",
      "--set",
      "mcs.clusterId=hub-mcs",
    ]);
    expect(install.exitCode, install.stderr).toBe(0);
    await eventually(
      async () => {
        const d = await client.getOptional<KubeObject & { status?: { availableReplicas?: number } }>(
          Resources.deployments,
          namespace,
          `${release}-mcs`,
        );
        return (d?.status?.availableReplicas ?? 0) > 0;
      },
      60_000,
      "the MCS controller pod to be available",
    );
    await eventually(() => client.list(Resources.serviceExports, "default"), 15_000, "the MCS CRDs to be served");

    const ns = uniqueName("chart-mcs-app");
    await createNamespace(client, ns);
    await client.create(Resources.services, {
      metadata: { name: "web", namespace: ns },
      spec: { ports: [{ port: 80 }] },
    });
    await client.create(Resources.serviceExports, { metadata: { name: "web", namespace: ns } });
    const imported = await eventually(
      async () => {
        const i = await client.getOptional<KubeObject & { spec: { ips?: string[] } }>(
          Resources.serviceImports,
          ns,
          "web",
        );
        return i?.spec.ips?.length ? i : undefined;
      },
      20_000,
      "the ServiceImport, written by the MCS controller pod",
    );
    expect(imported.metadata.labels?.["zonesync.io/mcs"]).toBe("true");

    const placeholders: Array<[string, string]> = [
      [namespace, "<release-namespace>"],
      [release, "<release>"],
    ];
    const fixtures = join(repoRoot, "test", "fixtures", "rbac");
    await expect(await canIList(namespace, `${release}-mcs`, namespace, placeholders)).toMatchFileSnapshot(
      join(fixtures, "mcs-controller-in-release-namespace.txt"),
    );
    await expect(await canIList(namespace, `${release}-mcs`, "default", placeholders)).toMatchFileSnapshot(
      join(fixtures, "mcs-controller-elsewhere.txt"),
    );

    await client.delete(Resources.serviceExports, ns, "web");
    const uninstall = await helm(["uninstall", release]);
    expect(uninstall.exitCode, uninstall.stderr).toBe(0);
  });
});
