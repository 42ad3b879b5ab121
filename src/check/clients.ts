import type { KubeconfigEntry } from "../kube/kubeconfig.ts";
import type { CheckClient } from "./client.ts";

/**
 * The client for a link's target in a full check, talking to `entry.server` (which the link's
 * spec.apiServerAddress may have put in place of the kubeconfig's server). Target credentials come from Secrets and
 * have passed the credentials policy first (api/remote-kubeconfig.ts): inline tokens and certificates only, never a
 * plugin. Connections are pooled by the transport, so the six requests per link and namespace of the access check
 * share one kept-alive connection.
 */
export async function targetClientFor(entry: KubeconfigEntry): Promise<CheckClient> {
  const { KubeClient } = await import("../kube/client.ts");
  return KubeClient.fromCredentials(entry);
}
