import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { QueueObserver } from "./workqueue.ts";

export interface QueueMetrics {
  depth: Gauge<"queue">;
  adds: Counter<"queue">;
  retries: Counter<"queue">;
  failures: Counter<"queue">;
  wait: Histogram<"queue">;
  duration: Histogram<"queue">;
}

/** The work queue metrics of one registry, labelled by queue name; create once per registry. */
export function queueMetrics(registry: Registry, prefix = "zonesync_workqueue"): QueueMetrics {
  const registers = [registry];
  const buckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60];
  return {
    depth: new Gauge({ name: `${prefix}_depth`, help: "Keys ready for a worker", labelNames: ["queue"], registers }),
    adds: new Counter({ name: `${prefix}_adds_total`, help: "Keys added", labelNames: ["queue"], registers }),
    retries: new Counter({
      name: `${prefix}_retries_total`,
      help: "Keys re-queued with backoff",
      labelNames: ["queue"],
      registers,
    }),
    failures: new Counter({
      name: `${prefix}_failures_total`,
      help: "Handler runs that threw",
      labelNames: ["queue"],
      registers,
    }),
    wait: new Histogram({
      name: `${prefix}_queue_duration_seconds`,
      help: "Time a key waited between becoming ready and being processed",
      labelNames: ["queue"],
      buckets,
      registers,
    }),
    duration: new Histogram({
      name: `${prefix}_work_duration_seconds`,
      help: "Time the handler took for a key",
      labelNames: ["queue"],
      buckets,
      registers,
    }),
  };
}

/** A QueueObserver feeding `metrics` for the queue called `queue`. */
export function prometheusObserver(metrics: QueueMetrics, queue: string): QueueObserver {
  const labels = { queue };
  return {
    depth: (depth) => metrics.depth.set(labels, depth),
    added: () => metrics.adds.inc(labels),
    retried: () => metrics.retries.inc(labels),
    waited: (_key, ms) => metrics.wait.observe(labels, ms / 1000),
    processed: (_key, ms, error) => {
      metrics.duration.observe(labels, ms / 1000);
      if (error !== undefined) metrics.failures.inc(labels);
    },
  };
}
