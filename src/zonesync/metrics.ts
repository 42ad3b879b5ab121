/**
 * Prometheus metrics of local zone-sync. Several controllers (one per NGINX workload) can share a registry: the
 * metrics are labelled by workload and registered once per registry.
 */
import { Counter, Gauge, type Registry } from "prom-client";

export interface ZoneSyncMetrics {
  /** Checksum patches of a workload's pod template, by cause (enabled, disabled, config, tls, drift). */
  rollouts: Counter<"workload" | "cause">;
  /** Reconciles by result: changed (something was written), unchanged, rejected (invalid config), waiting, error. */
  reconciles: Counter<"workload" | "result">;
  /** Writes to the API server by resource and verb (apply, patch, delete). */
  writes: Counter<"workload" | "resource" | "verb">;
  /** Invalid zone-sync keys in the ConfigMap as last read. */
  invalidKeys: Gauge<"workload">;
}

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export function zoneSyncMetrics(registry: Registry, prefix = "zonesync_zone_sync"): ZoneSyncMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    existing<Counter<L>>(registry, `${prefix}_${name}`) ??
    new Counter({ name: `${prefix}_${name}`, help, labelNames, registers });
  return {
    rollouts: counter("rollouts_total", "Checksum patches that roll the NGINX workload, by cause", [
      "workload",
      "cause",
    ]),
    reconciles: counter("reconciles_total", "Reconciles of the zone-sync configuration, by result", [
      "workload",
      "result",
    ]),
    writes: counter("writes_total", "API writes of the zone-sync controller, by resource and verb", [
      "workload",
      "resource",
      "verb",
    ]),
    invalidKeys:
      existing<Gauge<"workload">>(registry, `${prefix}_invalid_keys`) ??
      new Gauge({
        name: `${prefix}_invalid_keys`,
        help: "Invalid zone-sync keys in the NGINX ConfigMap as last read",
        labelNames: ["workload"],
        registers,
      }),
  };
}
