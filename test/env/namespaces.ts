import type { KubeClient } from "../../src/kube/client.ts";
import { isAlreadyExists } from "../../src/kube/errors.ts";
import { Resources } from "../../src/kube/resources.ts";
import { eventually } from "./wait.ts";

/**
 * Creates a namespace (fine if it exists) and waits until pods can be created in it: on Kubernetes 1.20 the
 * ServiceAccount admission plugin refuses pods ("No API token found for service account default") until the
 * controller-manager has made the default ServiceAccount's token, a fraction of a second after the namespace.
 */
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
  await eventually(
    async () => {
      const sa = await client.getOptional<{ metadata: { name?: string }; secrets?: unknown[] }>(
        Resources.serviceAccounts,
        name,
        "default",
      );
      return Boolean(sa?.secrets?.length);
    },
    30_000,
    `the default ServiceAccount token of namespace ${name}`,
  );
}
