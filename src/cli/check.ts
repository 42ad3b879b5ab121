import { existsSync } from "node:fs";
import type { Command } from "commander";
import { parseDuration } from "../api/duration.ts";
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE } from "../api/names.ts";
import type { CheckClient } from "../check/client.ts";
import {
  inClusterEntry,
  kubeconfigPaths,
  loadKubeconfig,
  wantsInCluster,
  type Kubeconfig,
  type KubeconfigEntry,
} from "../kube/kubeconfig.ts";
import { OUTPUT_FORMATS, render, useColor, type OutputFormat } from "../check/render.ts";
import type { CheckReport } from "../check/types.ts";
import { UsageError } from "./errors.ts";

/*
 * This module is on the cold-start path of `zonesync check --probe` (an exec probe): it imports nothing heavy at
 * load time. The Kubernetes client library, zod and the full command set load only when a full check runs.
 */

interface CheckFlags {
  context?: string;
  allContexts?: boolean;
  kubeconfig?: string;
  namespace?: string;
  release: string;
  output?: string;
  wait?: string;
  timeout: string;
  expectMesh?: boolean;
  nginxConfigMap?: string;
  nginxWorkload?: string;
  probe?: boolean;
  probeRemote?: boolean;
}

function duration(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

function outputFormat(value: string): OutputFormat {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`-o/--output: "${value}" is not one of ${OUTPUT_FORMATS.join(", ")}`);
  }
  return value as OutputFormat;
}

function readKubeconfig(paths: string[]): Kubeconfig {
  if (!paths.some((p) => existsSync(p))) throw new UsageError(`kubeconfig ${paths.join(":")} does not exist`);
  try {
    return loadKubeconfig(paths);
  } catch (err) {
    throw new UsageError(`cannot read kubeconfig ${paths.join(":")}: ${(err as Error).message}`);
  }
}

function contextNames(flags: CheckFlags, kubeconfig: Kubeconfig): string[] {
  if (flags.allContexts && flags.context) throw new UsageError("pass either --context or --all-contexts, not both");
  const names = flags.allContexts
    ? kubeconfig.contextNames
    : (flags.context
        ?.split(",")
        .map((c) => c.trim())
        .filter(Boolean) ?? [kubeconfig.currentContext]);
  if (names.length === 0 || names.some((n) => !n)) throw new UsageError("no context: pass --context <name>");
  const unknown = names.filter((n) => !kubeconfig.contextNames.includes(n));
  if (unknown.length) {
    throw new UsageError(
      `unknown context ${unknown.join(", ")} (the kubeconfig has: ${kubeconfig.contextNames.join(", ")})`,
    );
  }
  return [...new Set(names)];
}

async function fullCheck(
  flags: CheckFlags,
  timeoutMs: number,
  waitMs: number,
  format: OutputFormat,
): Promise<CheckReport> {
  const paths = kubeconfigPaths(flags.kubeconfig);
  const kubeconfig = readKubeconfig(paths);
  const names = contextNames(flags, kubeconfig);
  if (flags.nginxConfigMap || flags.nginxWorkload) {
    const { parseConfigMapRef, parseWorkloadRef } = await import("../zonesync/refs.ts");
    try {
      if (flags.nginxConfigMap) parseConfigMapRef(flags.nginxConfigMap);
      if (flags.nginxWorkload) parseWorkloadRef(flags.nginxWorkload);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const [{ KubeClient }, { runChecks }] = await Promise.all([import("../kube/client.ts"), import("../check/run.ts")]);
  const kubeconfigServers = new Map<string, string>();
  for (const name of kubeconfig.contextNames) {
    try {
      kubeconfigServers.set(name, kubeconfig.entry(name).server);
    } catch {
      // a context without a usable cluster: nothing to match links against
    }
  }
  const clusters = names.map((context) => ({
    context,
    client: KubeClient.fromEntry(kubeconfig.entry(context), { paths }),
  }));
  return runChecks({
    clusters,
    kubeconfigServers,
    namespace: flags.namespace ?? DEFAULT_NAMESPACE,
    release: flags.release,
    nginxConfigMap: flags.nginxConfigMap,
    nginxWorkload: flags.nginxWorkload,
    expectMesh: flags.expectMesh,
    timeoutMs,
    waitMs,
    onRetry: (report) => {
      if (format === "table") {
        const errors = report.clusters
          .flatMap((c) => c.categories.flatMap((cat) => cat.checks))
          .filter((c) => c.result === "error");
        process.stderr.write(`waiting: ${errors.map((c) => c.id).join(", ")} not passing yet; retrying\n`);
      }
    },
  });
}

async function probeCheck(flags: CheckFlags, timeoutMs: number, waitMs: number): Promise<CheckReport> {
  let entry: KubeconfigEntry | undefined;
  const paths = kubeconfigPaths(flags.kubeconfig);
  if (!wantsInCluster(flags.kubeconfig)) {
    const kubeconfig = readKubeconfig(paths);
    const names = contextNames(flags, kubeconfig);
    if (names.length > 1) throw new UsageError("--probe checks one cluster: pass a single --context");
    entry = kubeconfig.entry(names[0]);
  } else {
    entry = inClusterEntry();
    if (!entry) throw new UsageError("no kubeconfig and no in-cluster service account to check with");
  }
  const { runChecks } = await import("../check/run.ts");
  const { isProbeCheck } = await import("../check/probe.ts");
  // exec/auth-provider users load client-node on the first request: slower to start, but correct.
  const { KubeClient } = await import("../kube/client.ts");
  const client: CheckClient = KubeClient.fromEntry(entry, { paths });
  return runChecks({
    clusters: [{ context: entry.context, client }],
    namespace: flags.namespace ?? entry.namespace ?? DEFAULT_NAMESPACE,
    release: flags.release,
    timeoutMs,
    waitMs,
    select: (check) => isProbeCheck(check, flags.probeRemote),
  });
}

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("check links, controllers, credentials, mirrors and zone-sync, across clusters")
    .option("--context <contexts>", "kubeconfig context(s) to check, comma-separated (default: the current one)")
    .option("--all-contexts", "check every context of the kubeconfig")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option(
      "-n, --namespace <namespace>",
      `namespace of the links and the Helm release (default: ${DEFAULT_NAMESPACE})`,
    )
    .option("--release <name>", "name of the zonesync Helm release", DEFAULT_RELEASE)
    .option("-o, --output <format>", "table, json or short (default: table; short with --probe)")
    .option(
      "--wait <duration>",
      "retry failing retryable checks (availability, reachability, leases) for up to this long",
    )
    .option("--timeout <duration>", "timeout of each network step and target request", "5s")
    .option("--expect-mesh", "require links between every pair of checked clusters")
    .option(
      "--nginx-configmap <ns/name>",
      "NGINX ConfigMap with the zone-sync keys (default: the release's manager.nginx.configMap)",
    )
    .option("--nginx-workload <Kind/ns/name>", "NGINX workload (default: the release's manager.nginx.workload)")
    .option("--probe", "only the fast local checks, for exec probes (exit 0 healthy, 1 unhealthy)")
    .option("--probe-remote", "with --probe: also reach every link's target cluster")
    .addHelpText(
      "after",
      `
Exit status: 0 when no check failed with an error (warnings allowed), 1 when one did, 2 for usage errors.

Examples:
  zonesync check --context hub
  zonesync check --context hub,east,west --expect-mesh
  zonesync check --all-contexts -o json
  zonesync check --context hub --wait 2m          # e.g. right after an install
  zonesync check --probe                          # in a pod: exec probe with the pod's service account
`,
    )
    .action(async (flags: CheckFlags) => {
      if (flags.probeRemote && !flags.probe) throw new UsageError("--probe-remote needs --probe");
      const format = outputFormat(flags.output ?? (flags.probe ? "short" : "table"));
      const timeoutMs = duration("--timeout", flags.timeout);
      const waitMs = flags.wait ? duration("--wait", flags.wait) : 0;
      const report = flags.probe
        ? await probeCheck(flags, timeoutMs, waitMs)
        : await fullCheck(flags, timeoutMs, waitMs, format);
      process.stdout.write(render(report, format, { color: useColor() }));
      process.exitCode = report.success ? 0 : 1;
    });
}
