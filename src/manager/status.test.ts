import { describe, expect, it } from "vitest";
import type { Condition } from "../kube/conditions.ts";
import { computeManagerStatus, statusDiffers, type DeploymentView } from "./status.ts";

const now = new Date("2026-11-21T12:00:00Z");

function deployment(mode: string, available: number, replicas = 1): DeploymentView {
  return {
    metadata: {
      name: "zonesync-link-east",
      labels: { "zonesync.io/link": "east", "zonesync.io/controller-mode": mode },
    },
    spec: { replicas },
    status: { availableReplicas: available },
  };
}

function linkCondition(type: string, status: "True" | "False", reason = "Ok", message = ""): Condition {
  return { type, status, reason, message, lastTransitionTime: "2026-11-21T11:00:00Z" };
}

const healthy = [
  linkCondition("CredentialsValid", "True"),
  linkCondition("TargetReachable", "True"),
  linkCondition("Mirrored", "True"),
];

const condition = (conditions: Condition[], type: string) => conditions.find((c) => c.type === type);

describe("computeManagerStatus", () => {
  it("is Ready when the controller is available and the link controller reports all is well", () => {
    const status = computeManagerStatus(
      {
        generation: 3,
        conditions: healthy,
        wantsStandalone: false,
        deployments: [deployment("chart", 1)],
        validationErrors: [],
      },
      now,
    );
    expect(status.mode).toBe("chart");
    expect(condition(status.conditions, "ControllerReady")).toMatchObject({ status: "True", observedGeneration: 3 });
    expect(condition(status.conditions, "Ready")).toMatchObject({ status: "True", reason: "Ready" });
    expect(status.conditions.map((c) => c.type).sort()).toEqual(["ControllerReady", "Ready"]);
  });

  it("is not Ready while the controller of the link's mode is missing, even if another mode's exists", () => {
    const status = computeManagerStatus(
      { conditions: healthy, wantsStandalone: false, deployments: [deployment("standalone", 1)], validationErrors: [] },
      now,
    );
    expect(condition(status.conditions, "ControllerReady")).toMatchObject({
      status: "False",
      reason: "ControllerMissing",
    });
  });

  it("passes on the reason of a failing link controller condition", () => {
    const status = computeManagerStatus(
      {
        conditions: [...healthy.slice(1), linkCondition("CredentialsValid", "False", "Unauthorized", "token rejected")],
        wantsStandalone: false,
        deployments: [deployment("chart", 1)],
        validationErrors: [],
      },
      now,
    );
    expect(condition(status.conditions, "Ready")).toMatchObject({ status: "False", reason: "Unauthorized" });
  });

  it("reports validation and Helm errors first", () => {
    const invalid = computeManagerStatus(
      {
        conditions: healthy,
        wantsStandalone: false,
        deployments: [deployment("chart", 1)],
        validationErrors: ["spec.staleAfter: must be at least 5s"],
      },
      now,
    );
    expect(condition(invalid.conditions, "Ready")).toMatchObject({
      reason: "InvalidSpec",
      message: "spec.staleAfter: must be at least 5s",
    });
    const helm = computeManagerStatus(
      { conditions: healthy, wantsStandalone: false, deployments: [], validationErrors: [], helmError: "pending" },
      now,
    );
    expect(condition(helm.conditions, "Ready")).toMatchObject({ reason: "HelmUpgradeFailed" });
  });

  it("keeps lastTransitionTime while the status holds, so a resync writes nothing", () => {
    const input = {
      conditions: healthy,
      wantsStandalone: true,
      deployments: [deployment("standalone", 1)],
      validationErrors: [],
    };
    const first = computeManagerStatus(input, now);
    const current = { mode: first.mode, conditions: [...healthy, ...first.conditions] };
    const again = computeManagerStatus({ ...input, conditions: current.conditions }, new Date(now.getTime() + 60_000));
    expect(again.conditions).toEqual(first.conditions);
    expect(statusDiffers(current, again)).toBe(false);
    expect(statusDiffers(current, { ...again, valuesHash: "x" })).toBe(true);
  });
});
