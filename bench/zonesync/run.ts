/**
 * Benchmark: 1000 no-op updates of the NGINX ConfigMap (a new resourceVersion each time, the same zone-sync keys)
 * against a real API server on loopback, with the zone-sync controller in a child process.
 *
 * Figures: rollouts (goal 0, counted by the controller and by the Deployment's generation), reconciles, API writes,
 * the controller's CPU time (process.cpuUsage of its process over the run), and the time to settle after the last
 * update (until the controller has reconciled the last resourceVersion and its queue is idle).
 *
 *   node bench/zonesync/run.ts [--updates 1000] [--concurrency 1]
 *
 * Uses the clusters of $ZONESYNC_TEST_ENV (an env.json of `node test/env/cli.ts up`) when set, else starts one.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import { startEnvironment, type SharedEnvironment } from "../../test/env/index.ts";
import type { ControllerReport } from "./controller-process.ts";
import { sleep } from "../../src/sleep.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    updates: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "1" },
  },
});
const UPDATES = Math.min(100_000, Math.max(1, Number(args.updates)));
const CONCURRENCY = Math.min(64, Math.max(1, Number(args.concurrency)));
const CONFIG = "nginx-config";
const ZONE_SYNC = { "zone-sync": "true", "zone-sync-port": "34100", "zone-sync-resolver-valid": "10s" };

interface Cluster {
  kubeconfig: string;
  stop: () => Promise<void>;
}

async function cluster(): Promise<Cluster> {
  const reuse = process.env.ZONESYNC_TEST_ENV;
  if (reuse) {
    const env = JSON.parse(readFileSync(reuse, "utf8")) as SharedEnvironment;
    const hub = env.clusters.hub ?? Object.values(env.clusters)[0];
    if (!hub) throw new Error(`${reuse} names no cluster`);
    return { kubeconfig: hub.kubeconfigPath, stop: async () => {} };
  }
  const env = await startEnvironment(["hub"], { log: (m) => process.stderr.write(`[clusters] ${m}\n`) });
  const hub = env.clusters.hub;
  if (!hub) throw new Error("the benchmark cluster did not start");
  return { kubeconfig: hub.kubeconfigPath, stop: () => env.stop() };
}

class ControllerProcess {
  private readonly child: ChildProcess;
  private waiting: Array<(message: unknown) => void> = [];

  constructor(kubeconfig: string, namespace: string) {
    this.child = fork(
      join(here, "controller-process.ts"),
      [kubeconfig, `${namespace}/${CONFIG}`, `Deployment/${namespace}/nginx`],
      { stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    this.child.on("message", (message) => this.waiting.shift()?.(message));
  }

  private next(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the controller process exited (${code})`));
      this.child.once("exit", onExit);
      this.waiting.push((message) => {
        this.child.off("exit", onExit);
        resolve(message);
      });
    });
  }

  async ready(): Promise<void> {
    await this.next();
  }

  async state(): Promise<ControllerReport> {
    const answer = this.next();
    this.child.send("state");
    return (await answer) as ControllerReport;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send("stop");
    await exited;
  }
}

/** Polls until the controller has reconciled `version` and is idle; returns the final report. */
async function settle(controller: ControllerProcess, version: string): Promise<ControllerReport> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await controller.state();
    if (state.idle && state.observedConfigMapVersion === version) return state;
    if (Date.now() > deadline) throw new Error(`the controller did not settle within 60 s`);
    await sleep(2);
  }
}

async function generation(client: KubeClient, namespace: string): Promise<number> {
  return (await client.get(Resources.deployments, namespace, "nginx")).metadata.generation ?? 0;
}

const ms = (micros: number): string => (micros / 1000).toFixed(0);

async function main(): Promise<void> {
  const env = await cluster();
  const client = KubeClient.load({ kubeconfig: env.kubeconfig });
  const namespace = `zs-bench-${Date.now().toString(36)}`;
  let controller: ControllerProcess | undefined;
  try {
    await client.create(Resources.namespaces, {
      metadata: { name: namespace, labels: { "zonesync.io/test": "true" } },
    });
    const labels = { app: "nginx" };
    await client.create(Resources.deployments, {
      metadata: { name: "nginx", namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] } },
      },
    } as KubeObject);
    const created = await client.create<KubeObject>(Resources.configMaps, {
      metadata: { name: CONFIG, namespace },
      data: { ...ZONE_SYNC, "worker-processes": "1" },
    });

    controller = new ControllerProcess(env.kubeconfig, namespace);
    await controller.ready();
    const baseline = await settle(controller, created.metadata.resourceVersion!);
    const generationBefore = await generation(client, namespace);

    const started = performance.now();
    let next = 0;
    let lastVersion = created.metadata.resourceVersion!;
    let lastAt = started;
    const worker = async (): Promise<void> => {
      while (next < UPDATES) {
        const i = next++;
        // Half the updates touch only an annotation, half change a key that is not a zone-sync key.
        const body =
          i % 2 === 0
            ? { metadata: { annotations: { "bench.zonesync.io/apply": String(i) } } }
            : { data: { "worker-processes": String(2 + (i % 7)) } };
        const updated = await client.patch(Resources.configMaps, namespace, CONFIG, body);
        const version = updated.metadata.resourceVersion!;
        if (Number(version) >= Number(lastVersion)) {
          lastVersion = version;
          lastAt = performance.now();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const updatesDone = performance.now();
    const final = await settle(controller, lastVersion);
    const settledAt = performance.now();
    const generationAfter = await generation(client, namespace);

    const user = final.cpu.user - baseline.cpu.user;
    const system = final.cpu.system - baseline.cpu.system;
    const figures = {
      updates: UPDATES,
      concurrency: CONCURRENCY,
      rollouts: final.rollouts - baseline.rollouts,
      deploymentGenerationDelta: generationAfter - generationBefore,
      reconciles: final.reconciles - baseline.reconciles,
      apiWrites: final.writes - baseline.writes,
      controllerCpuMs: { user: Number(ms(user)), system: Number(ms(system)), total: Number(ms(user + system)) },
      controllerCpuUsPerUpdate: Math.round((user + system) / UPDATES),
      updatesWallMs: Math.round(updatesDone - started),
      settleAfterLastUpdateMs: Math.round(settledAt - lastAt),
      healthy: final.healthy,
    };
    console.log(JSON.stringify(figures, null, 2));
    console.log(
      `zone-sync: ${UPDATES} no-op ConfigMap updates (concurrency ${CONCURRENCY}) → ${figures.rollouts} rollouts ` +
        `(generation +${figures.deploymentGenerationDelta}), ${figures.reconciles} reconciles, ${figures.apiWrites} writes; ` +
        `controller CPU ${figures.controllerCpuMs.total} ms (${figures.controllerCpuUsPerUpdate} µs/update); ` +
        `updates took ${figures.updatesWallMs} ms; settled ${figures.settleAfterLastUpdateMs} ms after the last update`,
    );
    if (figures.rollouts !== 0 || figures.deploymentGenerationDelta !== 0) process.exitCode = 1;
  } finally {
    await controller?.stop();
    await client.delete(Resources.namespaces, undefined, namespace).catch(() => {});
    await env.stop();
  }
}

await main();
