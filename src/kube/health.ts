import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../log.ts";

export interface CheckResult {
  ok: boolean;
  detail?: string;
}

/** A named health check; a check that throws or takes longer than the timeout counts as failed. */
export type CheckFunction = () => Promise<CheckResult> | CheckResult;

export interface HealthServerOptions {
  /** `host:port` (`[::1]:8080`, `:8080` for all interfaces); default $ZONESYNC_HTTP_ADDR, else `0.0.0.0:8080`. */
  address?: string;
  liveness?: Record<string, CheckFunction>;
  readiness?: Record<string, CheckFunction>;
  /** Served at /metrics when given. */
  registry?: Registry;
  /** Per check (default 5 s). */
  checkTimeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_HTTP_ADDRESS = "0.0.0.0:8080";

/** Parses `host:port`; the host may be empty (all interfaces), a name, IPv4, or IPv6 in brackets. */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error(`invalid listen address "${address}": expected host:port`);
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

interface NamedResult extends CheckResult {
  name: string;
}

async function runCheck(name: string, check: CheckFunction, timeoutMs: number): Promise<NamedResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    });
    const result = await Promise.race([Promise.resolve().then(check), timeout]);
    return { name, ok: result.ok, ...(result.detail ? { detail: result.detail } : {}) };
  } catch (err) {
    return { name, ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The probe and metrics endpoint of a zonesync process: /healthz (liveness), /readyz (readiness) and /metrics.
 * Probes answer 200 when every check passes, 503 otherwise; the body is one `[+]name ok` / `[-]name failed: detail`
 * line per check (as kube-apiserver's `?verbose`), or JSON with `Accept: application/json` or `?format=json`.
 */
export class HealthServer {
  private readonly server: Server;
  private readonly options: HealthServerOptions;
  private readonly liveness: Map<string, CheckFunction>;
  private readonly readiness: Map<string, CheckFunction>;

  private constructor(options: HealthServerOptions) {
    this.options = options;
    this.liveness = new Map(Object.entries(options.liveness ?? {}));
    this.readiness = new Map(Object.entries(options.readiness ?? {}));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.logger?.error("health endpoint failed", { error: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: HealthServerOptions = {}): Promise<HealthServer> {
    const health = new HealthServer(options);
    const { host, port } = parseAddress(options.address ?? process.env.ZONESYNC_HTTP_ADDR ?? DEFAULT_HTTP_ADDRESS);
    await new Promise<void>((resolve, reject) => {
      health.server.once("error", reject);
      health.server.listen(port, host, () => {
        health.server.off("error", reject);
        resolve();
      });
    });
    return health;
  }

  /** The bound address (the real port when started on port 0). */
  get address(): { host: string; port: number } {
    const info = this.server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  /** A URL reaching the server, e.g. for tests: `http://127.0.0.1:<port>`. */
  get url(): string {
    const { host, port } = this.address;
    const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
    return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
  }

  addLivenessCheck(name: string, check: CheckFunction): void {
    this.liveness.set(name, check);
  }

  addReadinessCheck(name: string, check: CheckFunction): void {
    this.readiness.set(name, check);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (url.pathname === "/healthz" || url.pathname === "/livez") return this.probe(req, res, url, this.liveness);
    if (url.pathname === "/readyz") return this.probe(req, res, url, this.readiness);
    if (url.pathname === "/metrics" && this.options.registry) {
      const body = await this.options.registry.metrics();
      res.writeHead(200, { "content-type": this.options.registry.contentType });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
  }

  private async probe(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    checks: Map<string, CheckFunction>,
  ): Promise<void> {
    const timeoutMs = this.options.checkTimeoutMs ?? 5000;
    const results = await Promise.all([...checks].map(([name, check]) => runCheck(name, check, timeoutMs)));
    const ok = results.every((r) => r.ok);
    const json = url.searchParams.get("format") === "json" || (req.headers.accept ?? "").includes("application/json");
    const body = json
      ? JSON.stringify({ ok, checks: results }) + "\n"
      : results
          .map((r) => `[${r.ok ? "+" : "-"}]${r.name} ${r.ok ? "ok" : "failed"}${r.detail ? `: ${r.detail}` : ""}`)
          .concat(ok ? "ok" : "not ok")
          .join("\n") + "\n";
    res.writeHead(ok ? 200 : 503, {
      "content-type": json ? "application/json" : "text/plain; charset=utf-8",
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }
}
