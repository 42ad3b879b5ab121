#!/usr/bin/env node
// Multi-Cluster Services benchmark (ADR 0005): hub imports what east and west export. Export → ServiceImport ready
// latency (against the mcs-api conformance bound of 20 s), endpoint change latency over the two hops (east's MCS
// controller, then hub's link controller) vs. a minimal two-hop watch-and-write floor, peak RSS of hub's controllers.
//   npx tsc -p tsconfig.json && node bench/mcs/run.ts [--sizes 100,1000] [--changes 200] [--interval 50]
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { ENDPOINTSLICE_MANAGER, LABEL_ENDPOINTSLICE_MANAGED_BY } from "../../src/api/names.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion, type ResourceType } from "../../src/kube/resources.ts";
import {
  derivedServiceName,
  importSliceName,
  LABEL_MCS_SERVICE_NAME,
  LABEL_MCS_SOURCE_CLUSTER,
} from "../../src/mcs/names.ts";
import { sleep } from "../../src/sleep.ts";
import { startClusters, type Clusters } from "../../test/env/index.ts";
import { trackedPids } from "../../test/env/processes.ts";
import { cpuMeter } from "../cpu.ts";
import { freePort } from "../../test/env/ports.ts";
import {
  ensureNamespace,
  exportedService,
  installCrd,
  linkObject,
  pool,
  putSecret,
  spawnLinkController,
  targetCredentials,
} from "../mirror/setup.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000" },
    changes: { type: "string", default: "200" },
    interval: { type: "string", default: "50" },
  },
});
const SIZES = values.sizes!.split(",").filter(Boolean).map(Number);
const CHANGES = Number(values.changes);
const INTERVAL_MS = Number(values.interval);
/** The mcs-api conformance suite waits this long for each import. */
const CONFORMANCE_BOUND_MS = 20_000;
const NAMESPACES = 10;
const EXPORTERS = ["east", "west"] as const;
type Exporter = (typeof EXPORTERS)[number];
const LEASE_NAMESPACE = "zonesync-system";
const repoRoot = join(import.meta.dirname, "..", "..");
/** The EndpointSlice type the clusters serve (set in main). */
let slices: ResourceType;

interface Slice extends KubeObject {
  addressType?: string;
  endpoints?: Array<{ addresses: string[] }>;
  ports?: unknown[];
}
interface ServiceImport extends KubeObject {
  spec?: { ips?: string[] };
  status?: { clusters?: Array<{ cluster: string }> };
}
interface Spec {
  ns: string;
  name: string;
  i: number;
}

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (v: number) => `${v.toFixed(v < 100 ? 1 : 0)} ms`;

/** The two initial endpoint addresses of service `i` in an exporting cluster (k = 0 or 1). */
function ipOf(cluster: Exporter, i: number, k: number): string {
  return `10.${1 + 2 * EXPORTERS.indexOf(cluster) + k}.${Math.floor(i / 256)}.${i % 256}`;
}

let changeSequence = 0;
/** A new address for every change of the run, so no change can be a no-op that hub never reports. */
function nextChangeAddress(): string {
  const n = changeSequence++;
  return `10.${100 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The labels of a round's source Services and slices (the floor's hop 1 watches them). */
const sourceLabels = (round: string) => ({ "bench-mcs": "true", round });

/** Creates `count` selector-less Services with one EndpointSlice (2 endpoints) each in east and west. */
async function populate(clients: Record<Exporter, KubeClient>, round: string, count: number): Promise<Spec[]> {
  const specs = Array.from({ length: count }, (_, i) => ({ ns: `mcs-${round}-${i % NAMESPACES}`, name: `s${i}`, i }));
  const started = Date.now();
  const work = specs.flatMap((spec) => EXPORTERS.map((cluster) => ({ spec, cluster })));
  await pool(work, 24, async ({ spec, cluster }) => {
    const { service, slice } = exportedService(spec.ns, spec.name, sourceLabels(round), [
      ipOf(cluster, spec.i, 0),
      ipOf(cluster, spec.i, 1),
    ]);
    await clients[cluster].create(Resources.services, service);
    await clients[cluster].create(slices, slice);
  });
  log(`created ${count} Services + EndpointSlices in east and west in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return specs;
}

/** hub's key of a carried import slice (by its labels), or of any other slice (by its name). */
function sliceKey(s: Slice): string {
  const labels = s.metadata.labels ?? {};
  const cluster = labels[LABEL_MCS_SOURCE_CLUSTER];
  const service = labels[LABEL_MCS_SERVICE_NAME];
  if (labels[LABEL_ENDPOINTSLICE_MANAGED_BY] === ENDPOINTSLICE_MANAGER && cluster && service) {
    return `import:${s.metadata.namespace}/${service}/${cluster}`;
  }
  return `${s.metadata.namespace}/${s.metadata.name}`;
}

/** A watch on hub's slices that resolves waiters when a slice shows an address. */
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
      { resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 3600 },
      (type, s) => {
        if (type !== "ADDED" && type !== "MODIFIED") return;
        const key = sliceKey(s);
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
      (err) => err && log(`hub slice watch ended: ${String(err)}`),
    );
  }
  /** Resolves with the time the address showed up, or undefined after the timeout (a lost change). */
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

/** A watch on hub's ServiceImports: the first time each one lists both exporters and has an IP. */
class ImportObserver {
  private readonly ready = new Map<string, number>();
  private readonly waiters = new Map<string, (t: number) => void>();
  private abort?: AbortController;
  private readonly client: KubeClient;
  constructor(client: KubeClient) {
    this.client = client;
  }
  async start(): Promise<void> {
    const list = await this.client.list(Resources.serviceImports, undefined, { limit: 1 });
    this.abort = await this.client.watch<ServiceImport>(
      Resources.serviceImports,
      undefined,
      { resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 3600 },
      (type, si) => {
        if (type !== "ADDED" && type !== "MODIFIED") return;
        const key = `${si.metadata.namespace}/${si.metadata.name}`;
        const clusters = new Set((si.status?.clusters ?? []).map((c) => c.cluster));
        if (this.ready.has(key) || !EXPORTERS.every((c) => clusters.has(c)) || !si.spec?.ips?.length) return;
        const now = performance.now();
        this.ready.set(key, now);
        this.waiters.get(key)?.(now);
        this.waiters.delete(key);
      },
      (err) => err && log(`hub ServiceImport watch ended: ${String(err)}`),
    );
  }
  /** Resolves with the time the import was first ready, or undefined after the timeout. */
  waitFor(key: string, timeoutMs: number): Promise<number | undefined> {
    const known = this.ready.get(key);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(key, (t) => (clearTimeout(timer), resolve(t)));
    });
  }
  stop(): void {
    this.abort?.abort();
  }
}

/** One watch (list, then watch from its version) whose ADDED and MODIFIED slices go to `write`. */
async function watchSlices(
  client: KubeClient,
  selector: string,
  write: (s: Slice) => Promise<unknown>,
): Promise<AbortController> {
  const list = await client.listAll<Slice>(slices, undefined, { labelSelector: selector });
  const onError = (err: unknown) => log(`floor write failed: ${String(err)}`);
  await pool(list.items, 24, async (s) => void (await write(s).catch(onError)));
  return client.watch<Slice>(
    slices,
    undefined,
    { resourceVersion: list.metadata.resourceVersion, labelSelector: selector, timeoutSeconds: 3600 },
    (type, s) => {
      if (type === "ADDED" || type === "MODIFIED") void write(s).catch(onError);
    },
    (err) => err && log(`floor watch ended: ${String(err)}`),
  );
}

/**
 * The floor: the least that carries a slice over the same two hops — in each exporting cluster one watch on the
 * source slices that server-side-applies a copy into that cluster, and one watch on those copies that applies a copy
 * into hub. No cache, no queue, no records, no status, no leader election.
 */
async function startFloor(clients: Record<Exporter | "hub", KubeClient>, round: string): Promise<() => void> {
  const aborts: AbortController[] = [];
  const copy = (s: Slice, name: string, labels: Record<string, string>): KubeObject => ({
    metadata: { name, namespace: s.metadata.namespace, labels: { ...labels, "kubernetes.io/service-name": name } },
    addressType: s.addressType ?? "IPv4",
    endpoints: s.endpoints ?? [],
    ports: s.ports ?? [],
  });
  for (const cluster of EXPORTERS) {
    const client = clients[cluster];
    // Hop 2 first, so it sees every copy hop 1 writes.
    aborts.push(
      await watchSlices(client, `bench-floor=1,round=${round}`, (s) =>
        clients.hub.apply(slices, copy(s, `${cluster}-${s.metadata.name}`, { "bench-floor": "2", round }), {
          fieldManager: "bench-floor",
        }),
      ),
    );
    aborts.push(
      await watchSlices(client, `bench-mcs=true,round=${round}`, (s) =>
        client.apply(slices, copy(s, `floor-${s.metadata.name}`, { "bench-floor": "1", round }), {
          fieldManager: "bench-floor",
        }),
      ),
    );
  }
  return () => aborts.forEach((a) => a.abort());
}

/**
 * Moves one endpoint of a source slice, one change every INTERVAL_MS, over (service, exporting cluster) pairs in a
 * shuffled order (so no pair changes again before the others did), and measures each change until `hubKey` shows
 * it in hub. Lost changes are counted.
 */
async function measure(
  clients: Record<Exporter, KubeClient>,
  observer: SliceObserver,
  specs: Spec[],
  round: string,
  hubKey: (spec: Spec, cluster: Exporter) => string,
): Promise<{ latencies: number[]; lost: number }> {
  const order = shuffled(specs.flatMap((spec) => EXPORTERS.map((cluster) => ({ spec, cluster }))));
  const latencies: number[] = [];
  let lost = 0;
  const pending: Array<Promise<void>> = [];
  for (let c = 0; c < CHANGES; c++) {
    const { spec, cluster } = order[c % order.length]!;
    const address = nextChangeAddress();
    const { slice } = exportedService(spec.ns, spec.name, sourceLabels(round), [ipOf(cluster, spec.i, 0), address]);
    const seen = observer.waitFor(hubKey(spec, cluster), address);
    const sent = performance.now();
    await clients[cluster].apply(slices, slice, { fieldManager: "bench" });
    pending.push(
      seen.then((t) => {
        if (t === undefined) {
          lost++;
          log(`lost: ${cluster} ${spec.ns}/${spec.name} → ${address}`);
        } else latencies.push(t - sent);
      }),
    );
    await sleep(INTERVAL_MS);
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), lost };
}

interface Controller {
  name: string;
  child: ChildProcess;
  log: string;
  /** The health URL, when known up front (the MCS controller does not log it). */
  url?: string;
}

/** Runs the built CLI's MCS controller of one cluster as its own process, JSON logs appended to a file. */
async function spawnMcsController(clusters: Clusters, cluster: string, logDir: string): Promise<Controller> {
  const logFile = join(logDir, `mcs-${cluster}.log`);
  const port = await freePort();
  const fd = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "dist", "src", "cli", "main.js"),
      "mcs-controller",
      "--cluster-id",
      cluster,
      "--namespace",
      LEASE_NAMESPACE,
      "--context",
      cluster,
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: clusters.kubeconfigPath,
        ZONESYNC_HTTP_ADDR: `127.0.0.1:${port}`,
        ZONESYNC_LOG_FORMAT: "json",
        ZONESYNC_LOG_LEVEL: "info",
      },
      stdio: ["ignore", fd, fd],
    },
  );
  closeSync(fd);
  return { name: `mcs-${cluster}`, child, log: logFile, url: `http://127.0.0.1:${port}` };
}

/** Waits until the process's /readyz answers 200 (its caches synced). */
async function waitReady(controller: Controller, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    controller.url ??= /"url":"(http:[^"]+)"/.exec(readFileSync(controller.log, "utf8"))?.[1];
    if (controller.url) {
      const ready = await fetch(`${controller.url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
    }
    if (controller.child.exitCode !== null) throw new Error(`${controller.name} exited; see ${controller.log}`);
    await sleep(100);
  }
  throw new Error(`${controller.name} was not ready within ${timeoutMs} ms; see ${controller.log}`);
}

function procStatus(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

async function installMcsCrds(client: KubeClient): Promise<void> {
  for (const file of ["multicluster.x-k8s.io_serviceexports.yaml", "multicluster.x-k8s.io_serviceimports.yaml"]) {
    const crd = parse(readFileSync(join(repoRoot, "crds", file), "utf8")) as KubeObject;
    await client.apply(Resources.crds, crd, { fieldManager: "zonesync-bench" });
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.list(Resources.serviceExports, "default", { limit: 1 });
      await client.list(Resources.serviceImports, "default", { limit: 1 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error("the MCS CRDs are not served", { cause: err });
      await sleep(200);
    }
  }
}

/** Warnings and errors of a controller's JSON log, for the report (zonesync's own trouble shows here). */
function logProblems(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => /"level":"(warn|error)"/.test(line));
}

async function main(): Promise<void> {
  if (!existsSync(join(repoRoot, "dist", "src", "cli", "main.js"))) {
    throw new Error("dist/ is missing: run `npx tsc -p tsconfig.json` first");
  }
  const clusters = await startClusters(["hub", "east", "west"], { log });
  const clients = {
    hub: clusters.clusters.hub!.client(),
    east: clusters.clusters.east!.client(),
    west: clusters.clusters.west!.client(),
  };
  const exporters: Record<Exporter, KubeClient> = { east: clients.east, west: clients.west };
  slices = endpointSliceType(await servedVersion(clients.hub, "discovery.k8s.io"));
  const logDir = mkdtempSync(join(tmpdir(), "zonesync-bench-mcs-"));
  const controllers: Controller[] = [];
  const observers: Array<{ stop(): void }> = [];
  const results: string[] = [];
  // Killed outright (a signal; test/env exits on it), the controllers go too: they are not in test/env's registry.
  const killControllers = () => controllers.forEach((c) => c.child.exitCode === null && c.child.kill("SIGKILL"));
  process.once("exit", killControllers);
  try {
    log(`controller logs in ${logDir}`);
    for (const [name, client] of Object.entries(clients)) {
      await installMcsCrds(client);
      await ensureNamespace(client, LEASE_NAMESPACE);
      log(`MCS CRDs installed in ${name}`);
    }
    await installCrd(clients.hub);
    for (const cluster of ["hub", ...EXPORTERS]) controllers.push(await spawnMcsController(clusters, cluster, logDir));
    for (const target of EXPORTERS) {
      const { kubeconfig } = await targetCredentials(clients[target], clusters.clusters[target]!, "hub");
      const namespace = `zs-${target}`;
      await ensureNamespace(clients.hub, namespace);
      await putSecret(clients.hub, namespace, "creds", kubeconfig);
      // No selector: the link carries only the target's MCS exports.
      await clients.hub.create(
        Resources.zoneSyncLinks,
        linkObject(namespace, target, { targetClusterName: target, credentialsSecret: "creds" }),
      );
      const logFile = join(logDir, `link-${target}.log`);
      const child = spawnLinkController({
        kubeconfig: clusters.clusters.hub!.kubeconfigPath,
        link: { name: target, namespace },
        logFile,
        env: { ZONESYNC_LOG_LEVEL: "info" },
      });
      controllers.push({ name: `link-${target}`, child, log: logFile });
    }
    for (const controller of controllers) await waitReady(controller, 120_000);
    log("controllers ready (/readyz)");

    const imports = new ImportObserver(clients.hub);
    await imports.start();
    observers.push(imports);
    const observer = new SliceObserver(clients.hub);
    await observer.start();
    observers.push(observer);

    // A probe export from both clusters: the whole chain (leaders included) works before anything is measured.
    {
      const probeStarted = performance.now();
      for (const client of Object.values(clients)) await ensureNamespace(client, "mcs-probe");
      for (const cluster of EXPORTERS) {
        const { service, slice } = exportedService("mcs-probe", "probe", {}, [ipOf(cluster, 0, 0)]);
        await exporters[cluster].create(Resources.services, service);
        await exporters[cluster].create(slices, slice);
        await exporters[cluster].create(Resources.serviceExports, {
          metadata: { name: "probe", namespace: "mcs-probe" },
        });
      }
      if ((await imports.waitFor("mcs-probe/probe", 120_000)) === undefined) {
        throw new Error(`hub did not import the probe export within 120 s; see ${logDir}`);
      }
      log(`probe export imported in hub in ${ms(performance.now() - probeStarted)} (namespaces included)`);
    }

    for (const size of SIZES) {
      const round = String(size);
      for (let k = 0; k < NAMESPACES; k++) {
        for (const client of Object.values(clients)) await ensureNamespace(client, `mcs-${round}-${k}`);
      }
      const specs = await populate(exporters, round, size);

      // The floor first, while nothing of this round is exported (zonesync's controllers stay idle meanwhile).
      const stopFloor = await startFloor(clients, round);
      await sleep(2000);
      const floor = await measure(exporters, observer, specs, round, (s, cluster) => {
        return `${s.ns}/${cluster}-floor-${s.name}-direct`;
      });
      stopFloor();
      log(`floor: p50 ${ms(percentile(floor.latencies, 50))} / p99 ${ms(percentile(floor.latencies, 99))}`);

      // Every export at once, east and west of a name side by side.
      const timeoutMs = Math.min(600_000, 60_000 + size * 500);
      const cpu = cpuMeter({
        // test/env's registry holds the control planes only; the controllers are spawned here.
        kubernetes: trackedPids(),
        zonesync: controllers.flatMap((c) => (c.child.pid ? [c.child.pid] : [])),
        bench: [process.pid],
      });
      const started = performance.now();
      const sent = new Map<string, number>();
      const ready = specs.map(async (spec) => {
        const key = `${spec.ns}/${spec.name}`;
        const t = await imports.waitFor(key, timeoutMs);
        return t === undefined ? undefined : t - sent.get(key)!;
      });
      await pool(
        specs.flatMap((spec) => EXPORTERS.map((cluster) => ({ spec, cluster }))),
        24,
        async ({ spec, cluster }) => {
          if (cluster === "east") sent.set(`${spec.ns}/${spec.name}`, performance.now());
          await exporters[cluster].create(Resources.serviceExports, {
            metadata: { name: spec.name, namespace: spec.ns },
          });
        },
      );
      log(`created ${2 * size} ServiceExports in ${ms(performance.now() - started)}`);
      const outcomes = await Promise.all(ready);
      const allSeconds = (performance.now() - started) / 1000;
      const used = cpu.stop();
      const latencies = outcomes.filter((t): t is number => t !== undefined).sort((a, b) => a - b);
      const missing = outcomes.length - latencies.length;
      const p99 = percentile(latencies, 99);
      results.push(
        `MCS, ${size} names exported from east and west: export → hub ServiceImport ready ` +
          `p50 ${ms(percentile(latencies, 50))} / p99 ${ms(p99)}, all in ${allSeconds.toFixed(1)} s ` +
          `(conformance bound 20 s: ${
            p99 < CONFORMANCE_BOUND_MS ? `p99 is ${(CONFORMANCE_BOUND_MS / p99).toFixed(1)}× under` : "p99 is OVER it"
          })${missing ? `, NOT READY after ${timeoutMs / 1000} s: ${missing}` : ""}`,
      );
      log(results.at(-1)!);
      const offered = allSeconds * availableParallelism();
      const share = (seconds: number) => `${seconds.toFixed(1)} s (${((seconds / offered) * 100).toFixed(0)} %)`;
      results.push(
        `MCS, ${size} names: CPU during that burst, of ${offered.toFixed(0)} core-seconds: ` +
          `Kubernetes (3 API servers, etcd, controller managers) ${share(used.kubernetes)}, ` +
          `zonesync (3 MCS + 2 link controllers) ${share(used.zonesync)}, the bench ${share(used.bench)}`,
      );
      log(results.at(-1)!);

      // The carried slice's name, checked once against the two hops' naming (the observer goes by labels).
      {
        const spec = specs[0]!;
        const derived = derivedServiceName(spec.name);
        const expected = importSliceName(derived, "east", importSliceName(derived, "east", `${spec.name}-direct`));
        const carried = await clients.hub.list<Slice>(slices, spec.ns, {
          labelSelector: `${LABEL_MCS_SERVICE_NAME}=${spec.name},${LABEL_MCS_SOURCE_CLUSTER}=east`,
        });
        const names = carried.items.map((s) => s.metadata.name);
        log(
          names.length === 1 && names[0] === expected
            ? `carried slice of east ${spec.ns}/${spec.name} is ${expected}, as named by the two hops`
            : `carried slices of east ${spec.ns}/${spec.name}: ${names.join(", ") || "none"} (expected ${expected})`,
        );
      }

      await sleep(2000);
      const zs = await measure(
        exporters,
        observer,
        specs,
        round,
        (s, cluster) => `import:${s.ns}/${s.name}/${cluster}`,
      );
      const fp99 = percentile(floor.latencies, 99);
      results.push(
        `MCS, ${size} names, ${CHANGES} endpoint changes (east and west): source slice → hub import slice ` +
          `p50 ${ms(percentile(zs.latencies, 50))} / p99 ${ms(percentile(zs.latencies, 99))}, lost ${zs.lost} | ` +
          `floor (2 hops) p50 ${ms(percentile(floor.latencies, 50))} / p99 ${ms(fp99)}, lost ${floor.lost} | ` +
          `p99 ratio zonesync/floor: ${(percentile(zs.latencies, 99) / fp99).toFixed(2)}`,
      );
      log(results.at(-1)!);
    }

    const rss = (name: string) => {
      const c = controllers.find((x) => x.name === name)!;
      return `${procStatus(c.child.pid!, "VmHWM").toFixed(0)} MB`;
    };
    results.push(
      `MCS controller peak RSS hub ${rss("mcs-hub")} (east ${rss("mcs-east")}, west ${rss("mcs-west")}) | ` +
        `link controllers in hub: east ${rss("link-east")}, west ${rss("link-west")}`,
    );
    for (const c of controllers) {
      const problems = logProblems(c.log);
      if (problems.length)
        log(`${c.name}: ${problems.length} warnings/errors, e.g. ${problems.slice(0, 3).join("\n  ")}`);
      if (c.child.exitCode !== null) log(`${c.name} exited (code ${c.child.exitCode}); see ${c.log}`);
    }
  } finally {
    observers.forEach((o) => o.stop());
    await Promise.all(controllers.map((c) => stopChild(c.child)));
    process.off("exit", killControllers);
    await Promise.all(Object.values(clients).map((c) => c.close()));
    await clusters.stop();
  }
  process.stdout.write(
    `\nzonesync MCS benchmark (${new Date().toISOString()}, 2 cores, Kubernetes 1.20 on loopback)\n${results.join("\n")}\n`,
  );
}

await main();
