import { renderEndpoints, renderPorts, withHash, type Desired, type SliceVersion } from "../mirror/render.ts";
import { LABEL_MCS_SERVICE_NAME, MCS_VERSION } from "./api.ts";
import type { ExportedService, ImportSlice, ServiceExportView } from "./model.ts";
import {
  ANNOTATION_MCS_EXPORT,
  derivedServiceName,
  importSliceLabels,
  importSliceName,
  LABEL_MCS_MANAGED,
  MCS_SLICE_MANAGER,
} from "./names.ts";
import { decodeRecord, encodeRecord, MAX_RECORD_BYTES, RecordPortSchema, type ExportRecord } from "./record.ts";
import { resolveImport, type ClusterExport, type ExportCondition, type ImportSpec } from "./resolve.ts";

/**
 * What one cluster's MCS controller wants for one namespace/name, from what it sees: its own ServiceExport and
 * Service, the Service's slices, and the export records its link controllers carried in from other clusters.
 * Pure: the controller diffs the result against its caches.
 */
export interface ImportInputs {
  namespace: string;
  name: string;
  clusterId: string;
  sliceVersion: SliceVersion;
  serviceExport?: ServiceExportView;
  service?: ExportedService;
  /** The local Service's own slices (written by the EndpointSlice controller). */
  serviceSlices: ImportSlice[];
  /** Slices of the derived Service that link controllers carried in from other clusters. */
  carriedSlices: ImportSlice[];
  /** The derived Service's cluster IPs, once it exists (the import's `ips`). */
  derivedIps: string[];
  /** The Service fields this cluster's API server declares (see serviceFieldsOf); none when absent. */
  serviceFields?: ServiceFields;
  /** The ServiceImport fields the installed CRD declares (see importFieldsOf); all when absent. */
  importFields?: ServiceFields;
}

/**
 * Which of the newer ServiceImport fields a ServiceImport CRD declares in its v1alpha1 schema: another
 * implementation's CRD may predate them, and server-side apply refuses undeclared fields of a custom resource too.
 */
export function importFieldsOf(crd: unknown): ServiceFields {
  const versions = (crd as { spec?: { versions?: unknown } } | undefined)?.spec?.versions;
  const version = Array.isArray(versions)
    ? (versions as Array<{ name?: unknown; schema?: { openAPIV3Schema?: unknown } }>).find(
        (v) => v.name === MCS_VERSION,
      )
    : undefined;
  const spec = (version?.schema?.openAPIV3Schema as { properties?: { spec?: { properties?: unknown } } } | undefined)
    ?.properties?.spec?.properties;
  const declared = (field: string) => typeof spec === "object" && spec !== null && Object.hasOwn(spec, field);
  return {
    internalTrafficPolicy: declared("internalTrafficPolicy"),
    trafficDistribution: declared("trafficDistribution"),
  };
}

/**
 * Service fields newer than Kubernetes 1.20 that the derived Service may carry. Server-side apply refuses a field its
 * server does not declare, so each is written only where the API server knows it.
 */
export interface ServiceFields {
  internalTrafficPolicy: boolean;
  trafficDistribution: boolean;
}

/** The fields a Kubernetes version's Service declares: internalTrafficPolicy since 1.21, trafficDistribution 1.30. */
export function serviceFieldsOf(version: { major: string; minor: string }): ServiceFields {
  const major = Number.parseInt(version.major, 10);
  const minor = Number.parseInt(version.minor, 10);
  const atLeast = (m: number) => major > 1 || (major === 1 && minor >= m);
  return { internalTrafficPolicy: atLeast(21), trafficDistribution: atLeast(30) };
}

export interface ImportPlan {
  /** The conditions of the local ServiceExport (when there is one). */
  conditions?: ExportCondition[];
  /** The local export's record, when it is valid. */
  record?: ExportRecord;
  /** The derived Service's slices that carry the local export (empty when it is not exported or not valid). */
  ownSlices: Desired[];
  /** The ServiceImport and derived Service; absent when no cluster exports the name (both are then removed). */
  serviceImport?: {
    spec: ImportSpec & { ips?: string[] };
    clusters: string[];
    /** The winning export's exportedLabels and exportedAnnotations, for the ServiceImport's metadata. */
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  derivedService?: Desired;
  /** Carried slices that were left out of the import, and why (logged and counted by the controller). */
  ignored: Array<{ slice: string; problem: string }>;
}

export function planImport(inputs: ImportInputs): ImportPlan {
  const { namespace, name, clusterId } = inputs;
  const exports: ClusterExport[] = [];
  const ignored: ImportPlan["ignored"] = [];
  const local = inputs.serviceExport ? localExport(inputs) : undefined;
  if (local) exports.push(local);
  const seen = new Set<string>([clusterId]);
  for (const slice of [...inputs.carriedSlices].sort((a, b) => compare(a.metadata.name, b.metadata.name))) {
    const cluster = slice.sourceCluster;
    if (cluster === clusterId) {
      ignored.push({
        slice: slice.metadata.name,
        problem: `it was carried in but claims this cluster's id ${clusterId}`,
      });
      continue;
    }
    if (!cluster || seen.has(cluster)) continue;
    const decoded = decodeRecord(slice.record);
    if ("problem" in decoded) {
      ignored.push({ slice: slice.metadata.name, problem: decoded.problem });
      continue;
    }
    seen.add(cluster);
    exports.push(fromRecord(cluster, decoded.record));
  }
  const resolution = resolveImport(exports);
  let conditions = local ? resolution.conditions.get(clusterId) : undefined;
  const validLocal = local !== undefined && conditions?.find((c) => c.type === "Valid")?.status === "True";
  let record = validLocal ? toRecord(local) : undefined;
  if (record && Buffer.byteLength(encodeRecord(record)) > MAX_RECORD_BYTES) {
    // Other clusters would refuse it: say so here rather than look exported while no one can import it.
    record = undefined;
    conditions = conditions?.map((c) =>
      c.type === "Ready"
        ? {
            type: "Ready",
            status: "False",
            reason: "ExportTooLarge",
            message: `The export's description is over ${MAX_RECORD_BYTES} bytes (too many ports, or too long names): other clusters cannot import it.`,
          }
        : c,
    );
  }
  const derived = derivedServiceName(name);
  const ownSlices = record ? renderOwnSlices(inputs, derived, record) : [];
  if (!resolution.spec) return { ...(conditions ? { conditions } : {}), ownSlices, ignored };
  const spec = withoutUndeclared(resolution.spec, inputs.importFields);
  const ips = spec.type === "ClusterSetIP" && inputs.derivedIps.length ? { ips: inputs.derivedIps.slice(0, 2) } : {};
  return {
    ...(conditions ? { conditions } : {}),
    ...(record ? { record } : {}),
    ownSlices,
    serviceImport: {
      spec: { ...spec, ...ips },
      clusters: resolution.clusters,
      labels: resolution.labels,
      annotations: resolution.annotations,
    },
    derivedService: renderDerivedService(namespace, name, derived, resolution.spec, inputs.serviceFields),
    ignored,
  };
}

function localExport(inputs: ImportInputs): ClusterExport {
  const { service, serviceExport, clusterId } = inputs;
  // Without a creation time (the API server always sets one) an export counts as the newest, never as the winner.
  const created = serviceExport?.metadata.creationTimestamp ?? new Date(8.64e15).toISOString();
  const exported = {
    ...(serviceExport?.exportedLabels ? { exportedLabels: serviceExport.exportedLabels } : {}),
    ...(serviceExport?.exportedAnnotations ? { exportedAnnotations: serviceExport.exportedAnnotations } : {}),
  };
  if (!service || service.invalid) {
    return {
      cluster: clusterId,
      exportCreated: created,
      serviceType: undefined,
      headless: false,
      ports: [],
      sessionAffinity: "None",
    };
  }
  return {
    cluster: clusterId,
    exportCreated: created,
    serviceType: service.serviceType as ClusterExport["serviceType"],
    headless: service.headless,
    ports: service.ports.map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      protocol: p.protocol ?? "TCP",
      port: p.port,
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    })),
    sessionAffinity: service.sessionAffinity,
    ...(service.sessionAffinityTimeoutSeconds !== undefined
      ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: service.sessionAffinityTimeoutSeconds } } }
      : {}),
    ...(service.ipFamilies ? { ipFamilies: service.ipFamilies } : {}),
    ...(service.internalTrafficPolicy ? { internalTrafficPolicy: service.internalTrafficPolicy } : {}),
    ...(service.trafficDistribution ? { trafficDistribution: service.trafficDistribution } : {}),
    ...exported,
  };
}

/** The local export as other clusters will read it: only ports the record (and resolveImport) accept. */
function toRecord(local: ClusterExport): ExportRecord {
  const timeout = local.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  return {
    created: local.exportCreated,
    type: local.headless ? "Headless" : "ClusterSetIP",
    ports: local.ports.filter((p) => RecordPortSchema.safeParse(p).success).map((p) => ({ ...p })),
    sessionAffinity: local.sessionAffinity,
    ...(timeout !== undefined ? { sessionAffinityTimeoutSeconds: timeout } : {}),
    ...(local.ipFamilies ? { ipFamilies: [...local.ipFamilies] } : {}),
    ...(local.internalTrafficPolicy === "Local" ? { internalTrafficPolicy: "Local" as const } : {}),
    ...(local.trafficDistribution ? { trafficDistribution: local.trafficDistribution } : {}),
    ...nonEmpty("labels", local.exportedLabels),
    ...nonEmpty("annotations", local.exportedAnnotations),
  };
}

function nonEmpty<K extends string>(
  key: K,
  entries: Readonly<Record<string, string>> | undefined,
): Partial<Record<K, Record<string, string>>> {
  return entries && Object.keys(entries).length > 0
    ? ({ [key]: { ...entries } } as Record<K, Record<string, string>>)
    : {};
}

/** A carried record as a ClusterExport: only valid exports are ever recorded, so its Service is a ClusterIP one. */
export function fromRecord(cluster: string, record: ExportRecord): ClusterExport {
  return {
    cluster,
    exportCreated: record.created,
    serviceType: "ClusterIP",
    headless: record.type === "Headless",
    ports: record.ports,
    sessionAffinity: record.sessionAffinity,
    ...(record.sessionAffinityTimeoutSeconds !== undefined
      ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: record.sessionAffinityTimeoutSeconds } } }
      : {}),
    ...(record.ipFamilies ? { ipFamilies: record.ipFamilies } : {}),
    ...(record.internalTrafficPolicy ? { internalTrafficPolicy: record.internalTrafficPolicy } : {}),
    ...(record.trafficDistribution ? { trafficDistribution: record.trafficDistribution } : {}),
    ...(record.labels ? { exportedLabels: record.labels } : {}),
    ...(record.annotations ? { exportedAnnotations: record.annotations } : {}),
  };
}

/** One slice of the derived Service per slice of the local Service, each with the record; one empty slice at least. */
function renderOwnSlices(inputs: ImportInputs, derived: string, record: ExportRecord): Desired[] {
  const { namespace, name, clusterId, sliceVersion } = inputs;
  const sources = inputs.serviceSlices.filter((s) => !s.invalid && s.addressType !== "FQDN");
  const body = (sourceName: string, addressType: string, endpoints: unknown[], ports: unknown[]) =>
    withHash({
      metadata: {
        name: importSliceName(derived, clusterId, sourceName),
        namespace,
        labels: importSliceLabels(name, clusterId, MCS_SLICE_MANAGER),
        annotations: { [ANNOTATION_MCS_EXPORT]: encodeRecord(record) },
      },
      addressType,
      endpoints,
      ports,
    });
  if (sources.length === 0) {
    const family = record.ipFamilies?.[0] ?? "IPv4";
    return [body("", family, [], [])];
  }
  return sources.map((s) =>
    body(s.metadata.name, s.addressType, renderEndpoints(s.endpoints, sliceVersion, false), renderPorts(s.ports)),
  );
}

function withoutUndeclared(spec: ImportSpec, fields: ServiceFields | undefined): ImportSpec {
  if (!fields) return spec;
  const { internalTrafficPolicy, trafficDistribution, ...rest } = spec;
  return {
    ...rest,
    ...(fields.internalTrafficPolicy ? { internalTrafficPolicy } : {}),
    ...(fields.trafficDistribution && trafficDistribution !== undefined ? { trafficDistribution } : {}),
  };
}

function renderDerivedService(
  namespace: string,
  name: string,
  derived: string,
  spec: ImportSpec,
  fields: ServiceFields = { internalTrafficPolicy: false, trafficDistribution: false },
): Desired {
  const unnamed = spec.ports.length > 1;
  const taken = new Set(spec.ports.flatMap((p) => (p.name ? [p.name] : [])));
  const generatedName = (p: ImportSpec["ports"][number]): string => {
    let name = `${p.protocol.toLowerCase()}-${p.port}`;
    for (let i = 2; taken.has(name); i++) name = `${p.protocol.toLowerCase()}-${p.port}-${i}`;
    taken.add(name);
    return name;
  };
  return withHash({
    metadata: {
      name: derived,
      namespace,
      labels: { [LABEL_MCS_MANAGED]: "true", [LABEL_MCS_SERVICE_NAME]: name },
    },
    spec: {
      type: "ClusterIP",
      ...(spec.type === "Headless" ? { clusterIP: "None" } : {}),
      // A Service with several ports needs a name on each; the import's ports keep theirs where they have one.
      ports: spec.ports.map((p) => ({
        name: p.name ?? (unnamed ? generatedName(p) : undefined),
        protocol: p.protocol,
        port: p.port,
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
      ...(spec.type === "ClusterSetIP" ? { sessionAffinity: spec.sessionAffinity } : {}),
      ...(spec.type === "ClusterSetIP" && spec.sessionAffinity === "ClientIP"
        ? {
            sessionAffinityConfig: {
              clientIP: { timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 },
            },
          }
        : {}),
      ...(fields.internalTrafficPolicy && spec.internalTrafficPolicy
        ? { internalTrafficPolicy: spec.internalTrafficPolicy }
        : {}),
      ...(fields.trafficDistribution && spec.trafficDistribution
        ? { trafficDistribution: spec.trafficDistribution }
        : {}),
    },
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
