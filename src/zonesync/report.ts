/**
 * Events about the zone-sync configuration, each emitted once per change of what there is to say: a resync, a
 * no-op update of the ConfigMap or a retry never repeats an Event that was already recorded for the same problem.
 */
import type { KubeObject } from "../kube/client.ts";
import { describeOutcome, type ZoneSyncKeyError } from "./config.ts";

export type EventType = "Normal" | "Warning";

/** Where Events go; src/kube/events.ts's EventRecorder is one. */
export interface EventSink {
  event(target: KubeObject, type: EventType, reason: string, message: string): void;
}

export const REASON_INVALID_VALUE = "InvalidValue";
export const REASON_INVALID_CONFIGURATION = "InvalidConfiguration";
export const REASON_CONFIGURATION_VALID = "ConfigurationValid";

/**
 * The parse result of the ConfigMap as Events: one Warning `InvalidValue` per bad key (each message once while it
 * stays), then one Warning `InvalidConfiguration` summary saying what happens to zone-sync as a whole; when the
 * errors are gone again, one Normal `ConfigurationValid`.
 */
export class ConfigReporter {
  private readonly sink: EventSink;
  private reported = new Set<string>();
  private summary: string | undefined;

  constructor(sink: EventSink) {
    this.sink = sink;
  }

  /** The messages currently reported (for tests and health details). */
  get current(): readonly string[] {
    return [...this.reported];
  }

  report(target: KubeObject | undefined, errors: readonly ZoneSyncKeyError[], hasLastGood: boolean): void {
    if (errors.length === 0) {
      if (this.summary !== undefined && target !== undefined) {
        this.sink.event(target, "Normal", REASON_CONFIGURATION_VALID, describeOutcome([]));
      }
      this.reported = new Set();
      this.summary = undefined;
      return;
    }
    if (target === undefined) return;
    const messages = new Set(errors.map((e) => e.message));
    for (const message of messages) {
      if (!this.reported.has(message)) this.sink.event(target, "Warning", REASON_INVALID_VALUE, message);
    }
    const summary = describeOutcome(errors, { hasLastGood });
    if (summary !== this.summary) this.sink.event(target, "Warning", REASON_INVALID_CONFIGURATION, summary);
    this.reported = messages;
    this.summary = summary;
  }
}

/**
 * Problems other than bad keys (a missing workload, an unusable TLS Secret, ...), one slot per reason: a Warning
 * when a slot's message changes, nothing while it stays, and the slot is forgotten when the problem is gone.
 */
export class ProblemReporter {
  private readonly sink: EventSink;
  private readonly active = new Map<string, string>();

  constructor(sink: EventSink) {
    this.sink = sink;
  }

  get problems(): ReadonlyMap<string, string> {
    return this.active;
  }

  set(target: KubeObject | undefined, reason: string, message: string): void {
    if (this.active.get(reason) === message) return;
    this.active.set(reason, message);
    if (target !== undefined) this.sink.event(target, "Warning", reason, message);
  }

  clear(reason: string): void {
    this.active.delete(reason);
  }
}
