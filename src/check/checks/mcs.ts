import { ENDPOINTSLICE_MANAGER, LABEL_ENDPOINTSLICE_MANAGED_BY } from "../../api/names.ts";
import type { KubeObject } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import { Resources } from "../../kube/resources.ts";
import {
  CLUSTER_ID_PROPERTY,
  LABEL_MCS_MANAGED,
  LABEL_MCS_SERVICE_NAME,
  LABEL_MCS_SOURCE_CLUSTER,
  MCS_SLICE_MANAGER,
} from "../../mcs/names.ts";
import type { CheckClient } from "../client.ts";
import type { ClusterContext, LinkRef, SliceObject } from "../context.ts";
import { clusterCheck, fail, ok, skip, subjectCheck, type CheckDefinition } from "../types.ts";
import { listSome, plural } from "./common.ts";

/** The same constant as src/mirror/render.ts (not imported: the check must not load the controller's models). */
const ANNOTATION_STALE = "zonesync.io/stale";

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
type ServiceExport = KubeObject & { status?: { conditions?: Condition[] } };
type ServiceImport = KubeObject & { status?: { clusters?: Array<{ cluster?: string }> } };

const ref = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** Every object of a type in the cluster, or undefined when the cluster does not serve the MCS API. */
function listMcs<T extends KubeObject>(ctx: ClusterContext, kind: "exports" | "imports"): Promise<T[] | undefined> {
  return ctx.once(`mcs:${kind}`, async () => {
    try {
      const type = kind === "exports" ? Resources.serviceExports : Resources.serviceImports;
      return (await ctx.client.listAll<T>(type)).items;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

/** Slices of imports: this cluster's own exports (MCS controller) and those its links carried in. */
function importSlices(ctx: ClusterContext): Promise<SliceObject[]> {
  return ctx.once("mcs:slices", async () => {
    const type = await ctx.sliceType();
    return (await ctx.client.listAll<SliceObject>(type, undefined, { labelSelector: LABEL_MCS_SOURCE_CLUSTER })).items;
  });
}

/** This cluster's id as its MCS controller writes it (the source-cluster of its own-export slices). */
async function ownClusterId(ctx: ClusterContext): Promise<string | undefined> {
  const own = (await importSlices(ctx)).find(
    (s) => s.metadata.labels?.[LABEL_ENDPOINTSLICE_MANAGED_BY] === MCS_SLICE_MANAGER,
  );
  return own?.metadata.labels?.[LABEL_MCS_SOURCE_CLUSTER];
}

const condition = (e: ServiceExport, type: string) => e.status?.conditions?.find((c) => c.type === type);

/**
 * The id a cluster gives itself: its ClusterProperty, else the source-cluster of its own-export slices, looked for
 * only where the link reads (its namespaces, when it lists them: the target may grant no more).
 */
async function declaredClusterId(
  client: CheckClient,
  namespaces: readonly string[] | undefined,
): Promise<{ id: string; from: string } | undefined> {
  const property = await client
    .getOptional<KubeObject & { spec?: { value?: unknown } }>(
      {
        group: "about.k8s.io",
        version: "v1alpha1",
        plural: "clusterproperties",
        kind: "ClusterProperty",
        namespaced: false,
      },
      undefined,
      CLUSTER_ID_PROPERTY,
    )
    .catch(() => undefined);
  if (typeof property?.spec?.value === "string")
    return { id: property.spec.value, from: `ClusterProperty ${CLUSTER_ID_PROPERTY}` };
  for (const namespace of namespaces?.length ? namespaces : [undefined]) {
    for (const version of ["v1", "v1beta1"]) {
      const slices = await client
        .listAll<SliceObject>(
          { group: "discovery.k8s.io", version, plural: "endpointslices", kind: "EndpointSlice", namespaced: true },
          namespace,
          { labelSelector: `${LABEL_ENDPOINTSLICE_MANAGED_BY}=${MCS_SLICE_MANAGER}`, limit: 1 },
        )
        .catch(() => undefined);
      const id = slices?.items[0]?.metadata.labels?.[LABEL_MCS_SOURCE_CLUSTER];
      if (id) return { id, from: "its MCS controller's exports" };
      if (slices) break;
    }
  }
  return undefined;
}

export const mcsChecks: CheckDefinition<ClusterContext>[] = [
  clusterCheck({
    id: "mcs.exports",
    category: "mcs",
    dependsOn: ["links.api-server"],
    description: "every ServiceExport is valid and agrees with the clusterset (no Conflict)",
    severity: "error",
    retryable: true,
    async run(ctx) {
      const exports = await listMcs<ServiceExport>(ctx, "exports");
      if (!exports) return skip("the Multi-Cluster Services API is not installed here");
      const invalid = exports.filter((e) => condition(e, "Valid")?.status === "False");
      const conflicted = exports.filter((e) => condition(e, "Conflict")?.status === "True");
      if (!invalid.length && !conflicted.length) return ok(plural(exports.length, "ServiceExport"));
      const describe = (e: ServiceExport, type: string) => {
        const c = condition(e, type);
        return `${ref(e)} (${c?.reason ?? type}: ${c?.message ?? ""})`;
      };
      const problems = [
        ...(invalid.length
          ? [
              `not valid: ${listSome(
                invalid.map((e) => describe(e, "Valid")),
                3,
              )}`,
            ]
          : []),
        ...(conflicted.length
          ? [
              `in conflict: ${listSome(
                conflicted.map((e) => describe(e, "Conflict")),
                3,
              )}`,
            ]
          : []),
      ];
      return fail(
        problems.join("; "),
        "make the Service the same in every exporting cluster (ports, type, session affinity), or export it under " +
          `another name; the oldest export wins meanwhile. Details: kubectl --context ${ctx.context} get serviceexports -A -o yaml`,
      );
    },
  }),
  clusterCheck({
    id: "mcs.imports-reachable",
    category: "mcs",
    dependsOn: ["links.api-server"],
    description: "every exporter of a ServiceImport is reachable (its endpoints are not stale)",
    severity: "warning",
    retryable: true,
    async run(ctx) {
      const imports = await listMcs<ServiceImport>(ctx, "imports");
      if (!imports) return skip("the Multi-Cluster Services API is not installed here");
      const ours = imports.filter((i) => i.metadata.labels?.[LABEL_MCS_MANAGED] === "true");
      const stale = new Map<string, Set<string>>();
      for (const slice of await importSlices(ctx)) {
        const labels = slice.metadata.labels ?? {};
        if (labels[LABEL_ENDPOINTSLICE_MANAGED_BY] !== ENDPOINTSLICE_MANAGER) continue;
        if (slice.metadata.annotations?.[ANNOTATION_STALE] !== "true") continue;
        const cluster = labels[LABEL_MCS_SOURCE_CLUSTER] ?? "?";
        const name = `${slice.metadata.namespace}/${labels[LABEL_MCS_SERVICE_NAME] ?? "?"}`;
        stale.set(cluster, (stale.get(cluster) ?? new Set()).add(name));
      }
      if (stale.size === 0) return ok(plural(ours.length, "ServiceImport"));
      return fail(
        [...stale]
          .map(
            ([cluster, names]) => `${cluster} is unreachable: endpoints of ${listSome([...names], 3)} marked not ready`,
          )
          .join("; "),
        `check the links to ${listSome([...stale.keys()])}: zonesync check --context ${ctx.context} (credentials.* and mirrors.status-recent)`,
      );
    },
  }),
  clusterCheck({
    id: "mcs.exports-imported",
    category: "mcs",
    description: "every valid ServiceExport is imported by another checked cluster",
    severity: "warning",
    retryable: true,
    dependsOn: ["mcs.exports"],
    async run(ctx) {
      const exports = await listMcs<ServiceExport>(ctx, "exports");
      if (!exports) return skip("the Multi-Cluster Services API is not installed here");
      const valid = exports.filter((e) => condition(e, "Valid")?.status === "True");
      if (valid.length === 0) return ok("no valid ServiceExports");
      const peers = ctx.peers.filter((p) => p.ctx);
      if (peers.length === 0) return skip("check the importing clusters in the same run (--context a,b,c)");
      const id = await ownClusterId(ctx);
      if (!id) return skip("no export of this cluster's MCS controller found (is it running?)");
      const imported = new Set<string>();
      for (const peer of peers) {
        const imports = await listMcs<ServiceImport>(peer.ctx!, "imports").catch(() => undefined);
        for (const i of imports ?? []) {
          if (i.status?.clusters?.some((c) => c.cluster === id)) imported.add(ref(i));
        }
      }
      const lonely = valid.filter((e) => !imported.has(ref(e)));
      if (lonely.length === 0) return ok(`${plural(valid.length, "export")} imported elsewhere`);
      return fail(
        `${plural(lonely.length, "export")} no other checked cluster imports: ${listSome(lonely.map(ref), 5)}`,
        `link the importing clusters to ${ctx.context} (zonesync link --context ${ctx.context} --cluster-name ${id} --to-context <importer> --apply)`,
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "mcs.cluster-id",
    category: "mcs",
    description: "every link names its target by the id the target gives itself in the clusterset",
    severity: "error",
    retryable: false,
    remote: true,
    dependsOn: ["credentials.access"],
    none: "no links",
    subjects: (ctx) => ctx.links(),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      if ((link.spec as { serviceExports?: boolean }).serviceExports === false) return skip("serviceExports: false");
      const declared = await declaredClusterId(await ctx.targetClient(link), link.spec.namespaces);
      const named = link.spec.targetClusterName ?? link.name;
      if (!declared) return ok(`the target declares no id; it is ${named} here`);
      if (declared.id === named) return ok(`${named} (${declared.from})`);
      return fail(
        `the link calls its target ${named}, but the target is ${declared.id} (${declared.from}): its MCS exports are not carried`,
        `set spec.targetClusterName: ${declared.id} on ${link.key}, or give the target the id ${named}`,
      );
    },
  }),
];
