import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { isKubeError } from "../../src/kube/errors.ts";
import { Informer } from "../../src/kube/informer.ts";
import { Resources } from "../../src/kube/resources.ts";
import { startClusters, type Clusters } from "../env/index.ts";
import { createNamespace, eventually, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

/**
 * A cluster of its own, because these tests restart its API server: a restart re-initialises the watch cache, so a
 * watch from an older resourceVersion gets a real 410 Gone (an ERROR event with code 410).
 */
let env: Clusters;
let client: KubeClient;
const ns = uniqueName("outage");

beforeAll(async () => {
  env = await startClusters(["solo"]);
  client = env.clusters.solo!.client();
  await createNamespace(client, ns);
});
afterAll(async () => {
  await env?.stop();
});

async function restartApiserver(): Promise<void> {
  await env.clusters.solo!.stopApiserver();
  await env.clusters.solo!.startApiserver();
}

describe("Informer across API server restarts", () => {
  it("relists after 410 Gone and emits exactly the missed changes", async () => {
    for (const name of ["a", "b"]) await client.create(Resources.configMaps, { metadata: { name, namespace: ns } });
    const seen: string[] = [];
    const informer = new Informer<KubeObject>({
      client,
      type: Resources.configMaps,
      namespace: ns,
      backoffInitialMs: 100,
      backoffMaxMs: 1000,
    });
    const ours = (o: KubeObject) => o.metadata.name !== "kube-root-ca.crt";
    informer.addHandlers({
      add: (o) => ours(o) && seen.push(`add ${o.metadata.name}`),
      update: (_, o) => ours(o) && seen.push(`update ${o.metadata.name}`),
      delete: (o) => ours(o) && seen.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    await informer.waitForSync(10_000);
    expect(seen.sort()).toEqual(["add a", "add b"]);
    const before = informer.lastResourceVersion;

    await informer.stop();
    await client.delete(Resources.configMaps, ns, "b");
    await client.create(Resources.configMaps, { metadata: { name: "c", namespace: ns } });
    await restartApiserver();
    seen.length = 0;
    const restartsBefore = informer.watchRestarts;
    expect(informer.listCount).toBe(1);
    informer.start(); // resumes from `before`, which the restarted server no longer has
    await eventually(async () => seen.length >= 2, 20_000, "the relist's differences");
    await sleep(500);
    expect(seen.sort()).toEqual(["add c", "delete b"]);
    expect(Number(informer.lastResourceVersion)).toBeGreaterThan(Number(before));
    expect(informer.watchRestarts).toBe(restartsBefore);
    expect(informer.listCount).toBe(2); // the relist after 410
    await informer.stop();
  });

  it("reports the outage, turns unhealthy, and recovers without duplicates", async () => {
    const errors: unknown[] = [];
    const seen: string[] = [];
    const informer = new Informer<KubeObject>({
      client,
      type: Resources.configMaps,
      namespace: ns,
      backoffInitialMs: 100,
      backoffMaxMs: 1000,
      onError: (err) => errors.push(err),
    });
    informer.addHandlers({ add: (o) => seen.push(`add ${o.metadata.name}`) });
    informer.start();
    await informer.waitForSync(10_000);
    const initial = seen.length;

    await env.clusters.solo!.stopApiserver();
    await eventually(async () => !informer.healthy && errors.length >= 2, 10_000, "an unhealthy informer");
    expect(errors.some((e) => isKubeError(e) && e.status === 0)).toBe(true);
    await env.clusters.solo!.startApiserver();
    await eventually(async () => informer.healthy, 20_000, "a healthy informer again");

    await client.create(Resources.configMaps, { metadata: { name: "after-outage", namespace: ns } });
    await eventually(async () => seen.includes("add after-outage"), 10_000, "add after-outage");
    expect(seen.slice(initial)).toEqual(["add after-outage"]);
    await informer.stop();
  });
});
