import { collectRuntimeMetrics } from "../runtime-metrics.ts";
import type { Command } from "commander";
import { DEFAULT_NAMESPACE } from "../api/names.ts";
import { HealthServer } from "../kube/health.ts";
import { createLogger, type LogFormat } from "../log.ts";
import { LinkController } from "../mirror/controller.ts";
import { clientFor, runUntilSignal } from "./common.ts";
import { choiceFlag, dnsLabelFlag, LOG_FORMATS, LOG_LEVELS, percentFlag, workersFlag } from "./flags.ts";

interface Options {
  link: string;
  namespace: string;
  kubeconfig?: string;
  context?: string;
  logLevel?: string;
  logFormat?: LogFormat;
  renewAfter: string;
  workers?: number;
}

/** `zonesync link-controller --link <name>`: what every `controllers:` entry (and a standalone Deployment) runs. */
export function registerLinkController(program: Command): void {
  program
    .command("link-controller")
    .description(
      "mirror the Services, EndpointSlices and zone-sync peers a target cluster exports into this cluster, for one " +
        "ZoneSyncLink (runs until SIGTERM; only the holder of the link's Lease writes)",
    )
    .requiredOption("--link <name>", "the ZoneSyncLink to serve")
    .option("-n, --namespace <namespace>", "the namespace of the link, its Secret and Lease", DEFAULT_NAMESPACE)
    .option("--kubeconfig <file>", "kubeconfig of the local cluster (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "context of the local cluster")
    .option("--workers <n>", "concurrent reconciles (default 16)", (v) => workersFlag("--workers", v))
    .option("--log-level <level>", "error, warn, info or debug (default $ZONESYNC_LOG_LEVEL or info)")
    .option("--log-format <format>", "json or text (default: json unless stderr is a terminal)")
    .option("--renew-after <percent>", "renew the target token once this share of its lifetime has passed", "80%")
    .addHelpText(
      "after",
      `
Health and metrics: /healthz, /readyz and /metrics on $ZONESYNC_HTTP_ADDR (default 0.0.0.0:8080).

Examples:
  zonesync link-controller --link east
  zonesync link-controller --link east --namespace zonesync-system --context hub`,
    )
    .action(async (opts: Options) => {
      await run(opts);
    });
}

async function run(opts: Options): Promise<void> {
  dnsLabelFlag("--link", opts.link);
  const renewAfter = percentFlag("--renew-after", opts.renewAfter);
  const level = opts.logLevel === undefined ? undefined : choiceFlag("--log-level", opts.logLevel, LOG_LEVELS);
  const format = opts.logFormat === undefined ? undefined : choiceFlag("--log-format", opts.logFormat, LOG_FORMATS);
  const logger = createLogger({ level, format, component: "link-controller" });
  const client = clientFor({ kubeconfig: opts.kubeconfig, context: opts.context }, "local");
  const controller = new LinkController({
    renewAfter,
    client,
    link: opts.link,
    namespace: opts.namespace,
    logger,
    workers: opts.workers,
  });
  collectRuntimeMetrics(controller.metrics.registry);
  const checks = controller.checks();
  const health = await HealthServer.start({
    registry: controller.metrics.registry,
    liveness: checks.liveness,
    readiness: checks.readiness,
    logger,
  });
  logger.info("serving health and metrics", { url: health.url });

  await runUntilSignal({
    controller,
    health,
    client,
    logger,
    what: `the link controller for ${opts.namespace}/${opts.link}`,
  });
}
