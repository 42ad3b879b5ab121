import { Agent, request as httpsRequest } from "node:https";
import type { KubeList, KubeObject, ListOptions, RequestOptions } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { resourcePath, type ResourceType } from "../kube/resources.ts";
import type { KubeconfigEntry } from "./kubeconfig.ts";

/**
 * What the checks need from a Kubernetes client: src/kube/client.ts's KubeClient has exactly these methods, and is
 * what a full `zonesync check` uses for the checked clusters and the manager's /readyz passes in. LightClient below
 * implements the same few for `zonesync check --probe`, which must start in well under 400 ms (importing
 * @kubernetes/client-node, which KubeClient is built on, takes 0.5–1.2 s on its own here), and for link targets,
 * where its kept-alive connection matters (client-node opens a new TLS connection for every request).
 */
export interface CheckClient {
  readonly server: string;
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T>;
  getOptional<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined>;
  listAll<T extends KubeObject>(type: ResourceType, namespace?: string, options?: ListOptions): Promise<KubeList<T>>;
}

/**
 * A minimal JSON-over-HTTPS client for bearer-token and client-certificate credentials, with the error
 * classification of KubeClient (KubeApiError, status 0 for transport failures). Not for exec/auth-provider
 * kubeconfigs (the probe falls back to KubeClient for those).
 */
/**
 * Connections are pooled by TLS identity (server, CA, client certificate), not per client: tokens are request
 * headers, so every link whose credentials reach the same API server shares a few kept-alive connections instead of
 * opening its own.
 */
const agents = new Map<string, Agent>();
const MAX_SOCKETS_PER_SERVER = 8;

function agentFor(entry: KubeconfigEntry): Agent {
  const key = JSON.stringify([
    entry.server,
    entry.caPem,
    entry.clientCertPem,
    entry.clientKeyPem,
    entry.insecureSkipTlsVerify,
  ]);
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      keepAlive: true,
      maxSockets: MAX_SOCKETS_PER_SERVER,
      ca: entry.caPem,
      cert: entry.clientCertPem,
      key: entry.clientKeyPem,
      rejectUnauthorized: !entry.insecureSkipTlsVerify,
    });
    agents.set(key, agent);
  }
  return agent;
}

export class LightClient implements CheckClient {
  readonly server: string;
  private readonly agent: Agent;
  private readonly token: string | undefined;

  constructor(entry: KubeconfigEntry) {
    if (entry.usesPlugin) throw new Error("LightClient cannot run exec or auth-provider credentials");
    this.server = entry.server.replace(/\/+$/, "");
    this.token = entry.token;
    this.agent = agentFor(entry);
  }

  /** Closes every pooled connection (idle ones never keep the process alive; this is for long-lived callers). */
  static closeAll(): void {
    for (const agent of agents.values()) agent.destroy();
    agents.clear();
  }

  request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    return new Promise<T>((resolve, reject) => {
      const req = httpsRequest(
        url,
        { method, headers, agent: this.agent, timeout: options.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) => reject(unreachable(method, path, this.server, err)));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              reject(apiError(method, path, status, res.statusMessage ?? "", text));
              return;
            }
            if (!text) return resolve(undefined as T);
            try {
              resolve((String(res.headers["content-type"]).includes("json") ? JSON.parse(text) : text) as T);
            } catch (err) {
              reject(err as Error);
            }
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timed out after ${options.timeoutMs ?? 30_000} ms`)));
      req.on("error", (err) => reject(unreachable(method, path, this.server, err)));
      req.end(body);
    });
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>("GET", resourcePath(type, namespace, name));
  }

  async getOptional<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(type, namespace, name);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async listAll<T extends KubeObject>(
    type: ResourceType,
    namespace?: string,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.request<KubeList<T>>("GET", resourcePath(type, namespace), {
        query: { limit: 500, ...options, continue: continueToken },
      });
      items.push(...page.items);
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken);
    return { metadata: { resourceVersion }, items };
  }
}

function unreachable(method: string, path: string, server: string, cause: unknown): KubeApiError {
  return new KubeApiError(`${method} ${path}: cannot reach ${server}`, 0, "Unreachable", method, path, { cause });
}

function apiError(method: string, path: string, status: number, statusText: string, text: string): KubeApiError {
  let reason = statusText;
  let message = text;
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    reason = parsed.reason ?? reason;
    message = parsed.message ?? message;
  } catch {
    // not a Status object
  }
  return new KubeApiError(`${method} ${path}: ${status} ${message}`, status, reason, method, path);
}
