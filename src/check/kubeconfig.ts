import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import type { RemoteCredentials } from "../api/remote-kubeconfig.ts";

/**
 * A small kubeconfig reader for the checks: what the credentials checks need to look at (server, CA, token,
 * client certificate) and what `--probe` needs to connect without loading @kubernetes/client-node (whose import
 * alone takes 0.5–1.2 s on this machine, more than the probe's whole budget).
 */

/** A context's connection: what a credentials Secret may hold (RemoteCredentials), plus what only the operator's own kubeconfig may. */
export interface KubeconfigEntry extends RemoteCredentials {
  /** exec or auth-provider credentials: only client-node can run those (never for a Secret's kubeconfig). */
  usesPlugin: boolean;
  namespace?: string;
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

/** Parses kubeconfig YAML; relative file references resolve against `baseDir`. Throws on what is not a kubeconfig. */
export function parseKubeconfig(text: string, baseDir = process.cwd()): Kubeconfig {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`not valid YAML: ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("not a kubeconfig (expected a YAML mapping)");
  const clusters = byName<RawCluster>(doc.clusters, "cluster");
  const users = byName<RawUser>(doc.users, "user");
  const contexts = byName<RawContext>(doc.contexts, "context");
  if (contexts.size === 0) throw new Error("the kubeconfig has no contexts");
  const currentContext = typeof doc["current-context"] === "string" ? doc["current-context"] : "";
  const file = (path: string): string => readFileSync(isAbsolute(path) ? path : join(baseDir, path), "utf8");
  const b64 = (data: string): string => Buffer.from(data, "base64").toString("utf8");
  return {
    currentContext,
    contextNames: [...contexts.keys()],
    entry(context = currentContext): KubeconfigEntry {
      const ctx = contexts.get(context);
      if (!ctx) {
        throw new Error(
          context
            ? `unknown context "${context}" (the kubeconfig has: ${[...contexts.keys()].join(", ")})`
            : "no current context",
        );
      }
      const cluster = clusters.get(ctx.cluster ?? "");
      if (!cluster) throw new Error(`context "${context}" names cluster "${ctx.cluster ?? ""}", which is not defined`);
      if (!cluster.server) throw new Error(`cluster "${ctx.cluster}" has no server`);
      const user = users.get(ctx.user ?? "") ?? {};
      const caData = cluster["certificate-authority-data"];
      const caFile = cluster["certificate-authority"];
      const certData = user["client-certificate-data"];
      const keyData = user["client-key-data"];
      return {
        context,
        server: cluster.server.replace(/\/+$/, ""),
        caPem: caData ? b64(caData) : caFile ? file(caFile) : undefined,
        insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
        token: user.token ?? (user.tokenFile ? file(user.tokenFile).trim() : undefined),
        clientCertPem: certData
          ? b64(certData)
          : user["client-certificate"]
            ? file(user["client-certificate"])
            : undefined,
        clientKeyPem: keyData ? b64(keyData) : user["client-key"] ? file(user["client-key"]) : undefined,
        usesPlugin: Boolean(user.exec || user["auth-provider"]),
        namespace: ctx.namespace,
      };
    },
  };
}

/** The kubeconfig file kubectl would use: the flag, else the first of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(flag?: string): string {
  return flag ?? process.env.KUBECONFIG?.split(":").find(Boolean) ?? join(homedir(), ".kube", "config");
}

export function loadKubeconfig(path: string): Kubeconfig {
  return parseKubeconfig(readFileSync(path, "utf8"), dirname(path));
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
