import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { isGone, isNotFound } from "../../src/kube/errors.ts";
import { Resources } from "../../src/kube/resources.ts";
import { kubeconfigYaml, type Cluster } from "./clusters.ts";
import { freePort } from "./ports.ts";
import { startProcess, type ManagedProcess } from "./processes.ts";

export const NODE_NAME = "zonesync-sim";
export const DEFAULT_OWN_IMAGE = "ghcr.io/zonesync/zonesync";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  readinessProbe?: { httpGet?: { path?: string } };
}

interface Pod extends KubeObject {
  spec: {
    nodeName?: string;
    containers: Container[];
    hostname?: string;
    subdomain?: string;
    serviceAccountName?: string;
  };
  status?: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

interface TokenRequest {
  status: { token: string; expirationTimestamp: string };
}

/**
 * What the kubelet asks for: a pod-bound token of 3607 s (an API server with the default
 * --service-account-extend-token-expiration may extend it). Test runs end well within the hour; a pod of a longer
 * `npm start` session whose token expires is refused and shows it in its logs (the simulator does not rotate it).
 */
const POD_TOKEN_SECONDS = 3607;

interface RunningContainer {
  process?: ManagedProcess;
  port: number;
  ready: boolean;
  restarts: number;
  stopping: boolean;
  timer?: NodeJS.Timeout;
}

export interface SimulatorOptions {
  /** Images whose name starts with this prefix are zonesync's own: their command really runs as a local process. */
  ownImage?: string;
  /** The command that stands for zonesync's entrypoint (default: Node 24 running the built CLI). */
  entrypoint?: string[];
  log?: (message: string) => void;
  /** Extra environment for zonesync processes (e.g. HELM_BIN, since the image carries Helm). */
  extraEnv?: Record<string, string>;
}

/**
 * Plays the kubelet for one cluster: binds pending pods to a fake Node, gives them an IP from the cluster's pod
 * CIDR and reports them Running and Ready, so Deployments become available and the real endpoint controllers fill
 * in Endpoints and EndpointSlices. Pods of zonesync's own image run their command as a local process; their
 * readiness follows the process's readiness endpoint, and they authenticate as the pod's own ServiceAccount (a
 * kubeconfig with a pod-bound token from the TokenRequest API, as the kubelet mounts), never as an admin, so every
 * scenario runs them with exactly the RBAC they are given. Deleted pods are finished (grace 0) and their process
 * stopped.
 */
export class PodSimulator {
  private readonly client: KubeClient;
  private readonly ownImage: string;
  private readonly entrypoint: string[];
  private readonly log: (message: string) => void;
  private readonly extraEnv: Record<string, string>;
  private readonly ips = new Map<string, string>();
  private readonly running = new Map<string, RunningContainer>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, Pod>();
  private nextIp = 2;
  private abort?: AbortController;
  private stopped = false;

  private readonly cluster: Cluster;

  constructor(cluster: Cluster, options: SimulatorOptions = {}) {
    this.cluster = cluster;
    this.client = cluster.client();
    this.ownImage = options.ownImage ?? process.env.ZONESYNC_OWN_IMAGE ?? DEFAULT_OWN_IMAGE;
    this.entrypoint = options.entrypoint ?? [process.execPath, join(repoRoot, "dist", "src", "cli", "main.js")];
    this.log = options.log ?? (() => {});
    this.extraEnv = options.extraEnv ?? {};
  }

  async start(): Promise<void> {
    await this.ensureNode();
    await this.listAndWatch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await Promise.all([...this.running.values()].map((r) => this.stopContainer(r)));
    this.running.clear();
  }

  /** The loopback port a running zonesync pod's HTTP server listens on (health, metrics). */
  portOf(namespace: string, name: string): number | undefined {
    for (const [key, r] of this.running) if (key.startsWith(`${namespace}/${name}/`)) return r.port;
    return undefined;
  }

  /** PIDs of the local processes standing for pods. */
  processPids(): number[] {
    return [...this.running.values()]
      .map((r) => r.process?.child.pid)
      .filter((p): p is number => typeof p === "number");
  }

  private async ensureNode(): Promise<void> {
    const node = {
      metadata: { name: NODE_NAME, labels: { "kubernetes.io/hostname": NODE_NAME, "zonesync.io/simulated": "true" } },
    };
    if (!(await this.client.getOptional(Resources.nodes, undefined, NODE_NAME))) {
      await this.client.create(Resources.nodes, node);
    }
    await this.client.patch(
      Resources.nodes,
      undefined,
      NODE_NAME,
      {
        status: {
          conditions: [{ type: "Ready", status: "True", reason: "Simulated", message: "zonesync pod simulator" }],
          addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
          capacity: { cpu: "64", memory: "256Gi", pods: "10000" },
          allocatable: { cpu: "64", memory: "256Gi", pods: "10000" },
        },
      },
      { subresource: "status" },
    );
  }

  private async listAndWatch(): Promise<void> {
    const list = await this.client.listAll<Pod>(Resources.pods);
    for (const pod of list.items) this.enqueue(pod);
    this.watchFrom(list.metadata.resourceVersion);
  }

  private watchFrom(resourceVersion: string | undefined): void {
    if (this.stopped) return;
    let lastVersion = resourceVersion;
    let gone = false;
    this.client
      .watch<Pod>(
        Resources.pods,
        undefined,
        { resourceVersion: lastVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
        (type, pod) => {
          if (type === "ERROR") {
            gone = (pod as unknown as { code?: number }).code === 410;
            return;
          }
          lastVersion = pod.metadata.resourceVersion ?? lastVersion;
          if (type === "BOOKMARK") return;
          if (type === "DELETED") {
            void this.forget(pod);
            return;
          }
          this.enqueue(pod);
        },
        (err) => {
          if (this.stopped) return;
          const restart = () => {
            if (gone || isGone(err)) {
              this.listAndWatch().catch(() => setTimeout(restart, 1000));
            } else {
              this.watchFrom(lastVersion);
            }
          };
          setTimeout(restart, err ? 500 : 0);
        },
      )
      .then((abort) => (this.abort = abort))
      .catch(() => setTimeout(() => this.watchFrom(lastVersion), 1000));
  }

  /** One pod is handled at a time; newer states queued meanwhile replace older ones. */
  private enqueue(pod: Pod): void {
    const key = pod.metadata.uid!;
    this.pending.set(key, pod);
    if (this.inFlight.has(key)) return;
    const run = async (): Promise<void> => {
      while (this.pending.has(key) && !this.stopped) {
        const next = this.pending.get(key)!;
        this.pending.delete(key);
        try {
          await this.handle(next);
        } catch (err) {
          if (!isNotFound(err)) {
            this.log(`pod ${next.metadata.namespace}/${next.metadata.name}: ${String(err)}`);
            setTimeout(() => this.enqueue(next), 500);
          }
        }
      }
      this.inFlight.delete(key);
    };
    this.inFlight.set(key, run());
  }

  private async handle(pod: Pod): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    if (!namespace || !name || !uid) return;
    if (pod.metadata.deletionTimestamp) {
      await this.forget(pod);
      await this.client.delete(Resources.pods, namespace, name, { gracePeriodSeconds: 0, uid });
      return;
    }
    if (!pod.spec.nodeName) {
      await this.client.request("POST", `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
        body: {
          apiVersion: "v1",
          kind: "Binding",
          metadata: { name, namespace },
          target: { apiVersion: "v1", kind: "Node", name: NODE_NAME },
        },
      });
      return; // the watch brings the bound pod back
    }
    if (pod.spec.nodeName !== NODE_NAME) return;
    for (const container of pod.spec.containers) {
      if (this.isOwn(container) && !this.running.has(this.containerKey(pod, container))) {
        await this.startContainer(pod, container);
      }
    }
    await this.reportStatus(pod);
  }

  private isOwn(container: Container): boolean {
    return container.image.startsWith(this.ownImage);
  }

  private containerKey(pod: Pod, container: Container): string {
    return `${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}/${container.name}`;
  }

  private ipOf(pod: Pod): string {
    const uid = pod.metadata.uid!;
    let ip = this.ips.get(uid) ?? pod.status?.podIP;
    if (!ip) {
      const n = this.nextIp++;
      ip = `${this.cluster.podIpPrefix}${Math.floor(n / 254)}.${(n % 254) + 1}`;
    }
    this.ips.set(uid, ip);
    return ip;
  }

  private async reportStatus(pod: Pod): Promise<void> {
    const ip = this.ipOf(pod);
    const now = new Date().toISOString();
    const statuses = pod.spec.containers.map((c) => {
      const r = this.running.get(this.containerKey(pod, c));
      const ready = r ? r.ready : true;
      return {
        name: c.name,
        image: c.image,
        imageID: "",
        ready,
        started: true,
        restartCount: r?.restarts ?? 0,
        state: { running: { startedAt: now } },
      };
    });
    const allReady = statuses.every((s) => s.ready);
    const current = pod.status?.conditions?.find((c) => c.type === "Ready")?.status === (allReady ? "True" : "False");
    if (pod.status?.phase === "Running" && pod.status.podIP === ip && current) return;
    const condition = (type: string, ok: boolean) => ({ type, status: ok ? "True" : "False", lastTransitionTime: now });
    await this.client.patch(
      Resources.pods,
      pod.metadata.namespace,
      pod.metadata.name!,
      {
        status: {
          phase: "Running",
          hostIP: "127.0.0.1",
          podIP: ip,
          podIPs: [{ ip }],
          startTime: now,
          conditions: [
            condition("PodScheduled", true),
            condition("Initialized", true),
            condition("ContainersReady", allReady),
            condition("Ready", allReady),
          ],
          containerStatuses: statuses,
        },
      },
      { subresource: "status" },
    );
  }

  /** Writes a kubeconfig holding a token of the pod's ServiceAccount, bound to the pod; returns its path. */
  private async podKubeconfig(pod: Pod, dir: string): Promise<string> {
    const { namespace, name, uid } = pod.metadata;
    const serviceAccount = pod.spec.serviceAccountName || "default";
    const issued = await this.client.request<TokenRequest>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      {
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: POD_TOKEN_SECONDS, boundObjectRef: { apiVersion: "v1", kind: "Pod", name, uid } },
        },
      },
    );
    const path = join(dir, `${namespace}_${name}.kubeconfig`);
    const { server, caPem } = this.cluster;
    writeFileSync(
      path,
      kubeconfigYaml([{ name: this.cluster.name, server, caPem, token: issued.status.token, namespace }]),
      {
        mode: 0o600,
      },
    );
    return path;
  }

  private resolveEnv(pod: Pod, container: Container, port: number, kubeconfig: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: kubeconfig,
      POD_NAME: pod.metadata.name,
      POD_NAMESPACE: pod.metadata.namespace,
      ZONESYNC_HTTP_ADDR: `127.0.0.1:${port}`,
      ZONESYNC_LOG_FORMAT: "json",
      ...this.extraEnv,
    };
    const fields: Record<string, string | undefined> = {
      "metadata.name": pod.metadata.name,
      "metadata.namespace": pod.metadata.namespace,
      "metadata.uid": pod.metadata.uid,
      "spec.nodeName": NODE_NAME,
      "status.podIP": this.ipOf(pod),
    };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath];
    }
    return env;
  }

  private async startContainer(pod: Pod, container: Container): Promise<void> {
    const key = this.containerKey(pod, container);
    const logDir = join(this.cluster.dir, "pods");
    mkdirSync(logDir, { recursive: true });
    const kubeconfig = await this.podKubeconfig(pod, logDir);
    const port = await freePort();
    const entry: RunningContainer = { port, ready: !container.readinessProbe?.httpGet, restarts: 0, stopping: false };
    this.running.set(key, entry);
    const command =
      container.command?.length && container.command[0] !== "zonesync" ? container.command : this.entrypoint;
    const args = [
      ...(container.command?.[0] === "zonesync" ? container.command.slice(1) : []),
      ...(container.args ?? []),
    ];
    const launch = () => {
      if (entry.stopping || this.stopped) return;
      const [cmd, ...rest] = command;
      entry.process = startProcess(cmd!, [...rest, ...args], {
        logFile: join(logDir, `${pod.metadata.namespace}_${pod.metadata.name}_${container.name}.log`),
        env: this.resolveEnv(pod, container, port, kubeconfig),
        cwd: repoRoot,
      });
      this.log(`started ${key} as pid ${entry.process.child.pid}`);
      void entry.process.exited.then(() => {
        if (entry.stopping || this.stopped) return;
        entry.restarts++;
        entry.ready = false;
        this.enqueue(pod);
        setTimeout(launch, Math.min(10_000, 500 * 2 ** Math.min(entry.restarts, 5)));
      });
    };
    launch();
    const path = container.readinessProbe?.httpGet?.path;
    if (path) {
      entry.timer = setInterval(() => {
        void fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) })
          .then((res) => res.ok)
          .catch(() => false)
          .then((ready) => {
            if (ready !== entry.ready && !entry.stopping) {
              entry.ready = ready;
              this.refresh(pod);
            }
          });
      }, 300);
    }
  }

  private refresh(pod: Pod): void {
    this.client
      .get<Pod>(Resources.pods, pod.metadata.namespace, pod.metadata.name!)
      .then((fresh) => this.enqueue(fresh))
      .catch(() => {});
  }

  private async stopContainer(entry: RunningContainer): Promise<void> {
    entry.stopping = true;
    if (entry.timer) clearInterval(entry.timer);
    await entry.process?.stop(5000);
  }

  private async forget(pod: Pod): Promise<void> {
    const prefix = `${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}/`;
    const stops: Array<Promise<void>> = [];
    for (const [key, entry] of this.running) {
      if (key.startsWith(prefix)) {
        this.running.delete(key);
        stops.push(this.stopContainer(entry));
      }
    }
    await Promise.all(stops);
    if (!pod.metadata.deletionTimestamp) this.ips.delete(pod.metadata.uid!);
  }
}
