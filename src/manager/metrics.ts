import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface ManagerMetrics {
  upgrades: Counter<"result">;
  reconcileDuration: Histogram<"key">;
  leader: Gauge;
  recoveries: Counter;
}

export function managerMetrics(registry: Registry): ManagerMetrics {
  return {
    upgrades: new Counter({
      name: "zonesync_manager_helm_upgrades_total",
      help: "Release reconciles by result: done (helm upgrade ran), skipped (values unchanged), failed.",
      labelNames: ["result"],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: "zonesync_manager_reconcile_duration_seconds",
      help: "Duration of a reconcile.",
      labelNames: ["key"],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    recoveries: new Counter({
      name: "zonesync_manager_release_recoveries_total",
      help: "Releases found stuck in pending-* and rolled back to the last deployed revision.",
      registers: [registry],
    }),
    leader: new Gauge({
      name: "zonesync_manager_leader",
      help: "1 while this manager is the leader.",
      registers: [registry],
    }),
  };
}
