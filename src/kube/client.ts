import type { RemoteCredentials } from "../api/remote-kubeconfig.ts";
import { authorizerFor } from "./authorization.ts";
import {
  DEFAULT_LIMITS,
  LineSplitter,
  readBounded,
  readTruncated,
  ResponseTooLargeError,
  type KubeClientLimits,
} from "./bounded.ts";
import { KubeApiError } from "./errors.ts";
import {
  inClusterEntry,
  kubeconfigPaths,
  loadKubeconfig,
  parseKubeconfig,
  wantsInCluster,
  type Kubeconfig,
  type KubeconfigEntry,
} from "./kubeconfig.ts";
import { HttpTransport, type Endpoint } from "./transport.ts";
import { apiVersionOf, resourcePath, type ResourceType } from "./resources.ts";

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  /** Who wrote which fields (server-side apply bookkeeping). */
  managedFields?: Array<{ manager?: string; operation?: string; subresource?: string }>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface KubeList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Abort the request after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** The most bytes of the response body, for this request (default: the client's maxResponseBytes). */
  maxResponseBytes?: number;
}

export { ResponseTooLargeError, DEFAULT_LIMITS, type KubeClientLimits } from "./bounded.ts";

const FIELD_MANAGER = "zonesync";

/** A KubeApiError from an error answer, with reason and message taken from its Status body when it has one. */
function apiError(method: string, path: string, status: number, statusText: string, text: string): KubeApiError {
  let reason = statusText;
  let message = text;
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    reason = parsed.reason ?? reason;
    message = parsed.message ?? message;
  } catch {
    // not a Status object; keep the raw text
  }
  return new KubeApiError(`${method} ${path}: ${status} ${message}`, status, reason, method, path, {
    serverMessage: message,
  });
}

/**
 * A thin, fast REST client: plain JSON over the one HTTP transport (transport.ts), plain objects back. The
 * generated clients' serializer costs more than the requests themselves at thousands of objects, and server-side
 * apply needs control over content types and query parameters. Importing it loads nothing heavy, so the fast probe
 * uses it too; @kubernetes/client-node is loaded only for exec and auth-provider users of the operator's kubeconfig.
 *
 * Nothing the server sends is buffered without bound (see bounded.ts): a response body past `maxResponseBytes`, a
 * watch event past `maxWatchLineBytes`, or a paged list past `maxListItems` fails with a ResponseTooLargeError
 * naming the path and the limit, and the connection is dropped.
 */
export class KubeClient {
  readonly limits: Readonly<KubeClientLimits>;
  /** The kubeconfig context this client was made from ("in-cluster" for a pod's own credentials). */
  readonly context: string;
  /** The context's default namespace, when it has one. */
  readonly namespace: string | undefined;
  private readonly transport: HttpTransport;

  constructor(
    transport: HttpTransport,
    limits: Partial<KubeClientLimits> = {},
    info: { context?: string; namespace?: string } = {},
  ) {
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...limits });
    this.transport = transport;
    this.context = info.context ?? "";
    this.namespace = info.namespace;
  }

  get server(): string {
    return this.transport.server;
  }

  /** Where this client connects and what it trusts (no credentials). */
  get endpoint(): Readonly<Endpoint> {
    return this.transport.endpoint;
  }

  /**
   * Loads a kubeconfig (the file given, else kubectl's chain: every file of $KUBECONFIG, else ~/.kube/config, else
   * the pod's own ServiceAccount) for one context (default: the current one).
   */
  static load(options: { kubeconfig?: string; context?: string; limits?: Partial<KubeClientLimits> } = {}): KubeClient {
    const paths = kubeconfigPaths(options.kubeconfig);
    const inCluster = wantsInCluster(options.kubeconfig) ? inClusterEntry() : undefined;
    if (inCluster) return KubeClient.fromEntry(inCluster, undefined, options.limits);
    let kubeconfig: Kubeconfig;
    try {
      kubeconfig = loadKubeconfig(paths);
    } catch (err) {
      throw new Error(`cannot read kubeconfig ${paths.join(":")}`, { cause: err });
    }
    return KubeClient.fromEntry(kubeconfig.entry(options.context), { paths }, options.limits);
  }

  /** A client for one context of a kubeconfig; `source` (the files) is needed only for exec/auth-provider users. */
  static fromEntry(
    entry: KubeconfigEntry,
    source?: { paths: string[] },
    limits?: Partial<KubeClientLimits>,
  ): KubeClient {
    const transport = new HttpTransport(entry, authorizerFor(entry, source));
    return new KubeClient(transport, limits, { context: entry.context, namespace: entry.namespace });
  }

  /** A client from credentials a policy has already checked (api/remote-kubeconfig.ts): inline data only. */
  static fromCredentials(credentials: RemoteCredentials, limits?: Partial<KubeClientLimits>): KubeClient {
    // Field by field: whatever else the object carries (a token file, a user name) never reaches the authorizer.
    const { context, server, caPem, insecureSkipTlsVerify, token, clientCertPem, clientKeyPem } = credentials;
    const entry = { context, server, caPem, insecureSkipTlsVerify, token, clientCertPem, clientKeyPem };
    return KubeClient.fromEntry({ ...entry, usesPlugin: false }, undefined, limits);
  }

  /** A client from kubeconfig text (relative file references resolve against the working directory). */
  static fromString(kubeconfigYaml: string, context?: string, limits?: Partial<KubeClientLimits>): KubeClient {
    return KubeClient.fromEntry(parseKubeconfig(kubeconfigYaml).entry(context), undefined, limits);
  }

  /** The same credentials, another server or other limits: a client of its own (close it when done). */
  derive(options: { server?: string; limits?: Partial<KubeClientLimits> } = {}): KubeClient {
    const transport = options.server ? this.transport.derive({ server: options.server }) : this.transport.derive();
    return new KubeClient(transport, { ...this.limits, ...options.limits }, this);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.transport.send(method, path, {
      query: options.query,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      contentType: options.contentType,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const status = response.statusCode ?? 0;
    try {
      if (status < 200 || status >= 300) {
        const text = await readTruncated(response, this.limits.maxErrorBodyBytes);
        throw apiError(method, path, status, response.statusMessage ?? "", text);
      }
      const limit = options.maxResponseBytes ?? this.limits.maxResponseBytes;
      const tooLarge = (seen: number) => new ResponseTooLargeError(method, path, "response body", limit, seen);
      const declared = Number(response.headers["content-length"] ?? NaN);
      if (declared > limit) throw tooLarge(declared);
      const text = (await readBounded(response, limit, tooLarge)).toString("utf8");
      if (!text) return undefined as T;
      const isJson = String(response.headers["content-type"] ?? "").includes("json");
      return (isJson ? JSON.parse(text) : text) as T;
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      if (err instanceof SyntaxError) {
        throw new KubeApiError(`${method} ${path}: the answer is not JSON`, 0, "InvalidResponse", method, path, {
          cause: err,
        });
      }
      throw new KubeApiError(`${method} ${path}: reading the answer failed`, 0, "Unreachable", method, path, {
        cause: err,
      });
    } finally {
      if (!response.complete) response.destroy();
    }
  }

  /** Gives up this client's share of the connection pool; the client must not be used afterwards. */
  async close(): Promise<void> {
    this.transport.close();
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>("GET", resourcePath(type, namespace, name));
  }

  /** Returns undefined instead of throwing when the object does not exist. */
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

  list<T extends KubeObject>(type: ResourceType, namespace?: string, options: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>("GET", resourcePath(type, namespace), { query: { ...options } });
  }

  /** Lists every page (the API server pages at `limit`) into one list, of at most `maxListItems` items. */
  async listAll<T extends KubeObject>(
    type: ResourceType,
    namespace?: string,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.list<T>(type, namespace, { limit: 500, ...options, continue: continueToken });
      if (items.length + page.items.length > this.limits.maxListItems) {
        const path = resourcePath(type, namespace);
        throw new ResponseTooLargeError(
          "GET",
          path,
          "list",
          this.limits.maxListItems,
          items.length + page.items.length,
        );
      }
      items.push(...page.items);
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken);
    return { metadata: { resourceVersion }, items };
  }

  create<T extends KubeObject>(type: ResourceType, obj: T): Promise<T> {
    return this.request<T>("POST", resourcePath(type, obj.metadata.namespace), {
      body: { apiVersion: apiVersionOf(type), kind: type.kind, ...obj },
    });
  }

  replace<T extends KubeObject>(type: ResourceType, obj: T, subresource?: string): Promise<T> {
    return this.request<T>("PUT", resourcePath(type, obj.metadata.namespace, obj.metadata.name, subresource), {
      body: { apiVersion: apiVersionOf(type), kind: type.kind, ...obj },
    });
  }

  /** Server-side apply: the object is the full intent of `fieldManager`; conflicts are forced by default. */
  apply<T extends KubeObject>(
    type: ResourceType,
    obj: KubeObject,
    options: { fieldManager?: string; force?: boolean; subresource?: string; dryRun?: boolean } = {},
  ): Promise<T> {
    const name = obj.metadata.name;
    if (!name) throw new Error(`server-side apply of a ${type.kind} needs metadata.name`);
    return this.request<T>("PATCH", resourcePath(type, obj.metadata.namespace, name, options.subresource), {
      query: {
        fieldManager: options.fieldManager ?? FIELD_MANAGER,
        force: options.force ?? true,
        dryRun: options.dryRun ? "All" : undefined,
      },
      body: { apiVersion: apiVersionOf(type), kind: type.kind, ...obj },
      contentType: "application/apply-patch+yaml",
    });
  }

  patch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: { strategy?: "merge" | "strategic" | "json"; subresource?: string; fieldManager?: string } = {},
  ): Promise<T> {
    const contentType = {
      merge: "application/merge-patch+json",
      strategic: "application/strategic-merge-patch+json",
      json: "application/json-patch+json",
    }[options.strategy ?? "merge"];
    return this.request<T>("PATCH", resourcePath(type, namespace, name, options.subresource), {
      body,
      contentType,
      query: { fieldManager: options.fieldManager ?? FIELD_MANAGER },
    });
  }

  /** Deletes an object; returns false when it was already gone. */
  async delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: {
      gracePeriodSeconds?: number;
      propagationPolicy?: "Background" | "Foreground" | "Orphan";
      uid?: string;
    } = {},
  ): Promise<boolean> {
    try {
      await this.request("DELETE", resourcePath(type, namespace, name), {
        body: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          gracePeriodSeconds: options.gracePeriodSeconds,
          propagationPolicy: options.propagationPolicy,
          preconditions: options.uid ? { uid: options.uid } : undefined,
        },
      });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Opens a watch. `onEvent` receives every event (an ERROR event carries a Status object, e.g. code 410 when the
   * resourceVersion is too old); `onDone` is called once when the stream ends for any reason: `null` when the server
   * closed it or the caller aborted it, otherwise the error (a KubeApiError for an HTTP error answer, e.g. 410).
   * Resolves with the abort handle once the response headers arrived (or the request failed).
   *
   * The stream has no inactivity timeout of its own (client-node's Watch aborts after 30 s without data, which on a
   * quiet resource means a reconnect every 30 s); callers detect stalls themselves, as the informer does.
   */
  async watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    options: ListOptions & { allowWatchBookmarks?: boolean; timeoutSeconds?: number; connectTimeoutMs?: number },
    onEvent: (type: WatchEventType, obj: T) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    const { connectTimeoutMs = 30_000, ...query } = options;
    const path = resourcePath(type, namespace);
    const controller = new AbortController();
    let finished = false;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      controller.abort();
      onDone(err);
    };
    let connectTimer: NodeJS.Timeout | undefined;
    try {
      connectTimer = setTimeout(() => controller.abort(new Error("connect timeout")), connectTimeoutMs);
      let response;
      try {
        response = await this.transport.send("GET", path, {
          query: { watch: true, ...query },
          signal: controller.signal,
        });
      } catch (err) {
        if (err instanceof KubeApiError && err.status !== 0) throw err;
        const cause = err instanceof KubeApiError && err.cause !== undefined ? err.cause : err;
        throw new KubeApiError(`WATCH ${path}: cannot reach ${this.server}`, 0, "Unreachable", "GET", path, {
          cause,
        });
      } finally {
        clearTimeout(connectTimer);
      }
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const text = await readTruncated(response, this.limits.maxErrorBodyBytes);
        response.destroy();
        throw apiError("GET", path, status, response.statusMessage ?? "", text);
      }
      const body = response;
      const maxLine = this.limits.maxWatchLineBytes;
      const lines = new LineSplitter(
        maxLine,
        (seen) => new ResponseTooLargeError("WATCH", path, "watch line", maxLine, seen),
      );
      void (async () => {
        try {
          for await (const chunk of body) {
            lines.push(chunk, (raw) => {
              const line = raw.trim();
              if (!line || finished) return;
              const event = JSON.parse(line) as { type: WatchEventType; object: T };
              onEvent(event.type, event.object);
            });
          }
          finish(null);
        } catch (err) {
          finish(
            controller.signal.aborted
              ? null
              : err instanceof ResponseTooLargeError
                ? err
                : new KubeApiError(`WATCH ${path}: stream failed`, 0, "Unreachable", "GET", path, { cause: err }),
          );
        }
      })();
    } catch (err) {
      finish(err);
    }
    return controller;
  }

  async serverVersion(): Promise<{ major: string; minor: string; gitVersion: string }> {
    return this.request("GET", "/version", { timeoutMs: 10_000 });
  }
}
