import type { Logger } from "../log.ts";
import { ExponentialBackoff, TokenBucket } from "./ratelimit.ts";
import { sleep } from "../sleep.ts";

/** Metrics hooks; every one is optional. See `prometheusObserver` for the Prometheus binding. */
export interface QueueObserver {
  /** The number of keys ready for a worker changed (delayed keys are not counted). */
  depth?(depth: number): void;
  /** `add` or `addAfter` was called for a key (retries are reported by `retried`). */
  added?(key: string): void;
  /** A key was scheduled for a retry after a failure, `delayMs` from now. */
  retried?(key: string, delayMs: number): void;
  /** A key waited `ms` between becoming ready and a worker taking it. */
  waited?(key: string, ms: number): void;
  /** The handler finished for a key after `durationMs`; `error` is set when it threw. */
  processed?(key: string, durationMs: number, error?: unknown): void;
}

export interface WorkQueueOptions {
  /** For logs and metrics. */
  name?: string;
  /** Wait this long after the first add before a key becomes ready, so that a burst of adds is processed once. */
  coalesceMs?: number;
  /** Overall rate limit of processing: a token bucket of `burst` tokens refilled at `qps` per second. */
  qps?: number;
  burst?: number;
  /** Per-key backoff of `addRateLimited`: base delay, doubled per consecutive failure (default 5 ms). */
  backoffBaseMs?: number;
  /** Upper bound of the per-key backoff (default 1000 s, as ingress-nginx). */
  backoffMaxMs?: number;
  /** `run`: after this many consecutive failures a key is dropped instead of retried (default: never). */
  maxRetries?: number;
  observer?: QueueObserver;
  logger?: Logger;
}

/** The work for one key. The signal aborts when the queue is shut down without draining. */
export type KeyHandler = (key: string, signal: AbortSignal) => Promise<void>;

export interface RunOptions {
  /** Keys processed concurrently (never the same key twice at once). Default 1. */
  workers?: number;
  /** Called when the handler throws, after the retry (or the drop) was scheduled. */
  onError?: (key: string, err: unknown, retries: number, dropped: boolean) => void;
}

export interface ShutdownOptions {
  /** true (default): finish every ready key, then stop. false: drop ready keys, abort handlers, stop. */
  drain?: boolean;
  /** Stop waiting for handlers after this long (they are aborted through their signal). */
  timeoutMs?: number;
}

type State = "running" | "draining" | "stopped";

/** A first-in first-out list with O(1) push and shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/**
 * A work queue in the manner of client-go's: a key added several times while it waits is processed once; a key is
 * never processed by two workers at once (re-added while processing, it is queued again when the worker is done);
 * adds can be coalesced, delayed, or delayed by per-key exponential backoff; an overall token bucket limits the
 * processing rate. Keys are strings, typically `namespace/name`.
 */
export class WorkQueue {
  readonly name: string;
  private readonly coalesceMs: number;
  private readonly bucket: TokenBucket | undefined;
  private readonly backoff: ExponentialBackoff;
  private readonly maxRetries: number;
  private readonly observer: QueueObserver;
  private readonly logger: Logger | undefined;

  private readonly ready = new Fifo<string>();
  /** Keys that need processing: ready ones, and ones re-added while being processed. */
  private readonly dirty = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private waiters: Array<() => void> = [];
  private state: State = "running";
  private readonly abort = new AbortController();
  private workers: Promise<void> | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? "queue";
    this.coalesceMs = options.coalesceMs ?? 0;
    this.bucket =
      options.qps !== undefined ? new TokenBucket(options.qps, options.burst ?? Math.max(1, options.qps)) : undefined;
    this.backoff = new ExponentialBackoff(options.backoffBaseMs ?? 5, options.backoffMaxMs ?? 1_000_000);
    this.maxRetries = options.maxRetries ?? Infinity;
    this.observer = options.observer ?? {};
    this.logger = options.logger;
  }

  /** Keys ready for a worker. */
  get depth(): number {
    return this.ready.length;
  }
  /** Keys waiting for a delay (coalescing, addAfter, backoff) to pass. */
  get delayedCount(): number {
    return this.delayed.size;
  }
  get processingCount(): number {
    return this.processing.size;
  }
  get shuttingDown(): boolean {
    return this.state !== "running";
  }
  /** True when nothing is ready, delayed or being processed. */
  get idle(): boolean {
    return this.dirty.size === 0 && this.delayed.size === 0 && this.processing.size === 0;
  }

  /** Queues a key (after `coalesceMs` when coalescing). Ignored after shutdown. */
  add(key: string): void {
    if (this.state !== "running") return;
    this.observer.added?.(key);
    if (this.coalesceMs > 0 && !this.dirty.has(key)) this.schedule(key, this.coalesceMs);
    else this.enqueue(key);
  }

  /** Queues a key after `ms`; an earlier pending add of the same key wins, a later one is brought forward. */
  addAfter(key: string, ms: number): void {
    if (this.state !== "running") return;
    this.observer.added?.(key);
    if (ms <= 0) this.enqueue(key);
    else this.schedule(key, ms);
  }

  /** Queues a key after its backoff: 5 ms, 10 ms, 20 ms, ... up to the maximum, until `forget(key)`. */
  addRateLimited(key: string): void {
    if (this.state !== "running") return;
    const delay = this.backoff.next(key);
    this.observer.retried?.(key, delay);
    this.schedule(key, delay);
  }

  /** Resets the key's backoff (call after it was processed successfully; `run` does it for you). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** Consecutive failures recorded for a key. */
  numRequeues(key: string): number {
    return this.backoff.retries(key);
  }

  /**
   * Starts `workers` loops that take keys and call `handler`. A handler that resolves resets the key's backoff; one
   * that throws re-queues the key with backoff (or drops it after `maxRetries`). Resolves when the queue has shut down
   * and every worker has finished.
   */
  run(handler: KeyHandler, options: RunOptions = {}): Promise<void> {
    if (this.workers) throw new Error(`work queue ${this.name} is already running`);
    const count = options.workers ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a positive integer, got ${count}`);
    this.workers = Promise.all(Array.from({ length: count }, () => this.worker(handler, options))).then(() => {});
    return this.workers;
  }

  /** Stops accepting keys, drops delayed ones, then drains (default) or stops; resolves when the workers are done. */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const drain = options.drain ?? true;
    if (this.state === "running" || (this.state === "draining" && !drain)) {
      this.state = drain ? "draining" : "stopped";
      for (const { timer } of this.delayed.values()) clearTimeout(timer);
      this.delayed.clear();
      if (!drain) this.dropReady();
      this.wakeAll();
    }
    if (!this.workers) return;
    if (options.timeoutMs === undefined) return this.workers;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
    });
    const result = await Promise.race([this.workers.then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      this.logger?.warn("work queue shutdown timed out; aborting handlers", { queue: this.name });
      this.state = "stopped";
      this.dropReady();
      this.wakeAll();
    }
  }

  private dropReady(): void {
    this.ready.clear();
    // Keys re-added while processing are dropped too: `done` must not queue them again.
    this.dirty.clear();
    this.abort.abort(new Error(`work queue ${this.name} stopped`));
    this.observer.depth?.(0);
  }

  private schedule(key: string, ms: number): void {
    if (this.dirty.has(key)) return; // already due; processing it covers this add too
    const at = performance.now() + ms;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.enqueue(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  private enqueue(key: string): void {
    if (this.state !== "running" || this.dirty.has(key)) return;
    const pending = this.delayed.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.delayed.delete(key);
    }
    this.dirty.set(key, performance.now());
    if (this.processing.has(key)) return; // queued again by `done`
    this.pushReady(key);
  }

  private pushReady(key: string): void {
    this.ready.push(key);
    this.observer.depth?.(this.ready.length);
    this.waiters.shift()?.();
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The next ready key, or undefined once the queue shut down and (when draining) ran dry. */
  private async next(): Promise<string | undefined> {
    for (;;) {
      if (this.state === "stopped") return undefined;
      const key = this.ready.shift();
      if (key !== undefined) {
        const readySince = this.dirty.get(key);
        this.dirty.delete(key);
        this.processing.add(key);
        this.observer.depth?.(this.ready.length);
        if (readySince !== undefined) this.observer.waited?.(key, performance.now() - readySince);
        return key;
      }
      if (this.state === "draining" && this.processing.size === 0) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.pushReady(key);
    else if (this.state === "draining" && this.processing.size === 0 && this.ready.length === 0) this.wakeAll();
  }

  private async worker(handler: KeyHandler, options: RunOptions): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      try {
        if (this.bucket) {
          const delay = this.bucket.reserve();
          if (delay > 0) await sleep(delay, this.abort.signal);
        }
        if (this.state === "stopped") continue;
        await this.process(key, handler, options);
      } finally {
        this.done(key);
      }
    }
  }

  private async process(key: string, handler: KeyHandler, options: RunOptions): Promise<void> {
    const started = performance.now();
    try {
      await handler(key, this.abort.signal);
      this.observer.processed?.(key, performance.now() - started);
      this.backoff.forget(key);
    } catch (err) {
      this.observer.processed?.(key, performance.now() - started, err);
      const retries = this.backoff.retries(key) + 1;
      const dropped = retries > this.maxRetries;
      if (dropped) this.backoff.forget(key);
      else this.addRateLimited(key);
      this.logger?.warn(dropped ? "giving up on key" : "processing failed; retrying with backoff", {
        queue: this.name,
        key,
        retries,
        error: err instanceof Error ? err.message : String(err),
      });
      options.onError?.(key, err, retries, dropped);
    }
  }
}
