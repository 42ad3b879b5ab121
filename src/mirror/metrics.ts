import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { queueMetrics, type QueueMetrics } from "../queue/metrics.ts";
import { DROP_REASONS, type DropCounts } from "./drops.ts";

/** The link controller's Prometheus metrics, in a registry of their own (one per controller, so tests can run several). */
export interface MirrorMetrics {
  registry: Registry;
  services: Gauge;
  endpoints: Gauge;
  syncLag: Histogram;
  e2eLag: Histogram;
  e2eLagAhead: Counter;
  errors: Counter<"kind">;
  writes: Counter<"verb" | "resource">;
  targetReachable: Gauge;
  leader: Gauge;
  stale: Gauge;
  nameConflicts: Gauge;
  /** What the target holds now that is not mirrored, by reason (see drops.ts); set with `recordDropped`. */
  dropped: Gauge<"reason">;
  /** Exported Services past spec.maxServices, not mirrored. */
  servicesOverCap: Gauge;
  /** When the target token in use expires (Unix seconds); absent for tokens that state no expiry. */
  credentialsExpiry: Gauge;
  /** 1 when the controller can renew that token itself (the Secret names the target ServiceAccount), else 0. */
  credentialsRenewable: Gauge;
  /** The controller's work queue (label queue="mirror"). */
  queue: QueueMetrics;
}

export function mirrorMetrics(link: string, registry = new Registry()): MirrorMetrics {
  registry.setDefaultLabels({ link });
  const registers = [registry];
  return {
    registry,
    services: new Gauge({
      name: "zonesync_mirror_services",
      help: "Services mirrored from the target cluster",
      registers,
    }),
    endpoints: new Gauge({
      name: "zonesync_mirror_endpoints",
      help: "Endpoint addresses in the mirrored EndpointSlices",
      registers,
    }),
    syncLag: new Histogram({
      name: "zonesync_mirror_sync_lag_seconds",
      help: "From the receipt of a target event to the end of the local writes it caused",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    e2eLag: new Histogram({
      name: "zonesync_mirror_e2e_lag_seconds",
      help:
        "From a change in the target cluster (its EndpointSlice's last-change-trigger-time) to the mirrored " +
        "EndpointSlice showing it; includes the clock offset between the clusters",
      buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    e2eLagAhead: new Counter({
      name: "zonesync_mirror_e2e_lag_clock_ahead_total",
      help: "Mirrored changes whose trigger time was ahead of this controller's clock (clock skew), observed as 0 lag",
      registers,
    }),
    errors: new Counter({
      name: "zonesync_mirror_errors_total",
      help: "Errors by kind (target, local, credentials, status, invalid-spec, ...)",
      labelNames: ["kind"],
      registers,
    }),
    writes: new Counter({
      name: "zonesync_mirror_writes_total",
      help: "Writes to the local cluster, by verb and resource",
      labelNames: ["verb", "resource"],
      registers,
    }),
    targetReachable: new Gauge({
      name: "zonesync_mirror_target_reachable",
      help: "1 while every watch on the target cluster is connected",
      registers,
    }),
    leader: new Gauge({
      name: "zonesync_mirror_leader",
      help: "1 while this controller holds the link's Lease",
      registers,
    }),
    stale: new Gauge({
      name: "zonesync_mirror_stale",
      help: "1 while the mirrored endpoints are marked not ready because the target is unreachable past staleAfter",
      registers,
    }),
    nameConflicts: new Gauge({
      name: "zonesync_mirror_name_conflicts",
      help: "Mirrors not written because a local object of their name was not created by this link",
      registers,
    }),
    dropped: new Gauge({
      name: "zonesync_mirror_dropped",
      help:
        "Target data not mirrored now, by reason: addresses (loopback, linkLocal, unspecified, multicast, broadcast, " +
        "excluded, wrongFamily, invalid, fqdn, tooMany), hostnames, ports, zones, and objects with invalid names",
      labelNames: ["reason"],
      registers,
    }),
    servicesOverCap: new Gauge({
      name: "zonesync_mirror_services_over_cap",
      help: "Exported Services of the target past the link's spec.maxServices, not mirrored",
      registers,
    }),
    credentialsExpiry: new Gauge({
      name: "zonesync_mirror_credentials_expiry_timestamp_seconds",
      help: "When the target token the controller uses expires (Unix time); renewed before, see --renew-after",
      registers,
    }),
    credentialsRenewable: new Gauge({
      name: "zonesync_mirror_credentials_renewable",
      help: "1 when the controller can renew the target token itself (its Secret names the target ServiceAccount)",
      registers,
    }),
    queue: queueMetrics(registry),
  };
}

/** Sets `dropped` to the current totals (a TargetWatch's droppedCounts()), every reason, zeros included. */
export function recordDropped(metrics: MirrorMetrics, counts: DropCounts): void {
  for (const reason of DROP_REASONS) metrics.dropped.set({ reason }, counts[reason]);
}
