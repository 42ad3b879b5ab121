/**
 * Conflict resolution of the Multi-Cluster Services API (KEP-1645, `multicluster.x-k8s.io/v1alpha1`): from what each
 * cluster of a clusterset exports under one namespace/name, the ServiceImport spec and the conditions of each
 * exporting cluster's ServiceExport. Pure: no I/O and no clock. The caller reads the Services and ServiceExports,
 * allocates the clusterset IPs and writes the results.
 *
 * The rules, with their sources:
 * - Only exports of an existing Service of type ClusterIP, NodePort or LoadBalancer are valid (KEP "Service Types";
 *   mcs-api conformance "Exporting an ExternalName service should set ServiceExport Valid condition to False").
 *   Invalid exports take no part in the import; without a valid export there is no import.
 * - Conflicting global properties are resolved by precedence: the oldest ServiceExport (metadata.creationTimestamp)
 *   wins, ties going to the cluster whose id sorts first. Every valid export then carries Conflict=True with the
 *   reasons and the same message (KEP "Constraints and Conflict Resolution"; the conformance suite expects Conflict
 *   on both clusters' exports).
 * - Ports are the union of the exported ports, merged by name (unnamed counts as the name "") and then by
 *   protocol/port. A port that would repeat a name or a protocol/port pair of an older export's port with other
 *   properties is dropped: PortConflict (KEP "Service Port"; the v1alpha1 PortConflict constant). Ports that differ
 *   without clashing are merged silently.
 * - Type (headless or not), session affinity, its ClientIP timeout, the IP families, the internal traffic policy and
 *   the traffic distribution come from the winning export, with TypeConflict, SessionAffinityConflict,
 *   SessionAffinityConfigConflict, IPFamilyConflict, InternalTrafficPolicyConflict and TrafficDistributionConflict
 *   (KEP "Headlessness", "Session Affinity"; the last three are the reasons mcs-api's v1beta1 names for them). An
 *   unset internal traffic policy is Cluster; an unset traffic distribution differs from every set one.
 * - The ServiceImport's labels and annotations are the winning export's `exportedLabels` and `exportedAnnotations`
 *   (KEP "Labels and annotations"); an export with other ones is a LabelsConflict or AnnotationsConflict.
 * - Valid=True/Valid or False/NoService|InvalidServiceType; Ready=True/Exported for a valid export, False/Failed
 *   otherwise; Conflict=False/NoConflicts or True with the reasons joined by commas, as the API allows.
 */

import { trafficDistribution } from "./api.ts";
import { exportedEntries, sameEntries } from "./exported-metadata.ts";

export type ServiceImportType = "ClusterSetIP" | "Headless";
export type PortProtocol = "TCP" | "UDP" | "SCTP";
export type SessionAffinity = "None" | "ClientIP";
export type IPFamily = "IPv4" | "IPv6";
export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
export type InternalTrafficPolicy = "Cluster" | "Local";

export interface ExportedPort {
  /** A DNS label; absent (or empty) for the unnamed port. */
  name?: string;
  protocol: PortProtocol;
  port: number;
  appProtocol?: string;
}

export interface SessionAffinityConfig {
  clientIP?: { timeoutSeconds?: number };
}

/** What one cluster exports under a namespace/name: its Service as the ServiceExport sees it. */
export interface ClusterExport {
  /** The exporting cluster's id. Unique within one call. */
  cluster: string;
  /** The ServiceExport's metadata.creationTimestamp (RFC 3339). Unparseable counts as newest. */
  exportCreated: string;
  /** The Service's spec.type; undefined when the Service does not exist. */
  serviceType: ServiceType | undefined;
  /** spec.clusterIP is "None". */
  headless: boolean;
  ports: readonly ExportedPort[];
  sessionAffinity: SessionAffinity;
  sessionAffinityConfig?: SessionAffinityConfig;
  ipFamilies?: readonly IPFamily[];
  /** Unset is Cluster. */
  internalTrafficPolicy?: InternalTrafficPolicy;
  trafficDistribution?: string;
  /** The ServiceExport's spec.exportedLabels / exportedAnnotations (untrusted: filtered here again). */
  exportedLabels?: Readonly<Record<string, string>>;
  exportedAnnotations?: Readonly<Record<string, string>>;
}

/** The ServiceImport spec without the clusterset IPs, which the caller allocates for type ClusterSetIP. */
export interface ImportSpec {
  type: ServiceImportType;
  /** Sorted by name, the unnamed port first (names are unique in the union). */
  ports: ExportedPort[];
  sessionAffinity: SessionAffinity;
  sessionAffinityConfig?: SessionAffinityConfig;
  /** Absent when no valid export reports its IP families. */
  ipFamilies?: IPFamily[];
  /**
   * The winning export's; Cluster when it states none (Kubernetes before 1.21), as kube-proxy reads it. Always set
   * here; left out of a ServiceImport whose CRD does not declare it.
   */
  internalTrafficPolicy?: InternalTrafficPolicy;
  trafficDistribution?: string;
}

export type ExportConditionType = "Valid" | "Ready" | "Conflict";

export interface ExportCondition {
  type: ExportConditionType;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface ImportResolution {
  /** Undefined when no export is valid: the ServiceImport should not exist. */
  spec: ImportSpec | undefined;
  /** The ServiceImport's labels and annotations besides the implementation's own: the winning export's. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The valid exporting clusters (the ServiceImport's status.clusters), sorted. */
  clusters: string[];
  /**
   * Every input cluster's ServiceExport conditions, keyed and ordered by cluster id: Valid, Ready and, for a valid
   * export, Conflict. A condition type missing from a list (Conflict on an invalid export) should be removed.
   */
  conditions: Map<string, ExportCondition[]>;
}

/** Reasons from sigs.k8s.io/mcs-api `pkg/apis/v1alpha1/serviceexport.go` (IPFamilyConflict: v1beta1). */
export const EXPORT_REASONS = {
  valid: "Valid",
  noService: "NoService",
  invalidServiceType: "InvalidServiceType",
  exported: "Exported",
  failed: "Failed",
  noConflicts: "NoConflicts",
  typeConflict: "TypeConflict",
  portConflict: "PortConflict",
  sessionAffinityConflict: "SessionAffinityConflict",
  sessionAffinityConfigConflict: "SessionAffinityConfigConflict",
  ipFamilyConflict: "IPFamilyConflict",
  internalTrafficPolicyConflict: "InternalTrafficPolicyConflict",
  trafficDistributionConflict: "TrafficDistributionConflict",
  labelsConflict: "LabelsConflict",
  annotationsConflict: "AnnotationsConflict",
} as const;

/** At most this many ports of one export are considered, and the import has at most this many (its CRD's limit). */
export const MAX_PORTS = 100;
/** Kubernetes' default ClientIP affinity timeout: an unset timeout and this one are the same setting. */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10_800;
/** Clashing ports listed by name in a PortConflict message; the rest are counted. */
const MAX_LISTED_CLASHES = 5;

const EXPORTABLE_TYPES: ReadonlySet<string> = new Set(["ClusterIP", "NodePort", "LoadBalancer"]);
const PROTOCOLS: ReadonlySet<string> = new Set(["TCP", "UDP", "SCTP"]);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** A valid export, its fields checked and normalized. */
interface Candidate {
  cluster: string;
  type: ServiceImportType;
  ports: ExportedPort[];
  ignoredPorts: number;
  sessionAffinity: SessionAffinity;
  sessionAffinityConfig: SessionAffinityConfig | undefined;
  ipFamilies: IPFamily[] | undefined;
  internalTrafficPolicy: InternalTrafficPolicy;
  trafficDistribution: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface Conflict {
  reason: string;
  message: string;
}

/**
 * Resolves one namespace/name across the exporting clusters. The result does not depend on the order of `exports`
 * and shares no objects with it.
 *
 * @throws Error when two exports name the same cluster.
 */
export function resolveImport(exports: readonly ClusterExport[]): ImportResolution {
  const seen = new Set<string>();
  for (const exp of exports) {
    if (seen.has(exp.cluster)) throw new Error(`cluster "${exp.cluster}" exports the service more than once`);
    seen.add(exp.cluster);
  }

  const conditions = new Map<string, ExportCondition[]>();
  const candidates: Candidate[] = [];
  for (const exp of [...exports].sort(byPrecedence)) {
    const invalid = invalidReason(exp);
    if (invalid) conditions.set(exp.cluster, invalidConditions(invalid.reason, invalid.message));
    else candidates.push(candidateOf(exp));
  }

  let spec: ImportSpec | undefined;
  let metadata = { labels: {}, annotations: {} };
  if (candidates.length > 0) {
    const resolved = resolveSpec(candidates);
    spec = resolved.spec;
    metadata = { labels: { ...candidates[0]!.labels }, annotations: { ...candidates[0]!.annotations } };
    const conflict = conflictCondition(resolved.conflicts);
    // Ready ("exported to some control plane or data plane or ready to be pulled") holds for every valid export,
    // conflicted or not: precedence decides the import's values but excludes no cluster's endpoints. It describes
    // the resolution, so a caller that fails to write the ServiceImport reports Ready=False (Failed) instead.
    const ready: ExportCondition = {
      type: "Ready",
      status: "True",
      reason: EXPORT_REASONS.exported,
      message: `The service is imported from ${plural(candidates.length, "cluster")} of the clusterset.`,
    };
    for (const candidate of candidates) {
      conditions.set(candidate.cluster, [validCondition(candidate), { ...ready }, { ...conflict }]);
    }
  }

  return {
    spec,
    ...metadata,
    clusters: candidates.map((c) => c.cluster).sort(compareText),
    conditions: new Map([...conditions].sort(([a], [b]) => compareText(a, b))),
  };
}

function resolveSpec(candidates: readonly Candidate[]): { spec: ImportSpec; conflicts: Conflict[] } {
  // candidates are in precedence order: the first one wins every conflict it takes part in.
  const oldest = candidates[0]!;
  const total = candidates.length;
  const conflicts: Conflict[] = [];

  const typeDissent = candidates.filter((c) => c.type !== oldest.type).length;
  if (typeDissent > 0) {
    conflicts.push({
      reason: EXPORT_REASONS.typeConflict,
      message: conflictMessage("type", `"${oldest.type}"`, oldest.cluster, typeDissent, total),
    });
  }

  const merged = mergePorts(candidates);
  if (merged.conflict) conflicts.push(merged.conflict);

  const affinityDissent = candidates.filter((c) => c.sessionAffinity !== oldest.sessionAffinity).length;
  if (affinityDissent > 0) {
    conflicts.push({
      reason: EXPORT_REASONS.sessionAffinityConflict,
      message: conflictMessage(
        "session affinity",
        `"${oldest.sessionAffinity}"`,
        oldest.cluster,
        affinityDissent,
        total,
      ),
    });
  }

  // Timeouts only matter between ClientIP exports; one with other affinity already counts as SessionAffinityConflict.
  if (oldest.sessionAffinity === "ClientIP") {
    const timeout = clientIPTimeout(oldest);
    const dissent = candidates.filter((c) => c.sessionAffinity === "ClientIP" && clientIPTimeout(c) !== timeout).length;
    if (dissent > 0) {
      conflicts.push({
        reason: EXPORT_REASONS.sessionAffinityConfigConflict,
        message: conflictMessage(
          "session affinity config",
          `timeoutSeconds ${timeout}`,
          oldest.cluster,
          dissent,
          total,
        ),
      });
    }
  }

  // Exports that do not report their IP families neither win nor disagree. Families differing only in order reach
  // the same backends; only different sets can send traffic of one family to a subset of them.
  const familySource = candidates.find((c) => c.ipFamilies !== undefined);
  const ipFamilies = familySource?.ipFamilies;
  if (familySource && ipFamilies) {
    const dissent = candidates.filter((c) => c.ipFamilies && !sameSet(c.ipFamilies, ipFamilies)).length;
    if (dissent > 0) {
      conflicts.push({
        reason: EXPORT_REASONS.ipFamilyConflict,
        message: conflictMessage("IP families", `[${ipFamilies.join(", ")}]`, familySource.cluster, dissent, total),
      });
    }
  }

  const policyDissent = candidates.filter((c) => c.internalTrafficPolicy !== oldest.internalTrafficPolicy).length;
  if (policyDissent > 0) {
    conflicts.push({
      reason: EXPORT_REASONS.internalTrafficPolicyConflict,
      message: conflictMessage(
        "internal traffic policy",
        `"${oldest.internalTrafficPolicy}"`,
        oldest.cluster,
        policyDissent,
        total,
      ),
    });
  }

  const distributionDissent = candidates.filter((c) => c.trafficDistribution !== oldest.trafficDistribution).length;
  if (distributionDissent > 0) {
    const value = oldest.trafficDistribution === undefined ? "none" : `"${oldest.trafficDistribution}"`;
    conflicts.push({
      reason: EXPORT_REASONS.trafficDistributionConflict,
      message: conflictMessage("traffic distribution", value, oldest.cluster, distributionDissent, total),
    });
  }

  for (const [field, reason, noun] of [
    ["labels", EXPORT_REASONS.labelsConflict, "exported labels"],
    ["annotations", EXPORT_REASONS.annotationsConflict, "exported annotations"],
  ] as const) {
    const dissent = candidates.filter((c) => !sameEntries(c[field], oldest[field])).length;
    if (dissent > 0) {
      const count = Object.keys(oldest[field]).length;
      conflicts.push({
        reason,
        message: conflictMessage(noun, plural(count, field.slice(0, -1)), oldest.cluster, dissent, total),
      });
    }
  }

  const spec: ImportSpec = {
    type: oldest.type,
    ports: merged.ports.sort((a, b) => compareText(a.name ?? "", b.name ?? "")),
    sessionAffinity: oldest.sessionAffinity,
    internalTrafficPolicy: oldest.internalTrafficPolicy,
  };
  if (oldest.sessionAffinityConfig) spec.sessionAffinityConfig = copyAffinityConfig(oldest.sessionAffinityConfig);
  if (ipFamilies) spec.ipFamilies = [...ipFamilies];
  if (oldest.trafficDistribution !== undefined) spec.trafficDistribution = oldest.trafficDistribution;
  return { spec, conflicts };
}

interface OwnedPort {
  port: ExportedPort;
  cluster: string;
}

/**
 * The union of the candidates' ports, taken in precedence order so that an older export's port wins a clash: a
 * port clashes when its name, or its protocol/port pair, is already taken by a port that is not identical to it.
 */
function mergePorts(candidates: readonly Candidate[]): { ports: ExportedPort[]; conflict: Conflict | undefined } {
  const byName = new Map<string, OwnedPort>();
  const byEndpoint = new Map<string, OwnedPort>();
  const clashes: Array<{ dropped: OwnedPort; kept: OwnedPort }> = [];
  let overflow = 0;

  for (const candidate of candidates) {
    for (const port of candidate.ports) {
      const sameName = byName.get(port.name ?? "");
      const sameEndpoint = byEndpoint.get(endpointKey(port));
      const kept = sameName ?? sameEndpoint;
      if (kept) {
        if (sameName !== sameEndpoint || !samePort(kept.port, port)) {
          clashes.push({ dropped: { port, cluster: candidate.cluster }, kept });
        }
      } else if (byName.size >= MAX_PORTS) {
        overflow++;
      } else {
        const owned = { port, cluster: candidate.cluster };
        byName.set(port.name ?? "", owned);
        byEndpoint.set(endpointKey(port), owned);
      }
    }
  }

  const ports = [...byName.values()].map((owned) => copyPort(owned.port));
  if (clashes.length === 0 && overflow === 0) return { ports, conflict: undefined };

  const parts: string[] = [];
  if (clashes.length > 0) {
    const dissent = new Set(clashes.map((c) => c.dropped.cluster)).size;
    const listed = clashes
      .slice(0, MAX_LISTED_CLASHES)
      .map(
        ({ dropped, kept }) =>
          `${describePort(dropped.port)} from cluster "${dropped.cluster}" lost to ` +
          `${describePort(kept.port)} from the older export in cluster "${kept.cluster}"`,
      );
    const more = clashes.length - listed.length;
    parts.push(
      `Conflicting ports: ${dissent}/${candidates.length} clusters export ports that clash with an older export's ` +
        `(same name or protocol/port, other properties): ${listed.join("; ")}${more > 0 ? `; and ${more} more` : ""}.`,
    );
  }
  if (overflow > 0) {
    parts.push(
      `Too many ports: the union is limited to ${MAX_PORTS} ports; ${plural(overflow, "newer port")} left out.`,
    );
  }
  return { ports, conflict: { reason: EXPORT_REASONS.portConflict, message: parts.join(" ") } };
}

function invalidReason(exp: ClusterExport): Conflict | undefined {
  if (exp.serviceType === undefined) {
    return { reason: EXPORT_REASONS.noService, message: "The Service to export does not exist." };
  }
  if (!EXPORTABLE_TYPES.has(exp.serviceType)) {
    return {
      reason: EXPORT_REASONS.invalidServiceType,
      message: `A Service of type ${exp.serviceType} cannot be exported: only ClusterIP, NodePort and LoadBalancer.`,
    };
  }
  return undefined;
}

function invalidConditions(reason: string, message: string): ExportCondition[] {
  return [
    { type: "Valid", status: "False", reason, message },
    // Failed rather than Pending: nothing is in progress until the Service changes.
    {
      type: "Ready",
      status: "False",
      reason: EXPORT_REASONS.failed,
      message: `Not exported: the ServiceExport is not valid (${reason}).`,
    },
  ];
}

function validCondition(candidate: Candidate): ExportCondition {
  const ignored =
    candidate.ignoredPorts > 0
      ? ` ${plural(candidate.ignoredPorts, "port")} ignored: malformed, repeated or beyond the first ${MAX_PORTS}.`
      : "";
  return {
    type: "Valid",
    status: "True",
    reason: EXPORT_REASONS.valid,
    message: `The Service can be exported.${ignored}`,
  };
}

function conflictCondition(conflicts: readonly Conflict[]): ExportCondition {
  if (conflicts.length === 0) {
    return {
      type: "Conflict",
      status: "False",
      reason: EXPORT_REASONS.noConflicts,
      message: "The exports of this service agree.",
    };
  }
  return {
    type: "Conflict",
    status: "True",
    // The API's way of reporting several conflicts at once: their reasons joined by commas.
    reason: conflicts.map((c) => c.reason).join(","),
    message: conflicts.map((c) => c.message).join(" "),
  };
}

function conflictMessage(field: string, value: string, winner: string, dissent: number, total: number): string {
  return (
    `Conflicting ${field}: using ${value} from the oldest export that sets it, in cluster "${winner}"; ` +
    `${dissent}/${total} clusters disagree.`
  );
}

/** Checks and normalizes what a valid export offers; see MAX_PORTS for the bound. */
function candidateOf(exp: ClusterExport): Candidate {
  const ports: ExportedPort[] = [];
  const names = new Set<string>();
  const endpoints = new Set<string>();
  for (const port of exp.ports.slice(0, MAX_PORTS)) {
    if (!wellFormedPort(port)) continue;
    const normalized = copyPort(port);
    // The API server never lets one Service repeat a name or a protocol/port pair; keep the first.
    if (names.has(normalized.name ?? "") || endpoints.has(endpointKey(normalized))) continue;
    names.add(normalized.name ?? "");
    endpoints.add(endpointKey(normalized));
    ports.push(normalized);
  }

  const sessionAffinity: SessionAffinity = exp.sessionAffinity === "ClientIP" ? "ClientIP" : "None";
  return {
    cluster: exp.cluster,
    type: exp.headless ? "Headless" : "ClusterSetIP",
    ports,
    ignoredPorts: exp.ports.length - ports.length,
    sessionAffinity,
    // Kubernetes only allows the config with ClientIP affinity.
    sessionAffinityConfig:
      sessionAffinity === "ClientIP" ? normalizeAffinityConfig(exp.sessionAffinityConfig) : undefined,
    ipFamilies: normalizeFamilies(exp.ipFamilies),
    internalTrafficPolicy: exp.internalTrafficPolicy === "Local" ? "Local" : "Cluster",
    // The one rule for the field's shape (api.ts); anything else counts as unset.
    trafficDistribution: trafficDistribution().safeParse(exp.trafficDistribution).success
      ? exp.trafficDistribution
      : undefined,
    labels: exportedEntries(exp.exportedLabels, "label").entries,
    annotations: exportedEntries(exp.exportedAnnotations, "annotation").entries,
  };
}

function wellFormedPort(port: ExportedPort): boolean {
  return (
    Number.isInteger(port.port) &&
    port.port >= 1 &&
    port.port <= 65_535 &&
    PROTOCOLS.has(port.protocol) &&
    (port.name === undefined || port.name === "" || DNS_LABEL.test(port.name)) &&
    (port.appProtocol === undefined || (typeof port.appProtocol === "string" && port.appProtocol.length <= 316))
  );
}

/** A copy without empty optional fields: `name: ""` and `appProtocol: ""` mean unset. */
function copyPort(port: ExportedPort): ExportedPort {
  return {
    ...(port.name ? { name: port.name } : {}),
    protocol: port.protocol,
    port: port.port,
    ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}),
  };
}

function samePort(a: ExportedPort, b: ExportedPort): boolean {
  return (
    (a.name ?? "") === (b.name ?? "") &&
    a.protocol === b.protocol &&
    a.port === b.port &&
    a.appProtocol === b.appProtocol
  );
}

function endpointKey(port: ExportedPort): string {
  return `${port.protocol}/${port.port}`;
}

function describePort(port: ExportedPort): string {
  const app = port.appProtocol ? ` (${port.appProtocol.slice(0, 64)})` : "";
  return `${port.name ? `"${port.name}"` : "the unnamed port"} ${port.port}/${port.protocol}${app}`;
}

function normalizeAffinityConfig(config: SessionAffinityConfig | undefined): SessionAffinityConfig | undefined {
  if (!config) return undefined;
  if (!config.clientIP) return {};
  const timeout = config.clientIP.timeoutSeconds;
  // The Service API's range; anything else counts as unset, that is the default.
  const valid = timeout !== undefined && Number.isInteger(timeout) && timeout >= 1 && timeout <= 86_400;
  return { clientIP: valid ? { timeoutSeconds: timeout } : {} };
}

function copyAffinityConfig(config: SessionAffinityConfig): SessionAffinityConfig {
  return config.clientIP ? { clientIP: { ...config.clientIP } } : {};
}

function clientIPTimeout(candidate: Candidate): number {
  return candidate.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
}

function normalizeFamilies(families: readonly IPFamily[] | undefined): IPFamily[] | undefined {
  if (!families) return undefined;
  const unique: IPFamily[] = [];
  for (const family of families.slice(0, 2)) {
    if ((family === "IPv4" || family === "IPv6") && !unique.includes(family)) unique.push(family);
  }
  return unique.length > 0 ? unique : undefined;
}

function sameSet(a: readonly IPFamily[], b: readonly IPFamily[]): boolean {
  return a.length === b.length && a.every((family) => b.includes(family));
}

/** Oldest export first; unparseable timestamps last; ties by cluster id. */
function byPrecedence(a: ClusterExport, b: ClusterExport): number {
  const ta = createdAt(a.exportCreated);
  const tb = createdAt(b.exportCreated);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareText(a.cluster, b.cluster);
}

function createdAt(timestamp: string): number {
  const ms = typeof timestamp === "string" && RFC3339.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Code-unit order, independent of the locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
