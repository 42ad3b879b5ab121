import type { KubeObject } from "../kube/client.ts";
import {
  credentialsSecretName,
  DEFAULT_IMAGE_REPOSITORY,
  GROUP,
  LABEL_COMPONENT,
  LABEL_CONTROLLER_MODE,
  LABEL_LINK,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  leaseName,
  LINK_PLURAL,
  standaloneClusterName,
  standaloneControllerName,
} from "../api/names.ts";
import { VERSION } from "../version.ts";

export interface StandaloneOptions {
  link: string;
  namespace: string;
  image?: string;
  credentialsSecret?: string;
  replicas?: number;
  logLevel?: string;
  logFormat?: string;
}

/**
 * The old-style ("standalone") link controller: full manifests applied with kubectl rather than an entry of the
 * chart's `controllers:` values. Same binary, same RBAC and the same Lease as a chart controller, so the two never
 * write at once; names of its own, so it can run next to the chart's objects without touching them; labelled `zonesync.io/controller-mode: standalone` so `zonesync check` can tell them apart and
 * `zonesync migrate` can move them to the chart.
 */
export function standaloneControllerManifests(options: StandaloneOptions): KubeObject[] {
  const name = standaloneControllerName(options.link);
  const namespace = options.namespace;
  const clusterName = standaloneClusterName(namespace, options.link);
  const secret = options.credentialsSecret ?? credentialsSecretName(options.link);
  const labels = {
    [LABEL_LINK]: options.link,
    [LABEL_CONTROLLER_MODE]: "standalone",
    [LABEL_COMPONENT]: "link-controller",
    [LABEL_PART_OF]: "zonesync",
    [LABEL_MANAGED_BY]: "zonesync",
  };
  const meta = (extra: Record<string, unknown> = {}) => ({ name, namespace, labels, ...extra });
  const clusterMeta = { name: clusterName, labels };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta() },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta(),
      rules: [
        {
          apiGroups: [""],
          resources: ["secrets"],
          resourceNames: [secret],
          verbs: ["get", "list", "watch", "update", "patch"],
        },
        {
          apiGroups: [GROUP],
          resources: [LINK_PLURAL],
          resourceNames: [options.link],
          verbs: ["get", "list", "watch", "patch", "update"],
        },
        {
          apiGroups: [GROUP],
          resources: [`${LINK_PLURAL}/status`],
          resourceNames: [options.link],
          verbs: ["get", "patch", "update"],
        },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          resourceNames: [leaseName(options.link)],
          verbs: ["get", "update", "patch"],
        },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: clusterMeta,
      rules: [
        {
          apiGroups: [""],
          resources: ["services"],
          verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
        {
          apiGroups: ["discovery.k8s.io"],
          resources: ["endpointslices"],
          verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
        { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "watch", "create"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: clusterMeta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(),
      spec: {
        replicas: options.replicas ?? 1,
        selector: { matchLabels: { [LABEL_LINK]: options.link, [LABEL_CONTROLLER_MODE]: "standalone" } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: true,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              fsGroup: 65532,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "link-controller",
                image: options.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${VERSION}`,
                args: [
                  "link-controller",
                  "--link",
                  options.link,
                  "--namespace",
                  namespace,
                  "--log-level",
                  options.logLevel ?? "info",
                  "--log-format",
                  options.logFormat ?? "json",
                ],
                env: [
                  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                  // Heap caps measured by bench/mirror (about 170 MB at 5k services instead of about 400 MB).
                  { name: "NODE_OPTIONS", value: "--max-semi-space-size=4 --max-old-space-size=192" },
                  { name: "MALLOC_ARENA_MAX", value: "2" },
                ],
                imagePullPolicy: "IfNotPresent",
                ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
                readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5, failureThreshold: 3 },
                livenessProbe: {
                  httpGet: { path: "/healthz", port: "http" },
                  initialDelaySeconds: 10,
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
                resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: {} }],
          },
        },
      },
    },
  ];
}
