import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { execa } from "execa";
import type { KubeObject } from "../../src/kube/client.ts";
import { standaloneControllerManifests } from "../../src/link/standalone.ts";
import { bundledChartPath } from "../../src/paths.ts";
import { ensureHelm } from "../env/binaries.ts";

/**
 * A standalone link controller must be the chart's controller in everything but its mode label: same RBAC, same
 * container, same pod security. The chart is the reference; this compares the two for one link.
 */

type Obj = KubeObject & Record<string, unknown>;

async function chartControllerManifests(link: string, namespace: string): Promise<Obj[]> {
  const { helm4 } = ensureHelm();
  const out = await execa(helm4, [
    "template",
    "zonesync",
    bundledChartPath(),
    "--namespace",
    namespace,
    "--set",
    "manager.enabled=false",
    "--set",
    `controllers[0].name=${link}`,
  ]);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => Boolean(o));
}

const byKind = (objects: Obj[], kind: string) => objects.find((o) => o.kind === kind)!;

/** The part of a Deployment that decides how the controller runs (labels and checksums aside). */
function podEssentials(deployment: Obj) {
  const spec = (deployment as unknown as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;
  const [container] = spec.containers as Array<Record<string, unknown>>;
  const { image: _image, ...rest } = container!;
  return {
    serviceAccountName: spec.serviceAccountName,
    securityContext: spec.securityContext,
    volumes: spec.volumes,
    container: rest,
  };
}

describe("standalone controller manifests", () => {
  it("match the chart's controller for the same link, except for the mode", async () => {
    const chart = await chartControllerManifests("east", "zonesync-system");
    const standalone = standaloneControllerManifests({ link: "east", namespace: "zonesync-system" }) as Obj[];
    expect(standalone.map((o) => o.kind).sort()).toEqual(chart.map((o) => o.kind).sort());
    for (const kind of ["Role", "ClusterRole"]) {
      expect(byKind(standalone, kind).rules, kind).toEqual(byKind(chart, kind).rules);
    }
    // Names of its own (so it never touches the chart's objects); otherwise the same bindings.
    const own = "zonesync-standalone-east";
    const ownCluster = "zonesync-standalone-zonesync-system-east";
    const renamed = <T>(value: T): T =>
      JSON.parse(JSON.stringify(value).replaceAll('"zonesync-link-east"', `"${own}"`)) as T;
    const roleBinding = byKind(standalone, "RoleBinding");
    expect(roleBinding.roleRef).toEqual(renamed(byKind(chart, "RoleBinding").roleRef));
    expect(roleBinding.subjects).toEqual(renamed(byKind(chart, "RoleBinding").subjects));
    // Cluster-wide the chart binds its one shared ClusterRole (the same rules) to every link controller; a
    // standalone controller, applied by an administrator, has a ClusterRole of its own.
    const clusterBinding = byKind(standalone, "ClusterRoleBinding");
    expect(clusterBinding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: ownCluster,
    });
    expect(clusterBinding.subjects).toEqual(renamed(byKind(chart, "ClusterRoleBinding").subjects));
    expect(podEssentials(byKind(standalone, "Deployment"))).toEqual(
      renamed(podEssentials(byKind(chart, "Deployment"))),
    );
    expect(byKind(chart, "ClusterRole").metadata.name).toBe("zonesync-system-zonesync-mirrors");
    for (const obj of standalone) {
      expect(obj.metadata.name).toBe(obj.metadata.namespace ? own : ownCluster);
      expect(obj.metadata.labels).toMatchObject({
        "zonesync.io/link": "east",
        "zonesync.io/controller-mode": "standalone",
      });
    }
  });
});
