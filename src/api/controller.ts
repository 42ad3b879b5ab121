import { z } from "zod";
import { freeForm, objectOf, resourceRequirementsSchema, stringMap, tolerationSchema } from "./kube-schemas.ts";

/**
 * The settings of one link controller Deployment. The same fields appear three times with different rules:
 * - ZoneSyncLink `spec.controller`: every field optional, no defaults (unset fields fall back to the chart's
 *   controllerDefaults), unknown keys stripped (an older manager tolerates a newer CRD);
 * - chart values `controllerDefaults`: every field defaulted, unknown keys rejected;
 * - chart values `controllers[]` entries: every field optional, unknown keys rejected (typos are errors).
 */

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export const LOG_FORMATS = ["json", "text"] as const;
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const MAX_CONTROLLER_REPLICAS = 10;

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];
export type PullPolicy = (typeof PULL_POLICIES)[number];

export const DEFAULT_CONTROLLER_RESOURCES = {
  requests: { cpu: "10m", memory: "64Mi" },
  limits: { memory: "256Mi" },
};

export const replicasSchema = () =>
  z
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .min(0, "must be at least 0")
    .max(MAX_CONTROLLER_REPLICAS, `must be at most ${MAX_CONTROLLER_REPLICAS}`);

export const logLevelSchema = () => z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` });

export const logFormatSchema = () => z.enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(", ")}` });

export const pullPolicySchema = () => z.enum(PULL_POLICIES, { error: `must be one of ${PULL_POLICIES.join(", ")}` });

const minAvailableSchema = () =>
  z
    .union([
      z.number().int().min(0).max(MAX_CONTROLLER_REPLICAS),
      z.string().regex(/^[0-9]+%$/, 'must be an integer or a percentage such as "50%"'),
    ])
    .meta({ "x-kubernetes-int-or-string": true });

/** Every controller setting: its schema (neither optional nor defaulted), its default and its description. */
function controllerFields(strict: boolean) {
  return {
    replicas: {
      schema: replicasSchema(),
      fallback: 1,
      description: `Replicas of the link controller (0 to ${MAX_CONTROLLER_REPLICAS}); one leads (Lease), the others stand by.`,
    },
    logLevel: {
      schema: logLevelSchema(),
      fallback: "info" as const,
      description: "Log level: error, warn, info or debug.",
    },
    logFormat: {
      schema: logFormatSchema(),
      fallback: "json" as const,
      description: "Log format: json (one object per line) or text.",
    },
    resources: {
      schema: resourceRequirementsSchema(strict),
      fallback: DEFAULT_CONTROLLER_RESOURCES,
      description: "Compute resources of the controller container (requests and limits of cpu and memory).",
    },
    nodeSelector: {
      schema: stringMap(),
      fallback: {},
      description: "Node labels the controller pods must be scheduled on.",
    },
    tolerations: {
      schema: z.array(tolerationSchema(strict)),
      fallback: [],
      description: "Tolerations of the controller pods (Kubernetes Toleration objects).",
    },
    affinity: {
      schema: freeForm(),
      fallback: {},
      description: "Affinity of the controller pods, a Kubernetes Affinity object (passed through unchanged).",
    },
    podAntiAffinity: {
      schema: z.boolean(),
      fallback: false,
      description:
        "Prefer spreading the controller's replicas over nodes (a preferred pod anti-affinity on the zonesync.io/link label).",
    },
    podDisruptionBudget: {
      schema: objectOf(
        {
          enabled: z.boolean().optional().describe("Render a PodDisruptionBudget for the controller."),
          minAvailable: minAvailableSchema()
            .optional()
            .describe('Pods that must stay available during voluntary disruptions: a number or a percentage ("50%").'),
        },
        strict,
      ),
      fallback: { enabled: false, minAvailable: 1 },
      description: "PodDisruptionBudget of the controller: enabled and minAvailable.",
    },
    image: {
      schema: objectOf(
        {
          repository: z
            .string()
            .min(1)
            .optional()
            .describe("Image repository; defaults to the chart's image.repository."),
          tag: z
            .string()
            .optional()
            .describe("Image tag; defaults to the chart's image.tag, then to the chart's appVersion."),
          pullPolicy: pullPolicySchema()
            .optional()
            .describe("Image pull policy (Always, IfNotPresent, Never); defaults to the chart's image.pullPolicy."),
        },
        strict,
      ),
      fallback: {},
      description: "Image of the controller container; unset parts fall back to the chart's image values.",
    },
  };
}

type Fields = ReturnType<typeof controllerFields>;

type Field = { schema: z.ZodType; description: string };

function optionalShape<F extends Record<string, Field>>(fields: F): { [K in keyof F]: z.ZodOptional<F[K]["schema"]> } {
  return Object.fromEntries(
    Object.entries(fields).map(([key, f]) => [key, f.schema.optional().describe(f.description)]),
  ) as { [K in keyof F]: z.ZodOptional<F[K]["schema"]> };
}

function defaultedShape(fields: Fields): { [K in keyof Fields]: z.ZodDefault<Fields[K]["schema"]> } {
  return Object.fromEntries(
    Object.entries(fields).map(([key, f]) => [
      key,
      (f.schema as z.ZodType).default(structuredClone(f.fallback)).describe(f.description),
    ]),
  ) as { [K in keyof Fields]: z.ZodDefault<Fields[K]["schema"]> };
}

/**
 * What a link may set of its controller: everything but the image. Whoever may create a ZoneSyncLink must not
 * choose what runs with the link controllers' cluster-wide write permissions: the image comes from the chart's
 * values only (image, controllerDefaults.image, a controllers entry written by GitOps).
 */
function linkControllerFields() {
  const { image: _image, ...fields } = controllerFields(false);
  return fields;
}

/** ZoneSyncLink spec.controller: optional overrides, no defaults, unknown keys (spec.controller.image too) pruned. */
export const LinkControllerSchema = z
  .object(optionalShape(linkControllerFields()))
  .describe(
    "Settings of this link's controller Deployment. Unset fields take the chart's controllerDefaults; " +
      "the manager copies the fields set here into the chart's controllers entry for this link.",
  );

/** Chart values controllerDefaults: every field defaulted, unknown keys rejected. */
export const ControllerDefaultsSchema = z
  .strictObject(defaultedShape(controllerFields(true)))
  .describe("Settings every link controller gets unless its controllers entry overrides them.");

/** The override fields of a chart values controllers entry: optional, unknown keys rejected. */
export const controllerOverridesShape = () => optionalShape(controllerFields(true));

/** The keys of the controller settings a link may set, in a fixed order (used by rendering entries). */
export const LINK_CONTROLLER_SETTING_KEYS = Object.keys(linkControllerFields()) as Array<
  Exclude<keyof Fields, "image">
>;

export type LinkController = z.infer<typeof LinkControllerSchema>;
export type ControllerDefaults = z.output<typeof ControllerDefaultsSchema>;
export type ControllerDefaultsInput = z.input<typeof ControllerDefaultsSchema>;
