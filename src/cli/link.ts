import type { Command } from "commander";
import { parseLink, type LabelSelector } from "../api/link.ts";
import { DEFAULT_NAMESPACE, targetServiceAccountName, type ControllerMode } from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { targetAccessManifests } from "../link/access.ts";
import { clusterCaPem, credentialsSecret, remoteKubeconfig, requestToken } from "../link/credentials.ts";
import { DEFAULT_EXPORT_SELECTOR, linkResource, parseServiceRef } from "../link/manifests.ts";
import { standaloneControllerManifests } from "../link/standalone.ts";
import { applyAll, clientFor, explainKubeError, toYaml } from "./common.ts";
import { UsageError } from "./errors.ts";
import { dnsLabelFlag, durationFlag, labelsFlag, MAX_TOKEN_TTL_MS, namespacesFlag, portFlag } from "./flags.ts";

interface LinkFlags {
  context: string;
  kubeconfig?: string;
  clusterName: string;
  namespace: string;
  mode: string;
  selector?: string;
  apiServerAddress?: string;
  source: string;
  tokenTtl: string;
  createAccess?: boolean;
  insecureSkipTlsVerify?: boolean;
  namespaces?: string;
  createNamespaces?: boolean;
  staleAfter?: string;
  zoneSyncTarget?: string;
  zoneSyncLocal?: string;
  zoneSyncPort?: string;
  image?: string;
  apply?: boolean;
  toContext?: string;
}

const EXAMPLES = `
Examples:
  # link the cluster of context "east" into the cluster of context "hub"
  zonesync link --context east --cluster-name east --create-access | kubectl --context hub apply -f -

  # the same, applied directly with server-side apply
  zonesync link --context east --cluster-name east --create-access --apply --to-context hub

  # old-style (standalone) controller manifests, export only Services labelled tier=public
  zonesync link --context east --cluster-name east --mode standalone --selector tier=public
`;

function zoneSyncFlags(flags: LinkFlags) {
  if (!flags.zoneSyncTarget && !flags.zoneSyncLocal) return undefined;
  if (!flags.zoneSyncTarget || !flags.zoneSyncLocal) {
    throw new UsageError("--zone-sync-target and --zone-sync-local go together");
  }
  const port = flags.zoneSyncPort === undefined ? undefined : portFlag("--zone-sync-port", flags.zoneSyncPort);
  return {
    targetPeerService: parseServiceRef("--zone-sync-target", flags.zoneSyncTarget),
    localPeerService: parseServiceRef("--zone-sync-local", flags.zoneSyncLocal),
    ...(port ? { port } : {}),
  };
}

async function runLink(flags: LinkFlags): Promise<void> {
  if (flags.mode !== "chart" && flags.mode !== "standalone") {
    throw new UsageError(`--mode must be chart or standalone (got "${flags.mode}")`);
  }
  if (flags.apply && !flags.toContext) throw new UsageError("--apply needs --to-context <source context>");
  dnsLabelFlag("--cluster-name", flags.clusterName);
  dnsLabelFlag("--source", flags.source);
  const selector: LabelSelector =
    flags.selector === undefined ? DEFAULT_EXPORT_SELECTOR : { matchLabels: labelsFlag("--selector", flags.selector) };
  // 10m is the TokenRequest minimum; a year the most a credentials Secret should live without a renewal.
  const ttlSeconds = Math.floor(
    durationFlag("--token-ttl", flags.tokenTtl, { minMs: 600_000, maxMs: MAX_TOKEN_TTL_MS }) / 1000,
  );
  const mode = flags.mode as ControllerMode;
  const namespaces = flags.namespaces === undefined ? undefined : namespacesFlag("--namespaces", flags.namespaces);
  const link = linkResource({
    clusterName: flags.clusterName,
    namespace: flags.namespace,
    mode,
    selector,
    apiServerAddress: flags.apiServerAddress,
    namespaces,
    createNamespaces: flags.createNamespaces,
    staleAfter: flags.staleAfter,
    zoneSync: zoneSyncFlags(flags),
  });
  const validation = parseLink(link);
  if (!validation.ok) throw new UsageError(`the link would be invalid:\n  ${validation.errors.join("\n  ")}`);

  const target = clientFor({ kubeconfig: flags.kubeconfig, context: flags.context }, "target");
  const insecure = target.endpoint.insecureSkipTlsVerify;
  if (insecure && !flags.insecureSkipTlsVerify) {
    throw new UsageError(
      `context ${flags.context} skips TLS verification (insecure-skip-tls-verify): a link controller verifies its ` +
        "target's certificate. Put the target's CA in your kubeconfig, or pass --insecure-skip-tls-verify to accept " +
        "an unverified target explicitly (the link then sets spec.insecureSkipTLSVerify and reports it).",
    );
  }
  if (insecure) link.spec = { ...(link.spec as Record<string, unknown>), insecureSkipTLSVerify: true };
  try {
    await target.serverVersion();
  } catch (err) {
    throw explainKubeError(err, `reading the target cluster ${flags.clusterName}`, flags.context);
  }
  const accessNamespace = DEFAULT_NAMESPACE;
  const serviceAccount = targetServiceAccountName(flags.source);
  if (flags.createAccess) {
    try {
      await applyAll(target, targetAccessManifests({ source: flags.source, namespace: accessNamespace, namespaces }));
    } catch (err) {
      throw explainKubeError(err, "creating the target-side ServiceAccount and RBAC", flags.context);
    }
  } else {
    const existing = await target
      .getOptional(Resources.serviceAccounts, accessNamespace, serviceAccount)
      .catch((err: unknown) => {
        throw explainKubeError(err, "reading the target-side ServiceAccount", flags.context);
      });
    if (!existing) {
      throw new Error(
        `ServiceAccount ${accessNamespace}/${serviceAccount} does not exist on the target. Create it with\n` +
          `  zonesync allow --context ${flags.context} --source ${flags.source} | kubectl --context ${flags.context} apply -f -\n` +
          `or pass --create-access.`,
      );
    }
  }
  let issued;
  try {
    issued = await requestToken(target, accessNamespace, serviceAccount, ttlSeconds);
  } catch (err) {
    throw explainKubeError(err, `requesting a token for ${accessNamespace}/${serviceAccount}`, flags.context);
  }
  const kubeconfig = remoteKubeconfig({
    clusterName: flags.clusterName,
    server: flags.apiServerAddress ?? target.server,
    caPem: clusterCaPem(target),
    insecureSkipTlsVerify: insecure,
    token: issued.token,
  });
  const objects: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: flags.namespace } },
    credentialsSecret({
      clusterName: flags.clusterName,
      namespace: flags.namespace,
      kubeconfig,
      expiresAt: issued.expiresAt,
      targetServiceAccount: `${accessNamespace}/${serviceAccount}`,
    }),
    link,
  ];
  if (mode === "standalone") {
    objects.push(
      ...standaloneControllerManifests({ link: flags.clusterName, namespace: flags.namespace, image: flags.image }),
    );
  }
  if (flags.apply) {
    const source = clientFor({ kubeconfig: flags.kubeconfig, context: flags.toContext }, "source");
    try {
      await applyAll(source, objects);
    } catch (err) {
      throw explainKubeError(err, "applying the link to the source cluster", flags.toContext);
    }
    process.stderr.write(
      `linked ${flags.clusterName} into ${flags.toContext} (${mode} mode, token valid until ${issued.expiresAt})\n`,
    );
    return;
  }
  process.stdout.write(toYaml(objects));
}

export function registerLink(program: Command): void {
  program
    .command("link")
    .description(
      "print the ZoneSyncLink and credentials Secret (and, in standalone mode, the controller) that link a target cluster",
    )
    .requiredOption("--context <context>", "kubeconfig context of the TARGET cluster")
    .requiredOption("--cluster-name <name>", "name of the target cluster, as the source cluster will know it")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("-n, --namespace <namespace>", "namespace of the link in the source cluster", DEFAULT_NAMESPACE)
    .option("--mode <mode>", "chart (an entry of the chart's controllers) or standalone (full manifests)", "chart")
    .option("--selector <k=v,...>", "labels of the target Services to export", "zonesync.io/exported=true")
    .option("--api-server-address <url>", "target API server URL as reachable from the source cluster")
    .option("--source <name>", "name of the source cluster, as the target knows it", "source")
    .option("--token-ttl <duration>", "lifetime of the target token (TokenRequest)", "720h")
    .option("--create-access", "create the target-side ServiceAccount and ClusterRole (see `zonesync allow`)")
    .option(
      "--insecure-skip-tls-verify",
      "accept a target context that skips TLS verification (the link then sets spec.insecureSkipTLSVerify)",
    )
    .option("--namespaces <ns,...>", "only mirror Services of these target namespaces")
    .option("--create-namespaces", "create missing local namespaces for mirrors")
    .option("--stale-after <duration>", "mark mirrored endpoints not ready after the target is unreachable this long")
    .option("--zone-sync-target <ns/name>", "the target's NGINX zone-sync peer Service")
    .option("--zone-sync-local <ns/name>", "the local NGINX zone-sync peer Service to add the target's peers to")
    .option("--zone-sync-port <port>", "NGINX zone-sync port (default 12345)")
    .option("--image <image>", "controller image (standalone mode)")
    .option("--apply", "apply to the source cluster with server-side apply instead of printing")
    .option("--to-context <context>", "kubeconfig context of the SOURCE cluster (with --apply)")
    .addHelpText("after", EXAMPLES)
    .action((flags: LinkFlags) => runLink(flags));
}
