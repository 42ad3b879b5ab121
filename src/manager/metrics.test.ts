import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { Condition } from "../kube/conditions.ts";
import { managerMetrics, recordLinkReady } from "./metrics.ts";
import { computeManagerStatus, type DeploymentView } from "./status.ts";

const available: DeploymentView = {
  metadata: {
    name: "zonesync-link-east",
    labels: { "zonesync.io/link": "east", "zonesync.io/controller-mode": "chart" },
  },
  spec: { replicas: 1 },
  status: { availableReplicas: 1 },
};

const linkController = (status: "True" | "False"): Condition[] =>
  ["CredentialsValid", "TargetReachable", "Mirrored"].map((type) => ({
    type,
    status,
    reason: status === "True" ? "Ok" : "Unreachable",
    message: "",
    lastTransitionTime: "2026-11-21T11:00:00Z",
  }));

/** The manager's conditions for a link whose link controller reports these conditions. */
const managerConditions = (reported: Condition[]) =>
  computeManagerStatus({ conditions: reported, wantsStandalone: false, deployments: [available], validationErrors: [] })
    .conditions;

/** The samples of zonesync_manager_link_ready, as `link value` lines, from the registry's exposition. */
async function linkReady(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return [...text.matchAll(/^zonesync_manager_link_ready\{link="([^"]+)"\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
}

describe("zonesync_manager_link_ready", () => {
  it("follows the Ready condition the manager computes for each link, and drops a link that is gone", async () => {
    const registry = new Registry();
    const metrics = managerMetrics(registry);
    recordLinkReady(metrics, "east", managerConditions(linkController("True")));
    recordLinkReady(metrics, "west", managerConditions(linkController("False")));
    expect(await linkReady(registry)).toEqual(["east 1", "west 0"]);

    recordLinkReady(metrics, "east", managerConditions(linkController("False")));
    recordLinkReady(metrics, "west", managerConditions(linkController("True")));
    expect(await linkReady(registry)).toEqual(["east 0", "west 1"]);

    recordLinkReady(metrics, "east", undefined);
    expect(await linkReady(registry)).toEqual(["west 1"]);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE zonesync_manager_link_ready gauge");
  });

  it("counts a link without a Ready condition as not ready, and does nothing without metrics", async () => {
    const registry = new Registry();
    const metrics = managerMetrics(registry);
    recordLinkReady(metrics, "north", []);
    expect(await linkReady(registry)).toEqual(["north 0"]);
    expect(() => recordLinkReady(undefined, "north", [])).not.toThrow();
  });
});
