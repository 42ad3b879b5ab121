/** Real objects for the `zonesync check` tests: links with real credentials, a real Helm release, leases, mirrors. */
import { createSign } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { LABEL_VALUE } from "../../src/api/kube-schemas.ts";
import {
  controllerName,
  ENDPOINTSLICE_MANAGER,
  LABEL_ENDPOINTSLICE_MANAGED_BY,
  leaseName,
} from "../../src/api/names.ts";
import type { CheckClient } from "../../src/check/client.ts";
import { applyAll } from "../../src/cli/common.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { microTime } from "../../src/kube/leader.ts";
import { endpointSliceType, Resources, servedVersion } from "../../src/kube/resources.ts";
import { targetAccessManifests } from "../../src/link/access.ts";
import { ANNOTATION_TARGET_SERVICE_ACCOUNT } from "../../src/api/names.ts";
import { remoteKubeconfig, requestToken } from "../../src/link/credentials.ts";
import { eventually } from "../support.ts";

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, "../..");
export const CHART = join(REPO, "chart");
/** Not the simulator's own image: chart pods are only reported Running/Ready, no process is started. */
export const FAKE_IMAGE = "example.test/zonesync";

export interface ClusterAddress {
  server: string;
  caPem: string;
}

/** Installs the ZoneSyncLink CRD (server-side apply, idempotent) and waits until it is established. */
export async function ensureCrd(client: KubeClient): Promise<void> {
  const crd = parse(await readFile(join(REPO, "crds/zonesync.io_zonesynclinks.yaml"), "utf8")) as KubeObject;
  await client.apply(Resources.crds, crd, { fieldManager: "zonesync-test" });
  await eventually(async () => {
    const live = await client.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(
      Resources.crds,
      undefined,
      crd.metadata.name!,
    );
    return live.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
  }, 20_000);
}

/**
 * The target-side ServiceAccount; with `grant`, also the access the link controller needs (zonesync allow):
 * cluster-wide, or in the namespaces given.
 */
export async function targetServiceAccount(
  target: KubeClient,
  source: string,
  namespace: string,
  grant: boolean | { namespaces: string[] },
): Promise<{ namespace: string; name: string }> {
  const namespaces = typeof grant === "object" ? grant.namespaces : undefined;
  const manifests = targetAccessManifests({ source, namespace, namespaces });
  await applyAll(target, grant ? manifests : manifests.slice(0, 2), "zonesync-test");
  return { namespace, name: manifests[1]!.metadata.name! };
}

/** A kubeconfig for a target with a real bounded token (TokenRequest), as `zonesync link` writes it. */
export async function issuedKubeconfig(
  target: KubeClient,
  address: ClusterAddress,
  sa: { namespace: string; name: string },
  clusterName: string,
  ttlSeconds = 3600,
): Promise<string> {
  const { token } = await requestToken(target, sa.namespace, sa.name, ttlSeconds);
  return remoteKubeconfig({ clusterName, server: address.server, caPem: address.caPem, token });
}

/** A JWT signed with the cluster's service-account key, as the API server would issue it, but expired. */
export async function expiredToken(
  clusterDir: string,
  clusterName: string,
  sa: { namespace: string; name: string },
): Promise<string> {
  const key = await readFile(join(clusterDir, "sa.key"), "utf8");
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({
    iss: `https://${clusterName}.zonesync.test`,
    sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
    aud: [`https://${clusterName}.zonesync.test`],
    iat: now - 7200,
    nbf: now - 7200,
    exp: now - 3600,
  })}`;
  const signature = createSign("RSA-SHA256").update(body).sign(key).toString("base64url");
  return `${body}.${signature}`;
}

export async function createSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  kubeconfig: string,
  sa?: { namespace: string; name: string },
  /** The link the Secret is for (its zonesync.io/link label): the manager grants only such a Secret. */
  link?: string,
): Promise<void> {
  await client.create(Resources.secrets, {
    metadata: {
      name,
      namespace,
      annotations: sa ? { [ANNOTATION_TARGET_SERVICE_ACCOUNT]: `${sa.namespace}/${sa.name}` } : {},
      labels: link ? { "zonesync.io/link": link } : {},
    },
    type: "zonesync.io/remote-kubeconfig",
    data: { kubeconfig: Buffer.from(kubeconfig).toString("base64") },
  } as KubeObject);
}

export interface LinkSpec {
  targetClusterName: string;
  credentialsSecret: string;
  selector?: unknown;
  namespaces?: string[];
  staleAfter?: string;
  apiServerAddress?: string;
}

export async function createLink(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: LinkSpec,
  options: { standalone?: boolean; lastSyncAgoMs?: number } = {},
): Promise<void> {
  await client.create(Resources.zoneSyncLinks, {
    metadata: { name, namespace, labels: options.standalone ? { "zonesync.io/controller-mode": "standalone" } : {} },
    spec: { selector: { matchLabels: { "zonesync.io/exported": "true" } }, ...spec },
  } as KubeObject);
  if (options.lastSyncAgoMs !== undefined) {
    await client.patch(
      Resources.zoneSyncLinks,
      namespace,
      name,
      { status: { lastSyncTime: new Date(Date.now() - options.lastSyncAgoMs).toISOString().replace(/\.\d+Z$/, "Z") } },
      { subresource: "status" },
    );
  }
}

/** The Lease a leading controller keeps. */
export async function createLease(
  client: KubeClient,
  namespace: string,
  link: string,
  renewedAgoMs = 0,
  durationSeconds = 15,
): Promise<void> {
  const renewed = new Date(Date.now() - renewedAgoMs);
  await client.apply(
    Resources.leases,
    {
      metadata: { name: leaseName(link), namespace },
      spec: {
        holderIdentity: `${controllerName(link)}-test`,
        leaseDurationSeconds: durationSeconds,
        acquireTime: microTime(renewed),
        renewTime: microTime(renewed),
      },
    },
    { fieldManager: "zonesync-test" },
  );
}

/** `helm upgrade --install zonesync <chart>` with the real Helm 4, no manager, fake image, and these values. */
export async function installRelease(
  helm: string,
  kubeconfig: string,
  context: string | undefined,
  namespace: string,
  values: Record<string, unknown>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "zonesync-check-"));
  const file = join(dir, "values.yaml");
  await writeFile(file, stringify({ manager: { enabled: false }, image: { repository: FAKE_IMAGE }, ...values }));
  const args = ["upgrade", "--install", "zonesync", CHART, "-n", namespace, "--kubeconfig", kubeconfig, "-f", file];
  if (context) args.push("--kube-context", context);
  await run(helm, args, { timeout: 120_000 });
}

/** A mirror Service as the link controller writes it, and (unless `endpoints` is 0) its EndpointSlice. */
export async function createMirror(
  client: KubeClient,
  namespace: string,
  link: string,
  cluster: string,
  remote: { namespace: string; name: string },
  endpoints: number,
): Promise<string> {
  const name = `${remote.name}-${cluster}`;
  const labels = { "zonesync.io/link": link, "zonesync.io/mirrored-from": cluster };
  const annotations = { "zonesync.io/remote-ref": `${cluster}/${remote.namespace}/${remote.name}` };
  await client.create(Resources.services, {
    metadata: { name, namespace, labels, annotations },
    spec: { ports: [{ name: "http", port: 80, protocol: "TCP" }] },
  } as KubeObject);
  if (endpoints > 0) {
    await client.create(endpointSliceType(await servedVersion(client, "discovery.k8s.io")), {
      metadata: {
        name: `${name}-abc`,
        namespace,
        labels: {
          ...labels,
          "kubernetes.io/service-name": name,
          // As the link controller labels them, once that value is a valid label value (a "/" is not allowed).
          ...(LABEL_VALUE.test(ENDPOINTSLICE_MANAGER)
            ? { [LABEL_ENDPOINTSLICE_MANAGED_BY]: ENDPOINTSLICE_MANAGER }
            : {}),
        },
        annotations,
      },
      addressType: "IPv4",
      endpoints: Array.from({ length: endpoints }, (_, i) => ({
        addresses: [`10.99.0.${i + 1}`],
        conditions: { ready: true },
      })),
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
    } as KubeObject);
  }
  return name;
}

/** A Deployment with the labels of a link controller; `nodeName` pins it to a node the simulator does not play. */
export function controllerDeployment(
  namespace: string,
  link: string,
  mode: "chart" | "standalone",
  options: { name?: string; linkNamespace?: string; nodeName?: string } = {},
): KubeObject {
  const labels = { "zonesync.io/link": link, "zonesync.io/controller-mode": mode };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: options.name ?? controllerName(link), namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...(options.nodeName ? { nodeName: options.nodeName } : {}),
          containers: [
            {
              name: "link-controller",
              image: `${FAKE_IMAGE}:test`,
              args: ["link-controller", "--link", link, "--namespace", options.linkNamespace ?? namespace],
            },
          ],
        },
      },
    },
  };
}

export async function deploymentAvailable(client: KubeClient, namespace: string, name: string): Promise<boolean> {
  const d = await client.getOptional<KubeObject & { status?: { availableReplicas?: number } }>(
    Resources.deployments,
    namespace,
    name,
  );
  return (d?.status?.availableReplicas ?? 0) > 0;
}

/** Records every request (method and path with query), for the "never list the same thing twice" assertion. */
export function recording(client: KubeClient): CheckClient & { requests: string[] } {
  const requests: string[] = [];
  return {
    server: client.server,
    requests,
    request(method, path, options) {
      const query = new URLSearchParams(
        Object.entries(options?.query ?? {})
          .filter(([, v]) => v !== undefined)
          .map(([k, v]): [string, string] => [k, String(v)]),
      ).toString();
      requests.push(`${method} ${path}${query ? `?${query}` : ""}`);
      return client.request(method, path, options);
    },
    async get(type, namespace, name) {
      requests.push(`GET ${pathOf(type, namespace)}/${name}`);
      return client.get(type, namespace, name);
    },
    async getOptional(type, namespace, name) {
      requests.push(`GET ${pathOf(type, namespace)}/${name}`);
      return client.getOptional(type, namespace, name);
    },
    async listAll(type, namespace, options) {
      requests.push(`LIST ${pathOf(type, namespace)}?${options?.labelSelector ?? ""}`);
      return client.listAll(type, namespace, options);
    },
  } as CheckClient & { requests: string[] };
}

function pathOf(type: { group: string; version: string; plural: string }, namespace?: string): string {
  return `${type.group || "core"}/${type.version}${namespace ? `/ns/${namespace}` : ""}/${type.plural}`;
}
