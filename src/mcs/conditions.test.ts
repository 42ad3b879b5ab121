import { describe, expect, it } from "vitest";
import type { Condition } from "../kube/conditions.ts";
import { mergeExportConditions } from "./conditions.ts";
import type { ExportCondition } from "./resolve.ts";

const EARLIER = "2024-05-01T10:00:00Z";
const NOW = new Date("2024-05-02T08:30:00.250Z");
/** NOW as the API server writes metav1.Time: no fractions. */
const NOW_TEXT = "2024-05-02T08:30:00Z";

const VALID: ExportCondition = {
  type: "Valid",
  status: "True",
  reason: "Valid",
  message: "The Service can be exported.",
};
const READY: ExportCondition = {
  type: "Ready",
  status: "True",
  reason: "Exported",
  message: "The service is imported from 1 cluster of the clusterset.",
};
const NO_CONFLICT: ExportCondition = {
  type: "Conflict",
  status: "False",
  reason: "NoConflicts",
  message: "The exports of this service agree.",
};
const NO_SERVICE: ExportCondition = {
  type: "Valid",
  status: "False",
  reason: "NoService",
  message: "The Service to export does not exist.",
};
const FAILED: ExportCondition = {
  type: "Ready",
  status: "False",
  reason: "Failed",
  message: "Not exported: the ServiceExport is not valid (NoService).",
};

/** A condition as the ServiceExport holds it. */
function held(
  c: ExportCondition | Omit<Condition, "lastTransitionTime">,
  at = EARLIER,
  generation?: number,
): Condition {
  return { ...c, lastTransitionTime: at, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
}

describe("mergeExportConditions", () => {
  it("adds every condition to an empty list, at the current time, with the generation observed", () => {
    const result = mergeExportConditions([], [VALID, READY, NO_CONFLICT], NOW, 4);
    expect(result).toEqual({
      conditions: [held(VALID, NOW_TEXT, 4), held(READY, NOW_TEXT, 4), held(NO_CONFLICT, NOW_TEXT, 4)],
      changed: true,
    });
  });

  it("is unchanged when the export already holds exactly that", () => {
    const current = [held(VALID, EARLIER, 4), held(READY, EARLIER, 4), held(NO_CONFLICT, EARLIER, 4)];
    const result = mergeExportConditions(current, [VALID, READY, NO_CONFLICT], NOW, 4);
    expect(result.changed).toBe(false);
    expect(result.conditions).toEqual(current);
  });

  it("keeps the transition time when the status stays, taking the new reason and message", () => {
    const current = [held(VALID, EARLIER, 4), held(READY, EARLIER, 4), held(NO_CONFLICT, EARLIER, 4)];
    const ready2 = { ...READY, message: "The service is imported from 2 clusters of the clusterset." };
    const result = mergeExportConditions(current, [VALID, ready2, NO_CONFLICT], NOW, 4);
    expect(result.changed).toBe(true);
    expect(result.conditions[1]).toEqual(held(ready2, EARLIER, 4));
  });

  it("takes a new transition time when the status changes", () => {
    const current = [held(VALID, EARLIER, 4), held(READY, EARLIER, 4), held(NO_CONFLICT, EARLIER, 4)];
    const conflict: ExportCondition = {
      type: "Conflict",
      status: "True",
      reason: "TypeConflict",
      message:
        'Conflicting type: using "Headless" from the oldest export that sets it, in cluster "a"; 1/2 clusters disagree.',
    };
    const result = mergeExportConditions(current, [VALID, READY, conflict], NOW, 4);
    expect(result.changed).toBe(true);
    expect(result.conditions).toEqual([held(VALID, EARLIER, 4), held(READY, EARLIER, 4), held(conflict, NOW_TEXT, 4)]);
  });

  it("observes a new generation without moving transition times", () => {
    const current = [held(VALID, EARLIER, 4), held(READY, EARLIER, 4), held(NO_CONFLICT, EARLIER, 4)];
    const result = mergeExportConditions(current, [VALID, READY, NO_CONFLICT], NOW, 5);
    expect(result.changed).toBe(true);
    expect(result.conditions).toEqual([
      held(VALID, EARLIER, 5),
      held(READY, EARLIER, 5),
      held(NO_CONFLICT, EARLIER, 5),
    ]);
  });

  it("keeps the observedGeneration a condition holds when no generation is given", () => {
    const result = mergeExportConditions([held(VALID, EARLIER, 4)], [VALID], NOW);
    expect(result.conditions).toEqual([held(VALID, EARLIER, 4)]);
    expect(result.changed).toBe(false);
    expect(mergeExportConditions([held(VALID)], [VALID], NOW).changed).toBe(false);
  });

  it("keeps other implementations' condition types as they are, in place", () => {
    const foreign = held({ type: "example.com/Synced", status: "True", reason: "Synced", message: "ok" }, EARLIER, 1);
    const current = [held(VALID, EARLIER, 4), foreign, held(READY, EARLIER, 4)];
    const result = mergeExportConditions(current, [VALID, READY, NO_CONFLICT], NOW, 4);
    expect(result.conditions).toEqual([
      held(VALID, EARLIER, 4),
      foreign,
      held(READY, EARLIER, 4),
      held(NO_CONFLICT, NOW_TEXT, 4),
    ]);
    expect(result.changed).toBe(true);
    // With nothing of ours to change, a foreign condition alone changes nothing.
    const settled = [...current, held(NO_CONFLICT, EARLIER, 4)];
    expect(mergeExportConditions(settled, [VALID, READY, NO_CONFLICT], NOW, 4)).toEqual({
      conditions: settled,
      changed: false,
    });
  });

  it("does not modify its input", () => {
    const current = [held(VALID, EARLIER, 4), held(READY, EARLIER, 4)];
    const copy = structuredClone(current);
    const desired = [NO_SERVICE, FAILED];
    mergeExportConditions(current, desired, NOW, 5);
    expect(current).toEqual(copy);
    expect(desired).toEqual([NO_SERVICE, FAILED]);
  });

  it("fills in an empty message with the reason (never empty on the wire)", () => {
    const result = mergeExportConditions([], [{ ...VALID, message: "" }], NOW, 1);
    expect(result.conditions[0]!.message).toBe("Valid");
  });

  it("marks an export that became invalid", () => {
    const current = [held(VALID, EARLIER, 4), held(READY, EARLIER, 4)];
    const result = mergeExportConditions(current, [NO_SERVICE, FAILED], NOW, 4);
    expect(result.changed).toBe(true);
    expect(result.conditions).toEqual([held(NO_SERVICE, NOW_TEXT, 4), held(FAILED, NOW_TEXT, 4)]);
  });

  // Regression (found in review; fixed): (conditions.ts mergeExportConditions): resolveImport documents that "a condition type missing from a list
  // (Conflict on an invalid export) should be removed", but mergeExportConditions only sets the desired conditions
  // and keeps every other type, its own included. An export that was valid (Valid, Ready, Conflict) and becomes
  // invalid (its Service deleted: desired Valid=False, Ready=False, no Conflict) keeps a stale Conflict condition
  // (here Conflict=False NoConflicts; it could as well be a stale Conflict=True). Only foreign types should be kept.
  it("removes a Conflict condition of ours when the export becomes invalid", () => {
    const current = [held(VALID, EARLIER, 4), held(READY, EARLIER, 4), held(NO_CONFLICT, EARLIER, 4)];
    const result = mergeExportConditions(current, [NO_SERVICE, FAILED], NOW, 5);
    expect(result.conditions).toEqual([held(NO_SERVICE, NOW_TEXT, 5), held(FAILED, NOW_TEXT, 5)]);
  });
});
