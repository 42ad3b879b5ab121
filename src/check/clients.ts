import type { KubeconfigEntry } from "./kubeconfig.ts";
import { LightClient, type CheckClient } from "./light-client.ts";

/**
 * The client for a link's target in a full check: LightClient, which keeps its connection alive (client-node,
 * under KubeClient, builds a new TLS connection for every request, and the access check alone makes six requests
 * per link and namespace). Target credentials come from Secrets and pass the credentials policy first
 * (api/remote-kubeconfig.ts): inline tokens and certificates only, never a plugin.
 */
export async function targetClientFor(entry: KubeconfigEntry): Promise<CheckClient> {
  return new LightClient(entry);
}

/**
 * A KubeClient (src/kube/client.ts) for a link's target, talking to `entry.server`, which the link's
 * spec.apiServerAddress may have put in place of the kubeconfig's server: the check's alternative transport, for
 * comparing the two. Loaded lazily: @kubernetes/client-node is slow to import, and the probe path never needs it.
 */
export async function kubeTargetClient(entry: KubeconfigEntry): Promise<CheckClient> {
  const { KubeClient } = await import("../kube/client.ts");
  return KubeClient.fromCredentials(entry);
}
