import { z } from "zod";
import { LinkControllerSchema } from "./controller.ts";
import { DURATION_PATTERN, parseDuration } from "./duration.ts";
import {
  ConditionSchema,
  dnsLabel,
  dnsSubdomain,
  formatIssues,
  requiredErrorMap,
  LABEL_VALUE,
  LabelSelectorSchema,
  ObjectMetaSchema,
  QUALIFIED_NAME,
  type Condition,
  type LabelSelector,
} from "./kube-schemas.ts";
import { parseCidr } from "./ip.ts";
import { API_VERSION, LINK_KIND } from "./names.ts";

/**
 * The ZoneSyncLink API (zonesync.io/v1alpha1): one resource per linked target cluster, in the source cluster.
 * These zod schemas are the single source of truth; scripts/generate.ts turns them into the CRD.
 */

export { parseDuration, formatDuration } from "./duration.ts";
export { labelSelectorToString, selectorIsEmpty, selectorMatches } from "./selector.ts";
export type { Condition, LabelSelector } from "./kube-schemas.ts";

export const LINK_SHORT_NAME = "zsl";
export const LINK_CATEGORY = "zonesync";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
export const DEFAULT_STALE_AFTER = "2m";
export const MIN_STALE_AFTER_MS = 5_000;
export const DEFAULT_ZONE_SYNC_PORT = 12345;
export const DEFAULT_MAX_SERVICES = 1000;
export const MAX_MAX_SERVICES = 10_000;
export const MAX_EXCLUDE_CIDRS = 64;
/** The characters a CIDR can have (the controller checks the rest: see semanticErrors). */
const CIDR_SHAPE = /^[0-9A-Fa-f:.]+\/[0-9]{1,3}$/;

export const CONDITION_TYPES = ["Ready", "CredentialsValid", "ControllerReady", "Mirrored", "TargetReachable"] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export const LINK_MODES = ["chart", "standalone"] as const;

const ServiceRefSchema = z
  .object({
    namespace: dnsLabel().describe("Namespace of the Service."),
    name: dnsLabel().describe("Name of the Service."),
  })
  .describe("A Service, by namespace and name.");

export const ZoneSyncSchema = z
  .object({
    targetPeerService: ServiceRefSchema.optional().describe(
      "The headless NGINX zone-sync peer Service in the target cluster whose endpoints are mirrored here.",
    ),
    localPeerService: ServiceRefSchema.optional().describe(
      "The local headless zone-sync peer Service the target cluster's peers are added to. Set both peer " +
        "services or neither.",
    ),
    port: z
      .number()
      .int("must be an integer")
      .min(1, "must be between 1 and 65535")
      .max(65535, "must be between 1 and 65535")
      .default(DEFAULT_ZONE_SYNC_PORT)
      .describe(`The NGINX zone-sync port of the peers (1-65535, default ${DEFAULT_ZONE_SYNC_PORT}).`),
  })
  .describe("Mirror the target cluster's NGINX zone-sync peers into the local peer Service.");

export const ZoneSyncLinkSpecSchema = z
  .object({
    targetClusterName: dnsLabel().describe(
      "Name of the target cluster (a DNS-1123 label). Mirrors are named and labelled after it.",
    ),
    targetClusterDomain: dnsSubdomain()
      .default(DEFAULT_CLUSTER_DOMAIN)
      .describe(`DNS domain of the target cluster (default ${DEFAULT_CLUSTER_DOMAIN}).`),
    credentialsSecret: dnsSubdomain().describe(
      "Name of the Secret, in this link's namespace, that holds the kubeconfig for the target cluster.",
    ),
    apiServerAddress: z
      .string()
      .regex(/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an https URL such as "https://10.0.0.1:6443"')
      .optional()
      .describe("The target cluster's API server URL (https); overrides the server in the credentials kubeconfig."),
    insecureSkipTLSVerify: z
      .boolean()
      .default(false)
      .describe(
        "Accept a credentials kubeconfig that skips verifying the target API server's certificate " +
          "(insecure-skip-tls-verify). Off by default; when on, the link shows a Warning condition and check warns.",
      ),
    selector: LabelSelectorSchema.optional().describe(
      "Which Services of the target cluster are exported here. An empty or absent selector selects nothing.",
    ),
    namespaces: z
      .array(dnsLabel())
      .optional()
      .describe("Only mirror Services of these target namespaces (absent: every namespace)."),
    createNamespaces: z
      .boolean()
      .default(false)
      .describe(
        "Create missing local namespaces for mirrors. When false (default), mirrors only go into namespaces " +
          "that already exist locally.",
      ),
    zoneSync: ZoneSyncSchema.optional(),
    serviceExports: z
      .boolean()
      .default(true)
      .describe(
        "Carry the target's Multi-Cluster Services exports (ServiceExport, as its zonesync MCS controller " +
          "publishes them) into this cluster's ServiceImports (default true). Independent of the selector.",
      ),
    staleAfter: z
      .string()
      .regex(DURATION_PATTERN, 'must be a duration such as "30s", "5m" or "1h"')
      .default(DEFAULT_STALE_AFTER)
      .describe(
        `How long the target may be unreachable before its mirrors are reported stale (at least 5s, default ` +
          `${DEFAULT_STALE_AFTER}).`,
      ),
    excludeCIDRs: z
      .array(
        z
          .string()
          .max(49, "must be at most 49 characters")
          .regex(CIDR_SHAPE, 'must be a CIDR such as "10.0.0.0/8" or "fd00::/8"'),
      )
      .max(MAX_EXCLUDE_CIDRS, `must have at most ${MAX_EXCLUDE_CIDRS} entries`)
      .optional()
      .describe(
        "Endpoint addresses of the target in these CIDRs are never mirrored (at most " +
          `${MAX_EXCLUDE_CIDRS}), e.g. this cluster's own pod and Service ranges. Loopback, link-local ` +
          "(incl. 169.254.169.254), unspecified, multicast and broadcast addresses are never mirrored anyway.",
      ),
    mirrorFQDN: z
      .boolean()
      .default(false)
      .describe(
        "Mirror the target's FQDN EndpointSlices (default false). Their addresses are DNS names the target chose, " +
          "which resolve wherever their owner says; only IPv4 and IPv6 slices are mirrored unless this is true.",
      ),
    maxServices: z
      .number()
      .int("must be an integer")
      .min(1, `must be between 1 and ${MAX_MAX_SERVICES}`)
      .max(MAX_MAX_SERVICES, `must be between 1 and ${MAX_MAX_SERVICES}`)
      .default(DEFAULT_MAX_SERVICES)
      .describe(
        `The most exported Services mirrored from the target (1-${MAX_MAX_SERVICES}, default ` +
          `${DEFAULT_MAX_SERVICES}): the first ones by namespace and name; the others are reported, not mirrored.`,
      ),
    controller: LinkControllerSchema.optional(),
  })
  .describe("The target cluster to link, what to mirror from it, and how its link controller runs.");

/** The most name conflicts status.nameConflicts lists, and the longest entry (`<Kind> <namespace>/<name>`). */
export const MAX_NAME_CONFLICTS_LISTED = 20;
const MAX_NAME_CONFLICT_LENGTH = 330;

export const ZoneSyncLinkStatusSchema = z
  .object({
    conditions: z
      .array(ConditionSchema)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
      .describe(
        "Conditions: Ready (all is well), CredentialsValid, ControllerReady, Mirrored, TargetReachable. " +
          "One entry per type.",
      ),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe("The metadata.generation this status was computed from."),
    mode: z
      .enum(LINK_MODES)
      .optional()
      .describe("How the link controller is deployed: chart (an entry of the chart's controllers) or standalone."),
    valuesHash: z
      .string()
      .optional()
      .describe("sha256 of the chart values the manager last applied (identical values are never re-applied)."),
    mirroredServices: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe("Number of Services currently mirrored from the target cluster."),
    mirroredEndpoints: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe("Number of endpoints (addresses) in the mirrored EndpointSlices."),
    droppedFromTarget: z
      .record(z.string(), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
      .optional()
      .describe(
        "What the target cluster holds now that is not mirrored, by reason (loopback, linkLocal, unspecified, " +
          "multicast, broadcast, excluded, wrongFamily, invalid, fqdn, tooMany, hostname, port, zone, name): " +
          "current totals, not a running count; reasons at zero are left out.",
      ),
    nameConflicts: z
      .array(z.string().max(MAX_NAME_CONFLICT_LENGTH))
      .max(MAX_NAME_CONFLICTS_LISTED)
      .optional()
      .describe(
        "Local objects (`<Kind> <namespace>/<name>`) that have a mirror's name but were not created by this link: " +
          `they are left alone and the mirror is not written. At most ${MAX_NAME_CONFLICTS_LISTED} are listed, sorted.`,
      ),
    lastSyncTime: z.iso
      .datetime()
      .optional()
      .describe("When the link controller last completed a sync with the target cluster (RFC 3339)."),
  })
  .describe("Observed state of the link. Deliberately small: counts and bounded lists, not per-service state.");

export const ZoneSyncLinkSchema = z.object({
  apiVersion: z.literal(API_VERSION).optional(),
  kind: z.literal(LINK_KIND).optional(),
  metadata: ObjectMetaSchema.extend({
    name: dnsLabel(),
  }),
  spec: ZoneSyncLinkSpecSchema,
  status: ZoneSyncLinkStatusSchema.optional(),
});

export type ZoneSyncLink = z.output<typeof ZoneSyncLinkSchema>;
export type ZoneSyncLinkInput = z.input<typeof ZoneSyncLinkSchema>;
export type ZoneSyncLinkSpec = z.output<typeof ZoneSyncLinkSpecSchema>;
export type ZoneSyncLinkStatus = z.output<typeof ZoneSyncLinkStatusSchema>;
export type ZoneSync = z.output<typeof ZoneSyncSchema>;
export type TypedCondition = Condition & { type: ConditionType };

export type ParseResult<T, K extends string> = ({ ok: true } & { [P in K]: T }) | { ok: false; errors: string[] };

/**
 * Validates an object as a ZoneSyncLink: the schema, then the rules a CRD schema cannot express. Returns the link
 * with defaults applied, or every problem found as `path: message` (e.g. `spec.staleAfter: must be at least 5s`).
 */
export function parseLink(obj: unknown): ParseResult<ZoneSyncLink, "link"> {
  const result = ZoneSyncLinkSchema.safeParse(obj, { error: requiredErrorMap });
  if (!result.success) return { ok: false, errors: formatIssues(result.error) };
  const errors = semanticErrors(result.data.spec);
  return errors.length ? { ok: false, errors } : { ok: true, link: result.data };
}

/** The rules of a spec that its schema cannot express, as `spec.<path>: message`. */
export function semanticErrors(spec: ZoneSyncLinkSpec): string[] {
  const errors: string[] = [];
  const add = (path: string, message: string) => errors.push(`spec.${path}: ${message}`);

  try {
    if (parseDuration(spec.staleAfter) < MIN_STALE_AFTER_MS)
      add("staleAfter", `must be at least 5s (got "${spec.staleAfter}")`);
  } catch (err) {
    add("staleAfter", (err as Error).message);
  }

  if (spec.apiServerAddress !== undefined) {
    try {
      const url = new URL(spec.apiServerAddress);
      if (url.protocol !== "https:" || !url.hostname) add("apiServerAddress", "must be an https URL with a host");
    } catch {
      add("apiServerAddress", `"${spec.apiServerAddress}" is not a valid URL`);
    }
  }

  if (spec.zoneSync) {
    const { targetPeerService, localPeerService } = spec.zoneSync;
    if (Boolean(targetPeerService) !== Boolean(localPeerService)) {
      add(
        "zoneSync",
        "set both targetPeerService and localPeerService, or neither (peers are mirrored from one into the other)",
      );
    }
  }

  errors.push(...selectorErrors(spec.selector, "spec.selector"));

  const cidrs = new Set<string>();
  spec.excludeCIDRs?.forEach((text, i) => {
    const cidr = parseCidr(text);
    if (typeof cidr === "string") add(`excludeCIDRs[${i}]`, cidr);
    else if (cidrs.has(text)) add(`excludeCIDRs[${i}]`, `duplicate CIDR "${text}"`);
    cidrs.add(text);
  });

  const seen = new Set<string>();
  spec.namespaces?.forEach((ns, i) => {
    if (seen.has(ns)) add(`namespaces[${i}]`, `duplicate namespace "${ns}"`);
    seen.add(ns);
  });
  return errors;
}

/** Label keys and values valid, In/NotIn with values, Exists/DoesNotExist without. */
export function selectorErrors(selector: LabelSelector | undefined, path: string): string[] {
  const errors: string[] = [];
  if (!selector) return errors;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!isLabelKey(key)) errors.push(`${path}.matchLabels: "${key}" is not a valid label key`);
    if (!isLabelValue(value)) errors.push(`${path}.matchLabels.${key}: "${value}" is not a valid label value`);
  }
  selector.matchExpressions?.forEach(({ key, operator, values = [] }, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    if (!isLabelKey(key)) errors.push(`${at}.key: "${key}" is not a valid label key`);
    if ((operator === "In" || operator === "NotIn") && values.length === 0) {
      errors.push(`${at}.values: operator ${operator} needs at least one value`);
    }
    if ((operator === "Exists" || operator === "DoesNotExist") && values.length > 0) {
      errors.push(`${at}.values: must be empty for operator ${operator}`);
    }
    values.forEach((v, j) => {
      if (!isLabelValue(v)) errors.push(`${at}.values[${j}]: "${v}" is not a valid label value`);
    });
  });
  return errors;
}

function isLabelKey(key: string): boolean {
  const name = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key;
  const prefix = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
  return QUALIFIED_NAME.test(key) && name.length <= 63 && prefix.length <= 253;
}

function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** The condition of a type, if the status has it. */
export function findCondition(status: ZoneSyncLinkStatus | undefined, type: ConditionType): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}
