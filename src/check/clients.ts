import type { KubeconfigEntry } from "./kubeconfig.ts";
import { LightClient, type CheckClient } from "./light-client.ts";

/**
 * The client for a link's target in a full check: LightClient for the token and client-certificate kubeconfigs
 * `zonesync link` writes, KubeClient for anything else (exec or auth-provider plugins). LightClient keeps its
 * connection alive; client-node (under KubeClient) builds a new undici Agent, so a new TLS connection, for every
 * request, and the access check alone makes six requests per link and namespace.
 */
export async function targetClientFor(credentials: {
  kubeconfigText: string;
  entry: KubeconfigEntry;
}): Promise<CheckClient> {
  return credentials.entry.usesPlugin ? kubeTargetClient(credentials) : new LightClient(credentials.entry);
}

/**
 * A KubeClient (src/kube/client.ts) for a link's target, talking to `entry.server`, which the link's
 * spec.apiServerAddress may have put in place of the kubeconfig's server. What a full `zonesync check` uses: it
 * runs every kind of kubeconfig credential (exec plugins included). Loaded lazily: @kubernetes/client-node is slow
 * to import, and the probe path never needs it.
 */
export async function kubeTargetClient(credentials: {
  kubeconfigText: string;
  entry: KubeconfigEntry;
}): Promise<CheckClient> {
  const [{ KubeClient }, { parse, stringify }] = await Promise.all([import("../kube/client.ts"), import("yaml")]);
  const doc = parse(credentials.kubeconfigText) as {
    contexts?: Array<{ name: string; context?: { cluster?: string } }>;
    clusters?: Array<{ name: string; cluster?: { server?: string } }>;
  };
  const clusterName = doc.contexts?.find((c) => c.name === credentials.entry.context)?.context?.cluster;
  const cluster = doc.clusters?.find((c) => c.name === clusterName)?.cluster;
  if (cluster) cluster.server = credentials.entry.server;
  return KubeClient.fromString(stringify(doc), credentials.entry.context);
}
