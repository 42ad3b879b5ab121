import { createHash } from "node:crypto";
import { LINK_CONTROLLER_SETTING_KEYS, type ControllerDefaults } from "./controller.ts";
import type { ZoneSyncLink } from "./link.ts";
import { credentialsSecretName, DEFAULT_IMAGE_REPOSITORY } from "./names.ts";
import type { ControllerEntry, ImageValues } from "./values.ts";
import { VERSION } from "../version.ts";

/**
 * ZoneSyncLinks → the chart's `controllers:` values, and the hashes that decide whether anything changed.
 * Pure and deterministic: the same links give byte-identical values and the same hash.
 */

/** A controllers entry with every setting resolved (what the chart's template computes for the Deployment). */
export interface EffectiveController {
  name: string;
  credentialsSecret: string;
  replicas: number;
  logLevel: ControllerDefaults["logLevel"];
  logFormat: ControllerDefaults["logFormat"];
  resources: ControllerDefaults["resources"];
  nodeSelector: Record<string, string>;
  tolerations: ControllerDefaults["tolerations"];
  affinity: Record<string, unknown>;
  podAntiAffinity: boolean;
  podDisruptionBudget: { enabled: boolean; minAvailable: number | string };
  image: { repository: string; tag: string; pullPolicy: ImageValues["pullPolicy"] };
}

/**
 * One controllers entry per link, sorted by name: the link name, its credentials Secret, and only the
 * spec.controller fields the user set (so the chart's controllerDefaults still apply to the rest). Links being
 * deleted are included: their controller must keep running until it has removed its mirrors (finalizer).
 */
export function renderControllerEntries(links: readonly ZoneSyncLink[]): ControllerEntry[] {
  return links
    .map((link): ControllerEntry => {
      const entry: ControllerEntry = { name: link.metadata.name, credentialsSecret: link.spec.credentialsSecret };
      const controller = link.spec.controller ?? {};
      for (const key of LINK_CONTROLLER_SETTING_KEYS) {
        const value = controller[key];
        if (value !== undefined) Object.assign(entry, { [key]: structuredClone(value) });
      }
      return pruneUndefined(entry);
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The chart values with `controllers` replaced by `entries`; every other key of `base` is kept (deep-copied, base
 * is not modified). The manager owns the controllers list of the release it upgrades.
 */
export function mergeControllersIntoValues<T extends object>(
  base: T,
  entries: readonly ControllerEntry[],
): Omit<T, "controllers"> & { controllers: ControllerEntry[] } {
  return { ...structuredClone(base), controllers: structuredClone([...entries]) };
}

export const DEFAULT_IMAGE_VALUES: ImageValues = {
  repository: DEFAULT_IMAGE_REPOSITORY,
  tag: "",
  pullPolicy: "IfNotPresent",
};

/**
 * Resolves an entry against the defaults, field by field, exactly as the chart's `zonesync.controller.effective`
 * template does: a set entry field replaces the default entirely, except podDisruptionBudget and image, which
 * merge key by key (image: entry, then controllerDefaults.image, then the chart's image values; an empty tag
 * means the chart's appVersion, which is the package version).
 */
export function effectiveController(
  entry: ControllerEntry,
  defaults: ControllerDefaults,
  image: ImageValues = DEFAULT_IMAGE_VALUES,
  appVersion: string = VERSION,
): EffectiveController {
  const pick = <K extends keyof ControllerDefaults>(key: K): ControllerDefaults[K] =>
    structuredClone((entry[key] ?? defaults[key]) as ControllerDefaults[K]);
  const pdb = { ...defaults.podDisruptionBudget, ...pruneUndefined(entry.podDisruptionBudget ?? {}) };
  const img = { ...image, ...pruneUndefined(defaults.image), ...pruneUndefined(entry.image ?? {}) };
  return {
    name: entry.name,
    credentialsSecret: entry.credentialsSecret ?? credentialsSecretName(entry.name),
    replicas: pick("replicas"),
    logLevel: pick("logLevel"),
    logFormat: pick("logFormat"),
    resources: pick("resources"),
    nodeSelector: pick("nodeSelector"),
    tolerations: pick("tolerations"),
    affinity: pick("affinity"),
    podAntiAffinity: pick("podAntiAffinity"),
    podDisruptionBudget: { enabled: pdb.enabled ?? false, minAvailable: pdb.minAvailable ?? 1 },
    image: { repository: img.repository, tag: img.tag || appVersion, pullPolicy: img.pullPolicy },
  };
}

/**
 * JSON with object keys sorted at every level and no whitespace, byte-compatible with Go's encoding/json (which
 * Helm's `toJson` uses: sorted map keys, `<`, `>`, `&`, U+2028 and U+2029 escaped). `undefined` object members are
 * dropped as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return escapeLikeGo(serialize(value) ?? "null");
}

/** sha256 hex of the canonical JSON: semantically equal values (any key order) hash equal. */
export function valuesHash(values: unknown): string {
  return createHash("sha256").update(canonicalJson(values)).digest("hex");
}

/** The `zonesync.io/values-checksum` pod annotation the chart puts on an entry's pods: sha256 of its settings. */
export function controllerChecksum(effective: EffectiveController): string {
  return valuesHash(effective);
}

/** Like JSON.stringify, with object keys in byte order at every level (JS objects put integer-like keys first). */
function serialize(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => serialize(v) ?? "null").join(",")}]`;
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === "function") return serialize(withToJson.toJSON());
  const members: string[] = [];
  for (const key of Object.keys(value).sort(compareUtf16)) {
    const v = serialize((value as Record<string, unknown>)[key]);
    if (v !== undefined) members.push(`${JSON.stringify(key)}:${v}`);
  }
  return `{${members.join(",")}}`;
}

/** Go sorts map keys by bytes; for the keys we meet (ASCII) that equals UTF-16 code unit order. */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function escapeLikeGo(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function pruneUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
