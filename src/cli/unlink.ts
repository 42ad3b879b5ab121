import type { Command } from "commander";
import {
  API_VERSION,
  controllerName,
  credentialsSecretName,
  DEFAULT_NAMESPACE,
  LABEL_CONTROLLER_MODE,
  LABEL_LINK,
  LINK_KIND,
} from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { clientFor, explainKubeError, toYaml } from "./common.ts";
import { dnsLabelFlag } from "./flags.ts";

interface UnlinkFlags {
  clusterName: string;
  namespace: string;
  onlyController?: boolean;
  context?: string;
  kubeconfig?: string;
}

const ref = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

/** The standalone controller's resources for one link (chart controllers go away with their values entry). */
function standaloneRefs(link: string, namespace: string): KubeObject[] {
  const name = controllerName(link);
  return [
    ref("apps/v1", "Deployment", name, namespace),
    ref("v1", "ServiceAccount", name, namespace),
    ref("rbac.authorization.k8s.io/v1", "Role", name, namespace),
    ref("rbac.authorization.k8s.io/v1", "RoleBinding", name, namespace),
    ref("rbac.authorization.k8s.io/v1", "ClusterRole", name),
    ref("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", name),
  ];
}

export function registerUnlink(program: Command): void {
  program
    .command("unlink")
    .description("print what to delete to unlink a target cluster (for kubectl delete -f -)")
    .requiredOption("--cluster-name <name>", "name of the linked target cluster")
    .option("-n, --namespace <namespace>", "namespace of the link", DEFAULT_NAMESPACE)
    .option("--only-controller", "only the standalone controller's resources (keep the link and its mirrors)")
    .option("--context <context>", "source cluster context: list only what really exists there")
    .option("--kubeconfig <file>", "kubeconfig file")
    .addHelpText(
      "after",
      `
Deleting the ZoneSyncLink makes its link controller remove every mirror it created (a finalizer holds the link
until then), and makes the manager drop the link's controllers entry. Delete the credentials Secret last.

Examples:
  zonesync unlink --cluster-name east | kubectl --context hub delete -f -
  zonesync unlink --cluster-name east --only-controller --context hub | kubectl --context hub delete -f -
`,
    )
    .action(async (flags: UnlinkFlags) => {
      const link = dnsLabelFlag("--cluster-name", flags.clusterName);
      let objects: KubeObject[] = flags.onlyController
        ? standaloneRefs(link, flags.namespace)
        : [
            ref(API_VERSION, LINK_KIND, link, flags.namespace),
            ...standaloneRefs(link, flags.namespace),
            ref("v1", "Secret", credentialsSecretName(link), flags.namespace),
          ];
      if (flags.context) {
        const client = clientFor(flags, "source");
        try {
          const deployment = await client.getOptional<KubeObject>(
            Resources.deployments,
            flags.namespace,
            controllerName(link),
          );
          const mode = deployment?.metadata.labels?.[LABEL_CONTROLLER_MODE];
          if (mode === "chart" && deployment?.metadata.labels?.[LABEL_LINK] === link) {
            process.stderr.write(
              `note: ${controllerName(link)} is a chart controller; it goes away when the link's controllers entry is removed\n`,
            );
            objects = objects.filter((o) => !standaloneRefs(link, flags.namespace).some((s) => s.kind === o.kind));
          }
          const present: KubeObject[] = [];
          for (const obj of objects) {
            const type = Object.values(Resources).find((r) => r.kind === obj.kind);
            if (type && (await client.getOptional(type, obj.metadata.namespace, obj.metadata.name!))) present.push(obj);
          }
          objects = present;
        } catch (err) {
          throw explainKubeError(err, "reading the source cluster", flags.context);
        }
      }
      process.stdout.write(objects.length ? toYaml(objects) : "");
      if (!objects.length) process.stderr.write(`nothing to delete for ${link}\n`);
    });
}
