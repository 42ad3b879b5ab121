import { describe, expect, it } from "vitest";
import { mergeStatus, statusUnchanged } from "./status.ts";

const now = new Date("2030-01-01T00:00:00Z");

const link = {
  metadata: { resourceVersion: "5", generation: 3 },
  status: {
    conditions: [
      { type: "Ready", status: "True", reason: "Ok", message: "manager", lastTransitionTime: "2029-01-01T00:00:00Z" },
      {
        type: "Mirrored",
        status: "True",
        reason: "Synced",
        message: "x",
        lastTransitionTime: "2029-01-01T00:00:00Z",
        observedGeneration: 3,
      },
    ],
    mirroredServices: 2,
  },
};

describe("link status", () => {
  it("sets only the controller's condition types and keeps the manager's", () => {
    const next = mergeStatus(
      link,
      {
        conditions: { TargetReachable: { status: false, reason: "Unreachable", message: "down" } },
        mirroredServices: 2,
      },
      now,
    );
    expect(next.conditions.map((c) => c.type)).toEqual(["Ready", "Mirrored", "TargetReachable"]);
    expect(next.conditions[0]).toEqual(link.status.conditions[0]);
    expect(next.conditions[2]).toMatchObject({
      status: "False",
      observedGeneration: 3,
      lastTransitionTime: "2030-01-01T00:00:00Z",
    });
  });

  it("keeps the transition time when the status does not change", () => {
    const next = mergeStatus(link, { conditions: { Mirrored: { status: true, reason: "Synced", message: "y" } } }, now);
    expect(next.conditions[1]!.lastTransitionTime).toBe("2029-01-01T00:00:00Z");
  });

  it("tells when a write would change nothing", () => {
    const same = mergeStatus(
      link,
      { conditions: { Mirrored: { status: true, reason: "Synced", message: "x" } }, mirroredServices: 2 },
      now,
    );
    expect(statusUnchanged(link, same)).toBe(true);
    const counts = mergeStatus(link, { conditions: {}, mirroredServices: 3 }, now);
    expect(statusUnchanged(link, counts)).toBe(false);
  });

  it("writes dropped counts as current totals: a reason back at zero is removed by the merge patch (null)", () => {
    const withDrops = { ...link, status: { ...link.status, droppedFromTarget: { loopback: 2, fqdn: 1 } } };
    const next = mergeStatus(withDrops, { conditions: {}, droppedFromTarget: { loopback: 3, fqdn: 0, port: 0 } }, now);
    expect(next.droppedFromTarget).toEqual({ loopback: 3, fqdn: null, port: null });
    expect(statusUnchanged(withDrops, next)).toBe(false);
    const settled = { ...link, status: { ...link.status, droppedFromTarget: { loopback: 3 } } };
    expect(
      statusUnchanged(
        settled,
        mergeStatus(settled, { conditions: {}, droppedFromTarget: { loopback: 3, fqdn: 0 } }, now),
      ),
    ).toBe(true);
  });

  it("lists name conflicts, removes the list when it empties, and sees an equal list as unchanged", () => {
    const conflicts = ["Service shop/web-east", "Service shop/api-east"];
    const listed = mergeStatus(link, { conditions: {}, nameConflicts: conflicts }, now);
    expect(listed.nameConflicts).toEqual(conflicts);
    expect(statusUnchanged(link, listed)).toBe(false);
    const written = { ...link, status: { ...link.status, nameConflicts: conflicts } };
    expect(statusUnchanged(written, mergeStatus(written, { conditions: {}, nameConflicts: [...conflicts] }, now))).toBe(
      true,
    );
    const cleared = mergeStatus(written, { conditions: {}, nameConflicts: [] }, now);
    expect(cleared.nameConflicts).toBeNull();
    expect(statusUnchanged(written, cleared)).toBe(false);
    expect(statusUnchanged(link, cleared)).toBe(true);
  });
});
