import { hostname } from "node:os";
import type { Logger } from "../log.ts";
import type { KubeClient, KubeObject } from "./client.ts";
import { kubeTime } from "./conditions.ts";
import { describeError, isNotFound } from "./errors.ts";
import { Resources } from "./resources.ts";

export type EventType = "Normal" | "Warning";

/** core/v1 ObjectReference: what an Event is about. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface KubeEvent extends KubeObject {
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** source.component, e.g. "zonesync-manager". */
  component: string;
  /** source.host; the host name by default. */
  host?: string;
  /** A repeat (same object, type, reason, message) within this time of the last increments that Event (default 10 min). */
  aggregateWindowMs?: number;
  /** Most aggregation entries kept (default 4096); the oldest go first. */
  maxCacheEntries?: number;
  logger?: Logger;
}

/** Kubernetes drops nothing on its own, but long messages only clutter `kubectl describe`. */
const MAX_MESSAGE = 1024;

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
  lastSeen: number;
}

/** Makes Event names unique within the process even when two are created in the same millisecond. */
let sequence = 0;

/** An object reference from a full object (kind and apiVersion must be set, as informer objects have them). */
export function referenceTo(obj: KubeObject): ObjectReference {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    namespace: obj.metadata.namespace,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
  };
}

function isKubeObject(target: KubeObject | ObjectReference): target is KubeObject {
  return typeof (target as KubeObject).metadata === "object";
}

/**
 * Records core/v1 Events about objects, like client-go's recorder: an Event repeated (same object, type, reason and
 * message) within the aggregation window of the last one increments `count` and `lastTimestamp` of the Event already written
 * instead of creating another. Recording never throws and never blocks the caller: failures are logged.
 */
export class EventRecorder {
  private readonly options: EventRecorderOptions;
  private readonly host: string;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, Aggregate>();
  /** Writes in flight per aggregation key, chained so that a repeat waits for the Event it increments. */
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(options: EventRecorderOptions) {
    this.options = options;
    this.host = options.host ?? hostname();
    this.windowMs = options.aggregateWindowMs ?? 10 * 60_000;
    this.maxEntries = options.maxCacheEntries ?? 4096;
  }

  normal(target: KubeObject | ObjectReference, reason: string, message: string): void {
    this.event(target, "Normal", reason, message);
  }

  warning(target: KubeObject | ObjectReference, reason: string, message: string): void {
    this.event(target, "Warning", reason, message);
  }

  /** Records an Event in the background. */
  event(target: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    void this.record(target, type, reason, message);
  }

  /** Records an Event; resolves when it was written (or the failure was logged). Never rejects. */
  record(target: KubeObject | ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const ref = isKubeObject(target) ? referenceTo(target) : target;
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const key = [ref.uid || `${ref.namespace ?? ""}/${ref.kind ?? ""}/${ref.name ?? ""}`, type, reason, text].join(
      "\u0000",
    );
    const previous = this.inflight.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.write(key, ref, type, reason, text))
      .catch((err: unknown) => {
        this.options.logger?.warn("cannot record event", {
          reason,
          object: `${ref.kind ?? "?"} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name ?? "?"}`,
          error: describeError(err),
        });
      })
      .finally(() => {
        if (this.inflight.get(key) === next) this.inflight.delete(key);
      });
    this.inflight.set(key, next);
    return next;
  }

  /** Resolves when every Event recorded so far has been written (or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.inflight.values()]);
  }

  private async write(
    key: string,
    ref: ObjectReference,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && now - cached.lastSeen <= this.windowMs) {
      try {
        await this.options.client.patch(Resources.events, cached.namespace, cached.name, {
          count: cached.count + 1,
          lastTimestamp: kubeTime(new Date(now)),
        });
        cached.count++;
        cached.lastSeen = now;
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The Event expired on the server (events have a TTL); start a new one.
      }
    }
    const namespace = ref.namespace || "default";
    // As client-go: <object>.<hex timestamp in ns>; the sequence stands in for the sub-millisecond digits.
    const suffix = (BigInt(now) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16);
    const name = `${ref.name ?? "unknown"}.${suffix}`;
    const timestamp = kubeTime(new Date(now));
    const event: KubeEvent = {
      metadata: { name, namespace },
      involvedObject: ref,
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.options.component, host: this.host },
      reportingComponent: this.options.component,
      reportingInstance: this.host,
    };
    await this.options.client.create(Resources.events, event);
    this.cache.delete(key);
    this.cache.set(key, { name, namespace, count: 1, lastSeen: now });
    // Maps iterate in insertion order: the first entries are the oldest.
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= this.maxEntries) break;
      this.cache.delete(oldest);
    }
  }
}
