import { afterEach, describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.ts";
import { type KubeObject } from "../../src/kube/client.ts";
import { isKubeError } from "../../src/kube/errors.ts";
import { ResponseTooLargeError } from "../../src/kube/bounded.ts";
import { Informer, objectKey, type InformerOptions } from "../../src/kube/informer.ts";
import { Resources } from "../../src/kube/resources.ts";
import { adminClient, createNamespace, eventually, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

type Seen = string[];

const cm = (namespace: string, name: string, labels: Record<string, string> = {}, data = {}): ConfigMap => ({
  metadata: { name, namespace, labels },
  data,
});

const running: Informer<ConfigMap>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
});

/** An informer on ConfigMaps in `namespace`, recording "add x", "update x", "delete x". */
function record(options: Omit<InformerOptions<ConfigMap>, "type">): { informer: Informer<ConfigMap>; seen: Seen } {
  const informer = new Informer<ConfigMap>({ type: Resources.configMaps, ...options });
  const seen: Seen = [];
  // The namespace's kube-root-ca.crt ConfigMap comes and goes with the controller-manager; leave it out.
  const ours = (obj: ConfigMap) => obj.metadata.name !== "kube-root-ca.crt";
  informer.addHandlers({
    add: (o) => ours(o) && seen.push(`add ${o.metadata.name}`),
    update: (old, o) => ours(o) && seen.push(`${old === o ? "resync" : "update"} ${o.metadata.name}`),
    delete: (o) => ours(o) && seen.push(`delete ${o.metadata.name}`),
  });
  running.push(informer);
  return { informer, seen };
}

async function setup(prefix: string): Promise<{ client: KubeClient; ns: string }> {
  const client = adminClient("hub");
  const ns = uniqueName(prefix);
  await createNamespace(client, ns);
  return { client, ns };
}

describe("Informer", () => {
  it("lists, then reports adds, updates and deletes from the watch", async () => {
    const { client, ns } = await setup("inf-basic");
    await client.create(Resources.configMaps, cm(ns, "before"));
    const { informer, seen } = record({ client, namespace: ns });
    informer.start();
    await informer.waitForSync(10_000);
    expect(informer.hasSynced).toBe(true);
    expect(informer.healthy).toBe(true);
    expect(informer.get(`${ns}/before`)?.kind).toBe("ConfigMap"); // list items get kind/apiVersion back

    await client.create(Resources.configMaps, cm(ns, "a", {}, { v: "1" }));
    await client.patch(Resources.configMaps, ns, "a", { data: { v: "2" } });
    await client.delete(Resources.configMaps, ns, "before");
    await eventually(async () => seen.length >= 4, 10_000, "four events");
    expect(seen).toEqual(["add before", "add a", "update a", "delete before"]);
    expect(informer.get(`${ns}/a`)?.data).toEqual({ v: "2" });
    expect(informer.get(`${ns}/before`)).toBeUndefined();
    expect(informer.lastEventTime).toBeInstanceOf(Date);
  });

  it("resumes the watch after server timeouts and stop/start without duplicating events", async () => {
    const { client, ns } = await setup("inf-restart");
    const { informer, seen } = record({ client, namespace: ns, watchTimeoutSeconds: 1 });
    informer.start();
    await informer.waitForSync(10_000);
    for (const name of ["x", "y", "z"]) {
      await client.create(Resources.configMaps, cm(ns, name));
      await sleep(700); // spans watch timeouts: every watch lasts one second
    }
    await eventually(async () => seen.length >= 3, 10_000, "three adds");
    expect(informer.watchRestarts).toBeGreaterThanOrEqual(2);

    await informer.stop();
    await client.create(Resources.configMaps, cm(ns, "while-stopped"));
    informer.start(); // resumes from the last resourceVersion: only the new object is reported
    await eventually(async () => seen.includes("add while-stopped"), 10_000, "add while-stopped");
    await sleep(1500);
    expect(seen).toEqual(["add x", "add y", "add z", "add while-stopped"]);
  });

  it("relists and emits exactly the differences to its store", async () => {
    const { client, ns } = await setup("inf-relist");
    for (const name of ["a", "b", "c"]) await client.create(Resources.configMaps, cm(ns, name));
    const { informer, seen } = record({ client, namespace: ns });
    informer.start();
    await informer.waitForSync(10_000);
    await eventually(async () => seen.length === 3, 5000, "initial adds");
    await informer.stop(); // the store now misses what follows
    await client.delete(Resources.configMaps, ns, "b");
    await client.patch(Resources.configMaps, ns, "c", { data: { changed: "yes" } });
    await client.create(Resources.configMaps, cm(ns, "d"));
    seen.length = 0;
    expect(informer.listCount).toBe(1);
    await informer.relist();
    expect(informer.listCount).toBe(2);
    expect(seen.sort()).toEqual(["add d", "delete b", "update c"]);
    expect(
      informer
        .keys()
        .filter((k) => !k.endsWith("kube-root-ca.crt"))
        .sort(),
    ).toEqual([`${ns}/a`, `${ns}/c`, `${ns}/d`]);

    // A relist while running goes through the loop and the watch continues from the new list.
    seen.length = 0;
    informer.start();
    await informer.relist();
    expect(informer.listCount).toBe(3);
    expect(seen).toEqual([]);
    await client.create(Resources.configMaps, cm(ns, "e"));
    await eventually(async () => seen.includes("add e"), 10_000, "add e");
    expect(seen).toEqual(["add e"]);
  });

  it("stores only objects matching the label selector; one that stops matching is deleted", async () => {
    const { client, ns } = await setup("inf-label");
    await client.create(Resources.configMaps, cm(ns, "yes", { pick: "me" }));
    await client.create(Resources.configMaps, cm(ns, "no", { pick: "other" }));
    const { informer, seen } = record({ client, namespace: ns, labelSelector: "pick=me" });
    informer.start();
    await informer.waitForSync(10_000);
    expect(informer.keys()).toEqual([`${ns}/yes`]);
    await client.create(Resources.configMaps, cm(ns, "later", { pick: "me" }));
    await client.patch(Resources.configMaps, ns, "yes", { metadata: { labels: { pick: "no-longer" } } });
    await eventually(async () => seen.length >= 3, 10_000, "three events");
    expect(seen).toEqual(["add yes", "add later", "delete yes"]);
    expect(informer.keys()).toEqual([`${ns}/later`]);
  });

  it("keeps a secondary index in step with adds, label changes, deletes and relists", async () => {
    const { client, ns } = await setup("inf-index");
    await client.create(Resources.configMaps, cm(ns, "a", { team: "red" }));
    const { informer } = record({ client, namespace: ns });
    const byTeam = informer.addIndex((o) => o.metadata.labels?.team);
    const names = (team: string) =>
      byTeam
        .get(team)
        .map((o) => o.metadata.name)
        .sort();
    informer.start();
    await informer.waitForSync(10_000);
    expect(names("red")).toEqual(["a"]);

    await client.create(Resources.configMaps, cm(ns, "b", { team: "red" }));
    await client.create(Resources.configMaps, cm(ns, "c", { team: "blue" }));
    await client.patch(Resources.configMaps, ns, "a", { metadata: { labels: { team: "blue" } } });
    await eventually(async () => names("blue").length === 2, 10_000, "a moved to blue");
    expect(names("red")).toEqual(["b"]);
    expect(names("blue")).toEqual(["a", "c"]);

    await client.delete(Resources.configMaps, ns, "b");
    await eventually(async () => names("red").length === 0, 10_000, "b gone");
    expect(byTeam.keys()).toEqual(["blue"]);

    await client.patch(Resources.configMaps, ns, "c", { metadata: { labels: { team: "green" } } });
    await informer.relist();
    expect(names("blue")).toEqual(["a"]);
    expect(names("green")).toEqual(["c"]);
    expect(byTeam.keys().sort()).toEqual(["blue", "green"]);
  });

  it("applies the transform before storing and handing out objects", async () => {
    const { client, ns } = await setup("inf-transform");
    await client.create(Resources.configMaps, cm(ns, "big", {}, { payload: "x".repeat(1000) }));
    const informer = new Informer<ConfigMap>({
      client,
      type: Resources.configMaps,
      namespace: ns,
      transform: (obj) => ({ ...obj, data: undefined, metadata: { ...obj.metadata, managedFields: undefined } }),
    });
    running.push(informer);
    const added: ConfigMap[] = [];
    informer.addHandlers({ add: (o) => added.push(o) });
    informer.start();
    await informer.waitForSync(10_000);
    await client.create(Resources.configMaps, cm(ns, "watched", {}, { payload: "y" }));
    await eventually(async () => informer.get(`${ns}/watched`), 10_000, "watched object");
    for (const obj of [informer.get(`${ns}/big`)!, informer.get(`${ns}/watched`)!, ...added]) {
      expect(obj.data).toBeUndefined();
      expect(obj.metadata.managedFields).toBeUndefined();
    }
  });

  it("restarts a stalled watch and re-emits every object at each resync", async () => {
    const { client, ns } = await setup("inf-stall");
    await client.create(Resources.configMaps, cm(ns, "one"));
    const { informer, seen } = record({
      client,
      namespace: ns,
      stallTimeoutMs: 800, // a quiet namespace: no events, and 1.20 sends bookmarks only near the watch timeout
      watchTimeoutSeconds: 60,
      resyncMs: 300,
    });
    informer.start();
    await informer.waitForSync(10_000);
    await eventually(async () => informer.watchRestarts >= 1, 5000, "a stall restart");
    expect(informer.healthy).toBe(true);
    expect(seen.filter((s) => s === "resync one").length).toBeGreaterThanOrEqual(2);
    await client.create(Resources.configMaps, cm(ns, "two"));
    await eventually(async () => seen.includes("add two"), 10_000, "add two after the restart");
    expect(seen.filter((s) => s.startsWith("add"))).toEqual(["add one", "add two"]);
  });

  it("reports an unreachable server, backs off, and is unhealthy", async () => {
    const good = adminClient("hub");
    // The same credentials, pointed at a loopback port nothing listens on.
    const unreachable = good.derive({ server: "https://127.0.0.1:1" });
    const errors: unknown[] = [];
    const informer = new Informer<ConfigMap>({
      client: unreachable,
      type: Resources.configMaps,
      namespace: "default",
      backoffInitialMs: 50,
      backoffMaxMs: 400,
      onError: (err) => errors.push(err),
    });
    running.push(informer);
    informer.start();
    await eventually(async () => errors.length >= 3, 5000, "three failed attempts");
    expect(informer.healthy).toBe(false);
    expect(informer.hasSynced).toBe(false);
    expect(isKubeError(errors[0]) && errors[0].status).toBe(0);
    await expect(informer.waitForSync(100)).rejects.toThrow(/did not sync/);
    expect(objectKey({ metadata: { name: "n" } })).toBe("n");
  });

  it("gets past a watch event over the line limit by relisting (bounded by the response limit), staying healthy", async () => {
    const { client: admin, ns } = await setup("inf-big");
    const limited = admin.derive({ limits: { maxWatchLineBytes: 16 * 1024 } });
    const errors: unknown[] = [];
    const health: boolean[] = [];
    const { informer, seen } = record({
      client: limited,
      namespace: ns,
      backoffInitialMs: 50,
      onError: (err) => errors.push(err),
      onHealthChange: (healthy) => health.push(healthy),
    });
    informer.start();
    await informer.waitForSync(10_000);
    await admin.create(Resources.configMaps, cm(ns, "big", {}, { v: "x".repeat(64 * 1024) }));
    await eventually(async () => informer.get(`${ns}/big`) !== undefined, 10_000, "the big ConfigMap via a relist");
    expect(errors.some((e) => e instanceof ResponseTooLargeError && e.part === "watch line")).toBe(true);
    expect(informer.listCount).toBeGreaterThanOrEqual(2);
    // The watch goes on past the oversized event: later small changes arrive as events.
    await admin.create(Resources.configMaps, cm(ns, "after"));
    await eventually(async () => seen.includes("add after"), 10_000, "the event after the oversized one");
    expect(seen.filter((s) => s === "add big")).toHaveLength(1);
    expect(health).toEqual([true]);
  });
});
