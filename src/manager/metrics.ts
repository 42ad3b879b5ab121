import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { isTrue, type Condition } from "../kube/conditions.ts";

export interface ManagerMetrics {
  upgrades: Counter<"result">;
  reconcileDuration: Histogram<"key">;
  leader: Gauge;
  recoveries: Counter;
  /** Per ZoneSyncLink: its Ready condition as the manager wrote it (see recordLinkReady). */
  linkReady: Gauge<"link">;
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
    linkReady: new Gauge({
      name: "zonesync_manager_link_ready",
      help: "1 while the ZoneSyncLink's Ready condition is True, 0 while it is not; no series for a link being deleted.",
      labelNames: ["link"],
      registers: [registry],
    }),
  };
}

/**
 * Keeps `zonesync_manager_link_ready{link}` in step with the link's status: the Ready condition among `conditions`
 * (as written, or found already right), or, with `undefined`, the link is gone or being deleted and its series goes.
 */
export function recordLinkReady(
  metrics: ManagerMetrics | undefined,
  link: string,
  conditions: readonly Condition[] | undefined,
): void {
  if (!metrics) return;
  if (conditions === undefined) {
    metrics.linkReady.remove({ link });
    return;
  }
  metrics.linkReady.set({ link }, isTrue(conditions, "Ready") ? 1 : 0);
}
