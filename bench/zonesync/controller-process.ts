/**
 * The zone-sync controller in a process of its own, so the benchmark measures its CPU time and nothing else.
 * Started by run.ts with IPC; arguments: kubeconfig path, ConfigMap ref, workload ref.
 *
 * Messages in: "state" (answers a ControllerReport), "stop". Out: { ready: true } once started, then reports.
 */
import { Registry } from "prom-client";
import { KubeClient } from "../../src/kube/client.ts";
import { silentLogger } from "../../src/log.ts";
import { ZoneSyncController } from "../../src/zonesync/controller.ts";
import { parseConfigMapRef, parseWorkloadRef } from "../../src/zonesync/refs.ts";

export interface ControllerReport {
  idle: boolean;
  observedConfigMapVersion: string | undefined;
  cpu: NodeJS.CpuUsage;
  rollouts: number;
  reconciles: number;
  writes: number;
  healthy: boolean;
}

const [kubeconfig, configMap, workload] = process.argv.slice(2);
if (!kubeconfig || !configMap || !workload || !process.send) {
  throw new Error("usage: controller-process.ts <kubeconfig> <ns/configmap> <Kind/ns/name> (with an IPC channel)");
}
const send = (message: unknown): void => {
  process.send?.(message);
};

const registry = new Registry();
const controller = new ZoneSyncController({
  client: KubeClient.load({ kubeconfig }),
  configMap: parseConfigMapRef(configMap),
  workload: parseWorkloadRef(workload),
  logger: silentLogger(),
  events: { event: () => {} },
  registry,
});

async function total(name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function report(): Promise<ControllerReport> {
  return {
    idle: controller.idle,
    observedConfigMapVersion: controller.state.observedConfigMapVersion,
    cpu: process.cpuUsage(),
    rollouts: await total("zonesync_zone_sync_rollouts_total"),
    reconciles: await total("zonesync_zone_sync_reconciles_total"),
    writes: await total("zonesync_zone_sync_writes_total"),
    healthy: controller.healthy,
  };
}

process.on("message", (message) => {
  if (message === "state") {
    void report().then(send);
  } else if (message === "stop") {
    void controller.stop().then(() => process.exit(0));
  }
});

await controller.start();
send({ ready: true });
