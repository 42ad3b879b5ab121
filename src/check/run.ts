import { DEFAULT_NAMESPACE, DEFAULT_RELEASE } from "../api/names.ts";
import { ALL_CHECKS } from "./checks/index.ts";
import { ClusterContext, type TargetClientFactory } from "./context.ts";
import { buildReport, ClusterRun, hasRetryableError } from "./engine.ts";
import { targetClientFor } from "./clients.ts";
import type { CheckClient } from "./client.ts";
import { CATEGORIES, type CheckDefinition, type CheckInfo, type CheckReport, type ClusterResult } from "./types.ts";
import { sleep } from "../sleep.ts";

export interface ClusterTarget {
  /** The kubeconfig context name (the report's `context`). */
  context: string;
  client: CheckClient;
}

export interface RunChecksOptions {
  clusters: readonly ClusterTarget[];
  /** Every context of the kubeconfig and its server: links are matched against them (no call needed). */
  kubeconfigServers?: ReadonlyMap<string, string>;
  namespace?: string;
  release?: string;
  nginxConfigMap?: string;
  nginxWorkload?: string;
  expectMesh?: boolean;
  /** Clients for target clusters; default targetClientFor (a KubeClient from the credentials the policy accepted). */
  targetClient?: TargetClientFactory;
  /** Timeout of each network step and target request (default 5 s). */
  timeoutMs?: number;
  /** Which checks run (default all). */
  select?: (check: CheckInfo) => boolean;
  /** Retry while a retryable check fails, until this many ms have passed (`--wait`). */
  waitMs?: number;
  retryIntervalMs?: number;
  now?: () => number;
  /** Called after each attempt that will be retried (for progress output). */
  onRetry?: (report: CheckReport, attempt: number) => void;
}

/**
 * Runs the checks on every cluster, in parallel, and returns the report (the `-o json` shape). The in-process API
 * of `zonesync check`: the CLI, the manager's /readyz (through runProbe) and tests call it.
 */
export async function runChecks(options: RunChecksOptions): Promise<CheckReport> {
  const checks = ALL_CHECKS.filter((c) => options.select?.(c) ?? true);
  const retryable = new Set(checks.filter((c) => c.retryable).map((c) => c.id));
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (let attempt = 1; ; attempt++) {
    const report = await runOnce(options, checks);
    if (report.success || !hasRetryableError(report, retryable) || Date.now() >= deadline) return report;
    options.onRetry?.(report, attempt);
    await sleep(Math.min(options.retryIntervalMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
}

async function runOnce(
  options: RunChecksOptions,
  checks: readonly CheckDefinition<ClusterContext>[],
): Promise<CheckReport> {
  const contexts = options.clusters.map(
    (cluster) =>
      new ClusterContext(cluster.context, cluster.client, {
        namespace: options.namespace ?? DEFAULT_NAMESPACE,
        release: options.release ?? DEFAULT_RELEASE,
        nginxConfigMap: options.nginxConfigMap,
        nginxWorkload: options.nginxWorkload,
        targetClient: options.targetClient ?? targetClientFor,
        timeoutMs: options.timeoutMs ?? 5000,
        now: options.now ?? Date.now,
        expectMesh: options.expectMesh ?? false,
      }),
  );
  for (const ctx of contexts) {
    ctx.kubeconfigServers = new Map(options.kubeconfigServers ?? []);
    for (const other of contexts)
      if (!ctx.kubeconfigServers.has(other.context)) ctx.kubeconfigServers.set(other.context, other.client.server);
    ctx.peers = contexts.filter((o) => o !== ctx).map((o) => ({ context: o.context, server: o.client.server, ctx: o }));
  }
  const ids = new Set(checks.map((c) => c.id));
  for (const ctx of contexts) {
    ctx.prefetch({
      release: ids.has("controllers.release") || ids.has("zone-sync.config"),
      mirrors: ids.has("mirrors.orphaned") || ids.has("mirrors.endpoints"),
    });
  }
  const runs = contexts.map((ctx) => new ClusterRun(ctx));
  const local = CATEGORIES.filter((c) => c !== "multicluster");
  // Each cluster's own categories, clusters in parallel; then the comparisons across clusters.
  await Promise.all(
    runs.map(async (run) => {
      for (const category of local) await run.runCategory(category, checks);
    }),
  );
  await Promise.all(runs.map((run) => run.runCategory("multicluster", checks)));
  const clusters: ClusterResult[] = contexts.map((ctx, i) => ({
    context: ctx.context,
    server: ctx.client.server,
    categories: runs[i]!.categories(),
  }));
  return buildReport(clusters);
}
