import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { parse, stringify } from "yaml";
import { credentialsSecret } from "../../src/link/credentials.ts";
import { bundledChartPath } from "../../src/paths.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion, type ResourceType } from "../../src/kube/resources.ts";
import { LinkController } from "../../src/mirror/controller.ts";
import { mirrorServiceName, mirrorSliceName } from "../../src/mirror/naming.ts";
import { McsController } from "../../src/mcs/controller.ts";
import { LABEL_MCS_SOURCE_CLUSTER } from "../../src/mcs/names.ts";
import {
  ensureNamespace,
  exportedService,
  installCrd,
  linkObject,
  pool,
  putSecret,
  spawnLinkController,
  targetCredentials,
} from "../../bench/mirror/setup.ts";
import { startEnvironment, type Environment } from "../env/index.ts";
import { freePort } from "../env/ports.ts";
import { startProcess, type ManagedProcess } from "../env/processes.ts";
import { findPrometheus, promtool as promtoolBinary } from "../env/prometheus.ts";
import { eventually, KUBE_CONTROLLERS_MS, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

/**
 * The slow link controller tests, on a private pair of clusters (the target's API server is stopped, and a
 * controller process is killed): "src" exports, "dst" holds the link and the mirrors.
 */

/** The EndpointSlice type the clusters serve (set in beforeAll). */
let slices: ResourceType;
const repoRoot = join(import.meta.dirname, "..", "..");

interface Slice extends KubeObject {
  endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
}
interface Link extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

let env: Environment;
let src: KubeClient;
let dst: KubeClient;
let srcKubeconfig: string;

function deployment(namespace: string, name: string, replicas: number) {
  return {
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "nginx:1.27" }] },
      },
    },
  };
}

async function endpoints(
  client: KubeClient,
  namespace: string,
  service: string,
): Promise<Array<{ address: string; ready: boolean }>> {
  const list = await client.list<Slice>(slices, namespace, { labelSelector: `kubernetes.io/service-name=${service}` });
  return list.items
    .flatMap((s) => s.endpoints ?? [])
    .map((e) => ({ address: e.addresses[0]!, ready: e.conditions?.ready !== false }))
    .sort((a, b) => a.address.localeCompare(b.address));
}

async function prepareLink(name: string, spec: Record<string, unknown>): Promise<{ name: string; namespace: string }> {
  const namespace = `zs-${name}`;
  await ensureNamespace(dst, namespace);
  await putSecret(dst, namespace, "creds", srcKubeconfig);
  await dst.create(
    Resources.zoneSyncLinks,
    linkObject(namespace, name, { targetClusterName: "src", credentialsSecret: "creds", ...spec }),
  );
  return { name, namespace };
}

beforeAll(async () => {
  env = await startEnvironment(["src", "dst"]);
  src = env.clusters.src!.client();
  dst = env.clusters.dst!.client();
  slices = endpointSliceType(await servedVersion(src, "discovery.k8s.io"));
  await installCrd(dst);
  srcKubeconfig = (await targetCredentials(src, env.clusters.src!, "dst")).kubeconfig;
}, 120_000);

/** Stops and starts the target's API server, and restarts it after a failed test so the next one has a target. */
let sourceDown = false;
async function stopSource(): Promise<void> {
  await env.clusters.src!.stopApiserver();
  sourceDown = true;
}
async function startSource(): Promise<void> {
  await env.clusters.src!.startApiserver();
  sourceDown = false;
}

afterEach(async () => {
  if (sourceDown) await startSource();
});

afterAll(async () => {
  await env?.stop();
});

// These tests wait for what they assert instead of sampling it.
describe("link controller under failures", () => {
  it("keeps the mirrors (and the MCS import) through a 30 s target outage, marks endpoints not ready after staleAfter, converges within 5 s", async () => {
    const ns = uniqueName("outage");
    await ensureNamespace(src, ns);
    await ensureNamespace(dst, ns);
    await src.create(Resources.deployments, deployment(ns, "web", 3));
    await src.create(Resources.services, {
      metadata: { name: "web", namespace: ns, labels: { export: "outage" } },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    // The same Service also exported the MCS way: its carried import slices follow the link's staleness rules.
    const mcs: McsController[] = [];
    for (const [name, client] of [
      ["src", src],
      ["dst", dst],
    ] as const) {
      for (const file of ["multicluster.x-k8s.io_serviceexports.yaml", "multicluster.x-k8s.io_serviceimports.yaml"]) {
        await client.apply(Resources.crds, parse(readFileSync(join(repoRoot, "crds", file), "utf8")) as KubeObject);
      }
      await eventually(() => client.list(Resources.serviceExports, ns), 15_000, "the MCS CRDs to be served");
      const controller = new McsController({ client, clusterId: name, namespace: ns, identity: `mcs-${name}` });
      await controller.start();
      mcs.push(controller);
    }
    await src.create(Resources.serviceExports, { metadata: { name: "web", namespace: ns } });
    const imported = (ready?: boolean) =>
      eventually(
        async () => {
          const list = await dst.list<Slice>(slices, ns, { labelSelector: `${LABEL_MCS_SOURCE_CLUSTER}=src` });
          const e = list.items.flatMap((s) => s.endpoints ?? []);
          return e.length === 3 && e.every((x) => (x.conditions?.ready !== false) === ready);
        },
        30_000,
        `3 ${ready ? "ready" : "not ready"} imported endpoints from src`,
      );
    const link = await prepareLink(ns, { selector: { matchLabels: { export: "outage" } }, staleAfter: "10s" });
    const controller = new LinkController({
      client: dst,
      link: link.name,
      namespace: link.namespace,
      statusIntervalMs: 200,
    });
    await controller.start();
    try {
      await eventually(
        async () => (await endpoints(src, ns, "web")).filter((e) => e.ready).length === 3,
        KUBE_CONTROLLERS_MS,
        "3 ready endpoints in src's own slice",
      );
      await eventually(
        async () => (await endpoints(dst, ns, "web-src")).filter((e) => e.ready).length === 3,
        30_000,
        "3 ready mirrored endpoints",
      );
      await imported(true);
      const condition = async (type: string) =>
        (await dst.get<Link>(Resources.zoneSyncLinks, link.namespace, link.name)).status?.conditions?.find(
          (c) => c.type === type,
        );

      await stopSource();
      const down = Date.now();
      const unreachable = await eventually(
        async () => {
          const c = await condition("TargetReachable");
          return c?.status === "False" ? c : undefined;
        },
        8000,
        "TargetReachable False",
      );
      expect(unreachable.reason).toBe("Unreachable");
      // Before staleAfter: still ready (a blip is not an outage).
      expect((await endpoints(dst, ns, "web-src")).every((e) => e.ready)).toBe(true);
      await eventually(
        async () => {
          const e = await endpoints(dst, ns, "web-src");
          return e.length === 3 && e.every((x) => !x.ready);
        },
        15_000,
        "the endpoints to be marked not ready",
      );
      const staleAt = Date.now() - down;
      expect(staleAt).toBeGreaterThanOrEqual(9_500);
      expect(staleAt).toBeLessThan(14_000);
      // The status is written at most every statusIntervalMs: wait for the write that follows the slices.
      const mirrored = await eventually(
        async () => {
          const c = await condition("Mirrored");
          return c?.reason === "Stale" ? c : undefined;
        },
        3000,
        "the Mirrored condition to say Stale",
      );
      expect(mirrored.status).toBe("False");
      await imported(false);
      await sleep(Math.max(0, 30_000 - (Date.now() - down)));
      expect(await dst.getOptional(Resources.services, ns, "web-src")).toBeDefined();
      expect(await dst.getOptional(Resources.serviceImports, ns, "web")).toBeDefined();

      await startSource();
      const up = Date.now();
      await eventually(
        async () => {
          const e = await endpoints(dst, ns, "web-src");
          return e.length === 3 && e.every((x) => x.ready) && (await condition("TargetReachable"))?.status === "True";
        },
        5000,
        "convergence after the outage",
      );
      expect(Date.now() - up).toBeLessThanOrEqual(5000);
      await imported(true);
      const events = await dst.list<KubeObject & { reason: string }>(Resources.events, link.namespace, {
        fieldSelector: `involvedObject.name=${link.name}`,
      });
      expect(events.items.map((e) => e.reason)).toEqual(
        expect.arrayContaining(["TargetUnreachable", "EndpointsStale", "TargetRecovered"]),
      );
    } finally {
      await controller.stop();
      await Promise.all(mcs.map((m) => m.stop()));
    }

    // A controller that starts while the target is already down has no target state to render from: it marks the
    // mirrors an earlier run wrote not ready in place after staleAfter, and rewrites them once the target is back.
    await stopSource();
    const restarted = new LinkController({
      client: dst,
      link: link.name,
      namespace: link.namespace,
      statusIntervalMs: 200,
    });
    await restarted.start();
    try {
      const started = Date.now();
      await eventually(
        async () => {
          const e = await endpoints(dst, ns, "web-src");
          return e.length === 3 && e.every((x) => !x.ready);
        },
        20_000,
        "the existing mirrors to be marked not ready",
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(9_500);
      await startSource();
      await eventually(
        async () => {
          const e = await endpoints(dst, ns, "web-src");
          return e.length === 3 && e.every((x) => x.ready);
        },
        // A controller that never reached the target retries it at most every 4 s (and a recovering server's
        // brief 401/403 starts a backoff of its own): reconnected, synced and rewritten well within 10 s.
        10_000,
        "the mirrors to be ready again",
      );
    } finally {
      await restarted.stop();
    }
  }, 120_000);

  it("converges exactly after being killed (-9) at random moments of the initial sync of 500 services, 10 times", async () => {
    expect(existsSync(join(repoRoot, "dist", "src", "cli", "main.js")), "run `npx tsc -p tsconfig.json` first").toBe(
      true,
    );
    const prefix = uniqueName("crash");
    const namespaces = [0, 1, 2, 3, 4].map((k) => `${prefix}-k${k}`);
    for (const ns of namespaces) {
      await ensureNamespace(src, ns);
      await ensureNamespace(dst, ns);
    }
    const labels = { export: "crash" };
    let generation = 0;
    const serviceSpecs = (gen: number) =>
      Array.from({ length: 500 }, (_, i) => {
        // Each generation replaces 10 services and moves the endpoints of 20 others.
        const replaced = i < 10 * gen;
        const ns = namespaces[i % namespaces.length]!;
        const name = replaced ? `svc-${i}-g${gen}` : `svc-${i}`;
        const moved = i >= 100 && i < 100 + 20 * gen;
        const ip = (k: number) => `10.200.${Math.floor(i / 200)}.${((i % 200) + 1 + k * 50) % 250}`;
        return { ns, name, addresses: moved ? [ip(gen)] : [ip(0), ip(1)] };
      });
    await pool(serviceSpecs(0), 16, async ({ ns, name, addresses }) => {
      const { service, slice } = exportedService(ns, name, labels, addresses);
      await src.create(Resources.services, service);
      await src.create(slices, slice);
    });
    const link = await prepareLink(prefix, { selector: { matchLabels: labels } });
    const logDir = mkdtempSync(join(tmpdir(), "zonesync-crash-"));
    const run = (i: number): ChildProcess =>
      spawnLinkController({
        kubeconfig: env.clusters.dst!.kubeconfigPath,
        link,
        logFile: join(logDir, `run-${i}.log`),
        // The same pod identity each time, as a restarted container: the Lease it held is its own again at once.
        env: { POD_NAME: "crash-test" },
      });

    const killedAt: string[] = [];
    for (let i = 0; i < 10; i++) {
      const child = run(i);
      const exited = new Promise((r) => child.once("exit", r));
      // Killed at a random moment of the initial sync: every third run while it connects and lists the target
      // (just after it took the Lease), the others while it writes (after the target's lists arrived).
      const milestone = i % 3 === 0 ? "became leader" : "target watches synced";
      await eventually(
        async () => readFileSync(join(logDir, `run-${i}.log`), "utf8").includes(milestone),
        // A cold child process on a loaded 2-core machine, right after the outage test restarted an API server.
        60_000,
        `"${milestone}"`,
      );
      await sleep(Math.random() * 300);
      child.kill("SIGKILL");
      await exited;
      killedAt.push(
        readFileSync(join(logDir, `run-${i}.log`), "utf8").includes("initial sync done") ? "after" : "during",
      );
      // Meanwhile the target changes: services replaced (their old mirrors must go), endpoints moved.
      if (i % 3 === 0) {
        const before = serviceSpecs(generation);
        generation++;
        const after = serviceSpecs(generation);
        await pool(
          before.map((s, k) => [s, after[k]!] as const),
          16,
          async ([old, next]) => {
            if (old.name !== next.name) {
              await src.delete(Resources.services, old.ns, old.name);
              await src.delete(slices, old.ns, `${old.name}-direct`);
              const { service, slice } = exportedService(next.ns, next.name, labels, next.addresses);
              await src.create(Resources.services, service);
              await src.create(slices, slice);
            } else if (old.addresses.join() !== next.addresses.join()) {
              const { slice } = exportedService(next.ns, next.name, labels, next.addresses);
              await src.apply(slices, slice, { fieldManager: "zonesync-test" });
            }
          },
        );
      }
    }

    const final = run(10);
    try {
      const expected = new Map<string, string>();
      for (const { ns, name, addresses } of serviceSpecs(generation)) {
        const mirror = mirrorServiceName(name, "src");
        expected.set(
          `${ns}/${mirror}`,
          `${ns}/${mirrorSliceName(mirror, `${name}-direct`)}=${[...addresses].sort().join(",")}`,
        );
      }
      const actual = async () => {
        const selector = `zonesync.io/link=${link.name}`;
        const [svcs, eps] = await Promise.all([
          dst.listAll(Resources.services, undefined, { labelSelector: selector }),
          dst.listAll<Slice>(slices, undefined, { labelSelector: selector }),
        ]);
        const sliceOf = new Map<string, string[]>();
        for (const s of eps.items) {
          const owner = `${s.metadata.namespace}/${s.metadata.labels?.["kubernetes.io/service-name"]}`;
          const text = `${s.metadata.namespace}/${s.metadata.name}=${(s.endpoints ?? [])
            .flatMap((e) => e.addresses)
            .sort()
            .join(",")}`;
          sliceOf.set(owner, [...(sliceOf.get(owner) ?? []), text]);
        }
        return {
          services: svcs.items.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort(),
          sliceOf,
          sliceCount: eps.items.length,
        };
      };
      await eventually(
        async () => {
          const a = await actual();
          return (
            a.services.length === expected.size &&
            a.sliceCount === expected.size &&
            [...expected].every(([svc, slice]) => a.sliceOf.get(svc)?.join() === slice)
          );
        },
        60_000,
        "the exact final state",
      );
      const a = await actual();
      expect(a.services).toEqual([...expected.keys()].sort());
      // Most kills must hit the initial sync itself, not a finished one.
      expect(killedAt.filter((k) => k === "during").length).toBeGreaterThanOrEqual(5);
      for (const [svc, slice] of expected) expect(a.sliceOf.get(svc)).toEqual([slice]);
    } finally {
      const exited = new Promise((r) => final.once("exit", r));
      final.kill("SIGTERM");
      await exited;
    }
  }, 180_000);
});

describe("operators' view: a real Prometheus scrapes the chart's manager and link controller", () => {
  const SCRAPE_SECONDS = 1;
  /** The shipped rule's `for:` (2m) shortened so the test does not wait minutes; its expression is the shipped one. */
  const FOR_SECONDS = 10;

  it("fires ZoneSyncTargetUnreachable within its for: plus two scrape intervals when the target's API server stops, and resolves once it is back", async () => {
    const promtool = promtoolBinary();
    const prometheus = findPrometheus()?.prometheus;
    if (!prometheus) throw new Error("no prometheus binary: `npm test` provisions Debian's prometheus package");
    const namespace = uniqueName("prom");
    await ensureNamespace(dst, namespace);
    const dstKubeconfig = env.clusters.dst!.kubeconfigPath;
    const helm = (args: string[]) =>
      execa(env.binaries.helm4, [...args, "--kubeconfig", dstKubeconfig, "--namespace", namespace], {
        reject: false,
        env: { HELM_CACHE_HOME: join(tmpdir(), "zonesync-helm-cache") },
      });
    const install = await helm([
      "install",
      "zonesync",
      bundledChartPath(),
      "--skip-crds",
      "--wait",
      "--timeout",
      "120s",
    ]);
    expect(install.exitCode, install.stderr).toBe(0);
    const work = mkdtempSync(join(tmpdir(), "zonesync-prometheus-"));
    let server: ManagedProcess | undefined;
    try {
      // The manager (a pod of the simulator) adds the link's controller to its release; the simulator runs it too.
      // Labelled and typed as `zonesync link` writes it: the manager grants no other Secret to a controller.
      const secret = credentialsSecret({ clusterName: "src", namespace, kubeconfig: srcKubeconfig });
      await dst.create(Resources.secrets, secret);
      await dst.create(
        Resources.zoneSyncLinks,
        linkObject(namespace, "src", {
          targetClusterName: "src",
          credentialsSecret: secret.metadata.name!,
          selector: { matchLabels: { export: "prometheus" } },
        }),
      );
      const simulator = env.simulators.dst!;
      const targets = await eventually(
        async () => {
          const pods = (await dst.list(Resources.pods, namespace)).items.map((p) => p.metadata.name!);
          const ports = pods.map((pod) => ({ pod, port: simulator.portOf(namespace, pod) }));
          const link = pods.find((p) => p.startsWith("zonesync-link-src-"));
          return link && ports.every((p) => p.port !== undefined) ? ports : undefined;
        },
        90_000,
        "the manager and the link controller running",
      );
      const linkTarget = targets.find((t) => t.pod.startsWith("zonesync-link-src-"))!;
      const linkMetrics = `http://127.0.0.1:${linkTarget.port}/metrics`;
      const gauge = async (name: string) =>
        Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(await (await fetch(linkMetrics)).text())?.[1]);
      await eventually(
        async () => (await gauge("zonesync_mirror_target_reachable")) === 1,
        60_000,
        "a reachable target",
      );

      // Every endpoint passes promtool's exposition checks and lint.
      for (const { pod, port } of targets) {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const check = await execa(promtool, ["check", "metrics"], { input: text, reject: false });
        expect(check.exitCode, `${pod}: ${check.stdout}${check.stderr}`).toBe(0);
      }

      const rules = parse(readFileSync(join(bundledChartPath(), "files", "alerts.rules.yaml"), "utf8")) as {
        groups: Array<{ rules: Array<{ alert?: string; for?: string }> }>;
      };
      const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === "ZoneSyncTargetUnreachable")!;
      expect(rule.for).toBe("2m");
      rule.for = `${FOR_SECONDS}s`;
      writeFileSync(join(work, "rules.yaml"), stringify(rules));
      const port = await freePort();
      writeFileSync(
        join(work, "prometheus.yml"),
        stringify({
          global: {
            scrape_interval: `${SCRAPE_SECONDS}s`,
            scrape_timeout: `${SCRAPE_SECONDS}s`,
            evaluation_interval: `${SCRAPE_SECONDS}s`,
          },
          rule_files: [join(work, "rules.yaml")],
          scrape_configs: [
            {
              job_name: "zonesync",
              static_configs: targets.map((t) => ({ targets: [`127.0.0.1:${t.port}`], labels: { pod: t.pod } })),
            },
          ],
        }),
      );
      server = startProcess(
        prometheus,
        [
          `--config.file=${join(work, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(work, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--log.level=warn",
        ],
        { logFile: join(work, "prometheus.log") },
      );
      const api = async <T>(path: string): Promise<T> =>
        ((await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as { data: T }).data;
      const query = (q: string) =>
        api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
          `/api/v1/query?query=${encodeURIComponent(q)}`,
        ).then((d) => d.result);
      await eventually(
        async () => (await query("up == 1").catch(() => [])).length === targets.length,
        60_000,
        "Prometheus scraping every pod",
      );
      expect(await query("zonesync_manager_leader")).toHaveLength(1);
      expect(await query('zonesync_mirror_target_reachable{link="src"} == 1')).toHaveLength(1);
      const firing = async () =>
        (await api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>("/api/v1/alerts")).alerts.find(
          (a) => a.labels.alertname === "ZoneSyncTargetUnreachable" && a.labels.link === "src",
        )?.state === "firing";

      await stopSource();
      await eventually(async () => (await gauge("zonesync_mirror_target_reachable")) === 0, 60_000, "unreachable");
      const brokeAt = performance.now();
      await eventually(firing, 60_000, "ZoneSyncTargetUnreachable firing");
      const fireSeconds = (performance.now() - brokeAt) / 1000;

      await startSource();
      await eventually(async () => (await gauge("zonesync_mirror_target_reachable")) === 1, 60_000, "reachable again");
      const backAt = performance.now();
      await eventually(async () => !(await firing()), 30_000, "the alert resolved");
      const resolveSeconds = (performance.now() - backAt) / 1000;
      console.log(
        `ZoneSyncTargetUnreachable (for: ${FOR_SECONDS}s, scrape ${SCRAPE_SECONDS}s): fired ${fireSeconds.toFixed(1)} s ` +
          `after the gauge fell, resolved ${resolveSeconds.toFixed(1)} s after it rose`,
      );
      // Pending at the first evaluation after the first scrape that sees 0, firing `for` later; 0.5 s for polling.
      expect(fireSeconds).toBeGreaterThanOrEqual(FOR_SECONDS - SCRAPE_SECONDS);
      expect(fireSeconds).toBeLessThanOrEqual(FOR_SECONDS + 2 * SCRAPE_SECONDS + 0.5);
      expect(resolveSeconds).toBeLessThanOrEqual(2 * SCRAPE_SECONDS + 0.5);
    } finally {
      await server?.stop();
      await dst.delete(Resources.zoneSyncLinks, namespace, "src").catch(() => undefined);
      await eventually(
        async () => !(await dst.getOptional(Resources.zoneSyncLinks, namespace, "src")),
        60_000,
        "the link gone",
      ).catch(() => undefined);
      await helm(["uninstall", "zonesync", "--wait", "--timeout", "60s"]);
    }
  });
});
