import { z } from "zod";
import { ANNOTATION_MIRROR_HASH, LABEL_ENDPOINTSLICE_MANAGED_BY, LABEL_LINK_UID } from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";
import { conditionSchema, type Condition } from "../kube/conditions.ts";
import { toTargetService, toTargetSlice, type TargetService, type TargetSlice } from "../mirror/model.ts";
import {
  INTERNAL_TRAFFIC_POLICIES,
  IP_FAMILIES,
  LABEL_MCS_SERVICE_NAME,
  LABEL_MCS_SOURCE_CLUSTER,
  SESSION_AFFINITIES,
  trafficDistribution,
} from "./api.ts";
import { exportedEntries } from "./exported-metadata.ts";
import { ANNOTATION_MCS_EXPORT } from "./names.ts";
import { MAX_RECORD_BYTES } from "./record.ts";

/**
 * The MCS controller's and link controllers' views of Services, ServiceExports and EndpointSlices: validated and
 * trimmed to what an import needs (the slices of another cluster are untrusted; the same transforms serve local
 * objects, so one model is kept).
 */

/** A Service with what an export needs beyond the mirror model: session affinity, IP families, traffic policies. */
export interface ExportedService extends TargetService {
  sessionAffinity: (typeof SESSION_AFFINITIES)[number];
  sessionAffinityTimeoutSeconds?: number;
  ipFamilies?: Array<(typeof IP_FAMILIES)[number]>;
  /** Only when Local: unset and Cluster (what 1.22+ servers fill in) are the same policy. */
  internalTrafficPolicy?: "Local";
  trafficDistribution?: string;
}

const AffinitySchema = z.object({
  spec: z
    .object({
      sessionAffinity: z.enum(SESSION_AFFINITIES).optional().catch(undefined),
      sessionAffinityConfig: z
        .object({ clientIP: z.object({ timeoutSeconds: z.number().int().min(1).max(86400).optional() }).optional() })
        .optional()
        .catch(undefined),
      ipFamilies: z.array(z.enum(IP_FAMILIES)).max(2).optional().catch(undefined),
      internalTrafficPolicy: z.enum(INTERNAL_TRAFFIC_POLICIES).optional().catch(undefined),
      trafficDistribution: trafficDistribution().optional().catch(undefined),
    })
    .default({}),
});

export function toExportedService(raw: unknown): ExportedService {
  const base = toTargetService(raw);
  const parsed = AffinitySchema.safeParse(raw);
  const spec = parsed.success ? parsed.data.spec : {};
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  return {
    ...base,
    sessionAffinity: spec.sessionAffinity ?? "None",
    ...(spec.sessionAffinity === "ClientIP" && timeout !== undefined ? { sessionAffinityTimeoutSeconds: timeout } : {}),
    ...(spec.ipFamilies ? { ipFamilies: spec.ipFamilies } : {}),
    ...(spec.internalTrafficPolicy === "Local" ? { internalTrafficPolicy: "Local" as const } : {}),
    ...(spec.trafficDistribution ? { trafficDistribution: spec.trafficDistribution } : {}),
  };
}

/** A ServiceExport: its identity, age (oldest wins) and the conditions it holds. */
export interface ServiceExportView extends KubeObject {
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
  };
  /** Its well-formed conditions (any other implementation's types included). */
  conditions: Condition[];
  /** spec.exportedLabels and spec.exportedAnnotations, as far as they are acceptable (see exported-metadata.ts). */
  exportedLabels?: Record<string, string>;
  exportedAnnotations?: Record<string, string>;
  /** Entries of those two left out. */
  ignoredExported?: number;
}

export function toServiceExportView(raw: unknown): ServiceExportView {
  const obj = raw as Partial<KubeObject> & {
    status?: { conditions?: unknown };
    spec?: { exportedLabels?: unknown; exportedAnnotations?: unknown };
  };
  const { name = "", namespace = "", uid, resourceVersion, generation, creationTimestamp } = obj.metadata ?? {};
  const listed = Array.isArray(obj.status?.conditions) ? (obj.status.conditions as unknown[]).slice(0, 16) : [];
  const conditions = listed.flatMap((c) => {
    const parsed = conditionSchema.safeParse(c);
    return parsed.success ? [parsed.data] : [];
  });
  const labels = exportedEntries(obj.spec?.exportedLabels, "label");
  const annotations = exportedEntries(obj.spec?.exportedAnnotations, "annotation");
  return {
    metadata: { name, namespace, uid, resourceVersion, generation, creationTimestamp },
    conditions,
    exportedLabels: labels.entries,
    exportedAnnotations: annotations.entries,
    ignoredExported: labels.ignored + annotations.ignored,
  };
}

/** An EndpointSlice with the labels and annotation that tie it to an import. */
export interface ImportSlice extends TargetSlice {
  managedBy?: string;
  /** multicluster.kubernetes.io/service-name: the import it belongs to. */
  importName?: string;
  sourceCluster?: string;
  linkUid?: string;
  /** The export record, undecoded (bounded in size). */
  record?: string;
  /** The content hash its writer put on it (zonesync.io/mirror-hash), to tell unchanged content. */
  hash?: string;
}

export function toImportSlice(raw: unknown): ImportSlice {
  const slice = toTargetSlice(raw);
  const meta = (raw as { metadata?: { labels?: unknown; annotations?: unknown } } | null)?.metadata;
  const labels = (typeof meta?.labels === "object" && meta.labels !== null ? meta.labels : {}) as Record<
    string,
    unknown
  >;
  const annotations = (
    typeof meta?.annotations === "object" && meta.annotations !== null ? meta.annotations : {}
  ) as Record<string, unknown>;
  const label = (key: string): string | undefined => {
    const v = labels[key];
    return typeof v === "string" && v.length <= 63 ? v : undefined;
  };
  const record = annotations[ANNOTATION_MCS_EXPORT];
  const fits = typeof record === "string" && Buffer.byteLength(record) <= MAX_RECORD_BYTES;
  const hash = annotations[ANNOTATION_MIRROR_HASH];
  return {
    ...slice,
    ...optional("managedBy", label(LABEL_ENDPOINTSLICE_MANAGED_BY)),
    ...optional("importName", label(LABEL_MCS_SERVICE_NAME)),
    ...optional("sourceCluster", label(LABEL_MCS_SOURCE_CLUSTER)),
    ...optional("linkUid", label(LABEL_LINK_UID)),
    ...optional("record", fits ? record : undefined),
    ...optional("hash", typeof hash === "string" && hash.length <= 64 ? hash : undefined),
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** A ServiceImport or derived Service as the MCS controller keeps it: whose it is, and what it was written with. */
export interface OwnedView extends KubeObject {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
  ours: boolean;
  hash?: string;
  /** multicluster.kubernetes.io/service-name: the import a derived Service belongs to. */
  importName?: string;
  clusterIPs: string[];
  /** A ServiceImport's status.clusters, in order: the exporters it was last written with. */
  exporters: string[];
}

export function toOwnedView(managedLabel: string) {
  return (raw: unknown): OwnedView => {
    const obj = raw as KubeObject & {
      spec?: { clusterIP?: unknown; clusterIPs?: unknown };
      status?: { clusters?: unknown };
    };
    const labels = obj.metadata.labels ?? {};
    const hash = obj.metadata.annotations?.[ANNOTATION_MIRROR_HASH];
    const ips = Array.isArray(obj.spec?.clusterIPs)
      ? obj.spec.clusterIPs
      : typeof obj.spec?.clusterIP === "string"
        ? [obj.spec.clusterIP]
        : [];
    return {
      metadata: {
        name: obj.metadata.name ?? "",
        namespace: obj.metadata.namespace ?? "",
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      ours: labels[managedLabel] === "true",
      ...(hash ? { hash } : {}),
      ...optional("importName", labels[LABEL_MCS_SERVICE_NAME]),
      clusterIPs: ips.filter((ip): ip is string => typeof ip === "string" && ip !== "None" && ip !== "").slice(0, 2),
      // A malformed entry reads as "" so that it differs from any cluster id and is written again.
      exporters: Array.isArray(obj.status?.clusters)
        ? obj.status.clusters.map((c: unknown) => {
            const id = (c as { cluster?: unknown } | null)?.cluster;
            return typeof id === "string" ? id : "";
          })
        : [],
    };
  };
}
