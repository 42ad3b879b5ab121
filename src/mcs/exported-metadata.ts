import { isLabelValue, isQualifiedName } from "../mirror/identifiers.ts";

/**
 * A ServiceExport's `spec.exportedLabels` and `spec.exportedAnnotations`: put on the ServiceImport in every cluster
 * of the clusterset (KEP-1645 "Labels and annotations"). They come from other clusters, so they are untrusted: only
 * well-formed keys, never in a namespace Kubernetes, the MCS API or zonesync reserve (they would pose as the import's
 * own bookkeeping or as another controller's), at most MAX_EXPORTED_ENTRIES of each, values bounded.
 */
export const MAX_EXPORTED_ENTRIES = 32;
export const MAX_EXPORTED_ANNOTATION_BYTES = 1024;

const RESERVED_PREFIXES = ["kubernetes.io", "k8s.io", "x-k8s.io", "zonesync.io"];

export type ExportedKind = "label" | "annotation";

/** Whether `key` is in a prefix reserved by Kubernetes, the MCS API or zonesync (the prefix or any subdomain of it). */
export function isReservedKey(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return false;
  const prefix = key.slice(0, slash).toLowerCase();
  return RESERVED_PREFIXES.some((reserved) => prefix === reserved || prefix.endsWith(`.${reserved}`));
}

/** The acceptable entries of `raw` (anything), sorted by key, and how many were left out. */
export function exportedEntries(
  raw: unknown,
  kind: ExportedKind,
): { entries: Record<string, string>; ignored: number } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { entries: {}, ignored: 0 };
  const all = Object.entries(raw as Record<string, unknown>);
  const kept = all
    .filter(([key, value]) => typeof value === "string" && isQualifiedName(key) && !isReservedKey(key))
    .filter(([, value]) =>
      kind === "label"
        ? isLabelValue(value as string)
        : Buffer.byteLength(value as string) <= MAX_EXPORTED_ANNOTATION_BYTES,
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_EXPORTED_ENTRIES);
  return { entries: Object.fromEntries(kept) as Record<string, string>, ignored: all.length - kept.length };
}

/** Whether two entry sets are the same (order does not matter). */
export function sameEntries(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
