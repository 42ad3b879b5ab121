import { CRD_NAME, DEFAULT_NAMESPACE, VERSION as CRD_VERSION } from "../../api/names.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { ClusterContext, LinkRef } from "../context.ts";
import { clusterCheck, fail, ok, subjectCheck, type CheckDefinition } from "../types.ts";
import { apiFailure, flags, kubectl, listSome } from "./common.ts";

interface CrdObject extends KubeObject {
  spec?: { versions?: Array<{ name: string; served?: boolean; storage?: boolean }> };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

const CRD_HINT =
  "kubectl apply --server-side -f crds/zonesync.io_zonesynclinks.yaml (or install the zonesync chart, which carries it)";

/** The command that prints (or with --apply writes) a link and its credentials again. */
export function relinkCommand(ctx: ClusterContext, link: LinkRef): string {
  const cluster = link.spec.targetClusterName ?? link.name;
  const target = ctx.kubeconfigServers.has(cluster) ? cluster : "<target-context>";
  const ns = link.namespace !== DEFAULT_NAMESPACE ? ` -n ${link.namespace}` : "";
  const mode = link.wantedMode === "standalone" ? " --mode standalone" : "";
  return `zonesync link --context ${target} --cluster-name ${cluster}${ns}${mode} --apply --to-context ${ctx.context}`;
}

export const linkChecks: CheckDefinition<ClusterContext>[] = [
  clusterCheck({
    id: "links.api-server",
    category: "links",
    description: "the cluster's API server answers with these credentials",
    severity: "error",
    retryable: true,
    probe: true,
    async run(ctx) {
      try {
        const version = await ctx.once("version", () =>
          ctx.client.request<{ gitVersion?: string }>("GET", "/version", { timeoutMs: ctx.options.timeoutMs }),
        );
        return ok(`Kubernetes ${version.gitVersion ?? "(unknown version)"}`);
      } catch (err) {
        return apiFailure(err, ctx, `GET ${ctx.client.server}/version`);
      }
    },
  }),
  clusterCheck({
    id: "links.crd-installed",
    category: "links",
    description: "the ZoneSyncLink CRD is installed and established",
    severity: "error",
    retryable: true,
    probe: true,
    dependsOn: ["links.api-server"],
    async run(ctx) {
      let crd: CrdObject | undefined;
      try {
        crd = await ctx.crd();
      } catch (err) {
        return apiFailure(err, ctx, `reading CustomResourceDefinition ${CRD_NAME}`);
      }
      if (!crd) return fail(`CustomResourceDefinition ${CRD_NAME} is not installed`, CRD_HINT);
      const established = crd.status?.conditions?.find((c) => c.type === "Established");
      if (established?.status !== "True") {
        return fail(
          `CustomResourceDefinition ${CRD_NAME} is not established yet (${established?.message ?? "no Established condition"})`,
          `wait, or see: kubectl --context ${ctx.context} describe crd ${CRD_NAME}`,
        );
      }
      return ok("established");
    },
  }),
  clusterCheck({
    id: "links.crd-version",
    category: "links",
    description: `the CRD serves ${CRD_VERSION}, the version this CLI speaks`,
    severity: "error",
    retryable: false,
    probe: true,
    dependsOn: ["links.crd-installed"],
    async run(ctx) {
      const crd = (await ctx.crd()) as CrdObject;
      const versions = crd.spec?.versions ?? [];
      const ours = versions.find((v) => v.name === CRD_VERSION);
      const served = versions.filter((v) => v.served).map((v) => v.name);
      if (!ours?.served) {
        return fail(
          `the CRD serves ${served.join(", ") || "no version"}, not ${CRD_VERSION} (this CLI)`,
          `install the CRD of this zonesync version: ${CRD_HINT}; or use the zonesync CLI matching the cluster`,
        );
      }
      const storage = versions.find((v) => v.storage)?.name;
      return ok(`serves ${served.join(", ")}${storage ? ` (storage ${storage})` : ""}`);
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "links.valid",
    category: "links",
    description: "every link is valid (schema and the rules the CRD cannot express)",
    severity: "error",
    retryable: false,
    dependsOn: ["links.crd-version"],
    none: "no ZoneSyncLinks",
    subjects: (ctx) => ctx.links(),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const { parseLink } = await import("../../api/link.ts");
      const parsed = parseLink(link.obj);
      if (parsed.ok) return ok();
      return fail(
        parsed.errors.join("; "),
        `fix the fields named: ${kubectl(ctx, link.namespace)} edit zonesynclink ${link.name}`,
      );
    },
  }),
  clusterCheck({
    id: "links.unique-names",
    category: "links",
    description: "link names are unique across namespaces (mirrors and controllers are labelled by name)",
    severity: "error",
    retryable: false,
    dependsOn: ["links.crd-version"],
    async run(ctx) {
      const all = await ctx.allLinks();
      const byName = groupBy(all, (l) => l.name);
      const dups = [...byName].filter(([, links]) => links.length > 1);
      if (dups.length === 0) return ok(`${all.length} link${all.length === 1 ? "" : "s"}`);
      return fail(
        dups.map(([name, links]) => `"${name}" in ${links.map((l) => l.namespace).join(" and ")}`).join("; "),
        `keep one link per name: kubectl --context ${ctx.context} -n <namespace> delete zonesynclink <name> (then link it again under another name)`,
      );
    },
  }),
  clusterCheck({
    id: "links.unique-targets",
    category: "links",
    description: "target cluster names are unique (mirrors are named <service>-<cluster>)",
    severity: "error",
    retryable: false,
    dependsOn: ["links.crd-version"],
    async run(ctx) {
      const all = await ctx.allLinks();
      const byTarget = groupBy(
        all.filter((l) => l.spec.targetClusterName),
        (l) => l.spec.targetClusterName!,
      );
      const dups = [...byTarget].filter(([, links]) => links.length > 1);
      if (dups.length === 0) return ok(`${byTarget.size} target cluster${byTarget.size === 1 ? "" : "s"}`);
      return fail(
        dups.map(([target, links]) => `${listSome(links.map((l) => l.key))} all target "${target}"`).join("; "),
        `delete the extra links (zonesync unlink --cluster-name <name>${flags(ctx)}) or give each target its own name`,
      );
    },
  }),
];

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}
