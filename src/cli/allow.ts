import type { Command } from "commander";
import { DEFAULT_NAMESPACE, targetServiceAccountName } from "../api/names.ts";
import { isTargetAccessOf, targetAccessManifests } from "../link/access.ts";
import type { KubeClient } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { applyAll, clientFor, explainKubeError, toYaml } from "./common.ts";
import { dnsLabelFlag, namespacesFlag } from "./flags.ts";

interface AllowFlags {
  context?: string;
  kubeconfig?: string;
  source: string;
  namespace: string;
  namespaces?: string;
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
    .option(
      "--namespaces <ns,...>",
      "read only these target namespaces (the link's --namespaces): a Role in each instead of a ClusterRole",
    )
    .option("--apply", "apply to the target cluster with server-side apply instead of printing")
    .addHelpText(
      "after",
      `
The ClusterRole grants exactly what a link controller needs on its target: get, list and watch on Services and
discovery.k8s.io EndpointSlices. Nothing else. With --namespaces, a Role and RoleBinding in each of those
namespaces grant the same, and --apply removes a cluster-wide grant zonesync made earlier for this source.

Examples:
  zonesync allow --context east --source hub | kubectl --context east apply -f -
  zonesync allow --context east --source hub --apply
  zonesync allow --context east --source hub --namespaces shop,payments --apply
`,
    )
    .action(async (flags: AllowFlags) => {
      const source = dnsLabelFlag("--source", flags.source);
      const namespaces = flags.namespaces === undefined ? undefined : namespacesFlag("--namespaces", flags.namespaces);
      const manifests = targetAccessManifests({ source, namespace: flags.namespace, namespaces });
      if (!flags.apply) {
        process.stdout.write(toYaml(manifests));
        return;
      }
      const target = clientFor(flags, "target");
      try {
        await applyAll(target, manifests);
        if (namespaces) await removeClusterWideAccess(target, source);
      } catch (err) {
        throw explainKubeError(err, "applying the target-side access", flags.context);
      }
      process.stderr.write(`allowed source ${flags.source} to read ${flags.context ?? "the current context"}\n`);
    });
}

/** Narrowing to namespaces: the cluster-wide grant made earlier for this source goes, if zonesync made it. */
async function removeClusterWideAccess(target: KubeClient, source: string): Promise<void> {
  const name = targetServiceAccountName(source);
  for (const type of [Resources.clusterRoleBindings, Resources.clusterRoles]) {
    const existing = await target.getOptional(type, undefined, name);
    if (!existing || !isTargetAccessOf(existing, source)) continue;
    await target.delete(type, undefined, name, { uid: existing.metadata.uid });
  }
}
