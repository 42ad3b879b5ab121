import { describe, expect, it } from "vitest";
import { parseLink, type ZoneSyncLink } from "../api/link.ts";
import { ReleaseReconciler, type ReleaseBackend } from "./release.ts";

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

/** An in-memory release: records every upgrade so the tests can count them. */
class MemoryRelease implements ReleaseBackend {
  values: Record<string, unknown> | undefined;
  upgrades: Array<Record<string, unknown>> = [];
  reads = 0;
  failNext = false;
  constructor(values?: Record<string, unknown>) {
    this.values = values;
  }
  async deployedValues() {
    this.reads++;
    return this.values && structuredClone(this.values);
  }
  async upgrade(values: Record<string, unknown>) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("another operation is in progress");
    }
    this.upgrades.push(values);
    this.values = structuredClone(values);
    return { revision: this.upgrades.length };
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
    expect(release.reads).toBe(1);
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

  it("re-reads the deployed values after a failed upgrade and retries", async () => {
    const release = new MemoryRelease();
    const reconciler = new ReleaseReconciler({ backend: release, apply: true });
    release.failNext = true;
    await expect(reconciler.reconcile([link("east")])).rejects.toThrow(/in progress/);
    expect((await reconciler.reconcile([link("east")])).action).toBe("upgraded");
    expect(release.reads).toBe(2);
  });
});
