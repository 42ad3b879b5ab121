import { ALL_CHECKS } from "./checks/index.ts";
import type { TargetClientFactory } from "./context.ts";
import type { CheckClient } from "./client.ts";
import { runChecks } from "./run.ts";
import type { CheckInfo, CheckReport } from "./types.ts";

/**
 * The probe subset: the checks marked `probe`, local ones only unless `remote` (then also the target
 * reachability and access checks). No check of the subset loads zod or @kubernetes/client-node, so
 * `zonesync check --probe` starts fast, and the manager's /readyz stays cheap.
 */
export function isProbeCheck(check: CheckInfo, remote = false): boolean {
  return Boolean(check.probe) && (remote || !check.remote);
}

export function probeChecks(options: { remote?: boolean } = {}): CheckInfo[] {
  return ALL_CHECKS.filter((c) => isProbeCheck(c, options.remote)).map(
    ({ id, category, description, severity, retryable, dependsOn, probe, remote }) => ({
      id,
      category,
      description,
      severity,
      retryable,
      dependsOn,
      probe,
      remote,
    }),
  );
}

export interface ProbeOptions {
  /** Namespace of the links, Leases and release (default zonesync-system). */
  namespace?: string;
  release?: string;
  /** Also reach every link's target (DNS, TCP, TLS, version, access). */
  remote?: boolean;
  /** The report's context name (default "in-cluster"). */
  context?: string;
  targetClient?: TargetClientFactory;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * The probe subset on one cluster, with the given client (the manager passes its own KubeClient). Healthy when
 * `report.success` (no error; warnings allowed).
 */
export function runProbe(client: CheckClient, options: ProbeOptions = {}): Promise<CheckReport> {
  return runChecks({
    clusters: [{ context: options.context ?? "in-cluster", client }],
    namespace: options.namespace,
    release: options.release,
    targetClient: options.targetClient,
    timeoutMs: options.timeoutMs ?? 2000,
    now: options.now,
    select: (c) => isProbeCheck(c, options.remote),
  });
}
