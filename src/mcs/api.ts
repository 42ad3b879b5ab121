import { z } from "zod";
import { ConditionSchema, dnsLabel, stringMap } from "../api/kube-schemas.ts";

/**
 * The Multi-Cluster Services API (KEP-1645) as zonesync serves it: `multicluster.x-k8s.io/v1alpha1` ServiceExport
 * and ServiceImport, written from the KEP and the API's published CRDs (kubernetes-sigs/mcs-api). The CRDs under
 * crds/ and chart/templates/ are generated from these schemas (scripts/generate.ts).
 */
export const MCS_GROUP = "multicluster.x-k8s.io";
export const MCS_VERSION = "v1alpha1";
export const SERVICE_EXPORT_KIND = "ServiceExport";
export const SERVICE_IMPORT_KIND = "ServiceImport";
export const SERVICE_EXPORT_PLURAL = "serviceexports";
export const SERVICE_IMPORT_PLURAL = "serviceimports";

export { LABEL_MCS_SERVICE_NAME, LABEL_MCS_SOURCE_CLUSTER } from "./names.ts";

export const SERVICE_IMPORT_TYPES = ["ClusterSetIP", "Headless"] as const;
export const SESSION_AFFINITIES = ["None", "ClientIP"] as const;
export const IP_FAMILIES = ["IPv4", "IPv6"] as const;
export const PORT_PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export const INTERNAL_TRAFFIC_POLICIES = ["Cluster", "Local"] as const;
/**
 * A Service's spec.trafficDistribution (1.30+): "PreferClose" today, "PreferSameZone" and "PreferSameNode" since 1.33.
 * Kept as a bounded identifier rather than an enum so a newer value is carried instead of dropped.
 */
export const trafficDistribution = () =>
  z
    .string()
    .max(63)
    .regex(/^[A-Za-z][A-Za-z0-9]*$/);

export const ServicePortSchema = z
  .object({
    name: z
      .string()
      .max(63)
      .optional()
      .describe("The name of this port within the service (a DNS label); optional when there is one port."),
    protocol: z.enum(PORT_PROTOCOLS).optional().describe("TCP, UDP or SCTP. Defaults to TCP."),
    appProtocol: z.string().max(316).optional().describe("The application protocol of this port."),
    port: z.number().int().min(1).max(65535).describe("The port that the service exposes."),
  })
  .describe("A port of the imported service.");

export const ServiceImportSpecSchema = z
  .object({
    ports: z.array(ServicePortSchema).max(100).meta({ "x-kubernetes-list-type": "atomic" }).describe("The ports."),
    ips: z
      .array(z.string().max(45))
      .max(2)
      .optional()
      .describe("The clusterset IPs of the service (type ClusterSetIP): one per IP family."),
    type: z.enum(SERVICE_IMPORT_TYPES).describe("ClusterSetIP or Headless."),
    sessionAffinity: z.enum(SESSION_AFFINITIES).optional().describe("None or ClientIP. Defaults to None."),
    sessionAffinityConfig: z
      .object({
        clientIP: z
          .object({
            timeoutSeconds: z
              .number()
              .int()
              .min(1)
              .max(86400)
              .optional()
              .describe("How long ClientIP affinity sticks, in seconds (default 10800)."),
          })
          .optional()
          .describe("ClientIP affinity settings."),
      })
      .optional()
      .describe("Session affinity settings."),
    ipFamilies: z.array(z.enum(IP_FAMILIES)).max(2).optional().describe("The IP families of the service."),
    internalTrafficPolicy: z
      .enum(INTERNAL_TRAFFIC_POLICIES)
      .optional()
      .describe("The exported service's internalTrafficPolicy (Kubernetes 1.21+); absent means Cluster."),
    trafficDistribution: trafficDistribution()
      .optional()
      .describe("The exported service's trafficDistribution (Kubernetes 1.30+), e.g. PreferClose."),
  })
  .describe("The service imported from the clusters of the clusterset.");

export const ServiceImportStatusSchema = z
  .object({
    clusters: z
      .array(z.object({ cluster: dnsLabel().describe("The exporting cluster's id.") }).describe("An exporter."))
      .max(1000)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["cluster"] })
      .describe("The clusters that export the service."),
  })
  .describe("Where the imported service comes from.");

export const ServiceExportSpecSchema = z
  .object({
    exportedLabels: stringMap()
      .optional()
      .describe(
        "Labels to put on the ServiceImport of this service in every cluster (at most 32; keys under kubernetes.io, " +
          "k8s.io, x-k8s.io and zonesync.io are ignored). The oldest export's win; others are a LabelsConflict.",
      ),
    exportedAnnotations: stringMap()
      .optional()
      .describe(
        "Annotations to put on the ServiceImport of this service in every cluster (at most 32, values up to 1 KiB; " +
          "the same reserved keys). The oldest export's win; others are an AnnotationsConflict.",
      ),
  })
  .describe("What the export adds to the imported service.");

export const ServiceExportStatusSchema = z
  .object({
    conditions: z
      .array(ConditionSchema.describe("A condition: Valid, Ready or Conflict (metav1.Condition)."))
      .max(16)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
      .describe("Valid, Ready and Conflict, as the Multi-Cluster Services API defines them."),
  })
  .describe("The export's state, kept by the implementation.");

export type ServicePort = z.infer<typeof ServicePortSchema>;
export type ServiceImportSpec = z.infer<typeof ServiceImportSpecSchema>;
