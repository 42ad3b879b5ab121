import type { Logger } from "../log.ts";
import type { KubeClient, KubeObject, WatchEventType } from "./client.ts";
import { ResponseTooLargeError } from "./bounded.ts";
import { KubeApiError, describeError, isGone } from "./errors.ts";
import { apiVersionOf, type ResourceType } from "./resources.ts";

/** `namespace/name`, or `name` for cluster-scoped objects: the store key, and the usual work queue key. */
export function objectKey(obj: { metadata: { namespace?: string; name?: string } }): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name ?? ""}` : (name ?? "");
}

/** Splits a key from `objectKey` again. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Reconnect delay: `initialMs` doubled per attempt up to `maxMs`, times a jitter factor in [1, 2). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 + random()));
}

export interface InformerHandlers<T> {
  add?(obj: T): void;
  /** Called when the resourceVersion changed, and for every object at each resync (then `oldObj === newObj`). */
  update?(oldObj: T, newObj: T): void;
  /** Receives the last state the informer knew. */
  delete?(obj: T): void;
}

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  type: ResourceType;
  /** Only this namespace; all namespaces when unset. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Applied to every object before it is stored and handed out, e.g. to drop managedFields. */
  transform?: (obj: T) => T;
  /** Re-emit `update` for every stored object this often; off when unset or 0. */
  resyncMs?: number;
  /** Restart the watch when neither an event nor a bookmark arrived for this long (default 5 min). */
  stallTimeoutMs?: number;
  /** Server-side watch timeout; default a random value between 50% and 90% of the stall timeout. */
  watchTimeoutSeconds?: number;
  /** Reconnect backoff when the server fails or cannot be reached (default 500 ms doubling to 30 s, with jitter). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** List page size (default 500). */
  pageSize?: number;
  /**
   * The most objects the store holds (default: no limit beyond the client's maxListItems). A list with more, or a
   * watch event that would add one more, fails with a ResponseTooLargeError: the store keeps its last state and the
   * informer retries (and stays unhealthy) until the server holds fewer. For servers that are not trusted.
   */
  maxObjects?: number;
  /** For logs. */
  name?: string;
  logger?: Logger;
  /** Every list or watch failure, and every handler that threw. */
  onError?: (err: unknown) => void;
  /** `healthy` changed (connected, or a list or watch failed, or stopped). */
  onHealthChange?: (healthy: boolean) => void;
}

/** An ERROR event of a watch, as a KubeApiError (410 for "too old resource version"). */
function watchError(path: string, status: unknown): KubeApiError {
  const s = (status ?? {}) as { code?: number; reason?: string; message?: string };
  const code = typeof s.code === "number" ? s.code : 500;
  const message = s.message ?? "watch error";
  return new KubeApiError(`WATCH ${path}: ${code} ${message}`, code, s.reason ?? "", "GET", path, {
    serverMessage: message,
  });
}

/**
 * Lists, then watches one resource type from the list's resourceVersion, keeping an in-memory store of the objects
 * and telling handlers about adds, updates and deletes. Supervised: a watch that ends is resumed from the last
 * resourceVersion; `410 Gone` (too old resourceVersion) triggers a relist whose differences to the store are emitted,
 * so nothing is missed or duplicated; a watch silent for `stallTimeoutMs` is restarted; an unreachable or failing
 * server is retried with exponential backoff and jitter, and shows in `healthy`.
 */
export interface InformerIndex<T> {
  /** The stored objects of one index key. */
  get(key: string): T[];
  /** The index keys that have objects. */
  keys(): string[];
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly name: string;
  private readonly options: InformerOptions<T>;
  private readonly store = new Map<string, T>();
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly logger: Logger | undefined;
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private currentWatch: AbortController | undefined;
  private wake: (() => void) | undefined;
  private relistRequests: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private isHealthy = false;
  private lastEvent: Date | undefined;
  private lastErr: unknown;
  private restarts = 0;
  private lists = 0;

  constructor(options: InformerOptions<T>) {
    this.options = options;
    this.logger = options.logger;
    const where = options.namespace ? `${options.namespace}/` : "";
    this.name = options.name ?? `${where}${options.type.plural}`;
  }

  /** Registers handlers; returns a function that removes them. Objects already stored are not replayed. */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.handlers.add(handlers);
    return () => this.handlers.delete(handlers);
  }

  /**
   * A secondary index (client-go's Indexer): the stored objects by `indexKey` (undefined: not indexed), kept up to
   * date with the store.
   */
  addIndex(indexKey: (obj: T) => string | undefined): InformerIndex<T> {
    const index = new Map<string, Map<string, T>>();
    const add = (obj: T) => {
      const key = indexKey(obj);
      if (key === undefined) return;
      let bucket = index.get(key);
      if (!bucket) index.set(key, (bucket = new Map()));
      bucket.set(objectKey(obj), obj);
    };
    const remove = (obj: T) => {
      const key = indexKey(obj);
      const bucket = key === undefined ? undefined : index.get(key);
      if (!bucket) return;
      bucket.delete(objectKey(obj));
      if (bucket.size === 0) index.delete(key!);
    };
    for (const obj of this.store.values()) add(obj);
    this.addHandlers({
      add,
      update: (old, obj) => {
        remove(old);
        add(obj);
      },
      delete: remove,
    });
    return {
      get: (key) => [...(index.get(key)?.values() ?? [])],
      keys: () => [...index.keys()],
    };
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }
  list(): T[] {
    return [...this.store.values()];
  }
  keys(): string[] {
    return [...this.store.keys()];
  }
  get size(): number {
    return this.store.size;
  }
  /** True once the first list has been stored. */
  get hasSynced(): boolean {
    return this.synced;
  }
  /** True while the informer is connected (its last list or watch succeeded). */
  get healthy(): boolean {
    return this.isHealthy;
  }
  /** When the last watch event or bookmark arrived (or the last list completed). */
  get lastEventTime(): Date | undefined {
    return this.lastEvent;
  }
  get lastError(): unknown {
    return this.lastErr;
  }
  /** The resourceVersion the informer is at: the next watch starts from it. */
  get lastResourceVersion(): string | undefined {
    return this.resourceVersion;
  }
  /** How many lists were stored: the first one, relists after 410 Gone, and `relist()` calls. */
  get listCount(): number {
    return this.lists;
  }
  /** How many times the watch was re-opened (server timeouts, stalls, errors). */
  get watchRestarts(): number {
    return this.restarts;
  }

  /**
   * Starts listing and watching in the background. After a `stop()`, the store is kept and the watch resumes from
   * the last resourceVersion (or from `resourceVersion` when given); a resourceVersion the server no longer has
   * leads to a relist whose differences to the store are emitted.
   */
  start(options: { resourceVersion?: string } = {}): void {
    if (this.running) return;
    this.running = true;
    if (options.resourceVersion !== undefined) this.resourceVersion = options.resourceVersion;
    if (this.options.resyncMs) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncMs);
      this.resyncTimer.unref();
    }
    this.loop = this.run();
  }

  /** Stops the watch; the store stays readable. Resolves when the background loop has ended. */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    clearInterval(this.resyncTimer);
    this.currentWatch?.abort();
    this.wake?.();
    await this.loop;
    this.setHealthy(false);
    for (const request of this.relistRequests.splice(0)) request.reject(new Error(`informer ${this.name} stopped`));
  }

  private setHealthy(healthy: boolean): void {
    if (healthy === this.isHealthy) return;
    this.isHealthy = healthy;
    this.options.onHealthChange?.(healthy);
  }

  /** Resolves once the first list has been stored; rejects after `timeoutMs` with the last error as cause. */
  waitForSync(timeoutMs = 60_000): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        reject(new Error(`informer ${this.name} did not sync within ${timeoutMs} ms`, { cause: this.lastErr }));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.syncWaiters.push(done);
    });
  }

  /**
   * Lists again and emits the differences to the store: adds for new objects, updates for changed resourceVersions,
   * deletes for objects that are gone. What the informer does on 410 Gone; while running it happens in the
   * background loop (the watch is restarted from the new list), otherwise right away.
   */
  relist(): Promise<void> {
    if (!this.running) return this.listAndDiff();
    return new Promise((resolve, reject) => {
      this.relistRequests.push({ resolve, reject });
      this.currentWatch?.abort();
      this.wake?.();
    });
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let needList = this.resourceVersion === undefined;
    while (this.running) {
      try {
        if (needList || this.relistRequests.length > 0) {
          const requests = this.relistRequests.splice(0);
          try {
            await this.listAndDiff(true);
          } catch (err) {
            this.relistRequests.unshift(...requests);
            throw err;
          }
          needList = false;
          for (const r of requests) r.resolve();
          continue;
        }
        const outcome = await this.watchOnce(() => (attempt = 0));
        if (outcome === "short") await this.pause(backoffDelay(attempt++, this.initialBackoff, this.maxBackoff));
      } catch (err) {
        if (!this.running) break;
        if (isGone(err)) {
          this.logger?.info("resourceVersion too old; relisting", {
            informer: this.name,
            resourceVersion: this.resourceVersion,
          });
          needList = true;
          continue;
        }
        if (err instanceof ResponseTooLargeError && err.part === "watch line") {
          // Watching again from the same resourceVersion would replay the same event forever; a list (bounded by
          // the response limit) gets past it. The server is reachable: health is left as it is.
          this.report(err);
          this.logger?.warn("a watch event exceeds the limit; relisting", {
            informer: this.name,
            error: describeError(err),
          });
          needList = true;
          await this.pause(this.initialBackoff);
          continue;
        }
        this.setHealthy(false);
        this.report(err);
        const delay = backoffDelay(attempt++, this.initialBackoff, this.maxBackoff);
        this.logger?.warn("list/watch failed; retrying", {
          informer: this.name,
          error: describeError(err),
          retryInMs: delay,
        });
        await this.pause(delay);
      }
    }
  }

  private get initialBackoff(): number {
    return this.options.backoffInitialMs ?? 500;
  }
  private get maxBackoff(): number {
    return this.options.backoffMaxMs ?? 30_000;
  }

  /** Sleeps, but wakes early on stop() or relist(). */
  private async pause(ms: number): Promise<void> {
    if (!this.running || this.relistRequests.length > 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }

  private report(err: unknown): void {
    this.lastErr = err;
    try {
      this.options.onError?.(err);
    } catch (handlerErr) {
      this.logger?.error("informer onError handler threw", {
        informer: this.name,
        error: describeError(handlerErr),
      });
    }
  }

  private prepare(obj: T): T {
    if (!obj.apiVersion || !obj.kind) {
      obj = { ...obj, apiVersion: apiVersionOf(this.options.type), kind: this.options.type.kind };
    }
    return this.options.transform ? this.options.transform(obj) : obj;
  }

  /** `fromLoop`: the result is dropped when the informer was stopped while listing. */
  private async listAndDiff(fromLoop = false): Promise<void> {
    const { client, type, namespace, labelSelector, fieldSelector, pageSize } = this.options;
    const listed = await client.listAll<T>(type, namespace, { labelSelector, fieldSelector, limit: pageSize ?? 500 });
    if (fromLoop && !this.running) return;
    const fresh = new Map<string, T>();
    for (const item of listed.items) {
      const obj = this.prepare(item);
      fresh.set(objectKey(obj), obj);
    }
    const max = this.options.maxObjects;
    if (max !== undefined && fresh.size > max) {
      throw new ResponseTooLargeError("GET", `${apiVersionOf(type)}/${type.plural}`, "list", max, fresh.size);
    }
    const previous = new Map(this.store);
    this.store.clear();
    for (const [key, obj] of fresh) this.store.set(key, obj);
    this.resourceVersion = listed.metadata.resourceVersion;
    this.lists++;
    this.setHealthy(true);
    this.lastEvent = new Date();
    for (const [key, obj] of fresh) {
      const old = previous.get(key);
      if (!old) this.emit("add", obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit("update", obj, old);
    }
    for (const [key, old] of previous) if (!fresh.has(key)) this.emit("delete", old);
    if (!this.synced) {
      this.synced = true;
      for (const done of this.syncWaiters.splice(0)) done();
    }
  }

  /**
   * One watch, from the current resourceVersion. Resolves "ended" when the server closed it or it stalled, "short"
   * when it closed at once without any event (the caller backs off); rejects on errors, 410 included.
   */
  private watchOnce(onConnected: () => void): Promise<"ended" | "short"> {
    const { client, type, namespace, labelSelector, fieldSelector } = this.options;
    const stallMs = this.options.stallTimeoutMs ?? 300_000;
    const timeoutSeconds =
      this.options.watchTimeoutSeconds ?? Math.max(1, Math.floor((stallMs / 1000) * (0.5 + Math.random() * 0.4)));
    const path = `${apiVersionOf(type)}/${type.plural}`;
    const started = performance.now();
    let events = 0;
    return new Promise((resolve, reject) => {
      let settled = false;
      let stallTimer: NodeJS.Timeout | undefined;
      let controller: AbortController | undefined;
      const settle = (err: unknown, outcome: "ended" | "short" = "ended"): void => {
        if (settled) return;
        settled = true;
        clearTimeout(stallTimer);
        controller?.abort();
        if (this.currentWatch === controller) this.currentWatch = undefined;
        if (err) reject(err);
        else resolve(outcome);
      };
      const armStall = (): void => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          this.logger?.warn("watch stalled; restarting", { informer: this.name, stallTimeoutMs: stallMs });
          this.restarts++;
          settle(null);
        }, stallMs);
        stallTimer.unref();
      };
      const onEvent = (eventType: WatchEventType, obj: T): void => {
        if (settled) return;
        events++;
        armStall();
        this.lastEvent = new Date();
        if (eventType === "ERROR") {
          settle(watchError(path, obj));
          return;
        }
        const max = this.options.maxObjects;
        const adds = eventType === "ADDED" || eventType === "MODIFIED";
        if (max !== undefined && adds && this.store.size >= max && !this.store.has(objectKey(this.prepare(obj)))) {
          settle(new ResponseTooLargeError("WATCH", path, "list", max, this.store.size + 1));
          return;
        }
        this.apply(eventType, obj);
      };
      const onDone = (err: unknown): void => {
        if (settled) return;
        if (err) return settle(err);
        if (this.running) this.restarts++;
        const short = events === 0 && performance.now() - started < 1000;
        settle(null, short ? "short" : "ended");
      };
      armStall();
      client
        .watch<T>(
          type,
          namespace,
          {
            labelSelector,
            fieldSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds,
          },
          onEvent,
          onDone,
        )
        .then((c) => {
          controller = c;
          if (settled || !this.running || this.relistRequests.length > 0) {
            c.abort();
            settle(null);
            return;
          }
          this.currentWatch = c;
          this.setHealthy(true);
          onConnected();
        }, settle);
    });
  }

  private apply(eventType: WatchEventType, raw: T): void {
    const rv = raw.metadata?.resourceVersion;
    if (eventType === "BOOKMARK") {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const obj = this.prepare(raw);
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (eventType === "DELETED") {
      this.store.delete(key);
      this.emit("delete", old ?? obj);
    } else if (eventType === "ADDED" || eventType === "MODIFIED") {
      this.store.set(key, obj);
      if (!old) this.emit("add", obj);
      else if (old.metadata.resourceVersion !== rv) this.emit("update", obj, old);
    }
    if (rv) this.resourceVersion = rv;
  }

  private resync(): void {
    if (!this.synced) return;
    for (const obj of this.store.values()) this.emit("update", obj, obj);
  }

  private emit(kind: "add" | "update" | "delete", obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === "add") h.add?.(obj);
        else if (kind === "update") h.update?.(old ?? obj, obj);
        else h.delete?.(obj);
      } catch (err) {
        this.logger?.error("informer handler threw", {
          informer: this.name,
          event: kind,
          key: objectKey(obj),
          error: describeError(err),
        });
        this.report(err);
      }
    }
  }
}
