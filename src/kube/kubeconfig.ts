import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import type { RemoteCredentials } from "../api/remote-kubeconfig.ts";

/**
 * The kubeconfig reader for the operator's own kubeconfig (the CLI, the test environment, a pod's mounted file):
 * contexts, servers, CAs, tokens and client certificates, from data or from files. A kubeconfig that comes from a
 * Secret is never read here but by the credentials policy (api/remote-kubeconfig.ts). Only exec and auth-provider
 * users need @kubernetes/client-node (whose import alone takes 0.5 s here); see kube/credentials.ts.
 */

/** A context's connection: what a credentials Secret may hold (RemoteCredentials), plus what only the operator's own kubeconfig may. */
export interface KubeconfigEntry extends RemoteCredentials {
  /** exec or auth-provider credentials: only client-node can run those (never for a Secret's kubeconfig). */
  usesPlugin: boolean;
  namespace?: string;
  /** Basic authentication (the operator's own kubeconfig only). */
  username?: string;
  password?: string;
  /** A token file that is read again as it rotates (an in-cluster ServiceAccount token). */
  tokenFile?: string;
}

export interface Kubeconfig {
  currentContext: string;
  contextNames: string[];
  /** The entry of a context (default: the current one); throws for an unknown context. */
  entry(context?: string): KubeconfigEntry;
}

interface Named<T> {
  name?: string;
  [key: string]: unknown;
  value?: T;
}

type RawCluster = {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
};
type RawUser = {
  token?: string;
  tokenFile?: string;
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  exec?: unknown;
  "auth-provider"?: unknown;
  username?: string;
  password?: string;
};
type RawContext = { cluster?: string; user?: string; namespace?: string };

function byName<T>(list: unknown, field: string): Map<string, T> {
  const map = new Map<string, T>();
  if (!Array.isArray(list)) return map;
  for (const item of list as Named<T>[]) {
    if (item && typeof item.name === "string") map.set(item.name, (item[field] ?? {}) as T);
  }
  return map;
}

interface Located<T> {
  value: T;
  /** Relative file references in it resolve against this directory (its file's). */
  baseDir: string;
}

interface RawKubeconfig {
  currentContext: string;
  clusters: Map<string, Located<RawCluster>>;
  users: Map<string, Located<RawUser>>;
  contexts: Map<string, Located<RawContext>>;
}

function readRaw(text: string, baseDir: string): RawKubeconfig {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`not valid YAML: ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("not a kubeconfig (expected a YAML mapping)");
  const located = <T>(map: Map<string, T>) =>
    new Map([...map].map(([name, value]) => [name, { value, baseDir }] as const));
  return {
    currentContext: typeof doc["current-context"] === "string" ? doc["current-context"] : "",
    clusters: located(byName<RawCluster>(doc.clusters, "cluster")),
    users: located(byName<RawUser>(doc.users, "user")),
    contexts: located(byName<RawContext>(doc.contexts, "context")),
  };
}

/** kubectl's merge of a $KUBECONFIG list: the first file that defines a name (or the current context) wins. */
function merge(configs: RawKubeconfig[]): RawKubeconfig {
  const mergeMaps = <T>(maps: Map<string, T>[]) => {
    const merged = new Map<string, T>();
    for (const map of maps) for (const [name, value] of map) if (!merged.has(name)) merged.set(name, value);
    return merged;
  };
  return {
    currentContext: configs.find((c) => c.currentContext)?.currentContext ?? "",
    clusters: mergeMaps(configs.map((c) => c.clusters)),
    users: mergeMaps(configs.map((c) => c.users)),
    contexts: mergeMaps(configs.map((c) => c.contexts)),
  };
}

/** Parses kubeconfig YAML; relative file references resolve against `baseDir`. Throws on what is not a kubeconfig. */
export function parseKubeconfig(text: string, baseDir = process.cwd()): Kubeconfig {
  return fromRaw(readRaw(text, baseDir));
}

function fromRaw(raw: RawKubeconfig): Kubeconfig {
  const { clusters, users, contexts, currentContext } = raw;
  if (contexts.size === 0) throw new Error("the kubeconfig has no contexts");
  const b64 = (data: string): string => Buffer.from(data, "base64").toString("utf8");
  return {
    currentContext,
    contextNames: [...contexts.keys()],
    entry(context = currentContext): KubeconfigEntry {
      const ctx = contexts.get(context)?.value;
      if (!ctx) {
        throw new Error(
          context
            ? `unknown context "${context}" (the kubeconfig has: ${[...contexts.keys()].join(", ")})`
            : "no current context",
        );
      }
      const clusterAt = clusters.get(ctx.cluster ?? "");
      if (!clusterAt)
        throw new Error(`context "${context}" names cluster "${ctx.cluster ?? ""}", which is not defined`);
      const cluster = clusterAt.value;
      if (!cluster.server) throw new Error(`cluster "${ctx.cluster}" has no server`);
      const userAt = users.get(ctx.user ?? "");
      const user = userAt?.value ?? {};
      const path = (base: string, file: string): string => (isAbsolute(file) ? file : join(base, file));
      const clusterFile = (file: string): string => readFileSync(path(clusterAt.baseDir, file), "utf8");
      const userFile = (file: string): string => readFileSync(path(userAt?.baseDir ?? process.cwd(), file), "utf8");
      const caData = cluster["certificate-authority-data"];
      const caFile = cluster["certificate-authority"];
      const certData = user["client-certificate-data"];
      const keyData = user["client-key-data"];
      return {
        context,
        server: cluster.server.replace(/\/+$/, ""),
        caPem: caData ? b64(caData) : caFile ? clusterFile(caFile) : undefined,
        insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
        token: user.token ?? (user.tokenFile ? userFile(user.tokenFile).trim() : undefined),
        ...(user.tokenFile && !user.token ? { tokenFile: path(userAt?.baseDir ?? process.cwd(), user.tokenFile) } : {}),
        clientCertPem: certData
          ? b64(certData)
          : user["client-certificate"]
            ? userFile(user["client-certificate"])
            : undefined,
        clientKeyPem: keyData ? b64(keyData) : user["client-key"] ? userFile(user["client-key"]) : undefined,
        usesPlugin: Boolean(user.exec || user["auth-provider"]),
        namespace: ctx.namespace,
        ...(user.username ? { username: user.username, password: user.password ?? "" } : {}),
      };
    },
  };
}

/** The files kubectl would merge: the flag alone, else every path of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPaths(flag?: string): string[] {
  if (flag) return [flag];
  const fromEnv = process.env.KUBECONFIG?.split(":").filter(Boolean) ?? [];
  return fromEnv.length > 0 ? fromEnv : [join(homedir(), ".kube", "config")];
}

/** Reads and merges kubeconfig files (files of a $KUBECONFIG list that do not exist are skipped, as kubectl does). */
export function loadKubeconfig(paths: string | string[]): Kubeconfig {
  const list = typeof paths === "string" ? [paths] : paths;
  const existing = list.length === 1 ? list : list.filter((p) => existsSync(p));
  if (existing.length === 0) throw new Error(`none of ${list.join(", ")} exists`);
  return fromRaw(merge(existing.map((p) => readRaw(readFileSync(p, "utf8"), dirname(p)))));
}

/**
 * kubectl's choice between files and the pod's own ServiceAccount: in-cluster only when no kubeconfig is given,
 * $KUBECONFIG is unset, ~/.kube/config does not exist, and the pod environment says it runs in a cluster.
 */
export function wantsInCluster(flag?: string): boolean {
  return (
    !flag &&
    !process.env.KUBECONFIG &&
    !existsSync(kubeconfigPaths()[0]!) &&
    Boolean(process.env.KUBERNETES_SERVICE_HOST)
  );
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's own credentials, when running in a cluster (what an exec probe in the manager pod uses). */
export function inClusterEntry(): KubeconfigEntry | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) return undefined;
  try {
    return {
      context: "in-cluster",
      server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
      caPem: readFileSync(join(SA_DIR, "ca.crt"), "utf8"),
      insecureSkipTlsVerify: false,
      token: readFileSync(join(SA_DIR, "token"), "utf8").trim(),
      tokenFile: join(SA_DIR, "token"),
      usesPlugin: false,
      namespace: readFileSync(join(SA_DIR, "namespace"), "utf8").trim(),
    };
  } catch {
    return undefined;
  }
}

/** The https URL's host and port, with the default port filled in; for comparing API server addresses. */
export function normalizeServer(server: string): string {
  try {
    const url = new URL(server);
    const port = url.port || (url.protocol === "http:" ? "80" : "443");
    return `${url.protocol}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return server.trim().replace(/\/+$/, "").toLowerCase();
  }
}
