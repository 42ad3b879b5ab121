import { describe, expect, it } from "vitest";
import { parseLink, type ZoneSyncLink } from "../api/link.ts";
import {
  MANAGER_OPERATION_LABEL,
  ReleaseBlockedError,
  ReleaseReconciler,
  type ReleaseBackend,
  type ReleaseSnapshot,
} from "./release.ts";

function link(name: string, replicas?: number): ZoneSyncLink {
  const parsed = parseLink({
    metadata: { name, namespace: "zonesync-system" },
    spec: {
      targetClusterName: name,
      credentialsSecret: `cluster-credentials-${name}`,
      ...(replicas !== undefined ? { controller: { replicas } } : {}),
    },
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.link;
}

interface Revision {
  revision: number;
  status: string;
  values: Record<string, unknown>;
  labels: Record<string, string>;
  startedAt: number;
}

/**
 * An in-memory release with Helm's storage semantics: every operation adds a revision; labels are merged from the
 * previous one; an upgrade is pending until it completes, and the last deployed one turns superseded.
 */
class MemoryRelease implements ReleaseBackend {
  revisions: Revision[] = [];
  upgrades: Array<Record<string, unknown>> = [];
  rollbacks: number[] = [];
  failNext = false;
  now = 1_000_000;
  /** Called on every snapshot (a person acting between the manager's reads). */
  onSnapshot: (() => void) | undefined;
  constructor(values?: Record<string, unknown>) {
    if (values) this.add("deployed", values, {});
  }
  get values(): Record<string, unknown> | undefined {
    return this.revisions.findLast((r) => r.status === "deployed")?.values;
  }
  add(status: string, values: Record<string, unknown>, labels: Record<string, string>): Revision {
    if (status === "deployed") for (const r of this.revisions) if (r.status === "deployed") r.status = "superseded";
    const last = this.revisions.at(-1);
    const revision = {
      revision: (last?.revision ?? 0) + 1,
      status,
      values: structuredClone(values),
      labels: { ...last?.labels, ...labels },
      startedAt: this.now,
    };
    this.revisions.push(revision);
    return revision;
  }
  async snapshot(): Promise<ReleaseSnapshot> {
    this.onSnapshot?.();
    const latest = this.revisions.at(-1);
    const previous = this.revisions.at(-2);
    const deployed = this.revisions.findLast((r) => r.status === "deployed");
    return {
      ...(latest
        ? {
            latest: {
              revision: latest.revision,
              status: latest.status,
              startedAt: latest.startedAt,
              operation: latest.labels[MANAGER_OPERATION_LABEL],
              previousOperation: previous?.labels[MANAGER_OPERATION_LABEL],
            },
          }
        : {}),
      ...(deployed ? { deployed: { revision: deployed.revision, values: structuredClone(deployed.values) } } : {}),
    };
  }
  async upgrade(values: Record<string, unknown>, options: { operation: string }) {
    const pending = this.revisions.at(-1)?.status.startsWith("pending-");
    if (pending) throw new Error("another operation (install/upgrade/rollback) is in progress");
    const revision = this.add("pending-upgrade", values, { [MANAGER_OPERATION_LABEL]: options.operation });
    if (this.failNext) {
      this.failNext = false;
      revision.status = "failed";
      throw new Error("the API server rejected a resource");
    }
    for (const r of this.revisions) if (r.status === "deployed") r.status = "superseded";
    revision.status = "deployed";
    this.upgrades.push(values);
    return { revision: revision.revision };
  }
  async rollback(revision: number) {
    this.rollbacks.push(revision);
    const target = this.revisions.find((r) => r.revision === revision)!;
    for (const r of this.revisions) if (r.status.startsWith("pending-")) r.status = "failed";
    this.add("deployed", target.values, target.labels);
  }
  /** A helm upgrade by someone else that died (or still runs): a pending revision. */
  interrupted(values: Record<string, unknown>, labels: Record<string, string> = {}): void {
    this.add("pending-upgrade", values, labels);
  }
}

describe("ReleaseReconciler", () => {
  it("upgrades once for new links, then never again while nothing changes", async () => {
    const release = new MemoryRelease();
    const reconciler = new ReleaseReconciler({
      backend: release,
      baseValues: { manager: { enabled: false } },
      apply: true,
    });
    const first = await reconciler.reconcile([link("east"), link("west")]);
    expect(first.action).toBe("upgraded");
    expect(release.upgrades[0]).toEqual({
      manager: { enabled: false },
      controllers: [
        { name: "east", credentialsSecret: "cluster-credentials-east" },
        { name: "west", credentialsSecret: "cluster-credentials-west" },
      ],
    });
    for (let i = 0; i < 100; i++) {
      expect((await reconciler.reconcile([link("west"), link("east")])).action).toBe("unchanged");
    }
    expect(release.upgrades).toHaveLength(1);
  });

  it("keeps the other values of the deployed release and replaces only controllers", async () => {
    const release = new MemoryRelease({ image: { tag: "1.2.3" }, controllers: [{ name: "gone" }] });
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    await reconciler.reconcile([link("east", 2)]);
    expect(release.values).toEqual({
      image: { tag: "1.2.3" },
      controllers: [{ name: "east", credentialsSecret: "cluster-credentials-east", replicas: 2 }],
    });
  });

  it("upgrades exactly once when one link's replicas change", async () => {
    const release = new MemoryRelease();
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    const first = await reconciler.reconcile([link("east"), link("west")]);
    expect(first.action === "upgraded" && first.changed).toEqual(["east", "west"]);
    const second = await reconciler.reconcile([link("east", 3), link("west")]);
    expect(second.action === "upgraded" && second.changed).toEqual(["east"]);
    await reconciler.reconcile([link("east", 3), link("west")]);
    expect(release.upgrades).toHaveLength(2);
  });

  it("only reports in GitOps mode", async () => {
    const release = new MemoryRelease({ controllers: [] });
    const reconciler = new ReleaseReconciler({ backend: release, apply: false });
    const outcome = await reconciler.reconcile([link("east")]);
    expect(outcome.action).toBe("out-of-date");
    expect(release.upgrades).toHaveLength(0);
  });

  it("retries the values of a failed revision: it compares with the last deployed one, not the newest", async () => {
    const release = new MemoryRelease({ controllers: [] });
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    release.failNext = true;
    await expect(reconciler.reconcile([link("east")])).rejects.toThrow(/rejected/);
    expect(release.revisions.at(-1)?.status).toBe("failed");
    const retried = await reconciler.reconcile([link("east")]);
    expect(retried.action).toBe("upgraded");
    expect(release.values?.controllers).toEqual([{ name: "east", credentialsSecret: "cluster-credentials-east" }]);
  });

  it("keeps a person's helm upgrade --reuse-values --set made between two link changes", async () => {
    const release = new MemoryRelease({ image: { tag: "1.0" } });
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    await reconciler.reconcile([link("east")]);
    release.add("deployed", { ...release.values, manager: { logLevel: "debug" } }, {});
    await reconciler.reconcile([link("east", 2)]);
    expect(release.values).toEqual({
      image: { tag: "1.0" },
      manager: { logLevel: "debug" },
      controllers: [{ name: "east", credentialsSecret: "cluster-credentials-east", replicas: 2 }],
    });
  });

  it("renders again when the release moved between its read and the upgrade", async () => {
    const release = new MemoryRelease({ image: { tag: "1.0" } });
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    let snapshots = 0;
    release.onSnapshot = () => {
      if (++snapshots === 2) release.add("deployed", { image: { tag: "2.0" } }, {});
    };
    await reconciler.reconcile([link("east")]);
    expect(release.upgrades).toHaveLength(1);
    expect(release.values).toMatchObject({ image: { tag: "2.0" } });
  });

  it("rolls back a pending revision of its own at once, then applies the values again", async () => {
    const release = new MemoryRelease({ controllers: [] });
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    release.interrupted({ controllers: [{ name: "east" }] }, { [MANAGER_OPERATION_LABEL]: "1-1-1" });
    const outcome = await reconciler.reconcile([link("east")]);
    expect(outcome).toMatchObject({
      action: "upgraded",
      recovered: { revision: 2, status: "pending-upgrade", rolledBackTo: 1, by: "manager" },
    });
    expect(release.rollbacks).toEqual([1]);
    expect(release.revisions.map((r) => r.status)).toEqual(["superseded", "failed", "superseded", "deployed"]);
  });

  it("waits for someone else's pending operation, and rolls it back once it is older than the bound", async () => {
    const release = new MemoryRelease({ controllers: [] });
    const clock = { t: release.now };
    const reconciler = new ReleaseReconciler({
      backend: release,
      apply: true,
      stuckAfterMs: 60_000,
      now: () => clock.t,
    });
    await reconciler.reconcile([link("east")]);
    // A person's upgrade after ours inherits our operation label: it is not ours.
    release.interrupted({ ...release.values, image: { tag: "9" } });
    clock.t += 20_000;
    const waiting = await reconciler.reconcile([link("east", 2)]);
    expect(waiting).toMatchObject({ action: "waiting", retryAfterMs: 30_000 });
    expect(release.rollbacks).toEqual([]);
    clock.t += 40_000;
    const recovered = await reconciler.reconcile([link("east", 2)]);
    expect(recovered).toMatchObject({ action: "upgraded", recovered: { by: "someone else", rolledBackTo: 2 } });
    expect(release.values).toEqual({
      controllers: [{ name: "east", credentialsSecret: "cluster-credentials-east", replicas: 2 }],
    });
  });

  it("cannot repair a pending first install (nothing to roll back to), and says so", async () => {
    const release = new MemoryRelease();
    release.add("pending-install", {}, { [MANAGER_OPERATION_LABEL]: "1-1-1" });
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    await expect(reconciler.reconcile([link("east")])).rejects.toThrow(ReleaseBlockedError);
  });

  it("writes nothing once its signal is aborted (leadership lost)", async () => {
    const release = new MemoryRelease({ controllers: [] });
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    const lost = new AbortController();
    lost.abort(new Error("leadership ended"));
    await expect(reconciler.reconcile([link("east")], lost.signal)).rejects.toThrow(/leadership ended/);
    expect(release.upgrades).toHaveLength(0);
  });

  it("holds back an entry the API server would refuse, keeping its last good one, and upgrades the others", async () => {
    const release = new MemoryRelease({ controllers: [] });
    const checked: string[][] = [];
    const reconciler = new ReleaseReconciler({
      backend: release,
      apply: true,
      validate: async (_values, links) => {
        checked.push([...links]);
        return new Map(links.filter((l) => l === "bad" || l === "west").map((l) => [l, "Invalid value: 2"] as const));
      },
    });
    await reconciler.reconcile([link("east"), link("bad")]);
    expect(release.values?.controllers).toEqual([{ name: "east", credentialsSecret: "cluster-credentials-east" }]);
    expect([...reconciler.rejected]).toEqual([["bad", "Invalid value: 2"]]);

    // Already judged: not checked again while it stays the same.
    await reconciler.reconcile([link("east"), link("bad")]);
    expect(checked).toEqual([["bad", "east"]]);
    expect(release.upgrades).toHaveLength(1);

    // A deployed link whose change is refused keeps its deployed entry; the other change goes through.
    release.add("deployed", { controllers: [...(release.values!.controllers as object[]), { name: "west" }] }, {});
    await reconciler.reconcile([link("east", 2), link("bad"), link("west", 5)]);
    expect(release.values?.controllers).toEqual([
      { name: "east", credentialsSecret: "cluster-credentials-east", replicas: 2 },
      { name: "west" },
    ]);
    expect([...reconciler.rejected.keys()]).toEqual(["bad", "west"]);
  });
});
