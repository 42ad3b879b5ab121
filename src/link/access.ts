import type { KubeObject } from "../kube/client.ts";
import { DEFAULT_NAMESPACE, LABEL_MANAGED_BY, LABEL_PART_OF, targetServiceAccountName } from "../api/names.ts";

export const LABEL_SOURCE_CLUSTER = "zonesync.io/source-cluster";

/**
 * Exactly what a link controller does on its target cluster: it reads exported Services and their EndpointSlices.
 * Nothing else (no Secrets, no Pods, no writes) beyond requesting a new token for its own ServiceAccount. `check` verifies these same verbs with SelfSubjectAccessReviews.
 */
export const TARGET_ACCESS_RULES = [
  { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
] as const;

export interface AccessOptions {
  /** Name of the source cluster that will read this target. */
  source: string;
  /** Namespace of the ServiceAccount on the target. */
  namespace?: string;
}

/**
 * The target-side Namespace, ServiceAccount, ClusterRole and ClusterRoleBinding for one source cluster, and the Role
 * that lets it renew its own token.
 */
export function targetAccessManifests(options: AccessOptions): KubeObject[] {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const name = targetServiceAccountName(options.source);
  const labels = {
    [LABEL_PART_OF]: "zonesync",
    [LABEL_MANAGED_BY]: "zonesync",
    [LABEL_SOURCE_CLUSTER]: options.source,
  };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: { [LABEL_PART_OF]: "zonesync" } } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name, labels },
      rules: TARGET_ACCESS_RULES.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
      })),
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
    // The link controller renews its own token before it expires: a TokenRequest for this ServiceAccount only.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name, namespace, labels },
      rules: [{ apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: [name], verbs: ["create"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  ];
}
