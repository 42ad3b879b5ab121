import type { KubeClient } from "../../src/kube/client.ts";
import { isAlreadyExists } from "../../src/kube/errors.ts";
import { resourcePath, Resources } from "../../src/kube/resources.ts";
import { eventually } from "./wait.ts";

/**
 * Whether the API server's admission would accept a pod in `namespace` now: a server-side dry run of a minimal pod
 * goes through every admission plugin and stores nothing. This is what "the namespace is ready for pods" means on
 * every Kubernetes version: 1.20's ServiceAccount admission refuses pods until the default ServiceAccount has its
 * token Secret, 1.24+ (no token Secrets) until the default ServiceAccount exists. Throws the refusal.
 */
export async function podsAdmitted(client: KubeClient, namespace: string): Promise<true> {
  await client.request("POST", resourcePath(Resources.pods, namespace), {
    query: { dryRun: "All" },
    body: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { generateName: "admission-probe-", namespace },
      spec: { containers: [{ name: "probe", image: "registry.k8s.io/pause:3.9" }] },
    },
    timeoutMs: 5000,
  });
  return true;
}

/** Creates a namespace (fine if it exists) and waits until pods can be created in it. */
export async function ensureNamespace(
  client: KubeClient,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  try {
    await client.create(Resources.namespaces, {
      metadata: { name, labels: { "zonesync.io/test": "true", ...labels } },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  await eventually(() => podsAdmitted(client, name), 30_000, `namespace ${name} to admit pods`, 200);
}
