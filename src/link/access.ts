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
  /**
   * Only these target namespaces (a link's spec.namespaces): a Role and RoleBinding in each instead of the
   * cluster-wide ClusterRole and ClusterRoleBinding.
   */
  namespaces?: string[];
}

const rbac = "rbac.authorization.k8s.io";

function accessRules() {
  return TARGET_ACCESS_RULES.map((r) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources],
    verbs: [...r.verbs],
  }));
}

/**
 * The target-side Namespace and ServiceAccount for one source cluster, its read access (a ClusterRole and
 * ClusterRoleBinding, or a Role and RoleBinding in each of `namespaces`), and the Role that lets it renew its own
 * token.
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
    ...readAccess(name, namespace, labels, options.namespaces),
    // The link controller renews its own token before it expires: a TokenRequest for this ServiceAccount only.
    {
      apiVersion: `${rbac}/v1`,
      kind: "Role",
      metadata: { name, namespace, labels },
      rules: [{ apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: [name], verbs: ["create"] }],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: "RoleBinding",
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: rbac, kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  ];
}

/** The read access: cluster-wide, or in exactly the namespaces given. */
function readAccess(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  namespaces: string[] | undefined,
): KubeObject[] {
  const subjects = [{ kind: "ServiceAccount", name, namespace }];
  if (!namespaces?.length) {
    return [
      { apiVersion: `${rbac}/v1`, kind: "ClusterRole", metadata: { name, labels }, rules: accessRules() },
      {
        apiVersion: `${rbac}/v1`,
        kind: "ClusterRoleBinding",
        metadata: { name, labels },
        roleRef: { apiGroup: rbac, kind: "ClusterRole", name },
        subjects,
      },
    ];
  }
  return [...new Set(namespaces)].flatMap((ns): KubeObject[] => [
    {
      apiVersion: `${rbac}/v1`,
      kind: "Role",
      metadata: { name: `${name}-read`, namespace: ns, labels },
      rules: accessRules(),
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: "RoleBinding",
      metadata: { name: `${name}-read`, namespace: ns, labels },
      roleRef: { apiGroup: rbac, kind: "Role", name: `${name}-read` },
      subjects,
    },
  ]);
}

/** Whether a target-side object is one `zonesync allow` made for this source (by its labels). */
export function isTargetAccessOf(obj: KubeObject, source: string): boolean {
  const labels = obj.metadata.labels ?? {};
  return labels[LABEL_MANAGED_BY] === "zonesync" && labels[LABEL_SOURCE_CLUSTER] === source;
}
