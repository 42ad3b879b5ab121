import { parse } from "yaml";

/**
 * The one credentials policy for a kubeconfig that comes from a Secret (a link's target credentials): untrusted
 * input, written by whoever may write Secrets in the link namespace. It is only ever read, never executed, and it
 * never makes zonesync read a file: inline data only (token, client certificate and key data, CA data), `https://`
 * only, no `exec`, `auth-provider`, token or certificate files, `proxy-url` or impersonation; skipping TLS
 * verification only when the link asks for it explicitly (spec.insecureSkipTLSVerify). Used by the link controller
 * and by `zonesync check`; no dependency beyond the YAML parser, so the fast probe path can use it too.
 */

export interface RemoteCredentials {
  /** The context used (the current one). */
  context: string;
  /** The API server, https. */
  server: string;
  /** PEM bundle that verifies the server; undefined: the system roots. */
  caPem?: string;
  insecureSkipTlsVerify: boolean;
  token?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
}

export interface RemoteKubeconfigOptions {
  /** The link's spec.insecureSkipTLSVerify: only then is `insecure-skip-tls-verify` accepted. */
  allowInsecure?: boolean;
  /** The link's spec.apiServerAddress, in place of the kubeconfig's server. */
  serverOverride?: string;
}

/** A kubeconfig the policy refuses; the message says which rule, never the content (it may hold a token). */
export class RemoteKubeconfigError extends Error {
  override readonly name = "RemoteKubeconfigError";
}

/** Fields that make a client read a file, run a program, go through a proxy or act as someone else. */
const REFUSED_CLUSTER_FIELDS: Record<string, string> = {
  "certificate-authority": "a CA file path (use certificate-authority-data)",
  "proxy-url": "a proxy (proxy-url)",
};
const REFUSED_USER_FIELDS: Record<string, string> = {
  exec: "an exec plugin",
  "auth-provider": "an auth provider",
  tokenFile: "a token file (use token)",
  "token-file": "a token file (use token)",
  "client-certificate": "a client certificate file (use client-certificate-data)",
  "client-key": "a client key file (use client-key-data)",
  as: "impersonation (as)",
  "as-uid": "impersonation (as-uid)",
  "as-groups": "impersonation (as-groups)",
  "as-user-extra": "impersonation (as-user-extra)",
  username: "basic authentication",
  password: "basic authentication",
};

/** The most bytes of a kubeconfig that are parsed (a real one is a few KiB). */
const MAX_KUBECONFIG_BYTES = 256 * 1024;

type Mapping = Record<string, unknown>;

const isMapping = (v: unknown): v is Mapping => typeof v === "object" && v !== null && !Array.isArray(v);

function named(list: unknown, name: string, field: string): Mapping | undefined {
  if (!Array.isArray(list)) return undefined;
  const item = list.find((i): i is Mapping => isMapping(i) && i.name === name);
  const value = item?.[field];
  return isMapping(value) ? value : undefined;
}

function inlineText(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new RemoteKubeconfigError(`${what} is not a string`);
  return value;
}

function base64Text(value: unknown, what: string): string | undefined {
  const text = inlineText(value, what);
  if (text === undefined) return undefined;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(text)) throw new RemoteKubeconfigError(`${what} is not base64`);
  return Buffer.from(text, "base64").toString("utf8");
}

function httpsServer(server: string, what: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new RemoteKubeconfigError(`${what} is not a URL`);
  }
  if (url.protocol !== "https:") throw new RemoteKubeconfigError(`${what} must be https:// (got ${url.protocol}//)`);
  if (url.username || url.password) throw new RemoteKubeconfigError(`${what} must not carry credentials`);
  return server.replace(/\/+$/, "");
}

/** Reads a Secret's kubeconfig under the policy; throws a RemoteKubeconfigError naming the rule it breaks. */
export function parseRemoteKubeconfig(text: string, options: RemoteKubeconfigOptions = {}): RemoteCredentials {
  if (Buffer.byteLength(text) > MAX_KUBECONFIG_BYTES) {
    throw new RemoteKubeconfigError(`the kubeconfig is larger than ${MAX_KUBECONFIG_BYTES / 1024} KiB`);
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 10 });
  } catch {
    // The parser's message may quote the offending line, which can hold a token.
    throw new RemoteKubeconfigError("the kubeconfig is not valid YAML");
  }
  if (!isMapping(doc)) throw new RemoteKubeconfigError("the kubeconfig is not a YAML mapping");
  const context = typeof doc["current-context"] === "string" ? doc["current-context"] : "";
  if (!context) throw new RemoteKubeconfigError("the kubeconfig has no current-context");
  const ctx = named(doc.contexts, context, "context");
  if (!ctx) throw new RemoteKubeconfigError(`the current context "${context}" is not defined`);
  const clusterName = typeof ctx.cluster === "string" ? ctx.cluster : "";
  const cluster = named(doc.clusters, clusterName, "cluster");
  if (!cluster)
    throw new RemoteKubeconfigError(`context "${context}" names cluster "${clusterName}", which is not defined`);
  const userName = typeof ctx.user === "string" ? ctx.user : "";
  const user = named(doc.users, userName, "user") ?? {};

  for (const [field, what] of Object.entries(REFUSED_CLUSTER_FIELDS)) {
    if (cluster[field] !== undefined) throw new RemoteKubeconfigError(`the kubeconfig uses ${what}: refused`);
  }
  for (const [field, what] of Object.entries(REFUSED_USER_FIELDS)) {
    if (user[field] !== undefined) throw new RemoteKubeconfigError(`the kubeconfig uses ${what}: refused`);
  }
  const insecure = cluster["insecure-skip-tls-verify"] === true;
  if (insecure && !options.allowInsecure) {
    throw new RemoteKubeconfigError(
      "the kubeconfig skips TLS verification (insecure-skip-tls-verify): refused unless the link sets spec.insecureSkipTLSVerify",
    );
  }
  const server = options.serverOverride
    ? httpsServer(options.serverOverride, "spec.apiServerAddress")
    : httpsServer(inlineText(cluster.server, "the server") ?? "", `cluster "${clusterName}"'s server`);
  const token = inlineText(user.token, "the token")?.trim();
  const clientCertPem = base64Text(user["client-certificate-data"], "client-certificate-data");
  const clientKeyPem = base64Text(user["client-key-data"], "client-key-data");
  if (!token && !(clientCertPem && clientKeyPem)) {
    throw new RemoteKubeconfigError(
      `user "${userName}" has no inline credentials: a token, or client-certificate-data with client-key-data`,
    );
  }
  return {
    context,
    server,
    caPem: base64Text(cluster["certificate-authority-data"], "certificate-authority-data"),
    insecureSkipTlsVerify: insecure,
    ...(token ? { token } : {}),
    ...(clientCertPem ? { clientCertPem } : {}),
    ...(clientKeyPem ? { clientKeyPem } : {}),
  };
}
