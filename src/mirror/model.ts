import { createHash } from "node:crypto";
import { z } from "zod";
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_SERVICE_NAME } from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";
import { classifyAddress } from "./addresses.ts";
import { DropTally, type DropCounts, type DropReason } from "./drops.ts";
import {
  boundName,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isFqdn,
  isLabelValue,
  isQualifiedName,
  quoteUntrusted,
} from "./identifiers.ts";

/**
 * What the link controller keeps of the target cluster's objects. The informers' `transform` turns every Service
 * and EndpointSlice into these compact shapes as soon as it arrives (every other field is dropped), so memory
 * follows what is exported and how many endpoints it has, not the size of the objects or of the cluster.
 *
 * The target is untrusted: everything kept is validated and bounded here, by the rules the local API server would
 * apply (and tighter where a value could point a mirror at this cluster's own node). What fails is dropped at the
 * smallest unit that makes sense (an address, a hostname, a port, an endpoint) and counted by reason in `dropped`
 * (see drops.ts). An object whose identity is not valid is kept with an `invalid` message and mirrors nothing.
 * A transform never throws.
 */

const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export type Protocol = (typeof PROTOCOLS)[number];
const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] as const;

/** Kubernetes caps an EndpointSlice at 1000 endpoints, an endpoint at 100 addresses, a slice at 100 ports. */
export const MAX_ENDPOINTS_PER_SLICE = 1000;
export const MAX_ADDRESSES_PER_ENDPOINT = 100;
export const MAX_PORTS = 100;
/** Resource versions are decimal numbers in practice; a longer one is replaced by its hash. */
const MAX_RESOURCE_VERSION = 128;

export interface ServicePort {
  name?: string;
  protocol?: Protocol;
  port: number;
  appProtocol?: string;
}

const MetaSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

const RawServiceSchema = z.object({
  metadata: MetaSchema,
  spec: z
    .object({
      type: z.string().optional(),
      clusterIP: z.string().optional(),
      ports: z.array(z.unknown()).nullish(),
    })
    .default({}),
});

export interface CompactMeta {
  name: string;
  namespace: string;
  resourceVersion?: string;
  [key: string]: unknown;
}

/** An exported target Service, as the controller keeps it. */
export interface TargetService extends KubeObject {
  metadata: CompactMeta;
  headless: boolean;
  /** ExternalName Services have no endpoints to mirror; they are skipped. */
  serviceType: string;
  ports: ServicePort[];
  invalid?: string;
  /** What was not kept of it, by reason (absent when nothing was dropped). */
  dropped?: Partial<DropCounts>;
}

function boundResourceVersion(rv: string | undefined): string | undefined {
  if (!rv) return undefined;
  return rv.length <= MAX_RESOURCE_VERSION ? rv : `sha256:${createHash("sha256").update(rv).digest("hex")}`;
}

function compactMeta(raw: unknown): CompactMeta {
  const meta = ((raw as { metadata?: Record<string, unknown> })?.metadata ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return {
    name: boundName(text(meta.name)),
    namespace: boundName(text(meta.namespace)),
    resourceVersion: boundResourceVersion(text(meta.resourceVersion)),
  };
}

function describeIssues(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map((p) => boundName(String(p), 63)).join(".") || "(root)"}: ${i.message}`)
    .join("; ");
  return text.length <= 300 ? text : `${text.slice(0, 299)}…`;
}

/** Why a namespace/name is not acceptable as a mirror's source, or undefined. */
function nameProblem(namespace: string, name: string, kind: "Service" | "EndpointSlice"): string | undefined {
  if (!isDns1123Label(namespace)) return `metadata.namespace ${quoteUntrusted(namespace)} is not a DNS-1123 label`;
  if (kind === "Service" && !isDns1035Label(name)) {
    return `metadata.name ${quoteUntrusted(name)} is not a DNS-1035 label (a valid Service name)`;
  }
  if (kind === "EndpointSlice" && !isDns1123Subdomain(name)) {
    return `metadata.name ${quoteUntrusted(name)} is not a DNS-1123 subdomain`;
  }
  return undefined;
}

/** A port of a Service (`port` required) or of an EndpointSlice (`port` optional: all ports), or undefined. */
function readPort(raw: unknown, portRequired: boolean, tally: DropTally): ServicePort | SlicePort | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    tally.add("port");
    return undefined;
  }
  const p = raw as Record<string, unknown>;
  const absent = (v: unknown) => v === undefined || v === null;
  const nameOk = absent(p.name) || p.name === "" || (typeof p.name === "string" && isDns1123Label(p.name));
  const protocolOk = absent(p.protocol) || PROTOCOLS.includes(p.protocol as Protocol);
  const portOk =
    (!portRequired && absent(p.port)) ||
    (typeof p.port === "number" && Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535);
  if (!nameOk || !protocolOk || !portOk) {
    tally.add("port");
    return undefined;
  }
  const port: SlicePort = {};
  if (typeof p.name === "string" && p.name) port.name = p.name;
  if (!absent(p.protocol)) port.protocol = p.protocol as Protocol;
  if (typeof p.port === "number") port.port = p.port;
  if (!absent(p.appProtocol)) {
    if (typeof p.appProtocol === "string" && isQualifiedName(p.appProtocol)) port.appProtocol = p.appProtocol;
    else tally.add("port");
  }
  return port;
}

/**
 * The valid ports of a list, at most MAX_PORTS, names unique. A Service's ports are also unique by port and
 * protocol, and must all be named when there are several (the local API server refuses a Service otherwise).
 */
function readPorts<P extends SlicePort>(raw: unknown[] | null | undefined, service: boolean, tally: DropTally): P[] {
  const list = raw ?? [];
  tally.add("port", list.length - MAX_PORTS);
  const names = new Set<string>();
  const numbers = new Set<string>();
  const ports: P[] = [];
  for (const item of list.slice(0, MAX_PORTS)) {
    const port = readPort(item, service, tally) as P | undefined;
    if (!port) continue;
    const number = `${port.port}/${port.protocol ?? "TCP"}`;
    if (names.has(port.name ?? "") || (service && numbers.has(number))) {
      tally.add("port");
      continue;
    }
    names.add(port.name ?? "");
    numbers.add(number);
    ports.push(port);
  }
  if (service && ports.length > 1) {
    const named = ports.filter((p) => p.name);
    tally.add("port", ports.length - named.length);
    return named;
  }
  return ports;
}

export function toTargetService(raw: unknown): TargetService {
  const parsed = RawServiceSchema.safeParse(raw);
  const invalid = (message: string, reason: "invalid" | "name"): TargetService => ({
    metadata: compactMeta(raw),
    headless: false,
    serviceType: "",
    ports: [],
    invalid: message,
    dropped: { [reason]: 1 },
  });
  if (!parsed.success) return invalid(describeIssues(parsed.error), "invalid");
  const { metadata, spec } = parsed.data;
  const problem = nameProblem(metadata.namespace, metadata.name, "Service");
  if (problem) return invalid(problem, "name");
  const serviceType = spec.type ?? "ClusterIP";
  if (!SERVICE_TYPES.includes(serviceType as (typeof SERVICE_TYPES)[number])) {
    return invalid(`spec.type ${quoteUntrusted(serviceType)} is not a Service type`, "invalid");
  }
  const tally = new DropTally();
  const ports = readPorts<ServicePort>(spec.ports, true, tally);
  const dropped = tally.result();
  return {
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      resourceVersion: boundResourceVersion(metadata.resourceVersion),
    },
    headless: spec.clusterIP === "None",
    serviceType,
    ports,
    ...(dropped ? { dropped } : {}),
  };
}

const ADDRESS_TYPES = ["IPv4", "IPv6", "FQDN"] as const;
export type AddressType = (typeof ADDRESS_TYPES)[number];

const RawSliceSchema = z.object({
  metadata: MetaSchema,
  addressType: z.string(),
  endpoints: z.array(z.unknown()).nullish(),
  ports: z.array(z.unknown()).nullish(),
});

export const ZONE_LABEL = "topology.kubernetes.io/zone";

/**
 * One endpoint, independent of the EndpointSlice API version. The node name is deliberately not kept: a target
 * node's name means nothing here, and a local node of the same name would make kube-proxy treat a remote endpoint
 * as node-local (internalTrafficPolicy: Local). The zone is kept: it is informative and the same in both versions.
 */
export interface MirrorEndpoint {
  addresses: string[];
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  hostname?: string;
  zone?: string;
}

export interface SlicePort {
  name?: string;
  protocol?: Protocol;
  port?: number;
  appProtocol?: string;
}

/** A target EndpointSlice, as the controller keeps it. */
export interface TargetSlice extends KubeObject {
  metadata: CompactMeta;
  /** The Service it belongs to (its `kubernetes.io/service-name` label). */
  service: string;
  /** Its last-change trigger time (RFC 3339, milliseconds), when it states a well-formed one. */
  triggerTime?: string;
  addressType: AddressType;
  ports: SlicePort[];
  endpoints: MirrorEndpoint[];
  invalid?: string;
  /** What was not kept of it, by reason (absent when nothing was dropped). */
  dropped?: Partial<DropCounts>;
}

/** How many addresses an endpoint claims to have (for counting what a cap drops): at least one. */
export function claimedAddresses(raw: unknown): number {
  const addresses = (raw as { addresses?: unknown } | null)?.addresses;
  return Array.isArray(addresses) ? Math.max(1, addresses.length) : 1;
}

/** RFC 6761: every name under `localhost` resolves to the loopback address. */
const isLocalhostName = (name: string): boolean => /(^|\.)localhost\.?$/.test(name);

function addressVerdict(address: unknown, addressType: AddressType): "ok" | DropReason {
  if (typeof address !== "string") return "invalid";
  if (addressType !== "FQDN") return classifyAddress(address, addressType);
  if (!isFqdn(address)) return "invalid";
  return isLocalhostName(address) ? "loopback" : "ok";
}

function keepAddress(address: unknown, addressType: AddressType, tally: DropTally): address is string {
  const verdict = addressVerdict(address, addressType);
  if (verdict === "ok") return true;
  tally.add(verdict);
  return false;
}

const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);

function readEndpoint(raw: unknown, addressType: AddressType, tally: DropTally): MirrorEndpoint | undefined {
  const e = (typeof raw === "object" && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  if (!Array.isArray(e.addresses) || e.addresses.length === 0) {
    tally.add("invalid");
    return undefined;
  }
  tally.add("tooMany", e.addresses.length - MAX_ADDRESSES_PER_ENDPOINT);
  const addresses = (e.addresses.slice(0, MAX_ADDRESSES_PER_ENDPOINT) as unknown[]).filter((a) =>
    keepAddress(a, addressType, tally),
  );
  if (addresses.length === 0) return undefined;
  const endpoint: MirrorEndpoint = { addresses };
  const conditions = typeof e.conditions === "object" && e.conditions !== null ? e.conditions : {};
  const { ready, serving, terminating } = conditions as Record<string, unknown>;
  if (bool(ready) !== undefined) endpoint.ready = bool(ready);
  if (bool(serving) !== undefined) endpoint.serving = bool(serving);
  if (bool(terminating) !== undefined) endpoint.terminating = bool(terminating);
  if (e.hostname !== undefined && e.hostname !== null && e.hostname !== "") {
    if (typeof e.hostname === "string" && isDns1123Label(e.hostname)) endpoint.hostname = e.hostname;
    else tally.add("hostname");
  }
  const topology = typeof e.topology === "object" && e.topology !== null ? e.topology : {};
  // discovery.k8s.io/v1 `zone`, v1beta1 `topology`
  const zone = e.zone ?? (topology as Record<string, unknown>)[ZONE_LABEL];
  if (zone !== undefined && zone !== null && zone !== "") {
    if (typeof zone === "string" && isLabelValue(zone)) endpoint.zone = zone;
    else tally.add("zone");
  }
  return endpoint;
}

/** Reads an EndpointSlice of either API version (v1 `zone`, v1beta1 `topology`). */
export function toTargetSlice(raw: unknown): TargetSlice {
  const parsed = RawSliceSchema.safeParse(raw);
  const invalid = (message: string, reason: "invalid" | "name", service?: string): TargetSlice => {
    const labels = (raw as { metadata?: { labels?: Record<string, unknown> } })?.metadata?.labels;
    const label = labels?.[LABEL_SERVICE_NAME];
    return {
      metadata: compactMeta(raw),
      service: service ?? (typeof label === "string" ? boundName(label, 63) : ""),
      addressType: "IPv4",
      ports: [],
      endpoints: [],
      invalid: message,
      dropped: { [reason]: 1 },
    };
  };
  if (!parsed.success) return invalid(describeIssues(parsed.error), "invalid");
  const { metadata, addressType, endpoints: rawEndpoints, ports: rawPorts } = parsed.data;
  const service = metadata.labels?.[LABEL_SERVICE_NAME] ?? "";
  const problem =
    nameProblem(metadata.namespace, metadata.name, "EndpointSlice") ??
    (isDns1035Label(service)
      ? undefined
      : `label ${LABEL_SERVICE_NAME} ${quoteUntrusted(service)} is not a DNS-1035 label (a valid Service name)`);
  if (problem) return invalid(problem, "name", boundName(service, 63));
  if (!ADDRESS_TYPES.includes(addressType as AddressType)) {
    return invalid(`addressType ${quoteUntrusted(addressType)} is not IPv4, IPv6 or FQDN`, "invalid", service);
  }
  const type = addressType as AddressType;
  const tally = new DropTally();
  const list = rawEndpoints ?? [];
  for (let i = MAX_ENDPOINTS_PER_SLICE; i < list.length; i++) tally.add("tooMany", claimedAddresses(list[i]));
  const endpoints: MirrorEndpoint[] = [];
  for (const item of list.slice(0, MAX_ENDPOINTS_PER_SLICE)) {
    const endpoint = readEndpoint(item, type, tally);
    if (endpoint) endpoints.push(endpoint);
  }
  const ports = readPorts<SlicePort>(rawPorts, false, tally);
  const dropped = tally.result();
  const triggerTime = readTriggerTime(
    (raw as { metadata?: { annotations?: Record<string, unknown> } }).metadata?.annotations?.[
      ANNOTATION_LAST_CHANGE_TRIGGER_TIME
    ],
  );
  return {
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      resourceVersion: boundResourceVersion(metadata.resourceVersion),
    },
    service,
    ...(triggerTime ? { triggerTime } : {}),
    addressType: type,
    ports,
    endpoints,
    ...(dropped ? { dropped } : {}),
  };
}

const TRIGGER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A last-change trigger time as the target states it (RFC 3339, as Go's RFC3339Nano writes it), normalized to
 * milliseconds in UTC; undefined when absent or malformed. Any year parses: what the lag made of it means is the
 * caller's to judge.
 */
export function readTriggerTime(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > 40 || !TRIGGER_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** `namespace/name` of the Service a slice belongs to. */
export function sliceServiceKey(slice: TargetSlice): string {
  return `${slice.metadata.namespace}/${slice.service}`;
}
