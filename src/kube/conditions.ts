import { z } from "zod";

/** metav1.Condition, the standard status condition of Kubernetes APIs. */
export const conditionSchema = z.object({
  type: z.string().min(1),
  status: z.enum(["True", "False", "Unknown"]),
  observedGeneration: z.number().int().nonnegative().optional(),
  lastTransitionTime: z.string(),
  reason: z.string(),
  message: z.string(),
});
export type Condition = z.infer<typeof conditionSchema>;
export type ConditionStatus = Condition["status"];

/** What a caller sets; the transition time is managed by `setCondition`. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus | boolean;
  reason: string;
  message?: string;
  observedGeneration?: number;
}

/** RFC 3339 without fractions, as the API server writes metav1.Time. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function statusOf(status: ConditionStatus | boolean): ConditionStatus {
  if (status === true) return "True";
  if (status === false) return "False";
  return status;
}

/**
 * Returns a new list with the condition set: replaced in place (keeping its position and, when the status did not
 * change, its lastTransitionTime) or appended. The input list is never modified.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const status = statusOf(update.status);
  const index = list.findIndex((c) => c.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
    lastTransitionTime: existing && existing.status === status ? existing.lastTransitionTime : kubeTime(now),
    reason: update.reason,
    // Never empty: the 1.20 test servers (built with a newer Go) decode an empty string in a patched list as null.
    message: update.message || update.reason,
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === "True";
}

export function isFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === "False";
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** True when both lists say the same, ignoring lastTransitionTime: tells whether a status write is needed. */
export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  return left.every((c) => {
    const other = getCondition(right, c.type);
    return (
      other !== undefined &&
      other.status === c.status &&
      other.reason === c.reason &&
      other.message === c.message &&
      other.observedGeneration === c.observedGeneration
    );
  });
}
