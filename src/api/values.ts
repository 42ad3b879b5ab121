import { z } from "zod";
import {
  ControllerDefaultsSchema,
  controllerOverridesShape,
  DEFAULT_CONTROLLER_RESOURCES,
  logFormatSchema,
  logLevelSchema,
  pullPolicySchema,
  replicasSchema,
} from "./controller.ts";
import {
  dnsLabel,
  dnsSubdomain,
  formatIssues,
  requiredErrorMap,
  resourceRequirementsSchema,
  stringMap,
} from "./kube-schemas.ts";
import type { ParseResult } from "./link.ts";
import { DEFAULT_IMAGE_REPOSITORY } from "./names.ts";

/**
 * The values of the zonesync Helm chart. The source of chart/values.schema.json (scripts/generate.ts); objects
 * are strict, so a misspelt key is an error instead of a silently ignored setting.
 */

export const MANAGER_APPLY_MODES = ["helm", "none"] as const;
export type ManagerApplyMode = (typeof MANAGER_APPLY_MODES)[number];

/** `namespace/name` of the NGINX ConfigMap that carries the zone-sync keys. */
export const NGINX_CONFIGMAP_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** `kind/namespace/name` of the NGINX workload to roll when the zone-sync config changes. */
export const NGINX_WORKLOAD_PATTERN =
  /^([Dd]eployment|[Dd]aemon[Ss]et|[Ss]tateful[Ss]et)\/[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export const ImageValuesSchema = z
  .strictObject({
    repository: z
      .string()
      .min(1)
      .default(DEFAULT_IMAGE_REPOSITORY)
      .describe("Image repository of the manager and, unless overridden, of every link controller."),
    tag: z.string().default("").describe("Image tag; empty means the chart's appVersion."),
    pullPolicy: pullPolicySchema().default("IfNotPresent").describe("Image pull policy: Always, IfNotPresent, Never."),
  })
  .describe("The zonesync image (built by the repository's Dockerfile).");

export const ManagerValuesSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Deploy the manager (turns ZoneSyncLinks into controllers entries)."),
    replicas: replicasSchema().default(1).describe("Manager replicas; one leads (Lease), the others stand by."),
    logLevel: logLevelSchema().default("info").describe("Log level: error, warn, info or debug."),
    logFormat: logFormatSchema().default("json").describe("Log format: json or text."),
    resources: resourceRequirementsSchema(true)
      .default(structuredClone(DEFAULT_CONTROLLER_RESOURCES))
      .describe("Compute resources of the manager container."),
    apply: z
      .enum(MANAGER_APPLY_MODES, { error: `must be one of ${MANAGER_APPLY_MODES.join(", ")}` })
      .default("helm")
      .describe(
        "helm: the manager runs `helm upgrade` of this release when the rendered controllers change; " +
          "none: it only reports (GitOps writes the controllers list).",
      ),
    args: z.array(z.string()).default([]).describe("Extra arguments appended to the manager command line."),
    nginx: z
      .strictObject({
        configMap: z
          .string()
          .regex(NGINX_CONFIGMAP_PATTERN, 'must be "namespace/name"')
          .optional()
          .describe('The NGINX ConfigMap with the zone-sync keys, as "namespace/name" (unset: no local zone-sync).'),
        workload: z
          .string()
          .regex(NGINX_WORKLOAD_PATTERN, 'must be "kind/namespace/name", kind Deployment, DaemonSet or StatefulSet')
          .optional()
          .describe('The NGINX workload rolled when the zone-sync config changes, as "kind/namespace/name".'),
        tlsSecret: z
          .string()
          .regex(NGINX_CONFIGMAP_PATTERN, 'must be "namespace/name"')
          .optional()
          .describe(
            'The Secret named by the zone-sync-tls-secret key, as "namespace/name": the only Secret the manager may ' +
              "read for zone-sync TLS (unset: none).",
          ),
      })
      .default({})
      .describe("Local NGINX zone-sync managed by the manager."),
  })
  .describe("The manager Deployment.");

export const ControllerEntrySchema = z
  .strictObject({
    name: dnsLabel().describe("Name of the ZoneSyncLink this controller serves (required, unique)."),
    credentialsSecret: dnsSubdomain()
      .optional()
      .describe("The Secret with the target kubeconfig the controller may read (default cluster-credentials-<name>)."),
    ...controllerOverridesShape(),
  })
  .describe("One link controller; every setting left out takes controllerDefaults.");

export const McsValuesSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "Serve the Multi-Cluster Services API (ServiceExport, ServiceImport): installs its CRDs unless another " +
          "implementation already did, and runs the MCS controller.",
      ),
    clusterId: z
      .string()
      .max(63)
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, "must be a DNS label")
      .default("")
      .describe(
        "This cluster's id in the clusterset (a DNS label). The ClusterProperty cluster.clusterset.k8s.io wins " +
          "when the cluster has one; one of the two is required when mcs.enabled. Links to this cluster name it " +
          "by the same id (targetClusterName).",
      ),
    logLevel: logLevelSchema().default("info").describe("The MCS controller's log level: error, warn, info or debug."),
    resources: resourceRequirementsSchema(true)
      .default({ requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } })
      .describe("Compute resources of the MCS controller container."),
  })
  .describe("The Multi-Cluster Services API (KEP-1645, multicluster.x-k8s.io).");

export const MonitoringValuesSchema = z
  .strictObject({
    prometheusRule: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            "Render the alert rules (files/alerts.rules.yaml) as a PrometheusRule; only where the cluster serves " +
              "monitoring.coreos.com/v1 PrometheusRule (the Prometheus Operator), so the default is safe anywhere.",
          ),
        labels: stringMap()
          .default({})
          .describe(
            "Extra labels on the PrometheusRule, to match the Prometheus Operator's ruleSelector (kube-prometheus-" +
              "stack selects release: <its release name> by default).",
          ),
      })
      .default({ enabled: true, labels: {} })
      .describe("The alert rules as a PrometheusRule of the Prometheus Operator."),
    podMonitor: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            "Scrape every zonesync pod (manager, link controllers, MCS controller) on its http port with a PodMonitor; " +
              "only where the cluster serves monitoring.coreos.com/v1 PodMonitor, so the default is safe anywhere.",
          ),
        interval: z
          .string()
          .regex(/^[0-9]+(ms|s|m)$/)
          .default("30s")
          .describe("The scrape interval (the alert rules' for: durations assume at most 1m)."),
        labels: stringMap()
          .default({})
          .describe("Extra labels on the PodMonitor, to match the Prometheus Operator's podMonitorSelector."),
      })
      .default({ enabled: true, interval: "30s", labels: {} })
      .describe("A PodMonitor of the Prometheus Operator for every zonesync pod."),
    dashboard: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'Ship the Grafana dashboard (files/dashboard.json) as a ConfigMap labelled grafana_dashboard: "1", ' +
              "which the common Grafana sidecar loads.",
          ),
        labels: stringMap()
          .default({})
          .describe('Extra labels on the dashboard ConfigMap (grafana_dashboard: "1" is always set).'),
      })
      .default({ enabled: false, labels: {} })
      .describe("The Grafana dashboard."),
  })
  .describe("Alert rules and the Grafana dashboard.");

export const ChartValuesSchema = z
  .strictObject({
    image: ImageValuesSchema.default(ImageValuesSchema.parse({})),
    manager: ManagerValuesSchema.default(ManagerValuesSchema.parse({})),
    controllerDefaults: ControllerDefaultsSchema.default(ControllerDefaultsSchema.parse({})),
    controllers: z
      .array(ControllerEntrySchema)
      .default([])
      .describe("One entry per link controller Deployment, usually rendered by the manager from ZoneSyncLinks."),
    mcs: McsValuesSchema.default(McsValuesSchema.parse({})),
    monitoring: MonitoringValuesSchema.default(MonitoringValuesSchema.parse({})),
    global: z.record(z.string(), z.unknown()).optional().describe("Helm global values (ignored by this chart)."),
  })
  .describe("Values of the zonesync chart.");

export type ImageValues = z.output<typeof ImageValuesSchema>;
export type ManagerValues = z.output<typeof ManagerValuesSchema>;
export type ControllerEntry = z.output<typeof ControllerEntrySchema>;
export type ChartValues = z.output<typeof ChartValuesSchema>;
export type ChartValuesInput = z.input<typeof ChartValuesSchema>;

/** Validates chart values (with defaults applied); also checks that controllers entry names are unique. */
export function parseValues(obj: unknown): ParseResult<ChartValues, "values"> {
  const result = ChartValuesSchema.safeParse(obj ?? {}, { error: requiredErrorMap });
  if (!result.success) return { ok: false, errors: formatIssues(result.error) };
  const errors: string[] = [];
  const seen = new Map<string, number>();
  result.data.controllers.forEach((entry, i) => {
    const first = seen.get(entry.name);
    if (first !== undefined)
      errors.push(`controllers[${i}].name: duplicate "${entry.name}" (also controllers[${first}])`);
    else seen.set(entry.name, i);
  });
  return errors.length ? { ok: false, errors } : { ok: true, values: result.data };
}
