import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { KubeApiError } from "./errors.ts";

/**
 * The one HTTP transport of zonesync, under every Kubernetes client: the manager's, the link controllers' (local
 * and target), `zonesync check` and its fast `--probe`. Plain node:https, so the probe starts without loading
 * anything heavy (undici alone costs 80 ms to import here, @kubernetes/client-node 0.5 s).
 *
 * `http://` serves the operator's own kubeconfig only (`kubectl proxy`); credentials from Secrets are https-only by
 * the credentials policy (api/remote-kubeconfig.ts).
 *
 * Connections are kept alive and pooled by TLS identity (server, CA, client certificate), not per client: tokens are
 * request headers, so every client whose credentials reach the same API server shares its connections, and a client
 * whose token rotates keeps its pool.
 */

/** Where a client connects and what it trusts: the TLS identity of a pool. */
export interface Endpoint {
  /** https://host:port[/prefix], no trailing slash. */
  server: string;
  /** PEM bundle that verifies the server; undefined: the system roots. */
  caPem?: string;
  insecureSkipTlsVerify: boolean;
  clientCertPem?: string;
  clientKeyPem?: string;
}

/** What a request carries to authenticate, asked for before every request (tokens rotate). */
export interface Authorization {
  headers: Record<string, string>;
  /** A client certificate that an exec plugin issued (overrides the endpoint's). */
  clientCertPem?: string;
  clientKeyPem?: string;
}

export type Authorizer = () => Authorization | Promise<Authorization>;

interface PooledAgent {
  agent: Agent | HttpAgent;
  users: number;
}

const pools = new Map<string, PooledAgent>();

function poolKey(endpoint: Endpoint): string {
  const origin = new URL(endpoint.server).origin;
  return JSON.stringify([
    origin,
    endpoint.caPem,
    endpoint.clientCertPem,
    endpoint.clientKeyPem,
    endpoint.insecureSkipTlsVerify,
  ]);
}

function acquireAgent(endpoint: Endpoint): { key: string; agent: Agent | HttpAgent } {
  const key = poolKey(endpoint);
  let pooled = pools.get(key);
  if (!pooled) {
    // Watches hold a connection each for their whole life: no cap on sockets, a cap on idle ones.
    const common = { keepAlive: true, maxFreeSockets: 16 };
    const agent = endpoint.server.startsWith("http:")
      ? new HttpAgent(common)
      : new Agent({
          ...common,
          ca: endpoint.caPem,
          cert: endpoint.clientCertPem,
          key: endpoint.clientKeyPem,
          rejectUnauthorized: !endpoint.insecureSkipTlsVerify,
        });
    pooled = { agent, users: 0 };
    pools.set(key, pooled);
  }
  pooled.users += 1;
  return { key, agent: pooled.agent };
}

function releaseAgent(key: string): void {
  const pooled = pools.get(key);
  if (!pooled) return;
  pooled.users -= 1;
  if (pooled.users <= 0) {
    pools.delete(key);
    pooled.agent.destroy();
  }
}

export interface SendOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Already serialized. */
  body?: string;
  contentType?: string;
  /** Aborts the request (and the reading of its body). */
  signal?: AbortSignal;
}

export class HttpTransport {
  readonly endpoint: Readonly<Endpoint>;
  private readonly authorize: Authorizer;
  private readonly pooled: { key: string; agent: Agent | HttpAgent };
  /** Agents for client certificates an exec plugin issued, by certificate. */
  private readonly pluginPools = new Map<string, { key: string; agent: Agent | HttpAgent }>();
  private closed = false;

  constructor(endpoint: Endpoint, authorize: Authorizer) {
    let url: URL;
    try {
      url = new URL(endpoint.server);
    } catch (err) {
      throw new Error(`the server "${endpoint.server}" is not a URL`, { cause: err });
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new Error(`the server ${endpoint.server} is not https:// (or http://)`);
    }
    this.endpoint = Object.freeze({ ...endpoint, server: endpoint.server.replace(/\/+$/, "") });
    this.authorize = authorize;
    this.pooled = acquireAgent(this.endpoint);
  }

  get server(): string {
    return this.endpoint.server;
  }

  /** A transport to the same endpoint with the same credentials and its own share of the pool. */
  derive(endpoint: Partial<Endpoint> = {}): HttpTransport {
    return new HttpTransport({ ...this.endpoint, ...endpoint }, this.authorize);
  }

  /**
   * Sends one request and resolves with the response once its headers arrived; the caller reads (or destroys) the
   * body. Transport failures are KubeApiErrors with status 0 (reason "Unreachable").
   */
  async send(method: string, path: string, options: SendOptions = {}): Promise<IncomingMessage> {
    if (this.closed) throw new Error(`the client for ${this.server} is closed`);
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const unreachable = (cause: unknown) =>
      new KubeApiError(`${method} ${path}: cannot reach ${this.server}`, 0, "Unreachable", method, path, { cause });
    let auth: Authorization;
    try {
      auth = await this.authorize();
    } catch (err) {
      throw new KubeApiError(`${method} ${path}: cannot get credentials`, 401, "Unauthorized", method, path, {
        cause: err,
      });
    }
    const headers: Record<string, string> = { accept: "application/json", ...auth.headers };
    if (options.body !== undefined) {
      headers["content-type"] = options.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(options.body));
    }
    const agent = this.agentFor(auth);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const send = url.protocol === "http:" ? httpRequest : httpsRequest;
      const req = send(url, { method, headers, agent, signal: options.signal }, resolve);
      req.on("error", (err) => reject(unreachable(options.signal?.aborted ? (options.signal.reason ?? err) : err)));
      req.end(options.body);
    });
  }

  private agentFor(auth: Authorization): Agent | HttpAgent {
    if (!auth.clientCertPem || !auth.clientKeyPem) return this.pooled.agent;
    let pooled = this.pluginPools.get(auth.clientCertPem);
    if (!pooled) {
      for (const old of this.pluginPools.values()) releaseAgent(old.key);
      this.pluginPools.clear();
      pooled = acquireAgent({ ...this.endpoint, clientCertPem: auth.clientCertPem, clientKeyPem: auth.clientKeyPem });
      this.pluginPools.set(auth.clientCertPem, pooled);
    }
    return pooled.agent;
  }

  /** Gives up this transport's share of the pool; the last one closes its connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    releaseAgent(this.pooled.key);
    for (const pooled of this.pluginPools.values()) releaseAgent(pooled.key);
    this.pluginPools.clear();
  }
}
