import type { Command } from "commander";
import { parseDuration } from "../api/duration.ts";
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE } from "../api/names.ts";
import type { ControllerEntry } from "../api/values.ts";
import { collect } from "./common.ts";
import { UsageError } from "./errors.ts";
import { dnsLabelFlag } from "./flags.ts";

interface MigrateFlags {
  link: string[];
  all?: boolean;
  context?: string;
  kubeconfig?: string;
  namespace: string;
  release: string;
  apply?: boolean;
  helm?: string;
  timeout: string;
}

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("move links from standalone controllers to the chart: print the plan, or carry it out with --apply")
    .option("--link <name>", "the link to migrate (repeatable, or comma-separated)", collect, [])
    .option("--all", "every link with a standalone controller")
    .option("--context <context>", "kubeconfig context of the source cluster")
    .option("--kubeconfig <file>", "kubeconfig file")
    .option("-n, --namespace <namespace>", "namespace of the links and the Helm release", DEFAULT_NAMESPACE)
    .option("--release <name>", "name of the zonesync Helm release", DEFAULT_RELEASE)
    .option("--apply", "carry the plan out, step by step, stopping at the first failure")
    .option(
      "--helm <chart>",
      "with --apply: run the helm upgrade here with this chart instead of waiting for the manager",
    )
    .option("--timeout <duration>", "with --apply: how long to wait for the upgrade and the new controller", "5m")
    .addHelpText(
      "after",
      `
The chart renders a controller's objects under the standalone manifests' names, so the handover goes: hand the
names over (RBAC adopted by Helm, the Deployment deleted with its pods kept running), label the link chart (the
manager adds its controllers entry and upgrades the release), wait for the chart's Deployment, delete the
standalone leftovers. Both modes share the link's Lease, so they never write at the same time.

Examples:
  zonesync migrate --context hub --link east            # print the plan
  zonesync migrate --context hub --all --apply
  zonesync migrate --context hub --link east --apply --helm ./chart   # without a manager (GitOps: commit instead)
`,
    )
    .action(async (flags: MigrateFlags) => {
      const links = flags.link
        .flatMap((l) => l.split(","))
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => dnsLabelFlag("--link", l));
      if (flags.all && links.length) throw new UsageError("pass either --link or --all, not both");
      if (!flags.all && links.length === 0)
        throw new UsageError("name the link to migrate (--link <name>) or pass --all");
      if (flags.helm && !flags.apply) throw new UsageError("--helm needs --apply");
      let timeoutMs: number;
      try {
        timeoutMs = parseDuration(flags.timeout);
      } catch (err) {
        throw new UsageError(`--timeout: ${(err as Error).message}`);
      }
      const [{ clientFor, explainKubeError }, { planMigration, renderPlan, applyMigration }] = await Promise.all([
        import("./common.ts"),
        import("../migrate/migrate.ts"),
      ]);
      const client = clientFor(flags, "source");
      const context = flags.context ?? client.context;
      const options = {
        namespace: flags.namespace,
        release: flags.release,
        links: flags.all ? ("all" as const) : links,
      };
      let plans;
      try {
        plans = await planMigration(client, options);
      } catch (err) {
        throw explainKubeError(err, "reading the links and their controllers", flags.context);
      }
      process.stdout.write(renderPlan(plans, { ...options, context, helm: Boolean(flags.helm) }));
      if (!flags.apply) {
        if (plans.length) process.stdout.write("Nothing was changed. Run again with --apply to carry the plan out.\n");
        process.exitCode = plans.some((p) => p.problems.length) ? 1 : 0;
        return;
      }
      const helmUpgrade = flags.helm ? await helmUpgrader(flags, flags.helm) : undefined;
      for (const plan of plans) {
        process.stdout.write(`\nMigrating link ${plan.link}:\n`);
        await applyMigration(client, plan, {
          namespace: flags.namespace,
          release: flags.release,
          timeoutMs,
          helmUpgrade,
          log: (line) => process.stdout.write(`  ${line}\n`),
        });
        process.stdout.write(`Link ${plan.link} is served by the chart now.\n`);
      }
    });
}

/** `helm upgrade --install` of the release with the entry added to its user values (src/helm). */
async function helmUpgrader(flags: MigrateFlags, chart: string): Promise<(entry: ControllerEntry) => Promise<void>> {
  const [{ Helm }, { isHelmError }] = await Promise.all([import("../helm/helm.ts"), import("../helm/errors.ts")]);
  const helm = new Helm({ kubeconfig: flags.kubeconfig, kubeContext: flags.context, namespace: flags.namespace });
  return async (entry) => {
    let values: Record<string, unknown> = {};
    try {
      values = await helm.getValues(flags.release, flags.namespace);
    } catch (err) {
      if (!isHelmError(err, "ReleaseNotFound")) throw err;
    }
    const others = ((values.controllers as ControllerEntry[] | undefined) ?? []).filter((e) => e.name !== entry.name);
    const controllers = [...others, entry].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    await helm.upgradeInstall({
      release: flags.release,
      chart,
      namespace: flags.namespace,
      values: { ...values, controllers },
    });
  };
}
