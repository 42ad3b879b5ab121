import { Gauge, Registry } from "prom-client";
import { queueMetrics, type QueueMetrics } from "../queue/metrics.ts";

/** The MCS controller's Prometheus metrics. The gauges are read from its caches when scraped. */
export interface McsMetrics {
  registry: Registry;
  leader: Gauge;
  imports: Gauge;
  exports: Gauge<"state">;
  queue: QueueMetrics;
}

/** What the gauges read at scrape time; set by the controller once its caches exist. */
export interface McsCounts {
  imports(): number;
  exports(): { valid: number; invalid: number; conflicted: number };
}

export function mcsMetrics(registry = new Registry()): McsMetrics & { countFrom(counts: McsCounts): void } {
  const registers = [registry];
  let counts: McsCounts | undefined;
  const metrics = {
    registry,
    leader: new Gauge({
      name: "zonesync_mcs_leader",
      help: "1 while this MCS controller holds its Lease",
      registers,
    }),
    imports: new Gauge({
      name: "zonesync_mcs_service_imports",
      help: "ServiceImports this MCS controller keeps",
      registers,
      collect() {
        if (counts) this.set(counts.imports());
      },
    }),
    exports: new Gauge<"state">({
      name: "zonesync_mcs_service_exports",
      help: "Local ServiceExports by state: valid, invalid (Valid=False) and conflicted (Conflict=True)",
      labelNames: ["state"],
      registers,
      collect() {
        if (!counts) return;
        for (const [state, n] of Object.entries(counts.exports())) this.set({ state }, n);
      },
    }),
    queue: queueMetrics(registry),
    countFrom(source: McsCounts) {
      counts = source;
    },
  };
  return metrics;
}
