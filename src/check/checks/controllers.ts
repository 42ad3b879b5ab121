import { controllerName, DEFAULT_NAMESPACE, leaseName, standaloneControllerName } from "../../api/names.ts";
import type { ChartValues } from "../../api/values.ts";
import type { ClusterContext, ControllerRef, DeploymentObject, LinkRef } from "../context.ts";
import { clusterCheck, fail, ok, skip, subjectCheck, type CheckDefinition } from "../types.ts";
import { flags, humanDuration, kubectl, listSome } from "./common.ts";

/** The chart values of the deployed release, validated (defaults applied); undefined when there is no release. */
export async function releaseValues(
  ctx: ClusterContext,
): Promise<{ values: ChartValues; appVersion: string } | undefined> {
  return ctx.once("releaseValues", async () => {
    const release = await ctx.release();
    if (!release) return undefined;
    const { parseValues } = await import("../../api/values.ts");
    const parsed = parseValues(release.values);
    if (!parsed.ok) throw new Error(`the values of release ${release.name} are invalid: ${parsed.errors.join("; ")}`);
    return { values: parsed.values, appVersion: release.appVersion };
  });
}

/** Who writes a chart Deployment's spec and metadata in the normal course: Helm, and the Deployment controller. */
const CHART_WRITERS = new Set(["helm", "kube-controller-manager"]);

function describeControllers(controllers: readonly ControllerRef[]): string {
  return controllers.map((c) => `${c.mode} Deployment ${c.namespace}/${c.name}`).join(", ");
}

/** The link controller container of a Deployment. */
export function controllerContainer(obj: DeploymentObject) {
  const containers = obj.spec?.template?.spec?.containers ?? [];
  return (
    containers.find((c) => c.name === "link-controller") ??
    containers.find((c) => (c.args ?? []).includes("link-controller")) ??
    containers[0]
  );
}

function migrateCommand(ctx: ClusterContext, link: LinkRef): string {
  return `zonesync migrate --link ${link.name}${flags(ctx, { release: true })}`;
}

/** Links that have at least one controller. */
async function servedLinks(ctx: ClusterContext): Promise<LinkRef[]> {
  const links = await ctx.links();
  const served = new Set((await ctx.controllers()).map((c) => c.linkKey));
  return links.filter((l) => served.has(l.key));
}

export const controllerChecks: CheckDefinition<ClusterContext>[] = [
  subjectCheck<ClusterContext, LinkRef>({
    id: "controllers.present",
    category: "controllers",
    description: "every link has a controller Deployment",
    severity: "error",
    retryable: true,
    probe: true,
    dependsOn: ["links.crd-version", "links.valid"],
    none: "no links",
    subjects: (ctx) => ctx.links(),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const controllers = await ctx.controllersOf(link);
      if (controllers.length) return ok(describeControllers(controllers));
      const name = link.wantedMode === "standalone" ? standaloneControllerName(link.name) : controllerName(link.name);
      if (link.wantedMode === "standalone") {
        return fail(
          `no controller: the link is labelled standalone, and no Deployment ${link.namespace}/${name} serves it`,
          `zonesync link --context <target-context> --cluster-name ${link.spec.targetClusterName ?? link.name} --mode standalone --apply --to-context ${ctx.context}, or move it to the chart: ${kubectl(ctx, link.namespace)} label zonesynclink ${link.name} zonesync.io/controller-mode=chart --overwrite`,
        );
      }
      const release = await ctx.release().catch(() => undefined);
      const entry = (release?.values.controllers as Array<{ name?: string }> | undefined)?.some(
        (e) => e.name === link.name,
      );
      return fail(
        entry
          ? `the release ${ctx.options.release} has a controllers entry for it, but Deployment ${ctx.namespace}/${name} does not exist`
          : `no controller: no controllers entry in release ${ctx.options.release} and no Deployment ${name}`,
        entry
          ? `helm upgrade ${ctx.options.release} <chart> -n ${ctx.namespace} --reuse-values re-creates it; check the manager: ${kubectl(ctx)} get events --field-selector involvedObject.name=${link.name}`
          : `the manager adds the entry (is it running? ${kubectl(ctx)} get deploy -l app.kubernetes.io/component=manager); with GitOps: zonesync values --context ${ctx.context}${ctx.namespace !== DEFAULT_NAMESPACE ? ` -n ${ctx.namespace}` : ""} > controllers.yaml && helm upgrade ${ctx.options.release} <chart> -n ${ctx.namespace} --reuse-values -f controllers.yaml`,
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "controllers.mixed-modes",
    category: "controllers",
    description: "no link is served by a chart and a standalone controller at once",
    severity: "error",
    retryable: false,
    probe: true,
    dependsOn: ["controllers.present"],
    none: "no links",
    subjects: (ctx) => ctx.links(),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const controllers = await ctx.controllersOf(link);
      const chart = controllers.filter((c) => c.mode === "chart");
      const standalone = controllers.filter((c) => c.mode === "standalone");
      if (chart.length && standalone.length) {
        return fail(
          `served by both modes: ${describeControllers([...chart, ...standalone])} (they share Lease ${leaseName(link.name)}, so only one writes, but the standalone one is left over)`,
          `${migrateCommand(ctx, link)} --apply (hands the link over to the chart and deletes the standalone resources)`,
        );
      }
      return ok(controllers[0]?.mode);
    },
  }),
  subjectCheck<ClusterContext, ControllerRef>({
    id: "controllers.cross-mode",
    category: "controllers",
    description:
      "no controller crosses modes: the chart's are unchanged by other tools, and no standalone one outlives its link",
    severity: "error",
    retryable: false,
    dependsOn: ["controllers.present"],
    none: "no link controllers",
    subjects: (ctx) => ctx.localControllers(),
    subjectName: (c) => `${c.namespace}/${c.name}`,
    async run(ctx, controller) {
      const { obj, mode } = controller;
      const annotations = obj.metadata.annotations ?? {};
      const helmOwned = annotations["meta.helm.sh/release-name"] !== undefined;
      const deploy = `${kubectl(ctx, controller.namespace)} get deployment ${controller.name} --show-managed-fields -o yaml`;
      if (helmOwned && mode !== "chart") {
        return fail(
          `Deployment ${controller.namespace}/${controller.name} belongs to Helm release ${annotations["meta.helm.sh/release-name"]} but is labelled ${mode}: something relabelled the chart's object`,
          `see who changed it: ${deploy}; then let Helm restore it: helm upgrade --reuse-values`,
        );
      }
      if (helmOwned) {
        const others = [
          ...new Set(
            (obj.metadata.managedFields ?? [])
              .filter((f) => !f.subresource && !CHART_WRITERS.has(f.manager ?? ""))
              .map((f) => f.manager ?? "?"),
          ),
        ];
        if (others.length) {
          return fail(
            `the chart's Deployment ${controller.namespace}/${controller.name} was also changed by ${others.join(", ")}: the next helm upgrade may undo it, or keep it`,
            `change it through the link's spec.controller (or the chart values) instead; see ${deploy}`,
            "warning",
          );
        }
      }
      if (mode === "standalone") {
        const links = new Set((await ctx.allLinks()).map((l) => l.key));
        if (!links.has(controller.linkKey)) {
          return fail(
            `standalone Deployment ${controller.namespace}/${controller.name} serves link ${controller.linkKey}, which is gone`,
            `zonesync unlink --cluster-name ${controller.link} -n ${controller.linkNamespace} --leftovers --context ${ctx.context} | kubectl --context ${ctx.context} delete -f -`,
            "warning",
          );
        }
      }
      return ok(mode);
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "controllers.exactly-one",
    category: "controllers",
    description: "every link has exactly one controller Deployment",
    severity: "error",
    retryable: false,
    probe: true,
    dependsOn: ["controllers.present"],
    none: "no links",
    subjects: (ctx) => ctx.links(),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const controllers = await ctx.controllersOf(link);
      if (controllers.length <= 1) return ok();
      const modes = new Set(controllers.map((c) => c.mode));
      if (modes.has("chart") && modes.has("standalone") && controllers.length === 2)
        return skip("two modes: see controllers.mixed-modes");
      const extra = controllers.filter(
        (c) => c.mode !== "chart" || controllers.filter((o) => o.mode === "chart").length > 1,
      );
      return fail(
        `${controllers.length} controller Deployments: ${describeControllers(controllers)}`,
        `keep one; delete the others, e.g. kubectl --context ${ctx.context} -n ${extra[0]?.namespace ?? ctx.namespace} delete deployment ${extra[0]?.name ?? controllerName(link.name)}`,
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "controllers.standalone-legacy",
    category: "controllers",
    description: "links are served in chart mode (standalone is the legacy mode)",
    severity: "warning",
    retryable: false,
    dependsOn: ["controllers.present"],
    none: "no links",
    subjects: (ctx) => ctx.links(),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const modes = new Set((await ctx.controllersOf(link)).map((c) => c.mode));
      if (modes.size === 1 && modes.has("standalone")) {
        return fail(
          "served by a standalone controller only (legacy mode: kubectl-applied manifests, not the chart)",
          `${migrateCommand(ctx, link)} (prints the plan; add --apply to carry it out)`,
        );
      }
      return ok();
    },
  }),
  clusterCheck({
    id: "controllers.release",
    category: "controllers",
    description: "the Helm release is deployed and its values are valid",
    severity: "error",
    retryable: true,
    dependsOn: ["links.crd-version"],
    async run(ctx) {
      const release = await ctx.release();
      if (!release) {
        const links = await ctx.links();
        const chartLinks = links.filter((l) => l.wantedMode === "chart");
        const chartControllers = (await ctx.localControllers()).filter((c) => c.mode === "chart");
        if (chartLinks.length === 0 && chartControllers.length === 0)
          return ok(`no release ${ctx.options.release} in ${ctx.namespace} (no link uses chart mode)`);
        return fail(
          `no deployed Helm release ${ctx.options.release} in namespace ${ctx.namespace}, but ${chartLinks.length ? `links ${listSome(chartLinks.map((l) => l.name))} use chart mode` : `chart controllers exist`}`,
          `helm upgrade --install ${ctx.options.release} <zonesync chart> -n ${ctx.namespace} (or pass --release/--namespace if it is installed under another name)`,
        );
      }
      await releaseValues(ctx);
      return ok(`${release.name} revision ${release.revision}, chart ${release.chartName}-${release.chartVersion}`);
    },
  }),
  clusterCheck({
    id: "controllers.orphan-entries",
    category: "controllers",
    description: "every controllers entry in the release's values has a link",
    severity: "error",
    retryable: false,
    dependsOn: ["controllers.release"],
    async run(ctx) {
      const release = await releaseValues(ctx);
      if (!release) return ok("no release");
      const links = new Set((await ctx.links()).map((l) => l.name));
      const orphans = release.values.controllers.map((e) => e.name).filter((name) => !links.has(name));
      if (orphans.length === 0) return ok(`${release.values.controllers.length} entries, each with its link`);
      return fail(
        `controllers entries without a ZoneSyncLink in ${ctx.namespace}: ${listSome(orphans)} (their controllers run with no link to serve)`,
        `remove ${orphans.map((n) => `"- name: ${n}"`).join(", ")} from controllers: in the values (helm get values ${ctx.options.release} -n ${ctx.namespace} -o yaml > values.yaml; edit; helm upgrade ${ctx.options.release} <chart> -n ${ctx.namespace} -f values.yaml), or create the link again (zonesync link --cluster-name ${orphans[0]} ...)`,
      );
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "controllers.values-current",
    category: "controllers",
    description: "the release's controllers entries match what the links render",
    severity: "warning",
    retryable: true,
    dependsOn: ["controllers.release", "links.valid"],
    none: "no chart-mode links",
    subjects: async (ctx) => ((await ctx.release()) ? (await ctx.links()).filter((l) => l.wantedMode === "chart") : []),
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const release = (await releaseValues(ctx))!;
      const [{ parseLink }, { renderControllerEntries, canonicalJson }] = await Promise.all([
        import("../../api/link.ts"),
        import("../../api/render.ts"),
      ]);
      const parsed = parseLink(link.obj);
      if (!parsed.ok) return skip("invalid link");
      const [wanted] = renderControllerEntries([parsed.link]);
      const deployed = release.values.controllers.find((e) => e.name === link.name);
      if (!deployed) {
        return fail(
          `release ${ctx.options.release} has no controllers entry for it yet`,
          `the manager applies it within seconds; with GitOps (manager.apply=none): zonesync values${flags(ctx)} and commit the output`,
        );
      }
      // The release holds entries as parsed (defaults applied to nothing: entries have no defaults), so compare JSON.
      if (canonicalJson(deployed) !== canonicalJson(wanted)) {
        return fail(
          `the deployed entry differs from the link's spec.controller (deployed ${canonicalJson(deployed)}, link renders ${canonicalJson(wanted)})`,
          `the manager applies it within seconds; with GitOps (manager.apply=none): zonesync values${flags(ctx)} and commit the output`,
        );
      }
      return ok();
    },
  }),
  subjectCheck<ClusterContext, ControllerRef>({
    id: "controllers.drift",
    category: "controllers",
    description: "chart controller Deployments match the release's values (replicas, args, image)",
    severity: "warning",
    retryable: false,
    dependsOn: ["controllers.release"],
    none: "no chart controllers",
    subjects: async (ctx) =>
      (await ctx.release())
        ? (await ctx.localControllers()).filter((c) => c.mode === "chart" && c.namespace === ctx.namespace)
        : [],
    subjectName: (c) => `${c.namespace}/${c.name}`,
    async run(ctx, controller) {
      const release = (await releaseValues(ctx))!;
      const entry = release.values.controllers.find((e) => e.name === controller.link);
      const upgrade = `helm upgrade ${ctx.options.release} <chart> -n ${ctx.namespace} --reuse-values restores it; change settings in the link's spec.controller (or the values), not in the Deployment`;
      if (!entry) {
        return fail(
          `release ${ctx.options.release} has no controllers entry "${controller.link}" for this chart-mode Deployment`,
          `delete it if the link is gone: kubectl --context ${ctx.context} -n ${controller.namespace} delete deployment ${controller.name}`,
        );
      }
      const { effectiveController } = await import("../../api/render.ts");
      const eff = effectiveController(entry, release.values.controllerDefaults, release.values.image);
      const tag = eff.image.tag || release.appVersion;
      const wantImage = tag.startsWith("sha256:") ? `${eff.image.repository}@${tag}` : `${eff.image.repository}:${tag}`;
      const wantArgs = [
        "link-controller",
        "--link",
        eff.name,
        "--namespace",
        ctx.namespace,
        "--log-level",
        eff.logLevel,
        "--log-format",
        eff.logFormat,
      ];
      const container = controllerContainer(controller.obj);
      const diffs: string[] = [];
      const replicas = controller.obj.spec?.replicas ?? 1;
      if (replicas !== eff.replicas) diffs.push(`replicas ${replicas}, values say ${eff.replicas}`);
      if (container?.image !== wantImage) diffs.push(`image ${container?.image ?? "(none)"}, values say ${wantImage}`);
      const args = container?.args ?? [];
      if (args.join(" ") !== wantArgs.join(" "))
        diffs.push(`args "${args.join(" ")}", values say "${wantArgs.join(" ")}"`);
      return diffs.length ? fail(`drifted from the values: ${diffs.join("; ")}`, upgrade) : ok();
    },
  }),
  subjectCheck<ClusterContext, ControllerRef>({
    id: "controllers.available",
    category: "controllers",
    description: "every controller Deployment is available",
    severity: "error",
    retryable: true,
    probe: true,
    dependsOn: ["links.api-server"],
    none: "no controllers",
    subjects: (ctx) => ctx.localControllers(),
    subjectName: (c) => `${c.namespace}/${c.name}`,
    async run(ctx, controller) {
      const { spec, status } = controller.obj;
      const hint = `kubectl --context ${ctx.context} -n ${controller.namespace} describe deployment ${controller.name}; kubectl --context ${ctx.context} -n ${controller.namespace} logs deploy/${controller.name}`;
      if ((spec?.replicas ?? 1) === 0)
        return fail(
          "scaled to 0 replicas: nothing serves the link",
          `kubectl --context ${ctx.context} -n ${controller.namespace} scale deployment ${controller.name} --replicas=1`,
          "warning",
        );
      const available = status?.conditions?.find((c) => c.type === "Available");
      if (available?.status !== "True" || !status?.availableReplicas) {
        const why =
          available?.message ??
          status?.conditions?.find((c) => c.status !== "True")?.message ??
          "no Available condition yet";
        return fail(`not available (${status?.availableReplicas ?? 0}/${spec?.replicas ?? 1} replicas): ${why}`, hint);
      }
      return ok(`${status.availableReplicas}/${spec?.replicas ?? 1} available`);
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "controllers.lease",
    category: "controllers",
    description: "every served link's Lease is held and renewed in time",
    severity: "error",
    retryable: true,
    probe: true,
    dependsOn: ["controllers.present"],
    none: "no served links",
    subjects: servedLinks,
    subjectName: (link) => link.key,
    async run(ctx, link) {
      const name = leaseName(link.name);
      const lease = (await ctx.leases(link.namespace)).get(name);
      const hint = `the controller is not leading; see kubectl --context ${ctx.context} -n ${link.namespace} logs deploy/${controllerName(link.name)}`;
      if (!lease) return fail(`Lease ${link.namespace}/${name} does not exist: no controller has become leader`, hint);
      const spec = lease.spec ?? {};
      if (!spec.holderIdentity) return fail(`Lease ${link.namespace}/${name} is not held by anyone`, hint);
      const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? "");
      if (Number.isNaN(renewed)) return fail(`Lease ${link.namespace}/${name} has no renewTime`, hint);
      const expires = renewed + (spec.leaseDurationSeconds ?? 0) * 1000;
      const now = ctx.now();
      if (expires < now) {
        return fail(
          `Lease ${link.namespace}/${name} held by ${spec.holderIdentity} expired ${humanDuration(now - expires)} ago (last renewed ${humanDuration(now - renewed)} ago)`,
          hint,
        );
      }
      return ok(`held by ${spec.holderIdentity}, renewed ${humanDuration(now - renewed)} ago`);
    },
  }),
];
