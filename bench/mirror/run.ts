#!/usr/bin/env node
// Link controller benchmark: propagation latency (vs. a minimal watch-and-write floor), the controller's own
// end-to-end lag metric, initial sync time, peak RSS.
//   npx tsc -p tsconfig.json && node bench/mirror/run.ts [--latency 100,1000] [--sync 1000,5000] [--changes 200]
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { KubeClient, KubeObject, WatchEventType } from "../../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion, type ResourceType } from "../../src/kube/resources.ts";
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME } from "../../src/api/names.ts";
import { mirrorServiceName, mirrorSliceName } from "../../src/mirror/naming.ts";
import { histogramQuantile, parseHistogram } from "../histogram.ts";
import { startClusters, type Clusters } from "../../test/env/index.ts";
import {
  ensureNamespace,
  exportedService,
  installCrd,
  linkObject,
  pool,
  putSecret,
  targetCredentials,
  spawnLinkController,
} from "./setup.ts";
import { sleep } from "../../src/sleep.ts";

const { values } = parseArgs({
  options: {
    latency: { type: "string", default: "100,1000" },
    sync: { type: "string", default: "1000,5000" },
    changes: { type: "string", default: "200" },
    interval: { type: "string", default: "50" },
    workers: { type: "string", default: "16" },
  },
});
const latencySizes = values.latency!.split(",").filter(Boolean).map(Number);
const syncSizes = values.sync!.split(",").filter(Boolean).map(Number);
const CHANGES = Number(values.changes);
const INTERVAL_MS = Number(values.interval);
/** The EndpointSlice type the clusters serve (set in main). */
let slices: ResourceType;
const NAMESPACES = 10;

interface Slice extends KubeObject {
  endpoints?: Array<{ addresses: string[] }>;
}

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The two initial endpoint addresses of service `i` (k = 0 or 1). */
function ipOf(i: number, k: number): string {
  return `10.${1 + k}.${Math.floor(i / 256)}.${i % 256}`;
}

let changeSequence = 0;
/** A new address for every change of the run, so no change can be a no-op that the target never reports. */
function nextChangeAddress(): string {
  const n = changeSequence++;
  return `10.${100 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/** Creates `count` exported Services (each with one EndpointSlice of two endpoints) in the target. */
async function populate(
  target: KubeClient,
  prefix: string,
  count: number,
  labels: Record<string, string>,
): Promise<Array<{ ns: string; name: string }>> {
  const specs = Array.from({ length: count }, (_, i) => ({ ns: `bench-${i % NAMESPACES}`, name: `${prefix}-${i}` }));
  const started = Date.now();
  await pool(specs, 24, async ({ ns, name }, i) => {
    const { service, slice } = exportedService(ns, name, labels, [ipOf(i, 0), ipOf(i, 1)]);
    await target.create(Resources.services, service);
    await target.create(slices, slice);
  });
  log(`created ${count} exported services + slices in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return specs;
}

/** A watch on the local cluster's slices that resolves waiters when a slice shows an address. */
class SliceObserver {
  private readonly waiters = new Map<string, Array<{ address: string; resolve: (t: number) => void }>>();
  private abort?: AbortController;
  private readonly client: KubeClient;
  constructor(client: KubeClient) {
    this.client = client;
  }
  async start(): Promise<void> {
    const list = await this.client.list(slices, undefined, { limit: 1 });
    this.abort = await this.client.watch<Slice>(
      slices,
      undefined,
      { resourceVersion: list.metadata.resourceVersion },
      (type: WatchEventType, s: Slice) => {
        if (type !== "ADDED" && type !== "MODIFIED") return;
        const key = `${s.metadata.namespace}/${s.metadata.name}`;
        const waiting = this.waiters.get(key);
        if (!waiting) return;
        const now = performance.now();
        const addresses = new Set((s.endpoints ?? []).flatMap((e) => e.addresses));
        const left = waiting.filter((w) => {
          if (!addresses.has(w.address)) return true;
          w.resolve(now);
          return false;
        });
        if (left.length) this.waiters.set(key, left);
        else this.waiters.delete(key);
      },
      () => {},
    );
  }
  /** Resolves with the time the address showed up in the slice, or undefined after the timeout (a lost change). */
  waitFor(key: string, address: string, timeoutMs = 30_000): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.set(
          key,
          (this.waiters.get(key) ?? []).filter((w) => w.address !== address),
        );
        resolve(undefined);
      }, timeoutMs);
      const entry = { address, resolve: (t: number) => (clearTimeout(timer), resolve(t)) };
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), entry]);
    });
  }
  stop(): void {
    this.abort?.abort();
  }
}

/**
 * The floor: the least a mirror can do — one watch on the target's exported slices, and for each event one
 * server-side apply of a local slice. No cache, no queue, no status, no leader election.
 */
async function startFloor(target: KubeClient, local: KubeClient, selector: string): Promise<() => void> {
  const list = await target.listAll<Slice>(slices, undefined, { labelSelector: selector });
  const write = (s: Slice) =>
    local
      .apply(
        slices,
        {
          metadata: {
            name: `floor-${s.metadata.name}`,
            namespace: s.metadata.namespace,
            labels: { "kubernetes.io/service-name": `floor-${s.metadata.name}` },
          },
          addressType: "IPv4",
          endpoints: s.endpoints ?? [],
          ports: [],
        },
        { fieldManager: "bench-floor" },
      )
      .catch((err: unknown) => log(`floor write failed: ${String(err)}`));
  await pool(list.items, 24, async (s) => void (await write(s)));
  const abort = await target.watch<Slice>(
    slices,
    undefined,
    { resourceVersion: list.metadata.resourceVersion, labelSelector: selector },
    (type, s) => {
      if (type === "ADDED" || type === "MODIFIED") void write(s);
    },
    () => {},
  );
  return () => abort.abort();
}

/**
 * Moves one endpoint of a service, one change every INTERVAL_MS (services in a shuffled order, so no service changes
 * again before the others did), and measures each change until `localKey` shows it. Lost changes are counted.
 */
async function measure(
  target: KubeClient,
  observer: SliceObserver,
  specs: Array<{ ns: string; name: string }>,
  localKey: (spec: { ns: string; name: string }) => string,
): Promise<{ latencies: number[]; lost: number }> {
  const order = specs.map((_, i) => i).sort(() => Math.random() - 0.5);
  const latencies: number[] = [];
  let lost = 0;
  const pending: Array<Promise<void>> = [];
  for (let c = 0; c < CHANGES; c++) {
    const i = order[c % order.length]!;
    const spec = specs[i]!;
    const address = nextChangeAddress();
    const { slice } = exportedService(spec.ns, spec.name, { export: "bench" }, [ipOf(i, 0), address]);
    const seen = observer.waitFor(localKey(spec), address);
    // Stamped as the EndpointSlice controller does, but to the millisecond (1.20's controller stamps whole seconds).
    slice.metadata.annotations = { [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: new Date().toISOString() };
    const sent = performance.now();
    await target.apply(slices, slice, { fieldManager: "bench" });
    pending.push(
      seen.then((t) => {
        if (t === undefined) lost++;
        else latencies.push(t - sent);
      }),
    );
    await sleep(INTERVAL_MS);
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), lost };
}

/** Tuned V8 and malloc settings for the controller container (what the chart should set), measured beside the defaults. */
const TUNED_ENV = { NODE_OPTIONS: "--max-semi-space-size=4 --max-old-space-size=192", MALLOC_ARENA_MAX: "2" };

interface Controller {
  child: ChildProcess;
  log: string;
}

function startController(
  clusters: Clusters,
  link: { name: string; namespace: string },
  logDir: string,
  extraEnv: Record<string, string> = {},
): Controller {
  const log = join(logDir, `${link.name}.log`);
  const child = spawnLinkController({
    kubeconfig: clusters.clusters.local!.kubeconfigPath,
    link,
    logFile: log,
    env: { ZONESYNC_LOG_LEVEL: "info", ...extraEnv },
  });
  return { child, log };
}

/** The controller's /metrics text (its URL is in its log). */
async function scrape(controller: Controller): Promise<string> {
  const url = /"url":"(http:[^"]+)"/.exec(readFileSync(controller.log, "utf8"))?.[1];
  if (!url) throw new Error(`no metrics URL in ${controller.log}`);
  return (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
}

/** Waits until the controller leads and its /readyz answers 200 (initial sync done); resolves with that time. */
async function waitReady(controller: Controller, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (Date.now() < deadline) {
    url ??= /"url":"(http:[^"]+)"/.exec(readFileSync(controller.log, "utf8"))?.[1];
    if (url) {
      // A standby is ready too: first the Lease (leader gauge), then /readyz (the leader's initial sync done).
      const leader = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.text())
        .then((text) => /zonesync_mirror_leader\{[^}]*\} 1\b/.test(text))
        .catch(() => false);
      const ready =
        leader &&
        (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        ));
      if (ready) return performance.now();
    }
    if (controller.child.exitCode !== null) throw new Error(`the controller exited; see ${controller.log}`);
    await sleep(100);
  }
  throw new Error(`the controller was not ready within ${timeoutMs} ms; see ${controller.log}`);
}

function procStatus(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

/** User + system CPU seconds of a process. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

async function countMirrors(local: KubeClient, link: string): Promise<{ services: number; slices: number }> {
  const selector = `zonesync.io/link=${link}`;
  const [s, e] = await Promise.all([
    local.listAll(Resources.services, undefined, { labelSelector: selector }),
    local.listAll(slices, undefined, { labelSelector: selector }),
  ]);
  return { services: s.items.length, slices: e.items.length };
}

async function main(): Promise<void> {
  const clusters = await startClusters(["target", "local"], { log });
  // Pooled connections for the bench's own clients too, so the floor is not slowed by per-request TLS handshakes.
  const target = clusters.clusters.target!.client();
  const local = clusters.clusters.local!.client();
  slices = endpointSliceType(await servedVersion(target, "discovery.k8s.io"));
  const logDir = mkdtempSync(join(tmpdir(), "zonesync-bench-"));
  const results: string[] = [];
  try {
    await installCrd(local);
    const kubeconfig = (await targetCredentials(target, clusters.clusters.target!, "local")).kubeconfig;
    for (let n = 0; n < NAMESPACES; n++) {
      await ensureNamespace(target, `bench-${n}`);
      await ensureNamespace(local, `bench-${n}`);
    }
    const observer = new SliceObserver(local);
    await observer.start();

    for (const size of latencySizes) {
      const prefix = `lat${size}`;
      const labels = { export: "bench", round: prefix };
      const specs = await populate(target, prefix, size, labels);
      const selector = `export=bench,round=${prefix}`;

      const stopFloor = await startFloor(target, local, selector);
      await sleep(2000);
      const floor = await measure(target, observer, specs, (s) => `${s.ns}/floor-${s.name}-direct`);
      stopFloor();

      const linkName = `lat-${size}`;
      const namespace = `zs-${linkName}`;
      await ensureNamespace(local, namespace);
      await putSecret(local, namespace, "creds", kubeconfig);
      await local.create(
        Resources.zoneSyncLinks,
        linkObject(namespace, linkName, {
          targetClusterName: "target",
          credentialsSecret: "creds",
          selector: { matchLabels: labels },
          maxServices: size,
        }),
      );
      const controller = startController(clusters, { name: linkName, namespace }, logDir);
      await waitReady(controller, 300_000);
      await sleep(2000);
      const ctrl = await measure(target, observer, specs, (s) => {
        const mirror = mirrorServiceName(s.name, "target");
        return `${s.ns}/${mirrorSliceName(mirror, `${s.name}-direct`)}`;
      });
      const e2e = parseHistogram(await scrape(controller), "zonesync_mirror_e2e_lag_seconds");
      await stopChild(controller.child);
      const line = (what: string, m: { latencies: number[]; lost: number }) =>
        `${what.padEnd(22)} p50 ${percentile(m.latencies, 50).toFixed(1).padStart(7)} ms  ` +
        `p95 ${percentile(m.latencies, 95).toFixed(1).padStart(7)} ms  ` +
        `p99 ${percentile(m.latencies, 99).toFixed(1).padStart(7)} ms  (n=${m.latencies.length}, lost ${m.lost})`;
      results.push(`latency, ${size} exported services, ${CHANGES} endpoint changes every ${INTERVAL_MS} ms:`);
      results.push(`  ${line("floor (watch+write)", floor)}`);
      results.push(`  ${line("link controller", ctrl)}`);
      const quantile = (q: number) => (histogramQuantile(q, e2e) * 1000).toFixed(1).padStart(7);
      results.push(
        `  ${"its e2e lag metric".padEnd(22)} p50 ${quantile(0.5)} ms  p95 ${quantile(0.95)} ms  p99 ${quantile(0.99)} ms  ` +
          `(n=${e2e.at(-1)?.count ?? 0}; from the trigger time, bucket-interpolated as histogram_quantile does)`,
      );
      results.push(
        `  p99 ratio controller/floor: ${(percentile(ctrl.latencies, 99) / percentile(floor.latencies, 99)).toFixed(2)}`,
      );
      log(results.slice(-5).join("\n"));
    }

    for (const size of syncSizes) {
      const prefix = `sync${size}`;
      const labels = { export: "bench", round: prefix };
      await populate(target, prefix, size, labels);
      for (const [variant, env] of [
        ["node defaults", {}],
        ["tuned (NODE_OPTIONS)", TUNED_ENV],
      ] as const) {
        const tag = variant.startsWith("node") ? "d" : "t";
        const linkName = `sync-${size}-${tag}`;
        const namespace = `zs-${linkName}`;
        await ensureNamespace(local, namespace);
        await putSecret(local, namespace, "creds", kubeconfig);
        // A cluster name per variant, so each run writes mirrors of its own.
        await local.create(
          Resources.zoneSyncLinks,
          linkObject(namespace, linkName, {
            targetClusterName: `target-${tag}`,
            credentialsSecret: "creds",
            selector: { matchLabels: labels },
            // Every exported Service is mirrored: the default cap (1000) would stop the 5k run at 1000.
            maxServices: size,
          }),
        );
        const started = performance.now();
        const controller = startController(clusters, { name: linkName, namespace }, logDir, env);
        const ready = await waitReady(controller, 300_000);
        const seconds = (ready - started) / 1000;
        const counts = await countMirrors(local, linkName);
        await sleep(2000);
        const hwm = procStatus(controller.child.pid!, "VmHWM");
        const cpu = cpuSeconds(controller.child.pid!);
        await stopChild(controller.child);
        results.push(
          `initial sync, ${size} exported services, ${variant}: ${seconds.toFixed(1)} s until /readyz ` +
            `(process start included; ${counts.services} Services + ${counts.slices} EndpointSlices written), ` +
            `peak RSS ${hwm.toFixed(0)} MB, controller CPU ${cpu.toFixed(1)} s`,
        );
        log(results.at(-1)!);
      }
    }
    observer.stop();
  } finally {
    await clusters.stop();
  }
  process.stdout.write(
    `\nzonesync link controller benchmark (${new Date().toISOString()}, 2 cores, Kubernetes 1.20 on loopback)\n${results.join("\n")}\n`,
  );
}

await main();
