import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { KubeClient } from "../../src/kube/client.ts";
import { ensureBinaries, type Binaries } from "./binaries.ts";
import { freePort } from "./ports.ts";
import { podsAdmitted } from "./namespaces.ts";
import { AbortWait, eventually } from "./wait.ts";
import { reapLeftovers, startProcess, type ManagedProcess } from "./processes.ts";

export interface Cluster {
  name: string;
  index: number;
  /** https://127.0.0.1:<port> */
  server: string;
  adminToken: string;
  /** PEM bundle that verifies the API server's certificate. */
  caPem: string;
  /** A kubeconfig for this cluster alone (admin), context named after the cluster. */
  kubeconfigPath: string;
  serviceCidr: string;
  podCidr: string;
  /** The pod IP prefix, e.g. "10.201." for the cluster at index 1. */
  podIpPrefix: string;
  dir: string;
  client(): KubeClient;
  /** Stops the API server only (the cluster's data stays), to simulate an outage. */
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
}

export interface Clusters {
  clusters: Record<string, Cluster>;
  /** One kubeconfig with a context per cluster, named after the cluster. */
  kubeconfigPath: string;
  binaries: Binaries;
  dir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Folder for state and logs; a temporary folder (removed on stop) by default. */
  dir?: string;
  kubeconfigPath?: string;
  log?: (message: string) => void;
}

const ETCD_DATA_PARENT = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

/** A process that exited while it was being waited for, with the end of its log. */
function exitedError(what: string, dir: string): Error {
  const log = join(dir, "kube-apiserver.log");
  const tail = existsSync(log) ? readFileSync(log, "utf8").trimEnd().split("\n").slice(-15).join("\n") : "(no log)";
  return new Error(`${what} exited; the end of ${log}:\n${tail}`);
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  await eventually(probe, timeoutMs, what);
}

export function kubeconfigYaml(
  entries: Array<{ name: string; server: string; caPem: string; token: string; namespace?: string }>,
  current?: string,
): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: entries.map((e) => ({
      name: e.name,
      cluster: { server: e.server, "certificate-authority-data": Buffer.from(e.caPem).toString("base64") },
    })),
    users: entries.map((e) => ({ name: e.name, user: { token: e.token } })),
    contexts: entries.map((e) => ({
      name: e.name,
      context: { cluster: e.name, user: e.name, ...(e.namespace ? { namespace: e.namespace } : {}) },
    })),
    "current-context": current ?? entries[0]?.name ?? "",
  });
}

async function startEtcd(
  binaries: Binaries,
  dir: string,
): Promise<{ url: string; process: ManagedProcess; dataDir: string }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(ETCD_DATA_PARENT, "zonesync-etcd-"));
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = startProcess(
    binaries.etcd,
    [
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      "--name=default",
      "--snapshot-count=100000",
      "--quota-backend-bytes=4294967296",
    ],
    {
      logFile: join(dir, "etcd.log"),
      env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === "x64" ? "" : process.arch },
    },
  );
  await waitFor("etcd", 20_000, async () => {
    if (proc.child.exitCode !== null) throw new Error(`etcd exited; see ${join(dir, "etcd.log")}`);
    const res = await fetch(`${url}/health`);
    return res.ok;
  });
  return { url, process: proc, dataDir };
}

interface ClusterInternals {
  cluster: Cluster;
  apiserver?: ManagedProcess;
  controllerManager?: ManagedProcess;
}

function prepareCluster(
  name: string,
  index: number,
  root: string,
  port: number,
): { dir: string; token: string; saKey: string; saPub: string } {
  const dir = join(root, name);
  mkdirSync(join(dir, "certs"), { recursive: true });
  const token = randomBytes(24).toString("hex");
  writeFileSync(join(dir, "tokens.csv"), `${token},admin,admin-uid,system:masters\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const saKey = join(dir, "sa.key");
  const saPub = join(dir, "sa.pub");
  writeFileSync(saKey, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
  writeFileSync(saPub, publicKey.export({ type: "spki", format: "pem" }));
  void index;
  void port;
  return { dir, token, saKey, saPub };
}

/**
 * Starts real Kubernetes control planes on loopback: one etcd shared by all (a key prefix per cluster), and per
 * cluster a kube-apiserver (RBAC, token authentication, service-account signing) and a kube-controller-manager.
 * Cluster i gets service CIDR 10.(100+i).0.0/16 and pod CIDR 10.(200+i).0.0/16, so an address tells its cluster.
 */
export async function startClusters(names: string[], options: StartOptions = {}): Promise<Clusters> {
  const log = options.log ?? (() => {});
  if (new Set(names).size !== names.length || names.length === 0)
    throw new Error("cluster names must be unique and not empty");
  reapLeftovers();
  const binaries = ensureBinaries();
  const ownDir = !options.dir;
  const root = options.dir ?? mkdtempSync(join(tmpdir(), "zonesync-clusters-"));
  mkdirSync(root, { recursive: true });
  const started = Date.now();
  const etcd = await startEtcd(binaries, root);
  log(`etcd ready at ${etcd.url} (${Date.now() - started} ms)`);
  const internals: ClusterInternals[] = [];

  const stopAll = async (): Promise<void> => {
    await Promise.all(internals.flatMap((i) => [i.controllerManager?.stop(3000), i.apiserver?.stop(5000)]));
    await etcd.process.stop(3000);
    rmSync(etcd.dataDir, { recursive: true, force: true });
    if (ownDir) rmSync(root, { recursive: true, force: true });
  };

  try {
    await Promise.all(
      names.map(async (name, index) => {
        const port = await freePort();
        const { dir, token, saKey, saPub } = prepareCluster(name, index, root, port);
        const server = `https://127.0.0.1:${port}`;
        const serviceCidr = `10.${100 + index}.0.0/16`;
        const podCidr = `10.${200 + index}.0.0/16`;
        const certFile = join(dir, "certs", "apiserver.crt");
        const kubeconfigPath = join(dir, "kubeconfig");
        const internal: ClusterInternals = { cluster: undefined as unknown as Cluster };

        const startApiserver = async (): Promise<void> => {
          internal.apiserver = startProcess(
            binaries.kubeApiserver,
            [
              `--etcd-servers=${etcd.url}`,
              `--etcd-prefix=/registry-${name}`,
              "--bind-address=127.0.0.1",
              "--advertise-address=127.0.0.1",
              `--secure-port=${port}`,
              "--insecure-port=0",
              `--cert-dir=${join(dir, "certs")}`,
              `--token-auth-file=${join(dir, "tokens.csv")}`,
              "--authorization-mode=RBAC",
              `--service-cluster-ip-range=${serviceCidr}`,
              `--service-account-key-file=${saPub}`,
              `--service-account-signing-key-file=${saKey}`,
              `--service-account-issuer=https://${name}.zonesync.test`,
              "--allow-privileged=true",
              "--enable-priority-and-fairness=false",
              "--profiling=false",
              "--endpoint-reconciler-type=none",
              "--v=0",
            ],
            { logFile: join(dir, "kube-apiserver.log") },
          );
          const proc = internal.apiserver;
          await waitFor(`kube-apiserver of ${name}`, 60_000, async () => {
            // Said at once, with the end of its log (the folder is removed with the clusters), not 60 s later.
            if (proc.child.exitCode !== null) throw new AbortWait(exitedError(`kube-apiserver of ${name}`, dir));
            if (!existsSync(certFile)) return false;
            const client = KubeClient.fromString(
              kubeconfigYaml([{ name, server, caPem: readFileSync(certFile, "utf8"), token }]),
            );
            await client.request("GET", "/readyz", { timeoutMs: 2000 });
            return true;
          });
        };

        const startControllerManager = (): void => {
          internal.controllerManager = startProcess(
            binaries.kubeControllerManager,
            [
              `--kubeconfig=${kubeconfigPath}`,
              "--leader-elect=false",
              "--port=0",
              "--secure-port=0",
              `--service-account-private-key-file=${saKey}`,
              `--root-ca-file=${certFile}`,
              `--cluster-cidr=${podCidr}`,
              `--service-cluster-ip-range=${serviceCidr}`,
              "--controllers=*,-nodelifecycle,-nodeipam,-cloud-node-lifecycle,-route,-service,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-pvc-protection,-pv-protection,-ttl-after-finished,-csrsigning,-csrapproving,-csrcleaner",
              "--concurrent-endpoint-syncs=10",
              "--concurrent-service-endpoint-syncs=10",
              "--concurrent-deployment-syncs=10",
              "--concurrent-replicaset-syncs=10",
              "--kube-api-qps=200",
              "--kube-api-burst=400",
              "--v=0",
            ],
            { logFile: join(dir, "kube-controller-manager.log") },
          );
        };

        await startApiserver();
        const caPem = readFileSync(certFile, "utf8");
        writeFileSync(kubeconfigPath, kubeconfigYaml([{ name, server, caPem, token }]), { mode: 0o600 });
        startControllerManager();
        const client = KubeClient.load({ kubeconfig: kubeconfigPath });
        await waitFor(`the controller-manager of ${name}`, 60_000, async () => {
          if (internal.controllerManager?.child.exitCode !== null) {
            throw new Error(`kube-controller-manager of ${name} exited; see ${dir}/kube-controller-manager.log`);
          }
          return podsAdmitted(client, "default");
        });

        /**
         * After an outage the API server comes back with the rest of its control plane. The controller-manager is
         * restarted with it because client-go's reflectors back off exponentially while the server is down (0.8 s
         * doubling to 30 s, with full jitter, reset only after 2 quiet minutes): after a 30 s outage its controllers
         * could stay deaf for most of another minute, and a new namespace would get no ServiceAccount meanwhile.
         */
        const restartApiserver = async (): Promise<void> => {
          await startApiserver();
          await internal.controllerManager?.stop(3000);
          startControllerManager();
        };

        internal.cluster = {
          name,
          index,
          server,
          adminToken: token,
          caPem,
          kubeconfigPath,
          serviceCidr,
          podCidr,
          podIpPrefix: `10.${200 + index}.`,
          dir,
          client: () => KubeClient.load({ kubeconfig: kubeconfigPath }),
          stopApiserver: async () => {
            await internal.apiserver?.stop(5000);
          },
          startApiserver: restartApiserver,
        };
        internals.push(internal);
        log(`cluster ${name} ready at ${server} (${Date.now() - started} ms)`);
      }),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }

  const ordered = names.map((n) => internals.find((i) => i.cluster.name === n)!.cluster);
  const kubeconfigPath = options.kubeconfigPath ?? join(root, "kubeconfig");
  mkdirSync(join(kubeconfigPath, ".."), { recursive: true });
  writeFileSync(
    kubeconfigPath,
    kubeconfigYaml(ordered.map((c) => ({ name: c.name, server: c.server, caPem: c.caPem, token: c.adminToken }))),
    { mode: 0o600 },
  );
  let stopped = false;
  return {
    clusters: Object.fromEntries(ordered.map((c) => [c.name, c])),
    kubeconfigPath,
    binaries,
    dir: root,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
