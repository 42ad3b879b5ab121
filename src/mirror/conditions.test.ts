import { describe, expect, it } from "vitest";
import { KubeApiError } from "../kube/errors.ts";
import { linkConditions, type LinkState } from "./conditions.ts";

const healthy: LinkState = {
  connected: true,
  reachable: true,
  stale: false,
  staleAfter: "5m",
  failures: new Map(),
  nameConflicts: [],
  initialSyncDone: true,
  overCap: [],
  maxServices: 1000,
  missingNamespaces: [],
};

const refused = new KubeApiError(
  "GET /api/v1/services: 401 Unauthorized",
  401,
  "Unauthorized",
  "GET",
  "/api/v1/services",
);
const unreachable = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });

describe("linkConditions", () => {
  it("is all True for a synced, reachable link", () => {
    const c = linkConditions(healthy);
    expect([c.CredentialsValid.status, c.TargetReachable.status, c.Mirrored.status]).toEqual([true, true, true]);
    expect(c.Mirrored.reason).toBe("Synced");
  });

  it("reports unusable credentials and an unknown reachability before the first connection", () => {
    const c = linkConditions({
      ...healthy,
      connected: false,
      reachable: false,
      credentialsProblem: { reason: "KubeconfigInvalid", message: "no server in the kubeconfig" },
    });
    expect(c.CredentialsValid).toEqual({
      status: false,
      reason: "KubeconfigInvalid",
      message: "no server in the kubeconfig",
    });
    expect(c.TargetReachable.status).toBe("Unknown");
    expect(c.Mirrored.reason).toBe("NotConnected");
  });

  it("says since when the target is unreachable and what happens to the mirrors", () => {
    const since = Date.parse("2026-12-02T10:00:00Z");
    const kept = linkConditions({ ...healthy, reachable: false, targetError: unreachable, unreachableSince: since });
    expect(kept.TargetReachable.status).toBe(false);
    expect(kept.TargetReachable.message).toMatch(/^unreachable since 2026-12-02T10:00:00.000Z: .*; mirrors are kept$/);
    expect(kept.Mirrored.status).toBe(true);
    const stale = linkConditions({
      ...healthy,
      reachable: false,
      targetError: unreachable,
      unreachableSince: since,
      stale: true,
    });
    expect(stale.TargetReachable.message).toMatch(/mirrored endpoints are marked not ready$/);
    expect(stale.Mirrored).toMatchObject({ status: false, reason: "Stale" });
    expect(stale.Mirrored.message).toContain("(5m)");
  });

  it("names the refused credentials' reason on TargetReachable too", () => {
    const c = linkConditions({ ...healthy, connected: false, reachable: false, targetError: refused });
    expect(c.TargetReachable.status).toBe(false);
    expect(c.TargetReachable.reason).not.toBe("Reachable");
    expect(c.TargetReachable.message).toContain("unreachable since startup");
  });

  it("puts an invalid spec before everything else, bounded", () => {
    const c = linkConditions({
      ...healthy,
      invalidSpec: Array.from({ length: 200 }, (_, i) => `spec.selector[${i}]: invalid`),
      failures: new Map([["svc:a/web", "boom"]]),
    });
    expect(c.Mirrored.reason).toBe("InvalidSpec");
    expect((c.Mirrored.message ?? "").length).toBeLessThanOrEqual(1000);
  });

  it("reports a peer Service that is not zonesync's as InvalidSpec", () => {
    const c = linkConditions({
      ...healthy,
      peersSkipped: { reason: "InvalidSpec", message: "kube-system/kube-dns is not a zonesync peer Service" },
    });
    expect(c.Mirrored).toEqual({
      status: false,
      reason: "InvalidSpec",
      message: "kube-system/kube-dns is not a zonesync peer Service",
    });
  });

  it("orders failures, then name conflicts, then the initial sync, the cap and missing namespaces", () => {
    const all: LinkState = {
      ...healthy,
      failures: new Map([
        ["svc:a/web", "422 Invalid"],
        ["svc:a/api", "422 Invalid"],
      ]),
      nameConflicts: ["a/web-east"],
      initialSyncDone: false,
      overCap: ["a/x"],
      missingNamespaces: ["shop"],
    };
    const reasons: string[] = [];
    let state = all;
    for (const clear of [
      { failures: new Map<string, string>() },
      { nameConflicts: [] },
      { initialSyncDone: true },
      { overCap: [] },
      { missingNamespaces: [] },
    ]) {
      reasons.push(linkConditions(state).Mirrored.reason);
      state = { ...state, ...clear };
    }
    reasons.push(linkConditions(state).Mirrored.reason);
    expect(reasons).toEqual([
      "SyncFailed",
      "NameConflict",
      "InitialSync",
      "ServicesOverCap",
      "NamespaceMissing",
      "Synced",
    ]);
    expect(linkConditions(all).Mirrored.message).toBe("2 failing (retried with backoff), e.g. a/web: 422 Invalid");
  });

  it("lists at most five conflicting objects and says how to resolve them", () => {
    const objects = Array.from({ length: 7 }, (_, i) => `shop/web-${i}-east`);
    const { message } = linkConditions({ ...healthy, nameConflicts: objects }).Mirrored;
    expect(message).toContain("7 local object(s)");
    expect(message).toContain("shop/web-4-east, …");
    expect(message).not.toContain("shop/web-5-east");
    expect(message).toContain("delete or rename them and mirroring resumes by itself");
  });

  it("names the cap and three Services over it", () => {
    const { message } = linkConditions({ ...healthy, overCap: ["a/1", "a/2", "a/3", "a/4"], maxServices: 2 }).Mirrored;
    expect(message).toBe(
      "4 exported Services are over spec.maxServices (2) and not mirrored, e.g. a/1, a/2, a/3, …; " +
        "raise spec.maxServices or narrow spec.selector",
    );
  });

  it("warns on CredentialsValid while the link accepts an unverified target certificate", () => {
    const c = linkConditions({ ...healthy, insecureSkipTLSVerify: true }).CredentialsValid;
    expect(c).toMatchObject({ status: true, reason: "InsecureSkipTLSVerify" });
    expect(c.message).toContain("NOT verified");
  });
});
