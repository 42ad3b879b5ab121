import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.ts";
import { LeaderElector, type LeaderElectorOptions } from "../../src/kube/leader.ts";
import { Resources } from "../../src/kube/resources.ts";
import { adminClient, createNamespace, eventually, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

interface Lease extends KubeObject {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
}

const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop({ release: false })));
});

async function pair(
  timing: Pick<LeaderElectorOptions, "leaseDurationSeconds" | "renewDeadlineSeconds" | "retryPeriodSeconds">,
) {
  const client = adminClient("hub");
  const namespace = uniqueName("leader");
  await createNamespace(client, namespace);
  const log: string[] = [];
  const make = (identity: string) => {
    const elector = new LeaderElector({
      client,
      namespace,
      name: "zonesync-link-test",
      identity,
      ...timing,
      onStartedLeading: () => void log.push(`start ${identity}`),
      onStoppedLeading: () => void log.push(`stop ${identity}`),
    });
    electors.push(elector);
    return elector;
  };
  return { client, namespace, log, a: make("a"), b: make("b") };
}

describe("LeaderElector", () => {
  it("lets exactly one of two candidates lead, and the Lease names it", async () => {
    const { client, namespace, a, b, log } = await pair({
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 0.3,
    });
    a.start();
    b.start();
    const leader = await eventually(async () => (a.isLeader ? a : b.isLeader ? b : undefined), 5000, "a leader");
    for (let i = 0; i < 20; i++) {
      expect(Number(a.isLeader) + Number(b.isLeader)).toBe(1);
      await sleep(100);
    }
    expect(log).toEqual([`start ${leader.identity}`]);
    const lease = await client.get<Lease>(Resources.leases, namespace, "zonesync-link-test");
    expect(lease.spec.holderIdentity).toBe(leader.identity);
    expect(lease.spec.leaseDurationSeconds).toBe(3);
    expect(a.leader).toBe(leader.identity);
    expect(b.leader).toBe(leader.identity);
  });

  it("takes over from a crashed leader within leaseDuration + retryPeriod", async () => {
    const { a, b, log } = await pair({ leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 });
    a.start();
    await eventually(async () => a.isLeader, 5000, "a leading");
    b.start();
    await sleep(600);
    expect(b.isLeader).toBe(false);
    const crashed = Date.now();
    await a.stop({ release: false }); // no release: the Lease stays held until it expires
    await eventually(async () => b.isLeader, 6000, "b taking over");
    const elapsed = Date.now() - crashed;
    // Not before the lease (renewed at most one retry period before the crash) expired, and soon after.
    expect(elapsed).toBeGreaterThanOrEqual(3000 - 500 - 100);
    expect(elapsed).toBeLessThanOrEqual(3000 + 500 * 1.2 + 400);
    expect(log).toEqual(["start a", "stop a", "start b"]);
  });

  it("hands over within 3 s when the leader releases the Lease (default timing)", async () => {
    const { a, b, client, namespace, log } = await pair({});
    a.start();
    await eventually(async () => a.isLeader, 5000, "a leading");
    b.start();
    await sleep(300);
    const released = Date.now();
    await a.stop();
    expect(a.isLeader).toBe(false);
    const lease = await client.get<Lease>(Resources.leases, namespace, "zonesync-link-test");
    expect([undefined, "", "b"]).toContain(lease.spec.holderIdentity);
    await eventually(async () => b.isLeader, 4000, "b taking over");
    expect(Date.now() - released).toBeLessThanOrEqual(3000);
    const after = await client.get<Lease>(Resources.leases, namespace, "zonesync-link-test");
    expect(after.spec.holderIdentity).toBe("b");
    expect(after.spec.leaseDurationSeconds).toBe(15);
    expect(after.spec.leaseTransitions).toBe(1);
    expect(log).toEqual(["start a", "stop a", "start b"]);
  });

  it("aborts the leader's signal and awaits onStoppedLeading before releasing", async () => {
    const client = adminClient("hub");
    const namespace = uniqueName("leader");
    await createNamespace(client, namespace);
    const steps: string[] = [];
    let signal: AbortSignal | undefined;
    const elector = new LeaderElector({
      client,
      namespace,
      name: "lease",
      identity: "solo",
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 0.2,
      onStartedLeading: (s) => {
        signal = s;
        steps.push("started");
      },
      onStoppedLeading: async () => {
        steps.push(`stopping (signal aborted: ${signal?.aborted})`);
        const lease = await client.get<Lease>(Resources.leases, namespace, "lease");
        steps.push(`holder while stopping: ${lease.spec.holderIdentity}`);
      },
    });
    electors.push(elector);
    elector.start();
    await eventually(async () => elector.isLeader, 5000, "leading");
    await sleep(500); // a few renewals
    await elector.stop();
    expect(steps).toEqual(["started", "stopping (signal aborted: true)", "holder while stopping: solo"]);
    const lease = await client.get<Lease>(Resources.leases, namespace, "lease");
    expect(lease.spec.holderIdentity ?? "").toBe("");
    expect(lease.spec.leaseDurationSeconds).toBe(1);
  });
});
