import { collectRuntimeMetrics } from "../runtime-metrics.ts";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Command } from "commander";
import { Registry } from "prom-client";
import { parse as parseYaml } from "yaml";
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE } from "../api/names.ts";
import { Helm } from "../helm/helm.ts";
import { EventRecorder } from "../kube/events.ts";
import { HealthServer } from "../kube/health.ts";
import { LeaderElector } from "../kube/leader.ts";
import { describeError } from "../kube/errors.ts";
import { createLogger } from "../log.ts";
import { ServerDryRun } from "../manager/entry-check.ts";
import { HelmReleaseBackend } from "../manager/helm-backend.ts";
import { Manager } from "../manager/manager.ts";
import { managerMetrics } from "../manager/metrics.ts";
import { bundledChartPath } from "../paths.ts";
import { prometheusObserver, queueMetrics } from "../queue/metrics.ts";
import { ZoneSyncController } from "../zonesync/controller.ts";
import { parseConfigMapRef, parseWorkloadRef } from "../zonesync/refs.ts";
import { isProbeCheck } from "../check/probe.ts";
import { runChecks } from "../check/run.ts";
import { clientFor } from "./common.ts";
import { UsageError } from "./errors.ts";
import { choiceFlag, durationFlag, LOG_FORMATS, LOG_LEVELS } from "./flags.ts";

interface ManagerFlags {
  namespace: string;
  release: string;
  chart: string;
  apply: string;
  baseValues?: string;
  kubeconfig?: string;
  context?: string;
  nginxConfigmap?: string;
  nginxWorkload?: string;
  logLevel: string;
  logFormat: string;
  leaderElect: boolean;
  httpAddr?: string;
  helmTimeout: string;
  syncTimeout: string;
}

function readBaseValues(path: string | undefined): Record<string, unknown> | undefined {
  if (!path) return undefined;
  try {
    const parsed: unknown = parseYaml(readFileSync(path, "utf8"));
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a YAML mapping");
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--base-values ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** How long a running helm upgrade may finish after SIGTERM: within the chart's terminationGracePeriodSeconds (60). */
const SHUTDOWN_GRACE_MS = 45_000;

async function runManager(flags: ManagerFlags): Promise<void> {
  if (flags.apply !== "helm" && flags.apply !== "none") {
    throw new UsageError(`--apply must be helm or none (got "${flags.apply}")`);
  }
  if (Boolean(flags.nginxConfigmap) !== Boolean(flags.nginxWorkload)) {
    throw new UsageError("--nginx-configmap and --nginx-workload go together");
  }
  let zoneSyncRefs:
    { configMap: ReturnType<typeof parseConfigMapRef>; workload: ReturnType<typeof parseWorkloadRef> } | undefined;
  try {
    if (flags.nginxConfigmap && flags.nginxWorkload) {
      zoneSyncRefs = {
        configMap: parseConfigMapRef(flags.nginxConfigmap),
        workload: parseWorkloadRef(flags.nginxWorkload),
      };
    }
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const level = choiceFlag("--log-level", flags.logLevel, LOG_LEVELS);
  const format = choiceFlag("--log-format", flags.logFormat, LOG_FORMATS);
  durationFlag("--helm-timeout", flags.helmTimeout, { minMs: 1000 });
  const syncTimeoutMs = durationFlag("--sync-timeout", flags.syncTimeout, { minMs: 1000 });
  const logger = createLogger({ level, format, component: "manager" });
  const client = clientFor(flags, "cluster");
  const baseValues = readBaseValues(flags.baseValues);
  const registry = new Registry();
  collectRuntimeMetrics(registry);
  const metrics = managerMetrics(registry);
  const events = new EventRecorder({ client, component: "zonesync-manager", logger });
  const helm = new Helm({ kubeconfig: flags.kubeconfig, kubeContext: flags.context, logger });
  const dryRun = new ServerDryRun({
    helm,
    client,
    release: flags.release,
    namespace: flags.namespace,
    chart: flags.chart,
    logger,
  });
  const manager = new Manager({
    client,
    namespace: flags.namespace,
    backend: new HelmReleaseBackend({
      helm,
      client,
      release: flags.release,
      namespace: flags.namespace,
      chart: flags.chart,
      timeout: flags.helmTimeout,
    }),
    apply: flags.apply === "helm",
    validator: (values, links) => dryRun.rejected(values, links),
    baseValues,
    events,
    logger,
    metrics,
    queueObserver: prometheusObserver(queueMetrics(registry), "manager"),
  });

  const zoneSync = zoneSyncRefs
    ? new ZoneSyncController({
        client,
        ...zoneSyncRefs,
        logger: logger.child({ component: "zone-sync" }),
        events,
        registry,
      })
    : undefined;
  const startLoops = async () => {
    await manager.start({ syncTimeoutMs });
    await zoneSync?.start();
  };
  /** On shutdown a running helm may finish (within the chart's grace period); when leadership is lost, nothing may. */
  const stopLoops = async (graceMs: number) => {
    await Promise.all([manager.stop({ graceMs }), zoneSync?.stop()]);
  };

  let leading = !flags.leaderElect;
  const health = await HealthServer.start({
    address: flags.httpAddr,
    registry,
    logger,
    // Liveness is the process answering (its event loop runs): nothing that depends on the API server, or a
    // control-plane upgrade would restart the leader, maybe in the middle of a helm upgrade.
    liveness: {},
    readiness: {
      synced: () => ({ ok: !leading || manager.synced, detail: leading ? "initial list of links" : "standing by" }),
      watches: () => ({ ok: !leading || manager.healthy, detail: "ZoneSyncLink, Deployment and Secret watches" }),
      // The same code as `zonesync check --probe`, in-process: the checks of what the manager itself needs (the API
      // server, the ZoneSyncLink CRD and its version). The link controllers' health is theirs to report; tying the
      // manager's readiness to it would block `helm upgrade --wait` of the release on any one broken link.
      checks: async () => {
        const report = await runChecks({
          clusters: [{ context: "in-cluster", client }],
          namespace: flags.namespace,
          release: flags.release,
          timeoutMs: 2000,
          select: (c) => isProbeCheck(c) && c.category === "links",
        });
        const failed = report.clusters
          .flatMap((c) => c.categories.flatMap((cat) => cat.checks))
          .filter((c) => c.result === "error");
        return {
          ok: report.success,
          detail: failed.map((c) => `${c.id}: ${c.error ?? "failed"}`).join("; ") || "links checks pass",
        };
      },
      ...(zoneSync
        ? { "zone-sync": () => ({ ok: !leading || zoneSync.synced, detail: zoneSync.lastError ?? "local zone-sync" }) }
        : {}),
    },
  });
  logger.info("manager starting", {
    namespace: flags.namespace,
    release: flags.release,
    chart: flags.chart,
    apply: flags.apply,
  });

  const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  let elector: LeaderElector | undefined;
  let shuttingDown = false;
  const stopped = Promise.withResolvers<void>();
  const shutdown = (reason: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("shutting down", { reason });
    void (async () => {
      await (elector ? elector.stop() : stopLoops(SHUTDOWN_GRACE_MS));
      await health.close();
      stopped.resolve();
    })();
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));

  if (flags.leaderElect) {
    elector = new LeaderElector({
      client,
      name: "zonesync-manager",
      namespace: flags.namespace,
      identity,
      logger,
      onStartedLeading: async () => {
        leading = true;
        metrics.leader.set(1);
        logger.info("leading; starting the control loops", { identity });
        try {
          await startLoops();
        } catch (err) {
          // A leader that cannot start must not keep the Lease doing nothing: give it up and exit non-zero, so a
          // standby takes over and Kubernetes restarts this pod.
          logger.error("the control loops could not start; releasing the lease and exiting", {
            error: describeError(err),
          });
          process.exitCode = 1;
          shutdown("startup failure");
        }
      },
      onStoppedLeading: async () => {
        metrics.leader.set(0);
        leading = false;
        await stopLoops(shuttingDown ? SHUTDOWN_GRACE_MS : 0);
        if (!shuttingDown) {
          // The loops cannot be restarted cleanly; like client-go controllers, exit and let the pod restart.
          logger.error("lost leadership; exiting so that a fresh process can campaign again");
          process.exit(1);
        }
      },
    });
    elector.start();
  } else {
    metrics.leader.set(1);
    await startLoops();
  }
  await stopped.promise;
}

export function registerManager(program: Command): void {
  program
    .command("manager")
    .description("run the manager: ZoneSyncLinks → the chart's controllers: values → helm upgrade (only on change)")
    .option(
      "-n, --namespace <namespace>",
      "namespace of the links and the release",
      process.env.POD_NAMESPACE ?? DEFAULT_NAMESPACE,
    )
    .option("--release <name>", "the Helm release whose controllers: values the manager owns", DEFAULT_RELEASE)
    .option("--chart <path>", "the chart to upgrade the release with", bundledChartPath())
    .option("--apply <mode>", "helm: run helm upgrade; none: only report (GitOps)", "helm")
    .option("--base-values <file>", "values to start from when the release does not exist yet")
    .option("--kubeconfig <file>", "kubeconfig file (default: in-cluster, $KUBECONFIG or ~/.kube/config)")
    .option("--context <context>", "kubeconfig context")
    .option("--nginx-configmap <ns/name>", "NGINX ConfigMap with zone-sync keys (local zone-sync)")
    .option("--nginx-workload <kind/ns/name>", "NGINX workload to roll when the zone-sync config changes")
    .option("--log-level <level>", "error, warn, info or debug", "info")
    .option(
      "--log-format <format>",
      "json or text (default: text in a terminal, else json)",
      process.stderr.isTTY ? "text" : "json",
    )
    .option("--no-leader-elect", "run without leader election (one replica only)")
    .option("--http-addr <host:port>", "health and metrics address (default $ZONESYNC_HTTP_ADDR or 0.0.0.0:8080)")
    .option("--helm-timeout <duration>", "timeout of one helm upgrade", "5m")
    .option("--sync-timeout <duration>", "how long the first list of links may take before the manager gives up", "60s")
    .addHelpText(
      "after",
      `
Examples:
  # in the cluster (what the chart runs)
  zonesync manager --namespace zonesync-system --release zonesync
  # GitOps: only report whether the deployed values match the links
  zonesync manager --apply none
`,
    )
    .action((flags: ManagerFlags) => runManager(flags));
}
