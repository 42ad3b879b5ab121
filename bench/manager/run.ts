// Manager benchmark: bursts of 10, 100 and 500 ZoneSyncLinks created at once. For each burst: time until every link
// controller Deployment exists, the number of helm upgrades the burst caused, and the manager's peak RSS. The manager
// runs as its own process (the built CLI), against a real local cluster and the real Helm 4 binary. Each burst has
// its own namespace, release and link names.
//   node bench/manager/run.ts [--bursts 10,100,500]
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { parse } from "yaml";
import type { KubeObject } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import { credentialsSecret } from "../../src/link/credentials.ts";
import { bundledCrdPath } from "../../src/paths.ts";
import { startClusters } from "../../test/env/index.ts";
import { freePort } from "../../test/env/ports.ts";
import { sleep } from "../../src/sleep.ts";

const { values } = parseArgs({ options: { bursts: { type: "string", default: "10,100,500" } } });
const bursts = values.bursts!.split(",").map(Number);

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function upgradesDone(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/zonesync_manager_helm_upgrades_total\{result="done"\} (\d+)/.exec(text)?.[1] ?? 0);
}

const env = await startClusters(["bench"]);
const cluster = env.clusters.bench!;
const client = cluster.client();
const dir = mkdtempSync(join(tmpdir(), "zonesync-bench-manager-"));
const rows: string[] = [];
try {
  await client.apply(Resources.crds, parse(readFileSync(bundledCrdPath(), "utf8")) as KubeObject);
  await sleep(2000);
  for (const count of bursts) {
    const namespace = `bench-${count}`;
    await client.create(Resources.namespaces, { metadata: { name: namespace } });
    const baseValues = join(dir, `${namespace}.yaml`);
    // No pods: this measures the manager and Helm, not the pod simulator.
    writeFileSync(baseValues, "manager:\n  enabled: false\ncontrollerDefaults:\n  replicas: 0\n");
    const port = await freePort();
    const manager = execa(
      process.execPath,
      [
        "dist/src/cli/main.js",
        "manager",
        "--namespace",
        namespace,
        "--base-values",
        baseValues,
        "--no-leader-elect",
        "--log-format",
        "json",
      ],
      {
        env: {
          KUBECONFIG: cluster.kubeconfigPath,
          HELM_BIN: env.binaries.helm4,
          ZONESYNC_HTTP_ADDR: `127.0.0.1:${port}`,
          // The chart's settings for the manager container (chart/templates/manager.yaml).
          NODE_OPTIONS: "--max-semi-space-size=4 --max-old-space-size=192",
          MALLOC_ARENA_MAX: "2",
        },
        reject: false,
      },
    );
    // Each link's credentials Secret, as `zonesync link` writes it: the manager grants only such a Secret. Created
    // before the clock starts: the burst measured is one of links.
    for (let i = 0; i < count; i += 25) {
      const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) =>
        credentialsSecret({
          clusterName: `b${count}-${i + j}`,
          namespace,
          kubeconfig: "apiVersion: v1\nkind: Config\n",
        }),
      );
      await Promise.all(batch.map((secret) => client.create(Resources.secrets, secret)));
    }
    // The manager installs the release (no controllers yet) as soon as it starts; the burst's upgrades come after.
    const installDeadline = Date.now() + 120_000;
    while ((await upgradesDone(port).catch(() => 0)) < 1 && Date.now() < installDeadline) {
      await sleep(200);
    }
    await sleep(1500);
    const before = await upgradesDone(port);
    const started = performance.now();
    const links = Array.from({ length: count }, (_, i) => ({
      apiVersion: "zonesync.io/v1alpha1",
      kind: "ZoneSyncLink",
      metadata: { name: `b${count}-${i}`, namespace },
      spec: {
        targetClusterName: `b${count}-${i}`,
        credentialsSecret: `cluster-credentials-b${count}-${i}`,
        selector: { matchLabels: { e: "1" } },
      },
    }));
    for (let i = 0; i < links.length; i += 25) {
      await Promise.all(links.slice(i, i + 25).map((l) => client.create(Resources.zoneSyncLinks, l)));
    }
    const created = performance.now();
    const deadline = Date.now() + 600_000;
    for (;;) {
      const list = await client.list(Resources.deployments, namespace, {
        labelSelector: "zonesync.io/controller-mode=chart",
      });
      if (list.items.length >= count) break;
      if (Date.now() > deadline) throw new Error(`burst ${count}: only ${list.items.length} Deployments after 10 min`);
      await sleep(200);
    }
    const done = performance.now();
    // Helm creates the Deployments before its process returns: wait for the upgrade to be counted, then settle.
    while ((await upgradesDone(port)) <= before && Date.now() < deadline) await sleep(200);
    await sleep(3000);
    const upgrades = (await upgradesDone(port)) - before;
    const rss = peakRssMb(manager.pid!);
    manager.kill("SIGTERM");
    await manager;
    rows.push(
      `${String(count).padStart(5)} links | create ${((created - started) / 1000).toFixed(1).padStart(5)} s | all Deployments ${((done - started) / 1000).toFixed(1).padStart(6)} s | helm upgrades ${String(upgrades).padStart(2)} | manager peak RSS ${rss.toFixed(0)} MB`,
    );
    process.stderr.write(rows.at(-1) + "\n");
  }
} finally {
  await env.stop();
}
process.stdout.write(
  `\nbench/manager (one local Kubernetes 1.20 cluster, Helm 4.1.4, ${process.version}, the chart's heap settings)\n${rows.join("\n")}\n`,
);
