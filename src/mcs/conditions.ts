import { canonicalJson } from "../api/render.ts";
import { setCondition, type Condition } from "../kube/conditions.ts";
import type { ExportCondition, ExportConditionType } from "./resolve.ts";

/** The condition types this implementation keeps on a ServiceExport. */
const OURS: ReadonlySet<string> = new Set<ExportConditionType>(["Valid", "Ready", "Conflict"]);

/**
 * A ServiceExport's conditions with `desired` set: transition times kept where the status did not change, a type of
 * ours that `desired` leaves out removed (Conflict on an export that became invalid), other implementations'
 * condition types kept as they are. Also says whether that differs from what it holds.
 */
export function mergeExportConditions(
  current: readonly Condition[],
  desired: readonly ExportCondition[],
  now: Date,
  generation?: number,
): { conditions: Condition[]; changed: boolean } {
  const wanted = new Set<string>(desired.map((c) => c.type));
  let next = current.filter((c) => !OURS.has(c.type) || wanted.has(c.type));
  for (const condition of desired) {
    const kept = next.find((c) => c.type === condition.type)?.observedGeneration;
    const observedGeneration = generation ?? kept;
    next = setCondition(
      next,
      { ...condition, ...(observedGeneration !== undefined ? { observedGeneration } : {}) },
      now,
    );
  }
  return { conditions: next, changed: canonicalJson(next) !== canonicalJson(current) };
}
