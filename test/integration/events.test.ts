import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import winston from "winston";
import type { KubeObject } from "../../src/kube/client.ts";
import { EventRecorder, type KubeEvent } from "../../src/kube/events.ts";
import { Resources } from "../../src/kube/resources.ts";
import { adminClient, createNamespace, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

async function setup() {
  const client = adminClient("hub");
  const ns = uniqueName("events");
  await createNamespace(client, ns);
  const cm = await client.create<KubeObject>(Resources.configMaps, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "nginx-config", namespace: ns },
  });
  const events = async (): Promise<KubeEvent[]> =>
    (
      await client.list<KubeEvent>(Resources.events, ns, {
        fieldSelector: `involvedObject.name=nginx-config,involvedObject.kind=ConfigMap`,
      })
    ).items.sort((a, b) => a.reason.localeCompare(b.reason));
  return { client, ns, cm, events };
}

describe("EventRecorder", () => {
  it("writes an Event referencing the object", async () => {
    const { cm, events } = await setup();
    const recorder = new EventRecorder({ client: adminClient("hub"), component: "zonesync-manager", host: "test" });
    recorder.warning(cm, "InvalidValue", 'zone-sync-port: "99999" is not a port');
    await recorder.flush();
    const [event, ...rest] = await events();
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      type: "Warning",
      reason: "InvalidValue",
      message: 'zone-sync-port: "99999" is not a port',
      count: 1,
      source: { component: "zonesync-manager", host: "test" },
      involvedObject: {
        apiVersion: "v1",
        kind: "ConfigMap",
        name: "nginx-config",
        namespace: cm.metadata.namespace,
        uid: cm.metadata.uid,
        resourceVersion: cm.metadata.resourceVersion,
      },
    });
    expect(event!.firstTimestamp).toBe(event!.lastTimestamp);
  });

  it("aggregates a repeated Event into one with a count", async () => {
    const { cm, events } = await setup();
    const recorder = new EventRecorder({ client: adminClient("hub"), component: "zonesync-manager" });
    recorder.normal(cm, "Synced", "peers updated");
    recorder.normal(cm, "Synced", "peers updated"); // in flight at the same time: still one Event
    await recorder.flush();
    await sleep(1100); // timestamps have second precision
    recorder.normal(cm, "Synced", "peers updated");
    recorder.normal(cm, "Other", "a different reason is another Event");
    await recorder.flush();
    const list = await events();
    expect(list.map((e) => [e.reason, e.count])).toEqual([
      ["Other", 1],
      ["Synced", 3],
    ]);
    const synced = list[1]!;
    expect(Date.parse(synced.lastTimestamp)).toBeGreaterThan(Date.parse(synced.firstTimestamp));
  });

  it("starts a new Event after the aggregation window", async () => {
    const { cm, events, client } = await setup();
    const recorder = new EventRecorder({ client, component: "zonesync-manager", aggregateWindowMs: 0 });
    recorder.normal(cm, "Synced", "again");
    await recorder.flush();
    await sleep(5);
    recorder.normal(cm, "Synced", "again");
    await recorder.flush();
    expect((await events()).map((e) => e.count)).toEqual([1, 1]);
  });

  it("logs a write the API server refuses, resolves anyway, and keeps recording", async () => {
    const { cm, events, client } = await setup();
    const lines: string[] = [];
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [
        new winston.transports.Stream({
          stream: new Writable({
            write(chunk: Buffer, _encoding, done) {
              lines.push(chunk.toString());
              done();
            },
          }),
        }),
      ],
    });
    const recorder = new EventRecorder({ client, component: "zonesync-manager", logger });
    // The Event's namespace does not exist: the API server refuses the write with 404.
    const ghost = { kind: "ConfigMap", apiVersion: "v1", name: "x", namespace: uniqueName("missing"), uid: "u" };
    await expect(recorder.record(ghost, "Warning", "Lost", "nobody will see this")).resolves.toBeUndefined();
    const logged = lines.map((l) => JSON.parse(l) as Record<string, string>);
    expect(logged).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "cannot record event",
        reason: "Lost",
        object: `ConfigMap ${ghost.namespace}/x`,
        error: expect.stringMatching(/404|not found/i),
      }),
    ]);
    // The failure did not break the recorder.
    recorder.warning(cm, "StillWorking", "after a failure");
    await recorder.flush();
    expect((await events()).map((e) => e.reason)).toEqual(["StillWorking"]);
  });
});
