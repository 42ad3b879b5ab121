import { DNS1123_LABEL } from "../api/kube-schemas.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import type { ResourceType } from "../kube/resources.ts";
import { CLUSTER_ID_PROPERTY } from "./names.ts";

/** KEP-2149's ClusterProperty (about.k8s.io), cluster-scoped. */
export const clusterProperties: ResourceType = {
  group: "about.k8s.io",
  version: "v1alpha1",
  plural: "clusterproperties",
  kind: "ClusterProperty",
  namespaced: false,
};

/**
 * This cluster's id in the clusterset: the ClusterProperty `cluster.clusterset.k8s.io` when the cluster serves
 * ClusterProperties and has it, else `fallback` (the --cluster-id flag). The id names the cluster in other clusters'
 * objects, so it must be a DNS label.
 */
export async function resolveClusterId(
  client: KubeClient,
  fallback: string | undefined,
): Promise<{ id: string; source: "ClusterProperty" | "flag" }> {
  let property: (KubeObject & { spec?: { value?: unknown } }) | undefined;
  try {
    property = await client.getOptional(clusterProperties, undefined, CLUSTER_ID_PROPERTY);
  } catch (err) {
    if (!isNotFound(err)) throw new Error("cannot read the ClusterProperty cluster.clusterset.k8s.io", { cause: err });
  }
  const value = property?.spec?.value;
  if (typeof value === "string") {
    if (!DNS1123_LABEL.test(value) || value.length > 63) {
      throw new Error(
        `ClusterProperty ${CLUSTER_ID_PROPERTY} holds ${JSON.stringify(value.slice(0, 80))}, not a DNS label`,
      );
    }
    return { id: value, source: "ClusterProperty" };
  }
  if (fallback === undefined) {
    throw new Error(`this cluster has no ClusterProperty ${CLUSTER_ID_PROPERTY}; give its id with --cluster-id`);
  }
  return { id: fallback, source: "flag" };
}
