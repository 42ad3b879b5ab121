import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion } from "../../src/kube/resources.ts";
import { applyAll } from "../../src/cli/common.ts";
import { standaloneControllerManifests } from "../../src/link/standalone.ts";
import { bundledCrdPath } from "../../src/paths.ts";
import { kubeconfigYaml } from "../env/index.ts";
import { freePort } from "../env/ports.ts";
import { adminClient, cluster, createNamespace, eventually, sharedEnv, uniqueName } from "../support.ts";

/**
 * The simulator runs zonesync pods with an admin kubeconfig; this test runs a link controller with exactly the
 * identity and RBAC its manifests give it (the ServiceAccount's own token), so the least-privilege rules are proven
 * sufficient: it reads only its Secret and link, writes mirrors, status, its Lease and Events.
 */

const hub = adminClient("hub");
const east = adminClient("east");
let controller: ResultPromise | undefined;

beforeAll(async () => {
  await hub.apply(Resources.crds, parse(readFileSync(bundledCrdPath(), "utf8")) as KubeObject, {
    fieldManager: "zonesync-tests",
  });
  await eventually(() => hub.list(Resources.zoneSyncLinks, "default"), 15_000, "the CRD to be served");
});

afterAll(async () => {
  controller?.kill("SIGTERM");
  await controller?.catch(() => undefined);
});

describe("the link controller's own RBAC", () => {
  it("suffices to mirror, while Secrets other than its own stay out of reach", async () => {
    const namespace = uniqueName("rbac");
    const link = uniqueName("east");
    const exported = uniqueName("apps");
    await createNamespace(hub, namespace);
    await createNamespace(hub, exported);
    await createNamespace(east, exported);
    await hub.create(Resources.secrets, { metadata: { name: "unrelated", namespace }, stringData: { x: "y" } });

    // The link and its credentials, as `zonesync link` makes them; the controller's RBAC from its manifests.
    const linked = await execa(
      process.execPath,
      [
        "dist/src/cli/main.js",
        "link",
        "--context",
        "east",
        "--cluster-name",
        link,
        "--source",
        "hub",
        "--create-access",
        "--namespace",
        namespace,
        "--apply",
        "--to-context",
        "hub",
      ],
      { env: { KUBECONFIG: sharedEnv().kubeconfigPath } },
    );
    expect(linked.exitCode).toBe(0);
    await applyAll(
      hub,
      standaloneControllerManifests({ link, namespace }).filter((o) => o.kind !== "Deployment"),
    );
    const { status } = await hub.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/zonesync-standalone-${link}/token`,
      { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } } },
    );
    const dir = mkdtempSync(join(tmpdir(), "zonesync-rbac-"));
    const kubeconfig = join(dir, "kubeconfig");
    const hubInfo = cluster("hub");
    writeFileSync(
      kubeconfig,
      kubeconfigYaml([{ name: "hub", server: hubInfo.server, caPem: hubInfo.caPem, token: status.token, namespace }]),
    );

    controller = execa(
      process.execPath,
      ["dist/src/cli/main.js", "link-controller", "--link", link, "--namespace", namespace],
      {
        env: {
          KUBECONFIG: kubeconfig,
          POD_NAME: "rbac-test",
          ZONESYNC_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
          ZONESYNC_LOG_FORMAT: "json",
        },
        reject: false,
        all: true,
      },
    );

    await east.create(Resources.services, {
      metadata: { name: "web", namespace: exported, labels: { "zonesync.io/exported": "true" } },
      spec: { ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    });
    const sliceType = endpointSliceType(await servedVersion(east, "discovery.k8s.io"));
    await east.create(sliceType, {
      metadata: {
        name: "web-1",
        namespace: exported,
        labels: { "kubernetes.io/service-name": "web", "zonesync.io/exported": "true" },
      },
      addressType: "IPv4",
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
      endpoints: [{ addresses: ["10.201.9.9"], conditions: { ready: true } }],
    });

    const mirrored = await eventually(
      async () => {
        const list = await hub.list<KubeObject & { endpoints?: Array<{ addresses: string[] }> }>(sliceType, exported, {
          labelSelector: `zonesync.io/link=${link}`,
        });
        const addresses = list.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses));
        return addresses.length ? addresses : undefined;
      },
      30_000,
      "the mirror written under the controller's own identity",
    );
    expect(mirrored).toEqual(["10.201.9.9"]);
    await hub.get(Resources.services, exported, `web-${link}`);
    const written = await eventually(
      async () => {
        const l = await hub.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(
          Resources.zoneSyncLinks,
          namespace,
          link,
        );
        return l.status?.conditions?.find((c) => c.type === "Mirrored" && c.status === "True") ? l : undefined;
      },
      15_000,
      "the Mirrored condition",
    );
    expect(written.metadata.finalizers).toContain("zonesync.io/mirrors");
    await hub.get(Resources.leases, namespace, `zonesync-link-${link}`);
    const asController = KubeClient.load({ kubeconfig });
    await expect(asController.get(Resources.secrets, namespace, "unrelated")).rejects.toMatchObject({ status: 403 });
    await expect(asController.list(Resources.secrets, namespace)).rejects.toMatchObject({ status: 403 });
    await expect(asController.list(Resources.pods)).rejects.toMatchObject({ status: 403 });
    // Nothing in the log says "forbidden": every call the controller made was allowed.
    controller.kill("SIGTERM");
    const result = await controller;
    expect(String(result.all)).not.toMatch(/forbidden/i);
  });
});
