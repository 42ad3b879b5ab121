import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { ZoneSyncLinkInput } from "../../src/api/link.ts";
import { targetServiceAccountName } from "../../src/api/names.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { resourceForObject, Resources } from "../../src/kube/resources.ts";
import { targetAccessManifests } from "../../src/link/access.ts";
import { remoteKubeconfig, requestToken } from "../../src/link/credentials.ts";
import { sleep } from "../../src/sleep.ts";

/**
 * Real-cluster fixtures shared by the link controller's integration tests and its benchmark: the CRD, least-privilege
 * target credentials (ServiceAccount + ClusterRole + TokenRequest, as `zonesync link` makes them), links, and
 * exported Services with EndpointSlices written straight through the API.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Applies the generated ZoneSyncLink CRD and waits until it is served. */
export async function installCrd(client: KubeClient): Promise<void> {
  const crd = parse(readFileSync(join(repoRoot, "crds", "zonesync.io_zonesynclinks.yaml"), "utf8")) as KubeObject;
  await client.apply(Resources.crds, crd, { fieldManager: "zonesync-test" });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.list(Resources.zoneSyncLinks, "default", { limit: 1 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error("the ZoneSyncLink CRD is not served", { cause: err });
      await sleep(200);
    }
  }
}

export { ensureNamespace } from "../../test/env/namespaces.ts";

/**
 * Grants `source` read access to the target (exactly the link controller's verbs) and returns a kubeconfig with a
 * fresh bounded-lifetime token of that ServiceAccount.
 */
export async function targetCredentials(
  target: KubeClient,
  info: { name: string; server: string; caPem: string },
  source: string,
  namespace = "zonesync-system",
): Promise<{ kubeconfig: string; serviceAccount: string; namespace: string }> {
  for (const obj of targetAccessManifests({ source, namespace })) {
    await target.apply(resourceForObject(obj), obj, { fieldManager: "zonesync-test" });
  }
  const serviceAccount = targetServiceAccountName(source);
  let token;
  for (let attempt = 0; ; attempt++) {
    try {
      token = await requestToken(target, namespace, serviceAccount, 3600);
      break;
    } catch (err) {
      if (attempt > 50) throw err;
      await sleep(100);
    }
  }
  return {
    kubeconfig: remoteKubeconfig({
      clusterName: info.name,
      server: info.server,
      caPem: info.caPem,
      token: token.token,
    }),
    serviceAccount,
    namespace,
  };
}

export function kubeconfigSecret(namespace: string, name: string, kubeconfig: string): KubeObject {
  return {
    metadata: { name, namespace },
    type: "zonesync.io/remote-kubeconfig",
    data: { kubeconfig: Buffer.from(kubeconfig).toString("base64") },
  };
}

export async function putSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  kubeconfig: string,
): Promise<void> {
  await client.apply(Resources.secrets, kubeconfigSecret(namespace, name, kubeconfig), {
    fieldManager: "zonesync-test",
  });
}

export function linkObject(namespace: string, name: string, spec: ZoneSyncLinkInput["spec"]): KubeObject {
  return { metadata: { name, namespace }, spec };
}

/** A selector-less Service with `count` endpoints in one EndpointSlice, labelled for export (as the EndpointSlice
 * controller would copy the Service's labels). Written directly: no pods, no controllers involved. */
export function exportedService(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  addresses: string[],
  options: { headless?: boolean; port?: number } = {},
): { service: KubeObject; slice: KubeObject } {
  const port = options.port ?? 80;
  return {
    service: {
      metadata: { name, namespace, labels },
      spec: { ...(options.headless ? { clusterIP: "None" } : {}), ports: [{ name: "http", port, protocol: "TCP" }] },
    },
    slice: {
      metadata: {
        name: `${name}-direct`,
        namespace,
        labels: {
          ...labels,
          "kubernetes.io/service-name": name,
          "endpointslice.kubernetes.io/managed-by": "zonesync-test",
        },
      },
      addressType: "IPv4",
      endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
      ports: [{ name: "http", port, protocol: "TCP" }],
    },
  };
}

/** Runs `fn` over `items` with at most `concurrency` at a time (bounded, for bulk creation). */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/**
 * Runs the built CLI's link controller as its own process (so it can be killed or measured), output appended to
 * `logFile`; JSON logs, health and metrics on a free loopback port.
 */
export function spawnLinkController(options: {
  kubeconfig: string;
  link: { name: string; namespace: string };
  logFile: string;
  env?: Record<string, string>;
}): ChildProcess {
  const fd = openSync(options.logFile, "a");
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "dist", "src", "cli", "main.js"),
      "link-controller",
      "--link",
      options.link.name,
      "--namespace",
      options.link.namespace,
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: options.kubeconfig,
        ZONESYNC_HTTP_ADDR: "127.0.0.1:0",
        ZONESYNC_LOG_FORMAT: "json",
        ...options.env,
      },
      stdio: ["ignore", fd, fd],
    },
  );
  closeSync(fd);
  return child;
}
