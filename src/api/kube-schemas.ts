import { z } from "zod";

/**
 * Zod schemas of the Kubernetes shapes the zonesync API embeds (names, quantities, label selectors, tolerations,
 * conditions, object metadata). Every field carries a description: they end up in the generated CRD and in
 * chart/values.schema.json.
 */

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label key or other qualified name: optional DNS subdomain prefix and `/`, then a name of at most 63 chars. */
export const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Kubernetes resource.Quantity, the same pattern the API server publishes. */
export const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

export const dnsLabel = () =>
  z
    .string()
    .max(63, "must be at most 63 characters")
    .regex(DNS1123_LABEL, `must be a DNS-1123 label (lower case letters, digits and '-', e.g. "east-1")`);

export const dnsSubdomain = () =>
  z
    .string()
    .max(253, "must be at most 253 characters")
    .regex(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.')");

/** A map of strings (labels, node selectors): `additionalProperties: {type: string}` in the generated schemas. */
export const stringMap = () => z.record(z.string(), z.string());

/** A free-form object the schema does not describe (x-kubernetes-preserve-unknown-fields in the CRD). */
export const freeForm = () => z.record(z.string(), z.unknown()).meta({ "x-kubernetes-preserve-unknown-fields": true });

/** A resource quantity: a number or a string like `100m`, `64Mi`, `1.5`. */
export const quantity = () =>
  z
    .union([z.number().min(0), z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as "100m" or "128Mi"')])
    .meta({ "x-kubernetes-int-or-string": true });

/**
 * `z.object` (unknown keys stripped) or `z.strictObject` (unknown keys rejected): the link spec strips, so an
 * older manager tolerates a newer CRD; chart values reject, so a typo is an error rather than a silent no-op.
 */
export function objectOf<S extends z.ZodRawShape>(shape: S, strict: boolean) {
  return strict ? z.strictObject(shape) : z.object(shape);
}

export const resourceRequirementsSchema = (strict: boolean) => {
  const list = objectOf(
    {
      cpu: quantity().optional().describe('CPU, in cores or millicores (e.g. "100m").'),
      memory: quantity().optional().describe('Memory, in bytes with an optional suffix (e.g. "128Mi").'),
    },
    strict,
  );
  return objectOf(
    {
      requests: list.optional().describe("The resources the scheduler reserves for the container (cpu, memory)."),
      limits: list.optional().describe("The most the container may use (cpu, memory)."),
    },
    strict,
  ).describe("Compute resources of the container (the Kubernetes ResourceRequirements shape, cpu and memory).");
};

export const LabelSelectorRequirementSchema = z
  .object({
    key: z.string().min(1).describe("The label key the requirement applies to."),
    operator: z
      .enum(["In", "NotIn", "Exists", "DoesNotExist"])
      .describe("How the key relates to the values: In, NotIn, Exists or DoesNotExist."),
    values: z
      .array(z.string())
      .optional()
      .describe("Values for In and NotIn (at least one); must be absent or empty for Exists and DoesNotExist."),
  })
  .describe("One label requirement: a key, an operator and (for In/NotIn) values.");

export const LabelSelectorSchema = z
  .object({
    matchLabels: stringMap()
      .optional()
      .describe("Labels an object must carry with exactly these values (each is an `In` requirement with one value)."),
    matchExpressions: z
      .array(LabelSelectorRequirementSchema)
      .optional()
      .describe("Label requirements; all of them must hold (they are ANDed with matchLabels)."),
  })
  .describe("A Kubernetes label selector (matchLabels and matchExpressions, ANDed).");

export const tolerationSchema = (strict: boolean) =>
  objectOf(
    {
      key: z
        .string()
        .optional()
        .describe("The taint key the toleration applies to; empty matches every key (with Exists)."),
      operator: z
        .enum(["Exists", "Equal"])
        .optional()
        .describe("Equal (default) compares the value; Exists matches any value."),
      value: z.string().optional().describe("The taint value to match with operator Equal."),
      effect: z
        .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
        .optional()
        .describe("The taint effect to match; empty matches every effect."),
      tolerationSeconds: z
        .number()
        .int()
        .min(0)
        .max(Number.MAX_SAFE_INTEGER)
        .optional()
        .describe("How long a NoExecute taint is tolerated before eviction; absent means forever."),
    },
    strict,
  ).describe("A Kubernetes pod toleration.");

export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;

export const ConditionSchema = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(QUALIFIED_NAME, "must be a CamelCase or qualified name")
      .describe("The condition type: Ready, CredentialsValid, ControllerReady, Mirrored or TargetReachable."),
    status: z.enum(CONDITION_STATUSES).describe("True, False or Unknown."),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, "must be CamelCase")
      .describe("A CamelCase machine-readable reason for the last transition."),
    message: z.string().max(32768).describe("A human-readable explanation of the condition."),
    lastTransitionTime: z.iso.datetime().describe("When the status last changed (RFC 3339)."),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe("The metadata.generation the condition was computed from."),
  })
  .describe("A standard Kubernetes condition (metav1.Condition).");

/** The metadata fields zonesync reads; other fields pass through untouched. */
export const ObjectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  labels: stringMap().optional(),
  annotations: stringMap().optional(),
  finalizers: z.array(z.string()).optional(),
  deletionTimestamp: z.string().optional(),
  creationTimestamp: z.string().optional(),
});

export type LabelSelector = z.infer<typeof LabelSelectorSchema>;
export type LabelSelectorRequirement = z.infer<typeof LabelSelectorRequirementSchema>;
export type Toleration = z.infer<ReturnType<typeof tolerationSchema>>;
export type ResourceRequirements = z.infer<ReturnType<typeof resourceRequirementsSchema>>;
export type Condition = z.infer<typeof ConditionSchema>;

/**
 * A parse-time error map: a missing required field reads "is required" rather than zod's "expected string,
 * received undefined". Schema-level messages still win.
 */
export const requiredErrorMap: z.core.$ZodErrorMap = (issue) =>
  issue.code === "invalid_type" && issue.input === undefined ? "is required" : undefined;

/** Formats zod issues as `path: message` lines, the path in `a.b[0].c` form. */
export function formatIssues(error: z.ZodError, root = ""): string[] {
  return error.issues.map((issue) => {
    const path = formatPath([...(root ? [root] : []), ...issue.path]);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
