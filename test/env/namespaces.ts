import type { KubeClient } from "../../src/kube/client.ts";
import { isAlreadyExists } from "../../src/kube/errors.ts";
import { resourcePath, Resources } from "../../src/kube/resources.ts";
import { eventually } from "./wait.ts";

/**
 * Resolves once the API server's admission would accept a pod in `namespace`: a server-side dry run of a minimal
 * pod goes through every admission plugin and stores nothing. This is what "the namespace is ready for pods" means
 * on every Kubernetes version: 1.20's ServiceAccount admission refuses pods until the default ServiceAccount has its
 * token Secret, 1.24+ (no token Secrets) until the default ServiceAccount exists.
 */
export async function waitUntilPodsAdmitted(client: KubeClient, namespace: string, timeoutMs = 30_000): Promise<void> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { generateName: "admission-probe-", namespace },
    spec: { containers: [{ name: "probe", image: "registry.k8s.io/pause:3.9" }] },
  };
  await eventually(
    async () => {
      await client.request("POST", resourcePath(Resources.pods, namespace), {
        query: { dryRun: "All" },
        body: pod,
        timeoutMs: 5000,
      });
      return true;
    },
    timeoutMs,
    `namespace ${namespace} to admit pods (its default ServiceAccount)`,
    200,
  );
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
  await waitUntilPodsAdmitted(client, name);
}
