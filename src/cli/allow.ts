import type { Command } from "commander";
import { DEFAULT_NAMESPACE } from "../api/names.ts";
import { targetAccessManifests } from "../link/access.ts";
import { applyAll, clientFor, explainKubeError, toYaml } from "./common.ts";
import { dnsLabelFlag } from "./flags.ts";

interface AllowFlags {
  context?: string;
  kubeconfig?: string;
  source: string;
  namespace: string;
  apply?: boolean;
}

export function registerAllow(program: Command): void {
  program
    .command("allow")
    .description(
      "print the target-side ServiceAccount, ClusterRole and binding a source cluster's link controller uses",
    )
    .requiredOption("--source <name>", "name of the source cluster that will read this target")
    .option("--context <context>", "kubeconfig context of the TARGET cluster (with --apply)")
    .option("--kubeconfig <file>", "kubeconfig file")
    .option("-n, --namespace <namespace>", "namespace of the ServiceAccount on the target", DEFAULT_NAMESPACE)
    .option("--apply", "apply to the target cluster with server-side apply instead of printing")
    .addHelpText(
      "after",
      `
The ClusterRole grants exactly what a link controller needs on its target: get, list and watch on Services and
discovery.k8s.io EndpointSlices. Nothing else.

Examples:
  zonesync allow --context east --source hub | kubectl --context east apply -f -
  zonesync allow --context east --source hub --apply
`,
    )
    .action(async (flags: AllowFlags) => {
      const source = dnsLabelFlag("--source", flags.source);
      const manifests = targetAccessManifests({ source, namespace: flags.namespace });
      if (!flags.apply) {
        process.stdout.write(toYaml(manifests));
        return;
      }
      const target = clientFor(flags, "target");
      try {
        await applyAll(target, manifests);
      } catch (err) {
        throw explainKubeError(err, "applying the target-side access", flags.context);
      }
      process.stderr.write(`allowed source ${flags.source} to read ${flags.context ?? "the current context"}\n`);
    });
}
