import { z } from "zod";
import { LINK_CATEGORY, LINK_SHORT_NAME, ZoneSyncLinkSpecSchema, ZoneSyncLinkStatusSchema } from "../src/api/link.ts";
import { CRD_NAME, GROUP, LINK_KIND, LINK_PLURAL, VERSION } from "../src/api/names.ts";
import { ChartValuesSchema } from "../src/api/values.ts";
import {
  MCS_GROUP,
  MCS_VERSION,
  SERVICE_EXPORT_KIND,
  ServiceExportSpecSchema,
  SERVICE_EXPORT_PLURAL,
  SERVICE_IMPORT_KIND,
  SERVICE_IMPORT_PLURAL,
  ServiceExportStatusSchema,
  ServiceImportSpecSchema,
  ServiceImportStatusSchema,
} from "../src/mcs/api.ts";

/**
 * Converts the zod schemas of src/api into the two generated artifacts: the ZoneSyncLink CRD (OpenAPI v3,
 * structural, as the API server requires) and chart/values.schema.json (JSON Schema draft-07, as Helm validates).
 */

type JsonSchema = Record<string, unknown>;

const INT_OR_STRING = "x-kubernetes-int-or-string";
const PRESERVE_UNKNOWN = "x-kubernetes-preserve-unknown-fields";

/** The structural OpenAPI v3 schema of a zod schema, for a CRD version's openAPIV3Schema. */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "input", target: "openapi-3.0", unrepresentable: "throw" }) as JsonSchema;
  return structural(json);
}

function structural(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "$schema":
      case "propertyNames":
        break;
      case "properties":
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, JsonSchema>).map(([name, prop]) => [name, structural(prop)]),
        );
        break;
      case "items":
        out.items = structural(value as JsonSchema);
        break;
      case "additionalProperties":
        // `false` is the API server's default (pruning); `{}` means free-form, which preserve-unknown-fields says.
        if (value === false) break;
        if (isEmptyObject(value)) out[PRESERVE_UNKNOWN] = true;
        else out.additionalProperties = structural(value as JsonSchema);
        break;
      default:
        out[key] = value;
    }
  }
  if (out[INT_OR_STRING]) return intOrString(out);
  if (out.type === "integer" && out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  if (out.type === "integer" && out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.format === "date-time") delete out.pattern; // zod's RFC 3339 regex; the format says it
  if (out[PRESERVE_UNKNOWN]) out.type = "object";
  return ordered(out);
}

const KEY_ORDER = ["description", "type", "format", "default", "enum"];
const LAST_KEYS = ["properties", "required", "additionalProperties", "items"];

/** Description and type first, nested schemas last: the generated YAML reads top-down. */
function ordered(node: JsonSchema): JsonSchema {
  const rank = (key: string) => {
    const first = KEY_ORDER.indexOf(key);
    if (first >= 0) return first;
    const last = LAST_KEYS.indexOf(key);
    return last >= 0 ? 100 + last : 50;
  };
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => rank(a) - rank(b)));
}

/**
 * `anyOf: [number, string]` becomes the only junctor form the API server accepts for int-or-string fields:
 * `anyOf: [{type: integer}, {type: string}]` with the value validations (pattern, bounds) beside it.
 */
function intOrString(node: JsonSchema): JsonSchema {
  const { anyOf, ...rest } = node as JsonSchema & { anyOf?: JsonSchema[] };
  if (!Array.isArray(anyOf)) throw new Error(`${INT_OR_STRING} needs an anyOf of a number and a string`);
  const out: JsonSchema = { ...rest, anyOf: [{ type: "integer" }, { type: "string" }] };
  delete out.type;
  for (const branch of anyOf) {
    for (const key of ["pattern", "minimum", "maximum"]) {
      if (branch[key] !== undefined) out[key] = branch[key];
    }
  }
  return ordered(out);
}

/** The fields every object's schema starts with. */
const OBJECT_HEAD = {
  apiVersion: {
    description: "APIVersion defines the versioned schema of this representation of an object.",
    type: "string",
  },
  kind: {
    description: "Kind is a string value representing the REST resource this object represents.",
    type: "string",
  },
  metadata: { type: "object" },
};

/** The ZoneSyncLink CustomResourceDefinition (apiextensions.k8s.io/v1). */
export function linkCrd(): JsonSchema {
  const spec = toStructuralSchema(ZoneSyncLinkSpecSchema);
  const status = toStructuralSchema(ZoneSyncLinkStatusSchema);
  const openAPIV3Schema = {
    description:
      "ZoneSyncLink links this cluster to one target cluster: the manager deploys a link controller for it, " +
      "which mirrors the target's selected Services, their endpoints and its NGINX zone-sync peers into this " +
      "cluster.",
    type: "object",
    required: ["spec"],
    properties: { ...OBJECT_HEAD, spec, status },
  };
  const missing = undescribedPaths(openAPIV3Schema).filter((p) => p !== ".metadata");
  if (missing.length) throw new Error(`CRD fields without a description (add .describe()): ${missing.join(", ")}`);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      names: {
        kind: LINK_KIND,
        listKind: `${LINK_KIND}List`,
        plural: LINK_PLURAL,
        singular: LINK_KIND.toLowerCase(),
        shortNames: [LINK_SHORT_NAME],
        categories: [LINK_CATEGORY],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Target", type: "string", jsonPath: ".spec.targetClusterName", description: "Target cluster" },
            { name: "Mode", type: "string", jsonPath: ".status.mode", description: "chart or standalone" },
            {
              name: "Ready",
              type: "string",
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
              description: "The Ready condition",
            },
            {
              name: "Mirrored",
              type: "integer",
              jsonPath: ".status.mirroredServices",
              description: "Mirrored Services",
            },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

function mcsCrd(options: {
  kind: string;
  plural: string;
  shortName: string;
  description: string;
  properties: Record<string, JsonSchema>;
  required?: string[];
  printerColumns: JsonSchema[];
}): JsonSchema {
  const openAPIV3Schema = {
    description: options.description,
    type: "object",
    ...(options.required ? { required: options.required } : {}),
    properties: { ...OBJECT_HEAD, ...options.properties },
  };
  const missing = undescribedPaths(openAPIV3Schema).filter((p) => p !== ".metadata");
  if (missing.length) throw new Error(`CRD fields without a description (add .describe()): ${missing.join(", ")}`);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${options.plural}.${MCS_GROUP}` },
    spec: {
      group: MCS_GROUP,
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular: options.kind.toLowerCase(),
        shortNames: [options.shortName],
      },
      scope: "Namespaced",
      versions: [
        {
          name: MCS_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            ...options.printerColumns,
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

/** The Multi-Cluster Services API CRDs (KEP-1645), ServiceExport and ServiceImport, from src/mcs/api.ts. */
export function mcsCrds(): { serviceExport: JsonSchema; serviceImport: JsonSchema } {
  return {
    serviceExport: mcsCrd({
      kind: SERVICE_EXPORT_KIND,
      plural: SERVICE_EXPORT_PLURAL,
      shortName: "svcex",
      description:
        "ServiceExport declares that the Service with the same name and namespace as this export should be " +
        "consumable from other clusters.",
      properties: {
        spec: toStructuralSchema(ServiceExportSpecSchema),
        status: toStructuralSchema(ServiceExportStatusSchema),
      },
      printerColumns: [
        {
          name: "Valid",
          type: "string",
          jsonPath: '.status.conditions[?(@.type=="Valid")].status',
          description: "The Valid condition",
        },
        {
          name: "Conflict",
          type: "string",
          jsonPath: '.status.conditions[?(@.type=="Conflict")].status',
          description: "The Conflict condition",
        },
      ],
    }),
    serviceImport: mcsCrd({
      kind: SERVICE_IMPORT_KIND,
      plural: SERVICE_IMPORT_PLURAL,
      shortName: "svcim",
      description: "ServiceImport describes a service imported from clusters in a ClusterSet.",
      required: ["spec"],
      properties: {
        spec: toStructuralSchema(ServiceImportSpecSchema),
        status: toStructuralSchema(ServiceImportStatusSchema),
      },
      printerColumns: [
        { name: "Type", type: "string", jsonPath: ".spec.type", description: "ClusterSetIP or Headless" },
        { name: "IP", type: "string", jsonPath: ".spec.ips", description: "The clusterset IPs" },
      ],
    }),
  };
}

/** chart/values.schema.json: draft-07, strict objects, no Kubernetes extensions. */
export function valuesJsonSchema(): JsonSchema {
  const json = z.toJSONSchema(ChartValuesSchema, {
    io: "input",
    target: "draft-07",
    unrepresentable: "throw",
  }) as JsonSchema;
  const cleaned = helmSchema(json);
  const missing = undescribedPaths(cleaned);
  if (missing.length) throw new Error(`values without a description (add .describe()): ${missing.join(", ")}`);
  return {
    $schema: cleaned.$schema,
    title: "zonesync chart values",
    ...Object.fromEntries(Object.entries(cleaned).filter(([k]) => k !== "$schema")),
  };
}

function helmSchema(node: unknown): JsonSchema {
  if (Array.isArray(node)) return node.map(helmSchema) as unknown as JsonSchema;
  if (node === null || typeof node !== "object") return node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-kubernetes-") || key === "propertyNames") continue;
    if (key === "additionalProperties" && isEmptyObject(value)) continue; // {} allows anything: say nothing
    if (key === "default") {
      // scalar defaults document the field; object defaults repeat what values.yaml already shows
      if (value === null || typeof value !== "object") out[key] = value;
    } else if (key === "enum" || key === "required") out[key] = value;
    else out[key] = helmSchema(value);
  }
  return ordered(out);
}

/** JSON paths (`.spec.selector`) of properties without a description. */
export function undescribedPaths(node: JsonSchema, path = ""): string[] {
  const out: string[] = [];
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  for (const [name, prop] of Object.entries(properties ?? {})) {
    const at = `${path}.${name}`;
    if (typeof prop.description !== "string" || !prop.description) out.push(at);
    out.push(...undescribedPaths(prop, at));
  }
  const items = node.items as JsonSchema | undefined;
  if (items) out.push(...undescribedPaths(items, `${path}[]`));
  return out;
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;
}
