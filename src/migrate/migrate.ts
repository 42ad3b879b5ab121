import { stringify } from "yaml";
import { parseLink } from "../api/link.ts";
import { controllerName, LABEL_CONTROLLER_MODE, LABEL_LINK, LABEL_MANAGED_BY, leaseName } from "../api/names.ts";
import { renderControllerEntries } from "../api/render.ts";
import type { ControllerEntry } from "../api/values.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { describeError } from "../kube/errors.ts";
import { Resources, type ResourceType } from "../kube/resources.ts";
import type { DeploymentObject, LeaseObject, LinkObject } from "../check/context.ts";
import { readDeployedRelease, type HelmRelease } from "../helm/storage.ts";
import { sleep } from "../sleep.ts";

/**
 * `zonesync migrate`: moves a link from its standalone controller (kubectl-applied manifests) to the chart.
 *
 * The chart renders the controller's namespaced objects under the same names as the standalone manifests
 * (`zonesync-link-<link>`: Deployment, ServiceAccount, Role, RoleBinding in the release namespace), so Helm would
 * refuse to install them while the standalone ones exist. (Cluster-wide, the chart binds its one shared mirrors
 * ClusterRole instead of the standalone ClusterRole and ClusterRoleBinding, which go with the leftovers.) The handover
 * keeps a controller running throughout:
 *   1. hand the names over: the RBAC objects get Helm's ownership metadata (Helm adopts them, the standalone pods
 *      keep their ServiceAccount and permissions), the Deployment is deleted with propagationPolicy=Orphan (its
 *      ReplicaSet and pods keep running and keep leading);
 *   2. add the controllers entry: the link is labelled zonesync.io/controller-mode=chart (the manager renders
 *      entries from links and skips links labelled standalone);
 *   3. helm upgrade (the manager does it; or `--helm <chart>` here);
 *   4. wait until the chart's Deployment is available (its pods stand by: the Lease is still held);
 *   5. delete the standalone leftovers (the orphaned ReplicaSets, and objects the chart does not take over);
 *   6. the chart controller takes the Lease (both modes share it, so they never write at once).
 * Objects that do not collide (a standalone controller in another namespace) simply stay until step 5.
 */

const ANNOTATION_RELEASE_NAME = "meta.helm.sh/release-name";
const ANNOTATION_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace";

export interface ObjectRef {
  type: ResourceType;
  namespace?: string;
  name: string;
}

export const describeRef = (ref: ObjectRef): string =>
  `${ref.type.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;

const STANDALONE_KINDS: readonly ResourceType[] = [
  Resources.deployments,
  Resources.replicaSets,
  Resources.serviceAccounts,
  Resources.roles,
  Resources.roleBindings,
  Resources.clusterRoles,
  Resources.clusterRoleBindings,
];

export interface MigrationPlan {
  link: string;
  namespace: string;
  /** Why the link cannot be migrated; empty when it can. */
  problems: string[];
  /** The controllers entry the manager will render for it. */
  entry?: ControllerEntry;
  /** The link still asks for standalone mode (label). */
  relabel: boolean;
  /** The release holds the entry already. */
  entryDeployed: boolean;
  /** The chart's Deployment exists already. */
  chartDeployment: boolean;
  /** How step 3 happens: the manager upgrades the release, or nobody does (no release, or manager.apply=none). */
  upgrader: "manager" | "none";
  /** The release exists. */
  release: boolean;
  /** Standalone objects Helm will adopt (same kind and name as the chart's). */
  adopt: ObjectRef[];
  /** Standalone Deployments to delete while keeping their pods running. */
  orphan: ObjectRef[];
  /** Standalone objects deleted once the chart controller is available. */
  remove: ObjectRef[];
}

export interface MigrateOptions {
  namespace: string;
  release: string;
  /** Link names, or all links that have standalone controllers or are labelled standalone. */
  links: string[] | "all";
}

interface Labeled extends KubeObject {
  metadata: KubeObject["metadata"] & { labels?: Record<string, string> };
}

/** What the chart renders for a link, by kind: does `ref` have the same kind, namespace and name? */
function chartOwnsName(ref: ObjectRef, link: string, releaseNamespace: string): boolean {
  return ref.name === controllerName(link) && ref.type.namespaced && ref.namespace === releaseNamespace;
}

function adopted(obj: Labeled, release: string, namespace: string): boolean {
  const a = obj.metadata.annotations ?? {};
  return (
    a[ANNOTATION_RELEASE_NAME] === release &&
    a[ANNOTATION_RELEASE_NAMESPACE] === namespace &&
    obj.metadata.labels?.[LABEL_MANAGED_BY] === "Helm"
  );
}

/** Reads the cluster (one list per kind) and plans the migration of the links asked for. */
export async function planMigration(client: KubeClient, options: MigrateOptions): Promise<MigrationPlan[]> {
  const selector = `${LABEL_CONTROLLER_MODE}=standalone`;
  const [linkObjects, release, chartDeployments, ...standaloneLists] = await Promise.all([
    client.listAll<LinkObject>(Resources.zoneSyncLinks, options.namespace).then((l) => l.items),
    readDeployedRelease(client, options.namespace, options.release),
    client
      .listAll<DeploymentObject>(Resources.deployments, options.namespace, {
        labelSelector: `${LABEL_CONTROLLER_MODE}=chart`,
      })
      .then((l) => l.items),
    ...STANDALONE_KINDS.map((type) =>
      client
        .listAll<Labeled>(type, undefined, { labelSelector: selector })
        .then((l) => l.items.map((obj) => ({ type, obj }))),
    ),
  ]);
  const standalone = standaloneLists.flat();
  const byName = new Map(linkObjects.map((l) => [l.metadata.name ?? "", l]));
  let names: string[];
  if (options.links === "all") {
    const found = new Set(standalone.map((s) => s.obj.metadata.labels?.[LABEL_LINK] ?? "").filter(Boolean));
    for (const l of linkObjects)
      if (l.metadata.labels?.[LABEL_CONTROLLER_MODE] === "standalone") found.add(l.metadata.name ?? "");
    names = [...found].sort();
  } else {
    names = options.links;
  }
  return names.map((name) => planOne(name, options, byName.get(name), release, chartDeployments, standalone));
}

function planOne(
  link: string,
  options: MigrateOptions,
  obj: LinkObject | undefined,
  release: HelmRelease | undefined,
  chartDeployments: DeploymentObject[],
  standalone: Array<{ type: ResourceType; obj: Labeled }>,
): MigrationPlan {
  const plan: MigrationPlan = {
    link,
    namespace: options.namespace,
    problems: [],
    relabel: false,
    entryDeployed: false,
    chartDeployment: chartDeployments.some((d) => d.metadata.labels?.[LABEL_LINK] === link),
    upgrader: managerApplies(release) ? "manager" : "none",
    release: Boolean(release),
    adopt: [],
    orphan: [],
    remove: [],
  };
  if (!obj) {
    plan.problems.push(`no ZoneSyncLink ${link} in namespace ${options.namespace}`);
    return plan;
  }
  const parsed = parseLink(obj);
  if (!parsed.ok) plan.problems.push(`the link is invalid: ${parsed.errors.join("; ")}`);
  else plan.entry = renderControllerEntries([parsed.link])[0];
  plan.relabel = obj.metadata.labels?.[LABEL_CONTROLLER_MODE] === "standalone";
  plan.entryDeployed = ((release?.values.controllers as ControllerEntry[] | undefined) ?? []).some(
    (e) => e.name === link,
  );
  for (const { type, obj: o } of standalone) {
    if (o.metadata.labels?.[LABEL_LINK] !== link) continue;
    const ref: ObjectRef = {
      type,
      namespace: type.namespaced ? o.metadata.namespace : undefined,
      name: o.metadata.name ?? "",
    };
    if (type === Resources.replicaSets) {
      // Those of a standalone Deployment go with it; a ReplicaSet without owner was orphaned by an earlier run.
      if (!o.metadata.ownerReferences?.length) plan.remove.push(ref);
    } else if (!chartOwnsName(ref, link, options.namespace)) plan.remove.push(ref);
    else if (type === Resources.deployments) plan.orphan.push(ref);
    else if (!adopted(o, options.release, options.namespace)) plan.adopt.push(ref);
  }
  return plan;
}

export interface HelmUpgrade {
  /** Runs `helm upgrade` of the release with this controllers entry added (the --helm path). */
  (entry: ControllerEntry): Promise<void>;
}

export interface ApplyOptions extends Omit<MigrateOptions, "links"> {
  timeoutMs: number;
  pollMs?: number;
  /** Run the upgrade here instead of waiting for the manager's. */
  helmUpgrade?: HelmUpgrade;
  log: (line: string) => void;
}

function managerApplies(release: HelmRelease | undefined): boolean {
  const manager = release?.values.manager as { enabled?: boolean; apply?: string } | undefined;
  return Boolean(manager) && manager!.enabled !== false && manager!.apply !== "none";
}

async function until<T>(
  what: string,
  timeoutMs: number,
  pollMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (${describeError(last)})` : ""}`,
      );
    }
    await sleep(pollMs);
  }
}

/** Carries a plan out step by step; throws at the first step that fails, naming it. */
export async function applyMigration(client: KubeClient, plan: MigrationPlan, options: ApplyOptions): Promise<void> {
  if (plan.problems.length) throw new Error(`cannot migrate link ${plan.link}: ${plan.problems.join("; ")}`);
  const pollMs = options.pollMs ?? 1000;
  const { namespace, release: releaseName } = options;
  const deployment = controllerName(plan.link);
  const step = async (n: number, title: string, run: () => Promise<string | void>) => {
    const started = Date.now();
    options.log(`${n}. ${title} ...`);
    try {
      const note = await run();
      options.log(`   done${note ? `: ${note}` : ""} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      throw new Error(`step ${n} (${title}) failed: ${describeError(err)}; nothing after it was done`, { cause: err });
    }
  };

  const release = await readDeployedRelease(client, namespace, releaseName);
  if (!plan.entryDeployed && !options.helmUpgrade && !managerApplies(release)) {
    throw new Error(
      release
        ? `release ${releaseName} has no manager applying values (manager.enabled=false or manager.apply=none): add the entry to your values yourself, or pass --helm <chart>; nothing was done`
        : `there is no release ${releaseName} in ${namespace}: install the chart first, or pass --helm <chart>; nothing was done`,
    );
  }

  await step(1, "hand the chart's names over", async () => {
    for (const ref of plan.adopt) {
      // Helm adopts an object carrying its ownership metadata. The field owners are reset too ([{}] clears
      // managedFields), so that Helm 4's server-side apply does not conflict with whoever applied the standalone
      // manifests (zonesync link --apply, kubectl apply --server-side).
      await client.patch(ref.type, ref.namespace, ref.name, {
        metadata: {
          managedFields: [{}],
          labels: { [LABEL_MANAGED_BY]: "Helm", [LABEL_CONTROLLER_MODE]: "chart" },
          annotations: { [ANNOTATION_RELEASE_NAME]: releaseName, [ANNOTATION_RELEASE_NAMESPACE]: namespace },
        },
      });
    }
    for (const ref of plan.orphan)
      await client.delete(ref.type, ref.namespace, ref.name, { propagationPolicy: "Orphan" });
    return plan.adopt.length + plan.orphan.length
      ? `${plan.adopt.length} adopted, ${plan.orphan.length} orphaned`
      : "nothing to hand over";
  });
  await step(2, "add the controllers entry (label the link chart)", async () => {
    if (!plan.relabel) return "the link is not labelled standalone";
    await client.patch(Resources.zoneSyncLinks, namespace, plan.link, {
      metadata: { labels: { [LABEL_CONTROLLER_MODE]: "chart" } },
    });
  });
  await step(3, `helm upgrade of release ${releaseName}`, async () => {
    if (options.helmUpgrade) {
      await options.helmUpgrade(plan.entry!);
      return "upgraded here (--helm)";
    }
    const found = await until(
      `the manager to add entry "${plan.link}" to release ${releaseName}`,
      options.timeoutMs,
      pollMs,
      async () => {
        const r = await readDeployedRelease(client, namespace, releaseName);
        return ((r?.values.controllers as ControllerEntry[] | undefined) ?? []).some((e) => e.name === plan.link)
          ? r
          : undefined;
      },
    );
    return `revision ${found.revision}`;
  });
  await step(4, `wait for Deployment ${namespace}/${deployment} (chart) to become available`, async () => {
    const d = await until(
      `Deployment ${namespace}/${deployment} to become available`,
      options.timeoutMs,
      pollMs,
      async () => {
        const obj = await client.getOptional<DeploymentObject>(Resources.deployments, namespace, deployment);
        if (obj?.metadata.labels?.[LABEL_CONTROLLER_MODE] !== "chart") return undefined;
        const available = obj.status?.conditions?.some((c) => c.type === "Available" && c.status === "True");
        return available && (obj.status?.availableReplicas ?? 0) > 0 ? obj : undefined;
      },
    );
    return `${d.status?.availableReplicas} available`;
  });
  await step(5, "delete the standalone leftovers", async () => {
    const deleted: string[] = [];
    // The ReplicaSets (and pods) of the Deployments orphaned in step 1; found by the pod template's labels.
    const sets = await client.listAll(Resources.replicaSets, undefined, {
      labelSelector: `${LABEL_LINK}=${plan.link},${LABEL_CONTROLLER_MODE}=standalone`,
    });
    for (const rs of sets.items) {
      const owner = rs.metadata.ownerReferences?.find((o) => o.kind === "Deployment")?.name;
      const cascaded = plan.remove.some(
        (r) => r.type === Resources.deployments && r.name === owner && r.namespace === rs.metadata.namespace,
      );
      if (cascaded) continue; // goes with its Deployment below
      if (
        await client.delete(Resources.replicaSets, rs.metadata.namespace, rs.metadata.name!, {
          propagationPolicy: "Background",
        })
      )
        deleted.push(`ReplicaSet ${rs.metadata.namespace}/${rs.metadata.name}`);
    }
    for (const ref of plan.remove) {
      if (await client.delete(ref.type, ref.namespace, ref.name, { propagationPolicy: "Background" }))
        deleted.push(describeRef(ref));
    }
    return deleted.length ? deleted.join(", ") : "nothing left";
  });
  await step(6, `the chart controller takes Lease ${namespace}/${leaseName(plan.link)}`, async () => {
    const lease = await client.getOptional<LeaseObject>(Resources.leases, namespace, leaseName(plan.link));
    if (!lease?.spec?.holderIdentity)
      return "no Lease held (no controller has led yet); the chart controller takes it when it starts leading";
    const pods = async () =>
      new Set(
        (
          await client.listAll(Resources.pods, namespace, {
            labelSelector: `${LABEL_LINK}=${plan.link},${LABEL_CONTROLLER_MODE}=chart`,
          })
        ).items.map((p) => p.metadata.name),
      );
    const chartPods = await pods();
    if (chartPods.has(lease.spec.holderIdentity)) return `held by ${lease.spec.holderIdentity}`;
    const holder = await until(
      `a chart pod to take Lease ${leaseName(plan.link)} (held by ${lease.spec.holderIdentity})`,
      options.timeoutMs,
      pollMs,
      async () => {
        const l = await client.getOptional<LeaseObject>(Resources.leases, namespace, leaseName(plan.link));
        const h = l?.spec?.holderIdentity ?? "";
        return (await pods()).has(h) ? h : undefined;
      },
    );
    return `held by ${holder}`;
  });
}

/** The plan in words: the entry to add and the steps in order, with every object named. */
export function renderPlan(
  plans: readonly MigrationPlan[],
  options: MigrateOptions & { context: string; helm?: boolean },
): string {
  const out: string[] = [];
  if (plans.length === 0) out.push(`No link in ${options.namespace} has a standalone controller: nothing to migrate.`);
  for (const plan of plans) {
    out.push(
      `Link ${plan.namespace}/${plan.link}: standalone → chart (release ${options.release}, context ${options.context})`,
    );
    if (plan.problems.length) {
      out.push(...plan.problems.map((p) => `  cannot migrate: ${p}`), "");
      continue;
    }
    out.push("", "  controllers entry to add (the manager renders it from the link):");
    out.push(
      ...stringify({ controllers: [plan.entry] }, { lineWidth: 0 })
        .trimEnd()
        .split("\n")
        .map((l) => `    ${l}`),
    );
    const name = controllerName(plan.link);
    const list = (refs: ObjectRef[]) => refs.map((r) => `       - ${describeRef(r)}`);
    out.push("", "  steps:");
    out.push(`    1. hand the chart's names over (the standalone controller keeps running):`);
    if (plan.adopt.length)
      out.push(`       adopt for Helm (ownership annotations, label ${LABEL_MANAGED_BY}=Helm):`, ...list(plan.adopt));
    if (plan.orphan.length)
      out.push("       delete, keeping its ReplicaSet and pods (propagationPolicy=Orphan):", ...list(plan.orphan));
    if (!plan.adopt.length && !plan.orphan.length) out.push("       nothing to hand over");
    out.push(
      plan.relabel
        ? `    2. add the entry: kubectl --context ${options.context} -n ${plan.namespace} label zonesynclink ${plan.link} ${LABEL_CONTROLLER_MODE}=chart --overwrite`
        : `    2. add the entry: the link is already in chart mode${plan.entryDeployed ? " and the release has its entry" : ""}`,
      options.helm
        ? `    3. helm upgrade ${options.release} <chart> -n ${plan.namespace} with the entry added (--helm)`
        : plan.upgrader === "manager"
          ? `    3. helm upgrade: the manager upgrades release ${options.release} by itself`
          : `    3. helm upgrade: ${plan.release ? `release ${options.release} has no manager applying values (manager.apply=none or disabled)` : `there is no release ${options.release} in ${plan.namespace}`}; commit the entry to your values and upgrade, or run with --apply --helm <chart>`,
      `    4. wait for Deployment ${plan.namespace}/${name} (chart) to become available${plan.chartDeployment ? " (it exists already)" : ""}`,
      "    5. delete the standalone resources:",
      ...plan.orphan.map(
        (r) =>
          `       - the ReplicaSets and pods of ${describeRef(r)} (labels ${LABEL_LINK}=${plan.link},${LABEL_CONTROLLER_MODE}=standalone)`,
      ),
      ...list(plan.remove),
    );
    if (!plan.orphan.length && !plan.remove.length) out.push("       nothing left to delete");
    out.push(
      `    6. the chart controller takes over Lease ${plan.namespace}/${leaseName(plan.link)} (shared by both modes: they never write at once)`,
      "",
    );
  }
  return out.join("\n") + "\n";
}
