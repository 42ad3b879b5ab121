import { LABEL_LINK, LABEL_SERVICE_NAME, LABEL_ZONE_SYNC_PEERS } from "../../api/names.ts";
import type { KubeObject } from "../../kube/client.ts";
import { Resources } from "../../kube/resources.ts";
import type { ZoneSyncConfig } from "../../zonesync/config.ts";
import type { ConfigMapRef, WorkloadRef } from "../../zonesync/refs.ts";
import type { ClusterContext, DeploymentObject, ServiceObject, SliceObject } from "../context.ts";
import { clusterCheck, fail, ok, skip, type CheckDefinition } from "../types.ts";
import { kubectl, listSome, plural } from "./common.ts";

interface ZoneSyncSetup {
  configMap?: ConfigMapRef;
  workload?: WorkloadRef;
  /** Where the references came from: flags or the release's manager.nginx values. */
  source: string;
}

/** The NGINX ConfigMap and workload: from --nginx-configmap/--nginx-workload, else the release's manager.nginx. */
async function setup(ctx: ClusterContext): Promise<ZoneSyncSetup> {
  return ctx.once("zoneSyncSetup", async () => {
    const { parseConfigMapRef, parseWorkloadRef } = await import("../../zonesync/refs.ts");
    let configMap = ctx.options.nginxConfigMap;
    let workload = ctx.options.nginxWorkload;
    let source = "flags";
    if (!configMap) {
      const nginx = (
        (await ctx.release())?.values.manager as { nginx?: { configMap?: string; workload?: string } } | undefined
      )?.nginx;
      configMap = nginx?.configMap;
      workload ??= nginx?.workload;
      source = `release ${ctx.options.release} values manager.nginx`;
    }
    return {
      configMap: configMap ? parseConfigMapRef(configMap) : undefined,
      workload: workload ? parseWorkloadRef(workload) : undefined,
      source,
    };
  });
}

interface ConfigMapObject extends KubeObject {
  data?: Record<string, string>;
}

interface FoundConfig {
  ref: ConfigMapRef;
  /** undefined when the ConfigMap does not exist (then `errors` says so). */
  config?: ZoneSyncConfig;
  errors: string[];
}

async function config(ctx: ClusterContext): Promise<FoundConfig | undefined> {
  return ctx.once("zoneSyncConfig", async () => {
    const { configMap } = await setup(ctx);
    if (!configMap) return undefined;
    const obj = await ctx.client.getOptional<ConfigMapObject>(
      Resources.configMaps,
      configMap.namespace,
      configMap.name,
    );
    if (!obj) return { ref: configMap, errors: [`ConfigMap ${configMap.namespace}/${configMap.name} does not exist`] };
    const { parseZoneSyncConfig } = await import("../../zonesync/config.ts");
    const parsed = parseZoneSyncConfig(obj.data ?? {});
    return { ref: configMap, config: parsed.config, errors: parsed.errors.map((e) => e.message) };
  });
}

async function peerService(ctx: ClusterContext) {
  return ctx.once("zoneSyncPeerService", async () => {
    const { workload } = await setup(ctx);
    if (!workload) return undefined;
    const [{ peerServiceName, peerSelector }, { workloadResource }] = await Promise.all([
      import("../../zonesync/naming.ts"),
      import("../../zonesync/refs.ts"),
    ]);
    const owner = await ctx.client.getOptional<DeploymentObject>(
      workloadResource(workload.kind),
      workload.namespace,
      workload.name,
    );
    const name = peerServiceName(workload.name, workload.kind);
    const service = await ctx.client.getOptional<ServiceObject>(Resources.services, workload.namespace, name);
    let selector: Record<string, string> | undefined;
    let selectorProblem: string | undefined;
    try {
      selector = owner ? peerSelector(owner.spec?.selector?.matchLabels ?? {}) : undefined;
    } catch (err) {
      selectorProblem = (err as Error).message;
    }
    return { workload, owner, name, service, selector, selectorProblem };
  });
}

const sameMap = (a: Record<string, string> = {}, b: Record<string, string> = {}) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

export const zoneSyncChecks: CheckDefinition<ClusterContext>[] = [
  clusterCheck({
    id: "zone-sync.config",
    category: "zone-sync",
    description: "the NGINX ConfigMap's zone-sync keys are valid",
    severity: "error",
    retryable: false,
    dependsOn: ["links.api-server"],
    async run(ctx) {
      const found = await config(ctx);
      if (!found)
        return skip(
          "no NGINX ConfigMap configured (--nginx-configmap, or manager.nginx.configMap in the release's values)",
        );
      const where = `${found.ref.namespace}/${found.ref.name}`;
      if (found.errors.length) {
        return fail(
          `ConfigMap ${where}: ${found.errors.join("; ")}`,
          `fix the keys named: ${kubectl(ctx, found.ref.namespace)} edit configmap ${found.ref.name} (the manager keeps the last good configuration until then)`,
        );
      }
      return ok(found.config?.enabled ? `zone-sync enabled on port ${found.config.port}` : "zone-sync disabled");
    },
  }),
  clusterCheck({
    id: "zone-sync.peer-service",
    category: "zone-sync",
    description: "the headless peer Service exists and selects the NGINX pods",
    severity: "error",
    retryable: true,
    dependsOn: ["zone-sync.config"],
    async run(ctx) {
      const cfg = (await config(ctx))!;
      const peer = await peerService(ctx);
      if (!peer)
        return skip(
          "no NGINX workload configured (--nginx-workload, or manager.nginx.workload in the release's values)",
        );
      const { workload, owner, name, service } = peer;
      const where = `${workload.namespace}/${name}`;
      // Loaded here, not at the top: `check --probe` starts without the zone-sync modules.
      const { ownedByZoneSync } = await import("../../zonesync/objects.ts");
      const foreign = service !== undefined && !ownedByZoneSync(service, workload);
      if (!cfg.config?.enabled) {
        return service && !foreign
          ? fail(
              `zone-sync is disabled but peer Service ${where} is still there`,
              `the manager deletes it; if it stays: ${kubectl(ctx, workload.namespace)} delete service ${name}`,
              "warning",
            )
          : ok("zone-sync disabled: no peer Service, as expected");
      }
      const restart = `the manager repairs it within seconds; if not, see its log: ${kubectl(ctx)} logs -l app.kubernetes.io/component=manager`;
      if (!owner)
        return fail(
          `the NGINX workload ${workload.kind}/${workload.namespace}/${workload.name} does not exist`,
          "fix --nginx-workload (manager.nginx.workload)",
        );
      if (peer.selectorProblem)
        return fail(peer.selectorProblem, `give ${workload.kind} ${workload.name} a matchLabels selector`);
      if (!service) return fail(`peer Service ${where} does not exist`, restart);
      if (foreign) {
        return fail(
          `Service ${where} has the peer Service's name but was not created by zonesync: it is left alone, and zone-sync is not applied`,
          `zonesync never adopts, changes or deletes an object it did not create. Rename or delete it (${kubectl(ctx, workload.namespace)} delete service ${name}); the manager then creates the peer Service within seconds`,
        );
      }
      const problems: string[] = [];
      if (service.spec?.clusterIP !== "None")
        problems.push(`it is not headless (clusterIP ${service.spec?.clusterIP ?? "unset"})`);
      if (!sameMap(service.spec?.selector ?? {}, peer.selector))
        problems.push(
          `its selector ${JSON.stringify(service.spec?.selector ?? {})} is not the workload's ${JSON.stringify(peer.selector)}`,
        );
      if (problems.length) return fail(`peer Service ${where}: ${problems.join("; ")}`, restart);
      return ok(`${where} selects ${JSON.stringify(peer.selector)}`);
    },
  }),
  clusterCheck({
    id: "zone-sync.peer-endpoints",
    category: "zone-sync",
    description: "the peer Service has EndpointSlices: local NGINX pods and every linked cluster's peers",
    severity: "warning",
    retryable: true,
    dependsOn: ["zone-sync.peer-service"],
    async run(ctx) {
      const cfg = (await config(ctx))!;
      if (!cfg.config?.enabled) return ok("zone-sync disabled");
      const { workload, name } = (await peerService(ctx))!;
      const type = await ctx.sliceType();
      const slices = (
        await ctx.client.listAll<SliceObject>(type, workload.namespace, {
          labelSelector: `${LABEL_SERVICE_NAME}=${name}`,
        })
      ).items;
      const count = (list: SliceObject[]) =>
        list.reduce((n, s) => n + (s.endpoints ?? []).reduce((m, e) => m + (e.addresses?.length ?? 0), 0), 0);
      // Remote peers come from link controllers (labelled with their link); the rest are the local NGINX pods.
      const remote = slices.filter((s) => s.metadata.labels?.[LABEL_LINK] !== undefined);
      const local = slices.filter((s) => s.metadata.labels?.[LABEL_LINK] === undefined);
      const remoteClusters = new Set(remote.map((s) => s.metadata.labels?.[LABEL_ZONE_SYNC_PEERS] ?? ""));
      const expected = (await ctx.links())
        .filter(
          (l) =>
            l.spec.zoneSync?.localPeerService?.name === name &&
            l.spec.zoneSync.localPeerService.namespace === workload.namespace,
        )
        .map((l) => l.spec.targetClusterName ?? l.name);
      const missing = expected.filter((c) => !remoteClusters.has(c));
      const problems: string[] = [];
      if (count(local) === 0)
        problems.push(`no local NGINX peers (no endpoints in the slices of ${workload.namespace}/${name})`);
      if (missing.length)
        problems.push(`no peer slices from linked cluster${missing.length === 1 ? "" : "s"} ${listSome(missing)}`);
      if (problems.length) {
        return fail(
          problems.join("; "),
          missing.length
            ? `the link controllers of ${listSome(missing)} add them; see ${kubectl(ctx)} describe zonesynclink ${missing[0]}`
            : `check that the NGINX pods run and match the selector: ${kubectl(ctx, workload.namespace)} get pods -l ${Object.entries(
                (await peerService(ctx))!.selector ?? {},
              )
                .map(([k, v]) => `${k}=${v}`)
                .join(",")}`,
        );
      }
      return ok(
        `${plural(count(local), "local peer")}${remote.length ? `, ${plural(count(remote), "remote peer")} from ${listSome([...remoteClusters].sort())}` : ""}`,
      );
    },
  }),
];
