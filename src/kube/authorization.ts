import { readFileSync } from "node:fs";
import type { KubeconfigEntry } from "./kubeconfig.ts";
import type { Authorization, Authorizer } from "./transport.ts";

/** How often a token file is read again: kubelet rotates projected ServiceAccount tokens well before they expire. */
const TOKEN_FILE_REREAD_MS = 60_000;

/**
 * The request credentials of a kubeconfig context. Tokens (inline or from a file that is read again as it rotates),
 * basic authentication and client certificates are handled here; exec and auth-provider users, which only the
 * operator's own kubeconfig may have, go through @kubernetes/client-node, loaded on the first request only.
 */
export function authorizerFor(
  entry: KubeconfigEntry,
  source: { paths: string[] } | undefined,
  now: () => number = Date.now,
): Authorizer {
  if (entry.usesPlugin) {
    if (!source)
      throw new Error(`context "${entry.context}" uses an exec or auth-provider plugin, which is refused here`);
    return pluginAuthorizer(source.paths, entry.context);
  }
  if (entry.tokenFile) return tokenFileAuthorizer(entry.tokenFile, entry.token, now);
  if (entry.token) {
    const fixed: Authorization = { headers: { authorization: `Bearer ${entry.token}` } };
    return () => fixed;
  }
  if (entry.username !== undefined) {
    const basic = Buffer.from(`${entry.username}:${entry.password ?? ""}`).toString("base64");
    const fixed: Authorization = { headers: { authorization: `Basic ${basic}` } };
    return () => fixed;
  }
  const none: Authorization = { headers: {} };
  return () => none;
}

function tokenFileAuthorizer(path: string, initial: string | undefined, now: () => number): Authorizer {
  let token = initial;
  let readAt = initial === undefined ? -Infinity : now();
  return (): Authorization => {
    if (now() - readAt >= TOKEN_FILE_REREAD_MS) {
      try {
        token = readFileSync(path, "utf8").trim();
        readAt = now();
      } catch (err) {
        // Keep the last token while the file is being replaced; fail only when there never was one.
        if (token === undefined) throw new Error(`cannot read the token file ${path}`, { cause: err });
      }
    }
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return { headers };
  };
}

function pluginAuthorizer(paths: string[], context: string): Authorizer {
  type Loaded = { applyToHTTPSOptions(opts: object): Promise<void> };
  let loaded: Promise<Loaded> | undefined;
  const load = async (): Promise<Loaded> => {
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    // As client-node's own loadFromDefault merges a $KUBECONFIG list.
    for (const path of paths) {
      const one = new KubeConfig();
      one.loadFromFile(path);
      kc.mergeConfig(one);
    }
    kc.setCurrentContext(context);
    return kc;
  };
  return async () => {
    loaded ??= load();
    const kc = await loaded;
    const opts: { headers: Record<string, string>; cert?: Buffer | string; key?: Buffer | string } = { headers: {} };
    await kc.applyToHTTPSOptions(opts);
    const text = (v: Buffer | string | undefined) => (v === undefined ? undefined : v.toString());
    return {
      headers: Object.fromEntries(Object.entries(opts.headers).map(([k, v]) => [k.toLowerCase(), String(v)])),
      clientCertPem: text(opts.cert),
      clientKeyPem: text(opts.key),
    };
  };
}
