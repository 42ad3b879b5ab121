import { canonicalJson } from "../api/render.ts";
import { setCondition, type Condition } from "../kube/conditions.ts";
import type { ExportCondition } from "./resolve.ts";

/**
 * A ServiceExport's conditions with `desired` set (transition times kept where the status did not change; other
 * implementations' condition types kept as they are), and whether that differs from what it holds.
 */
export function mergeExportConditions(
  current: readonly Condition[],
  desired: readonly ExportCondition[],
  now: Date,
  generation?: number,
): { conditions: Condition[]; changed: boolean } {
  const valid = current.filter(
    (c): c is Condition => typeof c.type === "string" && typeof c.status === "string" && typeof c.reason === "string",
  );
  let next: Condition[] = valid.map((c) => ({
    ...c,
    message: c.message ?? "",
    lastTransitionTime: c.lastTransitionTime ?? "",
  }));
  for (const condition of desired) {
    next = setCondition(
      next,
      { ...condition, ...(generation !== undefined ? { observedGeneration: generation } : {}) },
      now,
    );
  }
  return { conditions: next, changed: canonicalJson(next) !== canonicalJson(current) };
}
