import { collectDefaultMetrics, type Registry } from "prom-client";

/**
 * prom-client's defaults that promtool's linter rejects: gauges named like counters (`_total`). Their per-type twins
 * (`nodejs_active_handles{type}`, `nodejs_active_requests{type}`, `nodejs_active_resources{type}`) carry the same
 * figures; sum them for a total.
 */
const MISNAMED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** Process and Node.js runtime metrics (CPU, memory, file descriptors, event loop lag, GC, heap) into `registry`. */
export function collectRuntimeMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
}
