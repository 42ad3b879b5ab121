import type { Command } from "commander";
import {
  API_VERSION,
  controllerName,
  credentialsSecretName,
  DEFAULT_NAMESPACE,
  LABEL_CONTROLLER_MODE,
  LABEL_LINK,
  LINK_KIND,
  standaloneClusterName,
  standaloneControllerName,
} from "../api/names.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { resourceForObject, Resources } from "../kube/resources.ts";
import { clientFor, explainKubeError, toYaml } from "./common.ts";
import { UsageError } from "./errors.ts";
import { dnsLabelFlag, durationFlag } from "./flags.ts";
import { sleep } from "../sleep.ts";

interface UnlinkFlags {
  clusterName: string;
  namespace: string;
  onlyController?: boolean;
  leftovers?: boolean;
  delete?: boolean;
  timeout: string;
  context?: string;
  kubeconfig?: string;
}

const ref = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

/**
 * The standalone controller's resources for one link (chart controllers go away with their values entry): its own
 * names, and with --context also those of earlier versions (the chart's names, told apart by their mode label).
 */
function standaloneRefs(link: string, namespace: string, legacy = false): KubeObject[] {
  const refs = (name: string, clusterName: string) => [
    ref("apps/v1", "Deployment", name, namespace),
    ref("v1", "ServiceAccount", name, namespace),
    ref("rbac.authorization.k8s.io/v1", "Role", name, namespace),
    ref("rbac.authorization.k8s.io/v1", "RoleBinding", name, namespace),
    ref("rbac.authorization.k8s.io/v1", "ClusterRole", clusterName),
    ref("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", clusterName),
  ];
  return [
    ...refs(standaloneControllerName(link), standaloneClusterName(namespace, link)),
    ...(legacy ? refs(controllerName(link), controllerName(link)) : []),
  ];
}

/** What the link left behind once it is gone: its standalone controller (if any) and its credentials Secret. */
function leftoverRefs(link: string, namespace: string, secret = credentialsSecretName(link), legacy = false) {
  return [...standaloneRefs(link, namespace, legacy), ref("v1", "Secret", secret, namespace)];
}

/** Objects that exist, and that are this link's: standalone-labelled for it, or its credentials Secret. Helm's never. */
async function existingOf(client: KubeClient, link: string, refs: KubeObject[]): Promise<KubeObject[]> {
  const present: KubeObject[] = [];
  for (const obj of refs) {
    const live = await client.getOptional(resourceForObject(obj), obj.metadata.namespace, obj.metadata.name!);
    if (!live) continue;
    const labels = live.metadata.labels ?? {};
    const ours =
      obj.kind === "Secret"
        ? labels[LABEL_LINK] === link
        : labels[LABEL_LINK] === link && labels[LABEL_CONTROLLER_MODE] === "standalone";
    if (ours) present.push({ ...obj, metadata: { ...obj.metadata, uid: live.metadata.uid } });
  }
  return present;
}

/** Deletes the link and waits until it is gone: its controller removed every mirror, then the finalizer. */
async function deleteLinkAndWait(client: KubeClient, link: string, namespace: string, timeoutMs: number) {
  await client.delete(Resources.zoneSyncLinks, namespace, link);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = await client.getOptional<KubeObject>(Resources.zoneSyncLinks, namespace, link);
    if (!live) return;
    if (Date.now() > deadline) {
      throw new Error(
        `link ${namespace}/${link} is still Terminating after ${timeoutMs / 1000} s (finalizers: ` +
          `${(live.metadata.finalizers ?? []).join(", ") || "none"}); its controller has not removed its mirrors yet. ` +
          "Its controller and Secret were left in place so that it can: see `zonesync check`, then run this again",
      );
    }
    await sleep(500);
  }
}

export function registerUnlink(program: Command): void {
  program
    .command("unlink")
    .description("unlink a target cluster in a safe order: the link first, its controller and Secret once it is gone")
    .requiredOption("--cluster-name <name>", "name of the linked target cluster")
    .option("-n, --namespace <namespace>", "namespace of the link", DEFAULT_NAMESPACE)
    .option("--delete", "delete in order and wait: the link, then (once it is gone) its controller and Secret")
    .option("--timeout <duration>", "with --delete: how long to wait for the link's mirrors to be removed", "2m")
    .option("--leftovers", "print the standalone controller and Secret a deleted link left (step 2 of printing)")
    .option("--only-controller", "print only the standalone controller's resources (keep the link and its mirrors)")
    .option("--context <context>", "source cluster context: list only what really exists there")
    .option("--kubeconfig <file>", "kubeconfig file")
    .addHelpText(
      "after",
      `
Deleting the ZoneSyncLink makes its link controller remove every mirror it created (a finalizer holds the link
until then), and makes the manager drop the link's controllers entry. The controller must outlive that: printed, the
link comes first on its own (kubectl delete waits until it is gone); --leftovers then prints the rest. Objects Helm
owns (chart mode) are never listed: they go with the link's controllers entry.

Examples:
  zonesync unlink --cluster-name east --context hub --delete
  zonesync unlink --cluster-name east | kubectl --context hub delete -f -
  zonesync unlink --cluster-name east --leftovers --context hub | kubectl --context hub delete -f -
  zonesync unlink --cluster-name east --only-controller --context hub | kubectl --context hub delete -f -
`,
    )
    .action(async (flags: UnlinkFlags) => {
      const link = dnsLabelFlag("--cluster-name", flags.clusterName);
      const timeoutMs = durationFlag("--timeout", flags.timeout, { minMs: 1000 });
      const modes = [flags.delete, flags.leftovers, flags.onlyController].filter(Boolean).length;
      if (modes > 1) throw new UsageError("--delete, --leftovers and --only-controller exclude each other");
      const { namespace } = flags;
      if (flags.delete) return deleteInOrder(flags, link, timeoutMs);

      const legacy = Boolean(flags.context);
      let objects: KubeObject[] = flags.onlyController
        ? standaloneRefs(link, namespace, legacy)
        : flags.leftovers
          ? leftoverRefs(link, namespace, undefined, legacy)
          : [ref(API_VERSION, LINK_KIND, link, namespace)];
      if (flags.context) {
        const client = clientFor(flags, "source");
        try {
          if (flags.leftovers) {
            const live = await client.getOptional(Resources.zoneSyncLinks, namespace, link);
            if (live) {
              throw new Error(
                `link ${namespace}/${link} still exists${live.metadata.deletionTimestamp ? " (Terminating)" : ""}: ` +
                  "its controller is still needed to remove its mirrors; delete the link first and wait until it is gone",
              );
            }
          }
          objects =
            flags.onlyController || flags.leftovers
              ? await existingOf(client, link, objects)
              : (await client.getOptional(Resources.zoneSyncLinks, namespace, link))
                ? objects
                : [];
        } catch (err) {
          throw explainKubeError(err, "reading the source cluster", flags.context);
        }
      }
      process.stdout.write(objects.length ? toYaml(objects.map(withoutUid)) : "");
      if (!objects.length) process.stderr.write(`nothing to delete for ${link}\n`);
      if (!flags.onlyController && !flags.leftovers) {
        const context = flags.context ? ` --context ${flags.context}` : "";
        process.stderr.write(
          `then, once the link is gone (kubectl delete waits for it), its controller and Secret:\n` +
            `  zonesync unlink --cluster-name ${link} -n ${namespace} --leftovers${context} | kubectl${context} delete -f -\n`,
        );
      }
    });
}

function withoutUid(obj: KubeObject): KubeObject {
  const { uid: _uid, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

async function deleteInOrder(flags: UnlinkFlags, link: string, timeoutMs: number): Promise<void> {
  const client = clientFor(flags, "source");
  const { namespace } = flags;
  const started = Date.now();
  try {
    const live = await client.getOptional<KubeObject & { spec?: { credentialsSecret?: string } }>(
      Resources.zoneSyncLinks,
      namespace,
      link,
    );
    if (live) {
      process.stderr.write(`deleting link ${namespace}/${link}; waiting for its mirrors to be removed ...\n`);
      await deleteLinkAndWait(client, link, namespace, timeoutMs);
      process.stderr.write(`link gone after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
    const refs = leftoverRefs(link, namespace, live?.spec?.credentialsSecret, true);
    for (const obj of await existingOf(client, link, refs)) {
      await client.delete(resourceForObject(obj), obj.metadata.namespace, obj.metadata.name!, {
        uid: obj.metadata.uid,
      });
      process.stderr.write(
        `deleted ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}\n`,
      );
    }
  } catch (err) {
    throw explainKubeError(err, `unlinking ${link}`, flags.context);
  }
}
