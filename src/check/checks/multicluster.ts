import { DEFAULT_NAMESPACE } from "../../api/names.ts";
import type { ClusterContext, LinkRef } from "../context.ts";
import { normalizeServer } from "../../kube/kubeconfig.ts";
import { clusterCheck, fail, ok, skip, subjectCheck, type CheckDefinition } from "../types.ts";
import { flags, kubectl, listSome } from "./common.ts";
import { groupBy, relinkCommand } from "./links.ts";

/** Contexts of the kubeconfig whose API server is `server`. */
function contextsAt(ctx: ClusterContext, server: string): string[] {
  const wanted = normalizeServer(server);
  return [...ctx.kubeconfigServers].filter(([, s]) => normalizeServer(s) === wanted).map(([name]) => name);
}

/** The context a link points at: the one named like its target cluster, else one with the same server. */
async function targetContext(ctx: ClusterContext, link: LinkRef): Promise<string | undefined> {
  const server = (await ctx.credentials(link)).entry?.server;
  const named = link.spec.targetClusterName;
  if (named && ctx.kubeconfigServers.has(named)) return named;
  return server ? contextsAt(ctx, server)[0] : undefined;
}

export const multiclusterChecks: CheckDefinition<ClusterContext>[] = [
  subjectCheck<ClusterContext, LinkRef>({
    id: "multicluster.target-address",
    category: "multicluster",
    description: "every link's target address is the API server of the cluster it names",
    severity: "error",
    retryable: false,
    dependsOn: ["credentials.secret"],
    none: "no links",
    subjects: (ctx) => ctx.links(),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const server = (await ctx.credentials(link)).entry!.server;
      const target = link.spec.targetClusterName ?? link.name;
      const named = ctx.kubeconfigServers.get(target);
      const at = contextsAt(ctx, server);
      const fix = `point it at the right cluster: ${relinkCommand(ctx, link)} (or set spec.apiServerAddress: ${kubectl(ctx, link.namespace)} patch zonesynclink ${link.name} --type merge -p '{"spec":{"apiServerAddress":"<url>"}}')`;
      if (at.includes(ctx.context))
        return fail(`points at ${server}, the API server of this cluster (${ctx.context}) itself`, fix);
      if (named !== undefined) {
        if (normalizeServer(named) === normalizeServer(server)) return ok(`${server} = context ${target}`);
        if (at.length)
          return fail(`points at ${server}, which is context ${listSome(at)}, not ${target} (${named})`, fix);
        return fail(
          `points at ${server}, but context ${target} uses ${named}: not the same address (fine if both reach the same cluster)`,
          fix,
          "warning",
        );
      }
      if (at.length) return ok(`${server} = context ${listSome(at)}`);
      return skip(`no context named ${target} or with server ${server} in the kubeconfig`);
    },
  }),
  clusterCheck({
    id: "multicluster.unique-targets",
    category: "multicluster",
    description: "no two links point at the same target API server",
    severity: "error",
    retryable: false,
    dependsOn: ["links.crd-version"],
    async run(ctx) {
      const links = await ctx.links();
      const withServer = (
        await Promise.all(links.map(async (l) => ({ link: l, server: (await ctx.credentials(l)).entry?.server })))
      ).filter((x): x is { link: LinkRef; server: string } => Boolean(x.server));
      const dups = [...groupBy(withServer, (x) => normalizeServer(x.server))].filter(([, xs]) => xs.length > 1);
      if (dups.length === 0) return ok(`${withServer.length} distinct target${withServer.length === 1 ? "" : "s"}`);
      return fail(
        dups.map(([server, xs]) => `${listSome(xs.map((x) => x.link.name))} all point at ${server}`).join("; "),
        `keep one link per target cluster: zonesync unlink --cluster-name <name>${flags(ctx)}`,
      );
    },
  }),
  clusterCheck({
    id: "multicluster.symmetric",
    category: "multicluster",
    description: "this cluster links to every other checked cluster (--expect-mesh)",
    severity: "error",
    retryable: false,
    dependsOn: ["links.crd-version"],
    async run(ctx) {
      if (!ctx.options.expectMesh)
        return skip("pass --expect-mesh to require links between every pair of checked clusters");
      if (ctx.peers.length === 0) return skip("only one cluster checked");
      const reached = new Set<string>();
      for (const link of await ctx.links()) {
        const target = await targetContext(ctx, link);
        if (target) reached.add(normalizeServer(ctx.kubeconfigServers.get(target) ?? ""));
      }
      const missing = ctx.peers.filter((p) => !reached.has(normalizeServer(p.server))).map((p) => p.context);
      if (missing.length === 0) return ok(`links to ${listSome(ctx.peers.map((p) => p.context))}`);
      return fail(
        `no link from ${ctx.context} to ${listSome(missing)}`,
        missing
          .map(
            (m) =>
              `zonesync link --context ${m} --cluster-name ${m}${ctx.namespace !== DEFAULT_NAMESPACE ? ` -n ${ctx.namespace}` : ""} --apply --to-context ${ctx.context}`,
          )
          .join("\n"),
      );
    },
  }),
];
