import { parseDuration } from "../../api/duration.ts";
import { selectorIsEmpty, labelSelectorToString } from "../../api/selector.ts";
import { MAX_NAME_CONFLICTS_LISTED } from "../../api/link.ts";
import { ANNOTATION_REMOTE_REF, LABEL_LINK, LABEL_LINK_UID, LABEL_SERVICE_NAME } from "../../api/names.ts";
import { Resources } from "../../kube/resources.ts";
import type { ClusterContext, LinkRef, ServiceObject, SliceObject } from "../context.ts";
import { clusterCheck, fail, ok, skip, subjectCheck, type CheckDefinition } from "../types.ts";
import { humanDuration, kubectl, listSome, plural } from "./common.ts";

/**
 * Set by the link controller on slices whose endpoints it marked not ready because the target went stale (the same
 * constant as src/mirror/render.ts, which is not imported here: it loads the controller's zod models).
 */
const ANNOTATION_STALE = "zonesync.io/stale";

const links = (ctx: ClusterContext) => ctx.links();
const key = (link: LinkRef) => link.key;
const ref = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace}/${o.metadata.name}`;

/** Mirror Services and their slices, indexed by link name and by `<namespace>/<service>`. */
async function mirrorIndex(ctx: ClusterContext) {
  return ctx.once("mirrorIndex", async () => {
    const [services, slices] = await Promise.all([ctx.mirrorServices(), ctx.mirrorSlices()]);
    const byLink = new Map<string, ServiceObject[]>();
    for (const svc of services) {
      const link = svc.metadata.labels?.[LABEL_LINK] ?? "";
      byLink.set(link, [...(byLink.get(link) ?? []), svc]);
    }
    const slicesByService = new Map<string, SliceObject[]>();
    for (const slice of slices) {
      const k = `${slice.metadata.namespace}/${slice.metadata.labels?.[LABEL_SERVICE_NAME] ?? ""}`;
      slicesByService.set(k, [...(slicesByService.get(k) ?? []), slice]);
    }
    return { services, slices, byLink, slicesByService };
  });
}

function readyAddresses(slices: readonly SliceObject[]): number {
  let n = 0;
  for (const s of slices)
    for (const e of s.endpoints ?? []) if (e.conditions?.ready !== false) n += e.addresses?.length ?? 0;
  return n;
}

/** `<namespace>/<name>` of every Service the link's target exports now (one list per target namespace). */
async function exportedOnTarget(ctx: ClusterContext, link: LinkRef): Promise<Set<string>> {
  return ctx.once(`exported:${link.key}`, async () => {
    if (selectorIsEmpty(link.spec.selector)) return new Set<string>();
    const client = await ctx.targetClient(link);
    const labelSelector = labelSelectorToString(link.spec.selector);
    const namespaces: Array<string | undefined> = link.spec.namespaces?.length ? link.spec.namespaces : [undefined];
    const lists = await Promise.all(
      namespaces.map((ns) => client.listAll<ServiceObject>(Resources.services, ns, { labelSelector })),
    );
    return new Set(lists.flatMap((l) => l.items.map(ref)));
  });
}

export const mirrorChecks: CheckDefinition<ClusterContext>[] = [
  clusterCheck({
    id: "mirrors.orphaned",
    category: "mirrors",
    description: "no mirrors are left behind by a deleted link",
    severity: "error",
    retryable: true,
    dependsOn: ["links.crd-version"],
    async run(ctx) {
      const [{ services, slices }, all] = await Promise.all([mirrorIndex(ctx), ctx.allLinks()]);
      // A mirror belongs to the link whose UID it carries: a link re-created under the same name is another link.
      const uids = new Set(all.map((l) => l.obj.metadata.uid));
      const names = new Set(all.map((l) => l.name));
      const orphan = (o: ServiceObject | SliceObject) => {
        const uid = o.metadata.labels?.[LABEL_LINK_UID];
        return uid ? !uids.has(uid) : !names.has(o.metadata.labels?.[LABEL_LINK] ?? "");
      };
      const orphanServices = services.filter(orphan);
      const orphanSlices = slices.filter(orphan);
      if (!orphanServices.length && !orphanSlices.length)
        return ok(
          `${plural(services.length, "mirror Service")}, ${plural(slices.length, "EndpointSlice")}, each with its link`,
        );
      const selectorOf = (o: ServiceObject | SliceObject) => {
        const uid = o.metadata.labels?.[LABEL_LINK_UID];
        return uid ? `${LABEL_LINK_UID}=${uid}` : `${LABEL_LINK}=${o.metadata.labels?.[LABEL_LINK] ?? ""}`;
      };
      const gone = [
        ...new Set([...orphanServices, ...orphanSlices].map((o) => o.metadata.labels?.[LABEL_LINK] ?? "")),
      ].sort();
      const selectors = [...new Set([...orphanServices, ...orphanSlices].map(selectorOf))].sort();
      return fail(
        `${plural(orphanServices.length, "mirror Service")} and ${plural(orphanSlices.length, "EndpointSlice")} of deleted link${gone.length === 1 ? "" : "s"} ${listSome(gone)}: ${listSome([...orphanServices, ...orphanSlices].map(ref), 5)}`,
        selectors
          .map((l) => `kubectl --context ${ctx.context} delete services,endpointslices.discovery.k8s.io -A -l ${l}`)
          .join("\n"),
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "mirrors.endpoints",
    category: "mirrors",
    description: "every mirror Service has ready endpoints",
    severity: "warning",
    retryable: true,
    dependsOn: ["links.crd-version"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const { byLink, slicesByService } = await mirrorIndex(ctx);
      const mirrors = byLink.get(link.name) ?? [];
      const empty = mirrors.filter((svc) => readyAddresses(slicesByService.get(ref(svc)) ?? []) === 0);
      if (empty.length === 0) return ok(plural(mirrors.length, "mirror"));
      const first = empty[0]!;
      const remote = first.metadata.annotations?.[ANNOTATION_REMOTE_REF] ?? "";
      const [, rns, rname] = remote.split("/");
      return fail(
        `${empty.length} of ${plural(mirrors.length, "mirror")} without ready endpoints: ${listSome(empty.map(ref), 5)}`,
        `the target Services have no ready endpoints, or the controller has not mirrored them: kubectl --context <target-context> -n ${rns ?? "<namespace>"} get endpointslices -l ${LABEL_SERVICE_NAME}=${rname ?? "<service>"}`,
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "mirrors.stale",
    category: "mirrors",
    description: "every mirror's source Service is still exported by the target",
    severity: "warning",
    retryable: true,
    remote: true,
    dependsOn: ["credentials.access"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const { byLink, slicesByService } = await mirrorIndex(ctx);
      const mirrors = byLink.get(link.name) ?? [];
      const markedStale = mirrors.filter((svc) =>
        (slicesByService.get(ref(svc)) ?? []).some((s) => s.metadata.annotations?.[ANNOTATION_STALE] === "true"),
      );
      const exported = await exportedOnTarget(ctx, link);
      const cluster = link.spec.targetClusterName ?? link.name;
      const gone = mirrors.filter((svc) => {
        const remote = svc.metadata.annotations?.[ANNOTATION_REMOTE_REF]?.split("/");
        return !remote || remote.length !== 3 || remote[0] !== cluster || !exported.has(`${remote[1]}/${remote[2]}`);
      });
      const problems: string[] = [];
      if (gone.length)
        problems.push(`${gone.length} whose source is gone or no longer exported: ${listSome(gone.map(ref), 5)}`);
      if (markedStale.length)
        problems.push(
          `${markedStale.length} with endpoints marked not ready (target was unreachable past staleAfter): ${listSome(markedStale.map(ref), 5)}`,
        );
      if (problems.length === 0) return ok(`${plural(mirrors.length, "mirror")}, ${exported.size} exported`);
      return fail(
        problems.join("; "),
        `the link controller removes such mirrors on its next sync; if they stay, check it (kubectl --context ${ctx.context} -n ${link.namespace} logs deploy/zonesync-link-${link.name}) or delete them: kubectl --context ${ctx.context} -n ${gone[0]?.metadata.namespace ?? "<namespace>"} delete service ${gone[0]?.metadata.name ?? "<mirror>"}`,
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "mirrors.name-conflicts",
    category: "mirrors",
    description: "no local object that the link did not create holds a mirror's name",
    severity: "error",
    retryable: true,
    probe: true,
    dependsOn: ["links.valid"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const conflicts = link.obj.status?.nameConflicts ?? [];
      if (conflicts.length === 0) return ok("no name conflicts reported by the link controller");
      const [kind, where] = (conflicts[0] ?? "").split(" ");
      const [namespace, name] = where?.split("/") ?? [];
      const more = conflicts.length >= MAX_NAME_CONFLICTS_LISTED ? " (the first listed in status)" : "";
      return fail(
        `${plural(conflicts.length, "local object")}${more} ${conflicts.length === 1 ? "has a mirror's name but was" : "have a mirror's name but were"} not created by link ${link.name}, so those mirrors are not written: ${listSome(conflicts, 5)}`,
        kind && namespace && name
          ? `zonesync never adopts, changes or deletes an object it did not create. If ${kind} ${namespace}/${name} is yours, keep it and stop exporting the remote Service (or give it another name); if it is a leftover, delete it: ${kubectl(ctx, namespace)} delete ${kind.toLowerCase()} ${name}`
          : `${kubectl(ctx, link.namespace)} describe zonesynclink ${link.name}`,
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "mirrors.status-recent",
    category: "mirrors",
    description: "every link's controller synced recently (status.lastSyncTime within 2× staleAfter)",
    severity: "warning",
    retryable: true,
    probe: true,
    dependsOn: ["links.valid"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      let staleAfter: number;
      try {
        // The API server defaults staleAfter; the fallback is for objects written before the default existed.
        staleAfter = parseDuration(link.spec.staleAfter ?? (await import("../../api/link.ts")).DEFAULT_STALE_AFTER);
      } catch {
        return skip("invalid staleAfter");
      }
      const limit = 2 * staleAfter;
      const now = ctx.now();
      const last = Date.parse(link.obj.status?.lastSyncTime ?? "");
      const hint = `see why the controller does not sync: ${kubectl(ctx, link.namespace)} describe zonesynclink ${link.name}; ${kubectl(ctx, link.namespace)} logs deploy/zonesync-link-${link.name}`;
      const notReady = link.obj.status?.conditions?.find((c) => c.type === "Ready" && c.status === "False");
      const why = notReady ? ` (Ready=False, ${notReady.reason}: ${notReady.message})` : "";
      if (Number.isNaN(last)) {
        const age = now - Date.parse(link.obj.metadata.creationTimestamp ?? "");
        if (!(age > limit)) return ok("not synced yet (new link)");
        return fail(`never synced in ${humanDuration(age)}${why}`, hint);
      }
      if (now - last > limit)
        return fail(
          `last synced ${humanDuration(now - last)} ago, more than 2× staleAfter (${humanDuration(limit)})${why}`,
          hint,
        );
      return ok(`synced ${humanDuration(now - last)} ago`);
    },
  }),
];
