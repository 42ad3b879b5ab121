import { collectRuntimeMetrics } from "../runtime-metrics.ts";
import type { Command } from "commander";
import { DEFAULT_NAMESPACE } from "../api/names.ts";
import { HealthServer } from "../kube/health.ts";
import { createLogger, type LogFormat } from "../log.ts";
import { resolveClusterId } from "../mcs/cluster-id.ts";
import { McsController } from "../mcs/controller.ts";
import { clientFor, runUntilSignal } from "./common.ts";
import { choiceFlag, dnsLabelFlag, LOG_FORMATS, LOG_LEVELS, workersFlag } from "./flags.ts";

interface Options {
  namespace: string;
  clusterId?: string;
  kubeconfig?: string;
  context?: string;
  logLevel?: string;
  logFormat?: LogFormat;
  workers?: number;
}

/** `zonesync mcs-controller`: the Multi-Cluster Services API of one cluster (ADR 0005). */
export function registerMcsController(program: Command): void {
  program
    .command("mcs-controller")
    .description(
      "serve the Multi-Cluster Services API in this cluster: ServiceExport conditions, ServiceImports and their " +
        "derived Services and EndpointSlices (runs until SIGTERM; only the holder of its Lease writes)",
    )
    .option("-n, --namespace <namespace>", "the namespace of its Lease and Events", DEFAULT_NAMESPACE)
    .option(
      "--cluster-id <id>",
      "this cluster's id, unless the ClusterProperty cluster.clusterset.k8s.io gives it (that one wins)",
    )
    .option("--kubeconfig <file>", "kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "context of the cluster")
    .option("--workers <n>", "concurrent reconciles (default 16)", (v) => workersFlag("--workers", v))
    .option("--log-level <level>", "error, warn, info or debug (default $ZONESYNC_LOG_LEVEL or info)")
    .option("--log-format <format>", "json or text (default: json unless stderr is a terminal)")
    .addHelpText(
      "after",
      `
Health and metrics: /healthz, /readyz and /metrics on $ZONESYNC_HTTP_ADDR (default 0.0.0.0:8080).

Example:
  zonesync mcs-controller --cluster-id east --namespace zonesync-system`,
    )
    .action(async (opts: Options) => {
      await run(opts);
    });
}

async function run(opts: Options): Promise<void> {
  if (opts.clusterId !== undefined) dnsLabelFlag("--cluster-id", opts.clusterId);
  const level = opts.logLevel === undefined ? undefined : choiceFlag("--log-level", opts.logLevel, LOG_LEVELS);
  const format = opts.logFormat === undefined ? undefined : choiceFlag("--log-format", opts.logFormat, LOG_FORMATS);
  const logger = createLogger({ level, format, component: "mcs-controller" });
  const client = clientFor({ kubeconfig: opts.kubeconfig, context: opts.context }, "local");
  const { id, source } = await resolveClusterId(client, opts.clusterId);
  logger.info("cluster id", { clusterId: id, source });
  const controller = new McsController({
    client,
    clusterId: id,
    namespace: opts.namespace,
    logger,
    ...(opts.workers ? { workers: opts.workers } : {}),
  });
  collectRuntimeMetrics(controller.metrics.registry);
  const health = await HealthServer.start({
    registry: controller.metrics.registry,
    liveness: { "mcs-controller": () => ({ ok: true }) },
    readiness: {
      "mcs-controller": () => (controller.synced ? { ok: true } : { ok: false, detail: "caches not synced" }),
    },
    logger,
  });
  logger.info("serving health and metrics", { url: health.url });
  await runUntilSignal({ controller, health, client, logger, what: "the MCS controller" });
}
