import { z } from "zod";
import { LABEL_SERVICE_NAME } from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";

/**
 * What the link controller keeps of the target cluster's objects. The informers' `transform` turns every Service
 * and EndpointSlice into these compact shapes as soon as it arrives (zod strips every other field), so memory
 * follows what is exported and how many endpoints it has, not the size of the objects or of the cluster.
 * A transform never throws: an object that does not parse is kept with an `invalid` message, and reported.
 */

const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;

const ServicePortSchema = z.object({
  name: z.string().optional(),
  protocol: z.enum(PROTOCOLS).optional(),
  port: z.number().int().min(1).max(65535),
  appProtocol: z.string().optional(),
});
export type ServicePort = z.infer<typeof ServicePortSchema>;

const MetaSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().min(1),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

const RawServiceSchema = z.object({
  metadata: MetaSchema,
  spec: z
    .object({
      type: z.string().optional(),
      clusterIP: z.string().optional(),
      ports: z.array(ServicePortSchema).nullish(),
      selector: z.record(z.string(), z.string()).nullish(),
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
}

function compactMeta(raw: unknown): CompactMeta {
  const meta = ((raw as { metadata?: Record<string, unknown> })?.metadata ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return {
    name: text(meta.name),
    namespace: text(meta.namespace),
    resourceVersion: text(meta.resourceVersion) || undefined,
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

export function toTargetService(raw: unknown): TargetService {
  const parsed = RawServiceSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      metadata: compactMeta(raw),
      headless: false,
      serviceType: "",
      ports: [],
      invalid: describeIssues(parsed.error),
    };
  }
  const { metadata, spec } = parsed.data;
  return {
    metadata: { name: metadata.name, namespace: metadata.namespace, resourceVersion: metadata.resourceVersion },
    headless: spec.clusterIP === "None",
    serviceType: spec.type ?? "ClusterIP",
    ports: spec.ports ?? [],
  };
}

const SlicePortSchema = z.object({
  name: z.string().nullish(),
  protocol: z.enum(PROTOCOLS).nullish(),
  port: z.number().int().nullish(),
  appProtocol: z.string().nullish(),
});

const ConditionsSchema = z
  .object({ ready: z.boolean().nullish(), serving: z.boolean().nullish(), terminating: z.boolean().nullish() })
  .nullish();

const RawEndpointSchema = z.object({
  addresses: z.array(z.string()).min(1),
  conditions: ConditionsSchema,
  hostname: z.string().nullish(),
  /** discovery.k8s.io/v1 */
  zone: z.string().nullish(),
  /** discovery.k8s.io/v1beta1 */
  topology: z.record(z.string(), z.string()).nullish(),
});

const RawSliceSchema = z.object({
  metadata: MetaSchema,
  addressType: z.enum(["IPv4", "IPv6", "FQDN"]),
  endpoints: z.array(RawEndpointSchema).nullish(),
  ports: z.array(SlicePortSchema).nullish(),
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
  protocol?: (typeof PROTOCOLS)[number];
  port?: number;
  appProtocol?: string;
}

/** A target EndpointSlice, as the controller keeps it. */
export interface TargetSlice extends KubeObject {
  metadata: CompactMeta;
  /** The Service it belongs to (its `kubernetes.io/service-name` label). */
  service: string;
  addressType: "IPv4" | "IPv6" | "FQDN";
  ports: SlicePort[];
  endpoints: MirrorEndpoint[];
  invalid?: string;
}

const defined = <T extends object>(obj: T): T =>
  Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null)) as T;

/** Reads an EndpointSlice of either API version (v1 `zone`, v1beta1 `topology`). */
export function toTargetSlice(raw: unknown): TargetSlice {
  const parsed = RawSliceSchema.safeParse(raw);
  if (!parsed.success) {
    const labels = (raw as { metadata?: { labels?: Record<string, string> } })?.metadata?.labels ?? {};
    return {
      metadata: compactMeta(raw),
      service: labels[LABEL_SERVICE_NAME] ?? "",
      addressType: "IPv4",
      ports: [],
      endpoints: [],
      invalid: describeIssues(parsed.error),
    };
  }
  const { metadata, addressType, endpoints, ports } = parsed.data;
  return {
    metadata: { name: metadata.name, namespace: metadata.namespace, resourceVersion: metadata.resourceVersion },
    service: metadata.labels?.[LABEL_SERVICE_NAME] ?? "",
    addressType,
    ports: (ports ?? []).map((p) =>
      defined({
        name: p.name ?? undefined,
        protocol: p.protocol ?? undefined,
        port: p.port ?? undefined,
        appProtocol: p.appProtocol ?? undefined,
      }),
    ),
    endpoints: (endpoints ?? []).map((e) =>
      defined({
        addresses: e.addresses,
        ready: e.conditions?.ready ?? undefined,
        serving: e.conditions?.serving ?? undefined,
        terminating: e.conditions?.terminating ?? undefined,
        hostname: e.hostname ?? undefined,
        zone: e.zone ?? e.topology?.[ZONE_LABEL] ?? undefined,
      }),
    ),
  };
}

/** `namespace/name` of the Service a slice belongs to. */
export function sliceServiceKey(slice: TargetSlice): string {
  return `${slice.metadata.namespace}/${slice.service}`;
}
