/**
 * Benchmark of `zonesync check`: 3 clusters × 50 links (credentials with real tokens to the other clusters, a Helm
 * release with 50 controllers entries rendered by the real chart, Leases, 2 mirrors per link with EndpointSlices).
 *
 * Figures:
 * - the full check of the 3 clusters at once (clusters in parallel, as `--context a,b,c` runs it) next to the same
 *   checks run one cluster after another, in-process (median of 5 runs);
 * - the same from the CLI, cold (`node dist/src/cli/main.js check --context hub,east,west`);
 * - `check --probe` cold start, p50 and p95 over 20 runs (on one cluster with 50 links).
 *
 *   node bench/check/run.ts [--links 50] [--runs 5] [--probe-runs 20]
 *
 * Uses the clusters of $ZONESYNC_TEST_ENV (an env.json of `node test/env/cli.ts up hub east west`) when set, else
 * starts three. Builds dist/ first (`tsc -p tsconfig.json`) for the CLI figures.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { stringify } from "yaml";
import { controllerName, leaseName } from "../../src/api/names.ts";
import { Limiter } from "../../src/check/engine.ts";
import { runChecks } from "../../src/check/run.ts";
import type { CheckReport } from "../../src/check/types.ts";
import { applyAll } from "../../src/cli/common.ts";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { microTime } from "../../src/kube/leader.ts";
import { endpointSliceType, Resources, servedVersion } from "../../src/kube/resources.ts";
import { targetAccessManifests } from "../../src/link/access.ts";
import { remoteKubeconfig, requestToken } from "../../src/link/credentials.ts";
import { installCrd } from "../mirror/setup.ts";
import { kubeconfigYaml, startEnvironment, type SharedEnvironment } from "../../test/env/index.ts";
import { sleep } from "../../src/sleep.ts";

const exec = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values: args } = parseArgs({
  options: {
    links: { type: "string", default: "50" },
    runs: { type: "string", default: "5" },
    "probe-runs": { type: "string", default: "20" },
    /** Leave the objects in place and print the namespace (for profiling). */
    keep: { type: "boolean", default: false },
  },
});
const LINKS = Math.max(1, Number(args.links));
const RUNS = Math.max(1, Number(args.runs));
const PROBE_RUNS = Math.max(1, Number(args["probe-runs"]));
const NAMES = ["hub", "east", "west"];
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

interface Env {
  clusters: Array<{ name: string; server: string; caPem: string; token: string; kubeconfig: string }>;
  helm: string;
  stop: () => Promise<void>;
}

async function environment(): Promise<Env> {
  const reuse = process.env.ZONESYNC_TEST_ENV;
  if (reuse) {
    const env = JSON.parse(readFileSync(reuse, "utf8")) as SharedEnvironment;
    const clusters = NAMES.map((n) => {
      const c = env.clusters[n];
      if (!c) throw new Error(`${reuse} has no cluster ${n}`);
      return { name: n, server: c.server, caPem: c.caPem, token: c.adminToken, kubeconfig: c.kubeconfigPath };
    });
    return { clusters, helm: env.helm4, stop: async () => {} };
  }
  const env = await startEnvironment(NAMES, { log });
  return {
    clusters: NAMES.map((n) => {
      const c = env.clusters[n]!;
      return { name: n, server: c.server, caPem: c.caPem, token: c.adminToken, kubeconfig: c.kubeconfigPath };
    }),
    helm: env.binaries.helm4,
    stop: () => env.stop(),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function count(report: CheckReport) {
  const all = report.clusters.flatMap((c) => c.categories.flatMap((cat) => cat.checks));
  const by = (r: string) => all.filter((c) => c.result === r).length;
  return `${all.length} check results: ${by("ok")} ok, ${by("warning")} warnings, ${by("error")} errors, ${by("skipped")} skipped`;
}

async function setUp(env: Env, ns: string, dir: string): Promise<() => Promise<void>> {
  const clients = env.clusters.map((c) => KubeClient.load({ kubeconfig: c.kubeconfig }));
  const undo: Array<() => Promise<unknown>> = [];
  // Every cluster grants each other cluster read access and issues it a token.
  const tokens = new Map<string, string>(); // "<source>→<target>" → token
  await Promise.all(
    clients.map(async (target, ti) => {
      // The links are written before the chart (which would bring the CRD) is installed.
      await installCrd(target);
      await target.create(Resources.namespaces, { metadata: { name: ns } });
      undo.push(() => target.delete(Resources.namespaces, undefined, ns));
      for (const source of env.clusters.filter((_, i) => i !== ti)) {
        const manifests = targetAccessManifests({ source: `${ns}-${source.name}`, namespace: ns });
        await applyAll(target, manifests, "zonesync-bench");
        undo.push(() => target.delete(Resources.clusterRoles, undefined, manifests[2]!.metadata.name!));
        undo.push(() => target.delete(Resources.clusterRoleBindings, undefined, manifests[3]!.metadata.name!));
        const { token } = await requestToken(target, ns, manifests[1]!.metadata.name!, 30 * 24 * 3600);
        tokens.set(`${source.name}→${env.clusters[ti]!.name}`, token);
      }
      // Two exported Services, the sources of the mirrors.
      for (const svc of ["web", "api"]) {
        await target.create(Resources.services, {
          metadata: { name: svc, namespace: ns, labels: { "zonesync.io/exported": "true" } },
          spec: { ports: [{ port: 80 }] },
        } as KubeObject);
      }
    }),
  );
  await Promise.all(
    clients.map(async (client, si) => {
      const source = env.clusters[si]!;
      const targets = env.clusters.filter((_, i) => i !== si);
      const sliceType = endpointSliceType(await servedVersion(client, "discovery.k8s.io"));
      const links = Array.from({ length: LINKS }, (_, i) => ({
        name: `${ns.slice(-6)}-${i}`,
        target: targets[i % targets.length]!,
      }));
      const limiter = new Limiter(16);
      await Promise.all(
        links.map(({ name, target }) =>
          limiter.run(async () => {
            const cluster = `${target.name}-${name}`;
            const kubeconfig = remoteKubeconfig({
              clusterName: target.name,
              server: target.server,
              caPem: target.caPem,
              token: tokens.get(`${source.name}→${target.name}`)!,
            });
            await client.create(Resources.secrets, {
              metadata: { name: `creds-${name}`, namespace: ns },
              type: "zonesync.io/remote-kubeconfig",
              data: { kubeconfig: Buffer.from(kubeconfig).toString("base64") },
            } as KubeObject);
            await client.create(Resources.zoneSyncLinks, {
              metadata: { name, namespace: ns },
              spec: {
                targetClusterName: cluster,
                credentialsSecret: `creds-${name}`,
                selector: { matchLabels: { "zonesync.io/exported": "true" } },
                namespaces: [ns],
              },
            } as KubeObject);
            await client.patch(
              Resources.zoneSyncLinks,
              ns,
              name,
              { status: { lastSyncTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") } },
              { subresource: "status" },
            );
            const now = microTime(new Date());
            await client.create(Resources.leases, {
              metadata: { name: leaseName(name), namespace: ns },
              spec: {
                holderIdentity: `${controllerName(name)}-0`,
                leaseDurationSeconds: 3600,
                renewTime: now,
                acquireTime: now,
              },
            } as KubeObject);
            for (const svc of ["web", "api"]) {
              const mirror = `${svc}-${cluster}`.slice(0, 63).replace(/-+$/, "");
              const labels = { "zonesync.io/link": name, "zonesync.io/mirrored-from": cluster };
              const annotations = { "zonesync.io/remote-ref": `${cluster}/${ns}/${svc}` };
              await client.create(Resources.services, {
                metadata: { name: mirror, namespace: ns, labels, annotations },
                spec: { ports: [{ port: 80 }] },
              } as KubeObject);
              await client.create(sliceType, {
                metadata: {
                  name: `${mirror}-x`,
                  namespace: ns,
                  labels: { ...labels, "kubernetes.io/service-name": mirror },
                  annotations,
                },
                addressType: "IPv4",
                endpoints: [{ addresses: ["10.99.0.1"], conditions: { ready: true } }],
                ports: [{ port: 80, protocol: "TCP" }],
              } as KubeObject);
            }
          }),
        ),
      );
      // The real chart renders the 50 controllers (fake image: the pod simulator only reports the pods ready).
      const values = join(dir, `${source.name}.yaml`);
      await writeFile(
        values,
        stringify({
          manager: { enabled: false },
          image: { repository: "example.test/zonesync" },
          controllers: links.map((l) => ({ name: l.name, credentialsSecret: `creds-${l.name}` })),
        }),
      );
      await exec(
        env.helm,
        [
          "upgrade",
          "--install",
          "zonesync",
          join(REPO, "chart"),
          "-n",
          ns,
          "--kubeconfig",
          source.kubeconfig,
          "-f",
          values,
        ],
        { timeout: 300_000 },
      );
      undo.unshift(() => exec(env.helm, ["uninstall", "zonesync", "-n", ns, "--kubeconfig", source.kubeconfig]));
    }),
  );
  // Wait for the controllers to become available.
  const deadline = Date.now() + 180_000;
  for (const client of clients) {
    for (;;) {
      const list = await client.listAll<KubeObject & { status?: { availableReplicas?: number } }>(
        Resources.deployments,
        ns,
        { labelSelector: "zonesync.io/link" },
      );
      const ready = list.items.filter((d) => (d.status?.availableReplicas ?? 0) > 0).length;
      if (ready >= LINKS) break;
      if (Date.now() > deadline) throw new Error(`only ${ready}/${LINKS} controllers available in ${client.server}`);
      await sleep(500);
    }
  }
  return async () => {
    for (const fn of undo) await fn().catch(() => undefined);
  };
}

async function main(): Promise<void> {
  const env = await environment();
  const dir = await mkdtemp(join(tmpdir(), "zonesync-bench-check-"));
  const ns = `zs-bench-check-${randomBytes(3).toString("hex")}`;
  let tearDown: (() => Promise<void>) | undefined;
  try {
    log("building dist/ (tsc)");
    await exec(join(REPO, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], { cwd: REPO }).catch(() => undefined);
    log(`setting up ${NAMES.length} clusters × ${LINKS} links in ${ns}`);
    const setupStarted = Date.now();
    tearDown = await setUp(env, ns, dir);
    log(`set up in ${fmt(Date.now() - setupStarted)}`);
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(
      kubeconfig,
      kubeconfigYaml(env.clusters.map((c) => ({ name: c.name, server: c.server, caPem: c.caPem, token: c.token }))),
    );
    const servers = new Map(env.clusters.map((c) => [c.name, c.server]));
    const clusterOf = (name: string) => ({ context: name, client: KubeClient.load({ kubeconfig, context: name }) });
    const options = { kubeconfigServers: servers, namespace: ns };

    const parallel: number[] = [];
    const sequential: number[] = [];
    let report: CheckReport | undefined;
    for (let run = 0; run < RUNS; run++) {
      let t = performance.now();
      report = await runChecks({ ...options, clusters: NAMES.map(clusterOf) });
      parallel.push(performance.now() - t);
      t = performance.now();
      for (const name of NAMES) await runChecks({ ...options, clusters: [clusterOf(name)] });
      sequential.push(performance.now() - t);
    }
    const cliRuns: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const t = performance.now();
      await exec(
        process.execPath,
        [
          join(REPO, "dist/src/cli/main.js"),
          "check",
          "--kubeconfig",
          kubeconfig,
          "--context",
          NAMES.join(","),
          "-n",
          ns,
          "-o",
          "json",
        ],
        { maxBuffer: 64 << 20 },
      ).catch((err: { stdout?: string }) => err.stdout);
      cliRuns.push(performance.now() - t);
    }
    const probe: number[] = [];
    let probeExit = 0;
    for (let run = 0; run < PROBE_RUNS; run++) {
      const t = performance.now();
      await exec(process.execPath, [
        join(REPO, "dist/src/cli/main.js"),
        "check",
        "--probe",
        "--kubeconfig",
        kubeconfig,
        "--context",
        "hub",
        "-n",
        ns,
      ]).catch((err: { code?: number }) => {
        probeExit = err.code ?? 1;
      });
      probe.push(performance.now() - t);
    }
    const baseline: number[] = [];
    for (let run = 0; run < 5; run++) {
      const t = performance.now();
      await exec(process.execPath, ["-e", "0"]);
      baseline.push(performance.now() - t);
    }
    const sortedProbe = [...probe].sort((a, b) => a - b);
    const out = [
      `zonesync check: ${NAMES.length} clusters × ${LINKS} links (${report ? count(report) : "no report"})`,
      `  full check, clusters in parallel (in-process, median of ${RUNS}): ${fmt(median(parallel))}   [goal ≤ 3 s]`,
      `  the same, one cluster after another (median of ${RUNS}):           ${fmt(median(sequential))}`,
      `  CLI, cold, 3 contexts (median of ${RUNS}):                          ${fmt(median(cliRuns))}`,
      `  check --probe cold start, ${PROBE_RUNS} runs (1 cluster, ${LINKS} links, exit ${probeExit}): p50 ${Math.round(percentile(sortedProbe, 50))} ms, p95 ${Math.round(percentile(sortedProbe, 95))} ms   [goal p50 ≤ 400 ms]`,
      `  (node -e 0 on this machine: median ${Math.round(median(baseline))} ms)`,
    ];
    process.stdout.write(out.join("\n") + "\n");
  } finally {
    if (args.keep) log(`kept namespace ${ns} (kubeconfig ${join(dir, "kubeconfig")})`);
    else {
      log("cleaning up");
      await tearDown?.();
    }
    if (!args.keep) await rm(dir, { recursive: true, force: true });
    await env.stop();
  }
}

await main();
