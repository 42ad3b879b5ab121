import type { LabelSelector } from "./kube-schemas.ts";

/**
 * Label selector helpers. zonesync's rule differs from Kubernetes' on purpose: an empty or absent selector selects
 * NOTHING (exporting every Service of a cluster must be a deliberate choice, not a forgotten field).
 */

/** True when the selector has no matchLabels and no matchExpressions (so it selects nothing). */
export function selectorIsEmpty(selector: LabelSelector | undefined | null): boolean {
  if (!selector) return true;
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/**
 * The selector in the API server's `labelSelector` query form, e.g. `app=web,tier in (a,b),!legacy`.
 * Deterministic: matchLabels sorted by key, then the expressions in order with their values sorted.
 * Throws for an empty selector (as a query it would select everything, the opposite of its meaning here) and for
 * an In/NotIn requirement without values.
 */
export function labelSelectorToString(selector: LabelSelector | undefined | null): string {
  if (!selector || selectorIsEmpty(selector)) {
    throw new Error("an empty label selector selects nothing in zonesync; check selectorIsEmpty() before listing");
  }
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const sorted = [...values].sort();
    switch (operator) {
      case "In":
      case "NotIn":
        if (sorted.length === 0)
          throw new Error(`label selector requirement "${key} ${operator}" needs at least one value`);
        parts.push(`${key} ${operator === "In" ? "in" : "notin"} (${sorted.join(",")})`);
        break;
      case "Exists":
        parts.push(key);
        break;
      case "DoesNotExist":
        parts.push(`!${key}`);
        break;
    }
  }
  return parts.join(",");
}

/** Whether labels satisfy the selector, with the same rule: an empty selector matches nothing. */
export function selectorMatches(
  selector: LabelSelector | undefined | null,
  labels: Record<string, string> = {},
): boolean {
  if (!selector || selectorIsEmpty(selector)) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case "In":
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key]!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}
