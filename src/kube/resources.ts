import { isNotFound } from "./errors.ts";

/** Where a kind of object lives in the Kubernetes REST API. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({
  group: "",
  version: "v1",
  plural,
  kind,
  namespaced,
});

export const Resources = {
  namespaces: core("namespaces", "Namespace", false),
  nodes: core("nodes", "Node", false),
  pods: core("pods", "Pod"),
  services: core("services", "Service"),
  endpoints: core("endpoints", "Endpoints"),
  secrets: core("secrets", "Secret"),
  configMaps: core("configmaps", "ConfigMap"),
  serviceAccounts: core("serviceaccounts", "ServiceAccount"),
  events: core("events", "Event"),
  deployments: { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true },
  daemonSets: { group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true },
  statefulSets: { group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet", namespaced: true },
  replicaSets: { group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true },
  leases: { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true },
  roles: { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role", namespaced: true },
  roleBindings: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    plural: "rolebindings",
    kind: "RoleBinding",
    namespaced: true,
  },
  clusterRoles: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    plural: "clusterroles",
    kind: "ClusterRole",
    namespaced: false,
  },
  clusterRoleBindings: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    plural: "clusterrolebindings",
    kind: "ClusterRoleBinding",
    namespaced: false,
  },
  crds: {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
  },
  /** policy/v1 (Kubernetes 1.21+); servedVersion(client, "policy") says whether a server has only v1beta1. */
  podDisruptionBudgets: {
    group: "policy",
    version: "v1",
    plural: "poddisruptionbudgets",
    kind: "PodDisruptionBudget",
    namespaced: true,
  },
  zoneSyncLinks: {
    group: "zonesync.io",
    version: "v1alpha1",
    plural: "zonesynclinks",
    kind: "ZoneSyncLink",
    namespaced: true,
  },
  serviceExports: {
    group: "multicluster.x-k8s.io",
    version: "v1alpha1",
    plural: "serviceexports",
    kind: "ServiceExport",
    namespaced: true,
  },
  serviceImports: {
    group: "multicluster.x-k8s.io",
    version: "v1alpha1",
    plural: "serviceimports",
    kind: "ServiceImport",
    namespaced: true,
  },
} satisfies Record<string, ResourceType>;

export function endpointSliceType(version: "v1" | "v1beta1"): ResourceType {
  return { group: "discovery.k8s.io", version, plural: "endpointslices", kind: "EndpointSlice", namespaced: true };
}

/**
 * The version a server offers of a group whose kinds went v1 in Kubernetes 1.21, EndpointSlice (discovery.k8s.io)
 * and PodDisruptionBudget (policy): v1, or v1beta1 where the server does not serve v1 (1.20). Asks the server's
 * discovery; any client with `request` will do (KubeClient, check's CheckClient).
 */
export async function servedVersion(
  client: { request(method: string, path: string): Promise<unknown> },
  group: "discovery.k8s.io" | "policy",
): Promise<"v1" | "v1beta1"> {
  try {
    await client.request("GET", `/apis/${group}/v1`);
    return "v1";
  } catch (err) {
    if (isNotFound(err)) return "v1beta1";
    throw err;
  }
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** REST path for a collection (no name) or an object, optionally with a subresource. */
export function resourcePath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const obj = name ? `/${encodeURIComponent(name)}` : "";
  const sub = name && subresource ? `/${subresource}` : "";
  return `${base}${ns}/${type.plural}${obj}${sub}`;
}

/** The resource type of a manifest (by apiVersion and kind), among those zonesync writes. */
export function resourceForObject(obj: { apiVersion?: string; kind?: string }): ResourceType {
  const match = Object.values(Resources as Record<string, ResourceType>).find(
    (r) =>
      r.kind === obj.kind &&
      (!obj.apiVersion || apiVersionOf(r) === obj.apiVersion || r.kind === "PodDisruptionBudget"),
  );
  if (!match) throw new Error(`zonesync does not know how to write ${obj.apiVersion ?? "?"} ${obj.kind ?? "?"}`);
  if (match.kind === "PodDisruptionBudget" && obj.apiVersion) {
    const [group, version] = obj.apiVersion.split("/");
    return { ...match, group: group!, version: version! };
  }
  return match;
}
