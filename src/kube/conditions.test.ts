import { describe, expect, it } from "vitest";
import {
  conditionSchema,
  conditionsEqual,
  getCondition,
  isFalse,
  isTrue,
  kubeTime,
  removeCondition,
  setCondition,
  type Condition,
} from "./conditions.ts";

const t1 = new Date("2024-01-01T10:00:00.123Z");
const t2 = new Date("2024-01-01T11:00:00Z");

describe("conditions", () => {
  it("appends a new condition with the transition time", () => {
    const list = setCondition(undefined, { type: "Ready", status: true, reason: "Synced", observedGeneration: 3 }, t1);
    expect(list).toEqual([
      {
        type: "Ready",
        status: "True",
        observedGeneration: 3,
        lastTransitionTime: "2024-01-01T10:00:00Z",
        reason: "Synced",
        // No message given: the reason stands in (an empty message is stored as null by the 1.20 test servers).
        message: "Synced",
      },
    ]);
    expect(conditionSchema.array().parse(list)).toEqual(list);
  });

  it("keeps lastTransitionTime when the status stays, and moves it when it changes", () => {
    const first = setCondition([], { type: "Ready", status: "True", reason: "Synced", message: "ok" }, t1);
    const same = setCondition(first, { type: "Ready", status: "True", reason: "StillSynced", message: "fine" }, t2);
    expect(same[0]).toMatchObject({ lastTransitionTime: kubeTime(t1), reason: "StillSynced", message: "fine" });
    const changed = setCondition(same, { type: "Ready", status: false, reason: "Broken" }, t2);
    expect(changed[0]).toMatchObject({ status: "False", lastTransitionTime: kubeTime(t2), reason: "Broken" });
  });

  it("replaces in place, keeps other conditions and never mutates the input", () => {
    const base: Condition[] = [
      { type: "A", status: "True", lastTransitionTime: kubeTime(t1), reason: "R", message: "" },
      { type: "B", status: "False", lastTransitionTime: kubeTime(t1), reason: "R", message: "" },
    ];
    const frozen = structuredClone(base);
    const next = setCondition(base, { type: "A", status: "Unknown", reason: "Lost" }, t2);
    expect(base).toEqual(frozen);
    expect(next.map((c) => c.type)).toEqual(["A", "B"]);
    expect(getCondition(next, "A")?.status).toBe("Unknown");
    expect(isTrue(next, "A")).toBe(false);
    expect(isFalse(next, "B")).toBe(true);
    expect(isTrue(next, "Missing")).toBe(false);
    expect(removeCondition(next, "A").map((c) => c.type)).toEqual(["B"]);
  });

  it("compares lists ignoring transition times", () => {
    const a = setCondition([], { type: "Ready", status: true, reason: "Synced" }, t1);
    const b = setCondition([], { type: "Ready", status: true, reason: "Synced" }, t2);
    expect(conditionsEqual(a, b)).toBe(true);
    expect(conditionsEqual(a, setCondition(b, { type: "Ready", status: true, reason: "Other" }, t2))).toBe(false);
    expect(conditionsEqual(a, [])).toBe(false);
    expect(conditionsEqual(undefined, [])).toBe(true);
  });
});
