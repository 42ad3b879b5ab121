/**
 * Local zone-sync against a real API server: the NGINX Ingress Controller's own expectations (no zone-sync, enable,
 * port change, disable), then what zonesync adds (every bad key reported, last good config kept, drift repaired at
 * any time, TLS rotation, no rollout for no-op updates, DaemonSets and StatefulSets, a ConfigMap in another namespace).
 */
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ANNOTATION_CONFIG_CHECKSUM } from "../../src/api/names.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { EventRecorder, type KubeEvent } from "../../src/kube/events.ts";
import { Resources } from "../../src/kube/resources.ts";
import { silentLogger } from "../../src/log.ts";
import { configChecksum } from "../../src/zonesync/checksum.ts";
import { ZoneSyncController, type ZoneSyncControllerOptions } from "../../src/zonesync/controller.ts";
import { workloadResource, type WorkloadKind } from "../../src/zonesync/refs.ts";
import { ZONE_SYNC_CONF_FILE } from "../../src/zonesync/render.ts";
import { adminClient, createNamespace, eventually, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

interface Workload extends KubeObject {
  spec: { template: { metadata: { annotations?: Record<string, string> } } };
}
interface Service extends KubeObject {
  spec: {
    clusterIP: string;
    selector: Record<string, string>;
    ports: Array<{ name: string; port: number }>;
    publishNotReadyAddresses?: boolean;
  };
}
interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const CONFIG = "nginx-config";

const running: Array<{ controller: ZoneSyncController }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(({ controller }) => controller.stop()));
});

async function setup(prefix: string): Promise<{ client: KubeClient; ns: string }> {
  const client = adminClient("hub");
  const ns = uniqueName(prefix);
  await createNamespace(client, ns);
  return { client, ns };
}

function workloadManifest(kind: WorkloadKind, ns: string, name: string): KubeObject {
  const labels = { app: name };
  const template = {
    metadata: { labels },
    spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
  };
  const spec: Record<string, unknown> = { selector: { matchLabels: labels }, template };
  if (kind !== "DaemonSet") spec.replicas = 2;
  if (kind === "StatefulSet") spec.serviceName = name;
  return { metadata: { name, namespace: ns }, spec };
}

async function createWorkload(client: KubeClient, kind: WorkloadKind, ns: string, name = "nginx"): Promise<void> {
  await client.create(workloadResource(kind), workloadManifest(kind, ns, name));
}

async function writeConfig(client: KubeClient, ns: string, data: Record<string, string>): Promise<void> {
  const existing = await client.getOptional<ConfigMap>(Resources.configMaps, ns, CONFIG);
  if (!existing) await client.create(Resources.configMaps, { metadata: { name: CONFIG, namespace: ns }, data });
  else await client.replace(Resources.configMaps, { ...existing, data });
}

interface Started {
  controller: ZoneSyncController;
  recorder: EventRecorder;
  registry: Registry;
}

async function startController(
  client: KubeClient,
  options: {
    configNs: string;
    kind?: WorkloadKind;
    workloadNs?: string;
    name?: string;
  } & Partial<ZoneSyncControllerOptions>,
): Promise<Started> {
  const { configNs, kind = "Deployment", workloadNs = configNs, name = "nginx", ...rest } = options;
  const recorder = new EventRecorder({ client, component: "zonesync-test" });
  const registry = new Registry();
  const controller = new ZoneSyncController({
    client,
    configMap: { namespace: configNs, name: CONFIG },
    workload: { kind, namespace: workloadNs, name },
    logger: silentLogger(),
    events: recorder,
    registry,
    coalesceMs: 50,
    ...rest,
  });
  running.push({ controller });
  await controller.start();
  return { controller, recorder, registry };
}

/** Waits until the controller has had nothing to do for `quietMs`. */
async function settled(controller: ZoneSyncController, quietMs = 400): Promise<void> {
  let quietSince = Date.now();
  await eventually(
    async () => {
      if (!controller.idle) quietSince = Date.now();
      return Date.now() - quietSince >= quietMs;
    },
    15_000,
    "the controller to settle",
  );
}

async function getWorkload(client: KubeClient, kind: WorkloadKind, ns: string, name = "nginx"): Promise<Workload> {
  return client.get<Workload>(workloadResource(kind), ns, name);
}

const checksumOf = (w: Workload): string | undefined =>
  w.spec.template.metadata.annotations?.[ANNOTATION_CONFIG_CHECKSUM];

async function events(client: KubeClient, recorder: EventRecorder, ns: string, reason: string): Promise<KubeEvent[]> {
  await recorder.flush();
  const list = await client.list<KubeEvent>(Resources.events, ns, { fieldSelector: `reason=${reason}` });
  return list.items;
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}
const rollouts = (registry: Registry) => metricValue(registry, "zonesync_zone_sync_rollouts_total");

describe("zone-sync controller", () => {
  it("follows the NGINX Ingress Controller: off, enable, port 34100, disable; one rollout per real change", async () => {
    const { client, ns } = await setup("zs-nic");
    await createWorkload(client, "Deployment", ns);
    await writeConfig(client, ns, { "worker-processes": "2" });
    const { controller, recorder, registry } = await startController(client, { configNs: ns });
    const generation0 = (await getWorkload(client, "Deployment", ns)).metadata.generation!;

    // Without zone-sync: no Service, no config, no annotation.
    expect(controller.synced).toBe(true);
    expect(controller.healthy).toBe(true);
    expect(await client.getOptional(Resources.services, ns, "nginx-deployment-hl")).toBeUndefined();
    expect(await client.getOptional(Resources.configMaps, ns, "nginx-zone-sync")).toBeUndefined();
    expect(checksumOf(await getWorkload(client, "Deployment", ns))).toBeUndefined();

    // Enable: the Service, the config, exactly one rollout.
    await writeConfig(client, ns, { "worker-processes": "2", "zone-sync": "true" });
    const svc = await eventually(
      () => client.getOptional<Service>(Resources.services, ns, "nginx-deployment-hl"),
      10_000,
      "the peer Service",
    );
    const source = await client.get<ConfigMap>(Resources.configMaps, ns, CONFIG);
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.selector).toEqual({ app: "nginx" });
    expect(svc.spec.ports).toEqual([expect.objectContaining({ name: "zone-sync", port: 12345 })]);
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.metadata.labels).toMatchObject({ "zonesync.io/zone-sync-peers": "local" });
    expect(svc.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "ConfigMap", name: CONFIG, uid: source.metadata.uid }),
    ]);
    const stream = await eventually(
      () => client.getOptional<ConfigMap>(Resources.configMaps, ns, "nginx-zone-sync"),
      10_000,
      "the zone-sync.conf ConfigMap",
    );
    const conf = stream.data?.[ZONE_SYNC_CONF_FILE] ?? "";
    expect(conf).toContain("listen 12345;");
    expect(conf).toContain(`zone_sync_server nginx-deployment-hl.${ns}.svc.cluster.local:12345 resolve;`);
    await eventually(async () => checksumOf(await getWorkload(client, "Deployment", ns)), 10_000, "the checksum");
    await settled(controller);
    let workload = await getWorkload(client, "Deployment", ns);
    expect(checksumOf(workload)).toBe(configChecksum(conf));
    expect(workload.metadata.generation).toBe(generation0 + 1);
    expect(await rollouts(registry)).toBe(1);
    const [enabled] = await events(client, recorder, ns, "Rollout");
    expect(enabled?.message).toMatch(/zone-sync was enabled.*none → [0-9a-f]{64}/);

    // Port 34100: config updated, one more rollout, the same Service object.
    await writeConfig(client, ns, { "worker-processes": "2", "zone-sync": "true", "zone-sync-port": "34100" });
    await eventually(
      async () =>
        (await client.get<ConfigMap>(Resources.configMaps, ns, "nginx-zone-sync")).data?.[
          ZONE_SYNC_CONF_FILE
        ]?.includes("listen 34100;"),
      10_000,
      "the new port in zone-sync.conf",
    );
    await eventually(
      async () =>
        (await client.get<Service>(Resources.services, ns, "nginx-deployment-hl")).spec.ports[0]?.port === 34100,
      10_000,
      "the new port on the Service",
    );
    await settled(controller);
    const svcAfter = await client.get<Service>(Resources.services, ns, "nginx-deployment-hl");
    expect(svcAfter.metadata.uid).toBe(svc.metadata.uid);
    expect(svcAfter.spec.ports).toHaveLength(1);
    workload = await getWorkload(client, "Deployment", ns);
    expect(workload.metadata.generation).toBe(generation0 + 2);
    expect(await rollouts(registry)).toBe(2);
    expect(await metricValue(registry, "zonesync_zone_sync_rollouts_total", { cause: "config" })).toBe(1);

    // Disable: Service deleted, config removed, the annotation removed (one last rollout).
    await writeConfig(client, ns, { "worker-processes": "2", "zone-sync": "false" });
    await eventually(
      async () => (await client.getOptional(Resources.services, ns, "nginx-deployment-hl")) === undefined,
      10_000,
      "the peer Service to be deleted",
    );
    await eventually(
      async () => (await client.getOptional(Resources.configMaps, ns, "nginx-zone-sync")) === undefined,
      10_000,
      "zone-sync.conf to be removed",
    );
    await settled(controller);
    workload = await getWorkload(client, "Deployment", ns);
    expect(checksumOf(workload)).toBeUndefined();
    expect(workload.metadata.generation).toBe(generation0 + 3);
    expect(await rollouts(registry)).toBe(3);
    expect((await events(client, recorder, ns, "Rollout")).map((e) => e.message.split(":")[0])).toEqual(
      expect.arrayContaining(["zone-sync was enabled", "zone-sync.conf changed", "zone-sync was disabled"]),
    );
    expect(controller.healthy).toBe(true);
  });

  it("reports an invalid port and an invalid resolver as two Events plus a summary, and keeps the last good config", async () => {
    const { client, ns } = await setup("zs-invalid");
    await createWorkload(client, "Deployment", ns);
    await writeConfig(client, ns, { "zone-sync": "true", "zone-sync-port": "12345" });
    const { controller, recorder, registry } = await startController(client, { configNs: ns });
    const good = (await client.get<ConfigMap>(Resources.configMaps, ns, "nginx-zone-sync")).data?.[ZONE_SYNC_CONF_FILE];
    expect(good).toContain("listen 12345;");
    await settled(controller);
    const generation = (await getWorkload(client, "Deployment", ns)).metadata.generation;

    await writeConfig(client, ns, {
      "zone-sync": "true",
      "zone-sync-port": "99999",
      "zone-sync-resolver-addresses": "10.0.0.10, bad host!",
    });
    const invalid = await eventually(
      async () => {
        const found = await events(client, recorder, ns, "InvalidValue");
        return found.length >= 2 && found;
      },
      10_000,
      "two InvalidValue Events",
    );
    expect(invalid.map((e) => e.type)).toEqual(["Warning", "Warning"]);
    expect(invalid.map((e) => e.involvedObject.name)).toEqual([CONFIG, CONFIG]);
    const messages = invalid.map((e) => e.message).sort();
    expect(messages[0]).toMatch(/^zone-sync-port: "99999" .*allowed: an integer from 1 to 65535/);
    expect(messages[1]).toMatch(/^zone-sync-resolver-addresses: "10.0.0.10, bad host!"/);
    const [summary] = await eventually(
      async () => {
        const found = await events(client, recorder, ns, "InvalidConfiguration");
        return found.length > 0 && found;
      },
      10_000,
      "the summary Event",
    );
    expect(summary?.message).toBe(
      "2 invalid zone-sync keys (zone-sync-port, zone-sync-resolver-addresses); keeping the last good configuration",
    );
    expect(controller.state.invalidKeys.map((e) => e.key)).toEqual(["zone-sync-port", "zone-sync-resolver-addresses"]);
    expect(await metricValue(registry, "zonesync_zone_sync_invalid_keys")).toBe(2);

    // Resyncs and no-op updates do not repeat the Events; the last good config stays; nothing rolls.
    for (let i = 0; i < 3; i++) {
      await client.patch(Resources.configMaps, ns, CONFIG, { metadata: { annotations: { touch: String(i) } } });
      await sleep(150);
    }
    await settled(controller);
    expect(await events(client, recorder, ns, "InvalidValue")).toHaveLength(2);
    expect(await events(client, recorder, ns, "InvalidConfiguration")).toHaveLength(1);
    const kept = (await client.get<ConfigMap>(Resources.configMaps, ns, "nginx-zone-sync")).data?.[ZONE_SYNC_CONF_FILE];
    expect(kept).toBe(good);
    expect((await getWorkload(client, "Deployment", ns)).metadata.generation).toBe(generation);
    expect(await rollouts(registry)).toBe(1);

    // Fixed: one Normal Event, the new config applies.
    await writeConfig(client, ns, { "zone-sync": "true", "zone-sync-port": "34100" });
    await eventually(async () => (await events(client, recorder, ns, "ConfigurationValid")).length === 1, 10_000);
    await eventually(async () => controller.state.rendered?.includes("listen 34100;"), 10_000);
  });

  it("leaves existing objects alone when it starts on a config with errors and no last good one", async () => {
    const { client, ns } = await setup("zs-startbad");
    await createWorkload(client, "Deployment", ns);
    await writeConfig(client, ns, { "zone-sync": "true" });
    const first = await startController(client, { configNs: ns });
    await settled(first.controller);
    await first.controller.stop();
    const before = await getWorkload(client, "Deployment", ns);

    await writeConfig(client, ns, { "zone-sync": "true", "zone-sync-port": "0" });
    const second = await startController(client, { configNs: ns });
    await settled(second.controller);
    expect(second.controller.state.lastResult).toBe("rejected");
    expect(await client.getOptional(Resources.services, ns, "nginx-deployment-hl")).toBeDefined();
    expect(await client.getOptional(Resources.configMaps, ns, "nginx-zone-sync")).toBeDefined();
    const after = await getWorkload(client, "Deployment", ns);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    const [summary] = await events(client, second.recorder, ns, "InvalidConfiguration");
    expect(summary?.message).toMatch(/zone-sync stays unconfigured until they are fixed$/);
  });

  it("repairs drift of the peer Service's selector and owner within seconds, without a rollout", async () => {
    const { client, ns } = await setup("zs-drift");
    await createWorkload(client, "Deployment", ns);
    await writeConfig(client, ns, { "zone-sync": "true" });
    const { controller, registry } = await startController(client, { configNs: ns });
    await settled(controller);
    const original = await client.get<Service>(Resources.services, ns, "nginx-deployment-hl");

    const started = Date.now();
    await client.patch(Resources.services, ns, "nginx-deployment-hl", {
      metadata: { ownerReferences: null, labels: { "zonesync.io/zone-sync-peers": null } },
      spec: { selector: { app: "something-else", extra: "label" } },
    });
    const repaired = await eventually(
      async () => {
        const svc = await client.get<Service>(Resources.services, ns, "nginx-deployment-hl");
        const ok =
          JSON.stringify(svc.spec.selector) === JSON.stringify({ app: "nginx" }) &&
          svc.metadata.ownerReferences?.length === 1 &&
          svc.metadata.labels?.["zonesync.io/zone-sync-peers"] === "local";
        return ok && svc;
      },
      5_000,
      "the selector, owner and labels to be repaired",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(repaired.metadata.uid).toBe(original.metadata.uid);
    await settled(controller);
    expect(await rollouts(registry)).toBe(1);
  });

  it("rolls the workload once when the TLS Secret is rotated", async () => {
    const { client, ns } = await setup("zs-tls");
    await createWorkload(client, "Deployment", ns);
    const pem = (text: string) => Buffer.from(`-----BEGIN TEST-----\n${text}\n-----END TEST-----\n`).toString("base64");
    await client.create(Resources.secrets, {
      metadata: { name: "zone-sync-tls", namespace: ns },
      type: "kubernetes.io/tls",
      data: { "tls.crt": pem("cert-1"), "tls.key": pem("key-1"), "ca.crt": pem("ca-1") },
    });
    await writeConfig(client, ns, {
      "zone-sync": "true",
      "zone-sync-tls": "true",
      "zone-sync-tls-secret": "zone-sync-tls",
      "zone-sync-tls-trusted-ca": "true",
      "zone-sync-tls-verify": "true",
    });
    const { controller, recorder, registry } = await startController(client, { configNs: ns });
    await settled(controller);
    expect(controller.state.rendered).toContain("zone_sync_ssl_verify on;");
    expect(await rollouts(registry)).toBe(1);
    const before = checksumOf(await getWorkload(client, "Deployment", ns));

    await client.patch(Resources.secrets, ns, "zone-sync-tls", {
      data: { "tls.crt": pem("cert-2"), "tls.key": pem("key-2") },
    });
    await eventually(
      async () => checksumOf(await getWorkload(client, "Deployment", ns)) !== before,
      10_000,
      "the rotation to roll the workload",
    );
    await settled(controller);
    expect(await rollouts(registry)).toBe(2);
    expect(await metricValue(registry, "zonesync_zone_sync_rollouts_total", { cause: "tls" })).toBe(1);
    const rotated = (await events(client, recorder, ns, "Rollout")).find((e) => e.message.includes("TLS material"));
    expect(rotated?.message).toContain(`Secret ${ns}/zone-sync-tls changed`);
    expect(rotated?.message).not.toContain("cert-2");

    // A Secret update that changes nothing NGINX reads (a label) rolls nothing.
    await client.patch(Resources.secrets, ns, "zone-sync-tls", { metadata: { labels: { rotated: "yes" } } });
    await sleep(300);
    await settled(controller);
    expect(await rollouts(registry)).toBe(2);
  });

  it("rolls nothing when the same ConfigMap is re-applied 100 times", async () => {
    const { client, ns } = await setup("zs-noop");
    await createWorkload(client, "Deployment", ns);
    const data = { "zone-sync": "true", "zone-sync-port": "34100", "worker-processes": "2" };
    await writeConfig(client, ns, data);
    const { controller, registry } = await startController(client, { configNs: ns });
    await settled(controller);
    const generation = (await getWorkload(client, "Deployment", ns)).metadata.generation;
    const writesBefore = await metricValue(registry, "zonesync_zone_sync_writes_total");
    let lastVersion = "";
    for (let i = 0; i < 100; i++) {
      // A new resourceVersion every time: the same zone-sync keys, a changing annotation and unrelated key.
      const updated = await client.patch<ConfigMap>(Resources.configMaps, ns, CONFIG, {
        metadata: { annotations: { "zonesync.io/test-applied": String(i) } },
        data: { ...data, "worker-processes": String(1 + (i % 4)) },
      });
      expect(updated.metadata.resourceVersion).not.toBe(lastVersion);
      lastVersion = updated.metadata.resourceVersion!;
    }
    await settled(controller);
    expect(await rollouts(registry)).toBe(1);
    expect(await metricValue(registry, "zonesync_zone_sync_writes_total")).toBe(writesBefore);
    expect((await getWorkload(client, "Deployment", ns)).metadata.generation).toBe(generation);
  });

  it("serves a DaemonSet and a StatefulSet", async () => {
    const { client, ns } = await setup("zs-kinds");
    await createWorkload(client, "DaemonSet", ns, "edge");
    await createWorkload(client, "StatefulSet", ns, "cache");
    await writeConfig(client, ns, { "zone-sync": "true" });
    const [ds, sts] = await Promise.all([
      startController(client, { configNs: ns, kind: "DaemonSet", name: "edge" }),
      startController(client, { configNs: ns, kind: "StatefulSet", name: "cache" }),
    ]);
    await Promise.all([settled(ds.controller), settled(sts.controller)]);
    for (const [kind, name, started] of [
      ["DaemonSet", "edge", ds],
      ["StatefulSet", "cache", sts],
    ] as const) {
      const svc = await client.get<Service>(Resources.services, ns, `${name}-${kind.toLowerCase()}-hl`);
      expect(svc.spec.selector).toEqual({ app: name });
      const conf = (await client.get<ConfigMap>(Resources.configMaps, ns, `${name}-zone-sync`)).data?.[
        ZONE_SYNC_CONF_FILE
      ];
      expect(conf).toContain(
        `zone_sync_server ${name}-${kind.toLowerCase()}-hl.${ns}.svc.cluster.local:12345 resolve;`,
      );
      expect(checksumOf(await getWorkload(client, kind, ns, name))).toBe(configChecksum(conf));
      expect(await rollouts(started.registry)).toBe(1);
    }
  });

  it("works with the ConfigMap in another namespace: no ownerReference, cleaned up when the ConfigMap goes", async () => {
    const { client, ns: configNs } = await setup("zs-cfg");
    const workloadNs = uniqueName("zs-app");
    await createNamespace(client, workloadNs);
    await createWorkload(client, "Deployment", workloadNs);
    await writeConfig(client, configNs, { "zone-sync": "true", "zone-sync-cluster-domain": "example.internal" });
    const { controller } = await startController(client, { configNs, workloadNs, publishNotReadyAddresses: false });
    await settled(controller);
    const svc = await client.get<Service>(Resources.services, workloadNs, "nginx-deployment-hl");
    expect(svc.metadata.ownerReferences ?? []).toEqual([]);
    expect(svc.spec.publishNotReadyAddresses ?? false).toBe(false);
    expect(controller.state.rendered).toContain(`nginx-deployment-hl.${workloadNs}.svc.example.internal:12345`);

    await client.delete(Resources.configMaps, configNs, CONFIG);
    await eventually(
      async () => (await client.getOptional(Resources.services, workloadNs, "nginx-deployment-hl")) === undefined,
      10_000,
      "the Service to be deleted with the ConfigMap",
    );
    await eventually(
      async () => (await client.getOptional(Resources.configMaps, workloadNs, "nginx-zone-sync")) === undefined,
      10_000,
      "zone-sync.conf to be deleted with the ConfigMap",
    );
  });

  it("never adopts, changes or deletes a Service or ConfigMap of its names that it did not create", async () => {
    const { client, ns } = await setup("zs-own");
    await createWorkload(client, "Deployment", ns);
    const theirs = await client.create<KubeObject>(Resources.services, {
      metadata: { name: "nginx-deployment-hl", namespace: ns, labels: { team: "theirs" } },
      spec: { selector: { app: "other" }, ports: [{ name: "web", port: 80 }] },
    });
    await writeConfig(client, ns, { "zone-sync": "true" });
    const { controller, recorder } = await startController(client, { configNs: ns });
    const [conflict] = await eventually(
      async () => {
        const found = await events(client, recorder, ns, "NameConflict");
        return found.length > 0 ? found : undefined;
      },
      10_000,
      "a NameConflict Event",
    );
    expect(conflict?.message).toContain(`Service ${ns}/nginx-deployment-hl exists and was not created by zonesync`);
    await settled(controller);
    // Untouched, nothing rolled, and no config written while the name is taken.
    expect((await client.get<Service>(Resources.services, ns, "nginx-deployment-hl")).metadata.resourceVersion).toBe(
      theirs.metadata.resourceVersion,
    );
    expect(checksumOf(await getWorkload(client, "Deployment", ns))).toBeUndefined();
    expect(await client.getOptional(Resources.configMaps, ns, "nginx-zone-sync")).toBeUndefined();
    expect(await events(client, recorder, ns, "NameConflict")).toHaveLength(1);

    // Disabled: what is not ours is not deleted.
    await writeConfig(client, ns, { "zone-sync": "false" });
    await settled(controller);
    expect((await client.get<Service>(Resources.services, ns, "nginx-deployment-hl")).metadata.resourceVersion).toBe(
      theirs.metadata.resourceVersion,
    );

    // Their Service goes and zone-sync is enabled again: ours is created.
    await client.delete(Resources.services, ns, "nginx-deployment-hl");
    await writeConfig(client, ns, { "zone-sync": "true" });
    const ours = await eventually(
      async () => {
        const svc = await client.getOptional<Service>(Resources.services, ns, "nginx-deployment-hl");
        return svc?.metadata.labels?.["app.kubernetes.io/managed-by"] === "zonesync" ? svc : undefined;
      },
      10_000,
      "zonesync's peer Service",
    );
    expect(ours.spec.clusterIP).toBe("None");
  });
});
