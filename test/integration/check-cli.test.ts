/**
 * `zonesync check` and `zonesync migrate` as a person runs them: the built CLI as a child process (exit codes, JSON
 * validated against its schema, the probe), on a private cluster "solo" where nothing of other tests shows up in the
 * cluster-wide checks, so that a healthy setup must pass every single check. The last test stops solo's API server
 * to see the reachability checks fail.
 */
import { ANNOTATION_WORKLOAD, ownedLabels } from "../../src/zonesync/objects.ts";
import { execFile } from "node:child_process";
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controllerName } from "../../src/api/names.ts";
import { targetClientFor } from "../../src/check/clients.ts";
import { runChecks } from "../../src/check/run.ts";
import { CheckReportSchema } from "../../src/check/schema.ts";
import type { CheckReport, CheckResult } from "../../src/check/types.ts";
import { applyAll } from "../../src/cli/common.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion } from "../../src/kube/resources.ts";
import { standaloneControllerManifests } from "../../src/link/standalone.ts";
import { kubeconfigYaml, startEnvironment, type Environment } from "../env/index.ts";
import { adminClient, cluster, createNamespace, eventually, sharedEnv, uniqueName } from "../support.ts";
import {
  CHART,
  controllerDeployment,
  createLease,
  createLink,
  createMirror,
  createSecret,
  deploymentAvailable,
  ensureCrd,
  FAKE_IMAGE,
  installRelease,
  issuedKubeconfig,
  recording,
  REPO,
  targetServiceAccount,
} from "./check-fixtures.ts";
import { sleep } from "../../src/sleep.ts";

const exec = promisify(execFile);

let env: Environment;
let solo: KubeClient;
let east: KubeClient;
let dir: string;
let kubeconfig: string;
const cleanup: Array<() => Promise<unknown>> = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The built CLI, as a child process. */
async function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(REPO, "dist/src/cli/main.js"), ...args], {
      env: { ...process.env, NO_COLOR: "", ...extraEnv },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "", ms: performance.now() - started };
  }
}

function checks(report: CheckReport): CheckResult[] {
  return report.clusters.flatMap((c) => c.categories.flatMap((cat) => cat.checks));
}

function find(report: CheckReport, id: string): CheckResult {
  const found = checks(report).find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zonesync-check-cli-"));
  env = await startEnvironment(["solo"], { kubeconfigPath: join(dir, "solo.kubeconfig") });
  solo = env.clusters.solo!.client();
  east = adminClient("east");
  await Promise.all([ensureCrd(solo), ensureCrd(adminClient("hub")), ensureCrd(east)]);
  const s = env.clusters.solo!;
  const shared = Object.values(sharedEnv().clusters);
  kubeconfig = join(dir, "kubeconfig");
  await writeFile(
    kubeconfig,
    kubeconfigYaml(
      [
        { name: "solo", server: s.server, caPem: s.caPem, token: s.adminToken },
        // Nothing listens there (port 9, discard): a cluster that cannot be reached.
        { name: "dead", server: "https://127.0.0.1:9", caPem: s.caPem, token: "nobody" },
        ...shared.map((c) => ({ name: c.name, server: c.server, caPem: c.caPem, token: c.adminToken })),
      ],
      "solo",
    ),
  );
}, 180_000);

afterAll(async () => {
  for (const fn of cleanup) await fn().catch(() => undefined);
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function namespace(client: KubeClient, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await createNamespace(client, name);
  if (client !== solo) cleanup.push(() => client.delete(Resources.namespaces, undefined, name));
  return name;
}

describe("zonesync check on a healthy setup", () => {
  it("passes every check, in-process and from the CLI (exit 0, JSON per the schema), listing nothing twice", async () => {
    const ns = await namespace(solo, "zs-ok");
    const tns = await namespace(east, "zs-ok-target");
    const sa = await targetServiceAccount(east, `solo-${ns}`, tns, true);
    await east.create(Resources.services, {
      metadata: { name: "web", namespace: tns, labels: { "zonesync.io/exported": "true" } },
      spec: { ports: [{ port: 80 }] },
    } as KubeObject);
    await createSecret(
      solo,
      ns,
      "cluster-credentials-east",
      await issuedKubeconfig(east, cluster("east"), sa, "east", 30 * 24 * 3600),
      sa,
      "east",
    );
    await createLink(
      solo,
      ns,
      "east",
      { targetClusterName: "east", credentialsSecret: "cluster-credentials-east", namespaces: [tns] },
      { lastSyncAgoMs: 0 },
    );
    await installRelease(sharedEnv().helm4, env.clusters.solo!.kubeconfigPath, undefined, ns, {
      controllers: [{ name: "east", credentialsSecret: "cluster-credentials-east" }],
    });
    await createMirror(solo, ns, "east", "east", { namespace: tns, name: "web" }, 2);
    // Local zone-sync: the NGINX ConfigMap, workload and headless peer Service (as the manager makes it).
    const labels = { app: "nginx" };
    await solo.create(Resources.configMaps, {
      metadata: { name: "nginx-config", namespace: ns },
      data: { "zone-sync": "true" },
    } as KubeObject);
    await solo.create(Resources.deployments, {
      metadata: { name: "nginx", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "nginx", image: "example.test/nginx" }] } },
      },
    } as KubeObject);
    await solo.create(Resources.services, {
      // As local zone-sync creates it.
      metadata: {
        name: "nginx-deployment-hl",
        namespace: ns,
        labels: ownedLabels(true),
        annotations: { [ANNOTATION_WORKLOAD]: `Deployment/${ns}/nginx` },
      },
      spec: { clusterIP: "None", selector: labels, ports: [{ port: 12345 }] },
    } as KubeObject);
    await eventually(() => deploymentAvailable(solo, ns, controllerName("east")), 60_000, "the chart controller");
    const sliceType = endpointSliceType(await servedVersion(solo, "discovery.k8s.io"));
    await eventually(
      async () => {
        const slices = await solo.list<KubeObject & { endpoints?: unknown[] }>(sliceType, ns, {
          labelSelector: "kubernetes.io/service-name=nginx-deployment-hl",
        });
        return slices.items.some((s) => (s.endpoints ?? []).length > 0);
      },
      60_000,
      "the NGINX peers' EndpointSlice",
    );
    await createLease(solo, ns, "east", 0, 300);

    const client = recording(solo);
    const report = await runChecks({
      clusters: [{ context: "solo", client }],
      kubeconfigServers: new Map([
        ["solo", solo.server],
        ["east", cluster("east").server],
      ]),
      namespace: ns,
      targetClient: targetClientFor,
      nginxConfigMap: `${ns}/nginx-config`,
      nginxWorkload: `Deployment/${ns}/nginx`,
    });
    const notOk = checks(report).filter((c) => c.result !== "ok");
    expect(notOk.map((c) => [c.id, c.result, c.error])).toEqual([
      [
        "multicluster.symmetric",
        "skipped",
        "pass --expect-mesh to require links between every pair of checked clusters",
      ],
      ["mcs.exports", "skipped", "the Multi-Cluster Services API is not installed here"],
      ["mcs.imports-reachable", "skipped", "the Multi-Cluster Services API is not installed here"],
      ["mcs.exports-imported", "skipped", "skipped: mcs.exports was skipped"],
    ]);
    expect(report.success).toBe(true);
    expect(find(report, "credentials.server-version").message).toBe("Kubernetes v1.20.2");
    expect(find(report, "zone-sync.peer-endpoints").message).toBe("2 local peers");
    expect(find(report, "multicluster.target-address").message).toBe(`${cluster("east").server} = context east`);
    // Every list and get of the run happened once.
    const repeated = client.requests.filter((r, i) => client.requests.indexOf(r) !== i);
    expect(repeated).toEqual([]);
    expect(client.requests.filter((r) => r.startsWith("LIST")).length).toBeLessThan(15);

    const json = await cli([
      "check",
      "--kubeconfig",
      kubeconfig,
      "--context",
      "solo",
      "-n",
      ns,
      "--nginx-configmap",
      `${ns}/nginx-config`,
      "--nginx-workload",
      `Deployment/${ns}/nginx`,
      "-o",
      "json",
    ]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const parsed = CheckReportSchema.parse(JSON.parse(json.stdout));
    expect(parsed.success).toBe(true);
    expect(checks(parsed).filter((c) => c.result === "error")).toEqual([]);

    const table = await cli(["check", "--kubeconfig", kubeconfig, "--context", "solo", "-n", ns]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(
      "links\n-----\n√ the cluster's API server answers with these credentials (Kubernetes v1.20.2)\n√ the ZoneSyncLink CRD is installed and established (established)\n",
    );
    expect(table.stdout).toContain("○ the NGINX ConfigMap's zone-sync keys are valid (no NGINX ConfigMap configured");
    expect(table.stdout).toMatch(/Status check results are √ \(\d+ passed, 0 warnings, 0 errors, 7 skipped\)\n$/);
    expect(table.stdout).not.toContain("\u001b[");
  });
});

describe("zonesync check exit codes", () => {
  it("exits 2 on usage and configuration errors, 1 on a failed check", async () => {
    const usage = [
      [["check", "--kubeconfig", kubeconfig, "--context", "nope"], "unknown context nope"],
      [["check", "--kubeconfig", join(dir, "missing")], "does not exist"],
      [["check", "--kubeconfig", kubeconfig, "-o", "xml"], '"xml" is not one of table, json, short'],
      [["check", "--kubeconfig", kubeconfig, "--probe-remote"], "--probe-remote needs --probe"],
      [["check", "--kubeconfig", kubeconfig, "--wait", "soon"], "--wait: invalid duration"],
      [["check", "--kubeconfig", kubeconfig, "--nginx-workload", "Pod/a/b"], 'kind "Pod" is not supported'],
      [
        ["check", "--kubeconfig", kubeconfig, "--context", "solo", "--all-contexts"],
        "either --context or --all-contexts",
      ],
      [["check", "--bogus"], "unknown option"],
    ] as const;
    const runs = await Promise.all(usage.map(([args]) => cli([...args])));
    runs.forEach((r, i) => {
      expect(r.code, usage[i]![0].join(" ")).toBe(2);
      expect(r.stderr).toContain(usage[i]![1]);
    });

    // An unreachable cluster: one error, at the root, and everything that needs the cluster skipped.
    const dead = await cli(["check", "--kubeconfig", kubeconfig, "--context", "dead", "-o", "json"]);
    expect(dead.code).toBe(1);
    const deadReport = CheckReportSchema.parse(JSON.parse(dead.stdout));
    expect(checks(deadReport).filter((c) => c.result !== "skipped")).toEqual([
      expect.objectContaining({
        id: "links.api-server",
        result: "error",
        error: expect.stringContaining("cannot reach https://127.0.0.1:9"),
      }),
    ]);

    const ns = await namespace(solo, "zs-broken");
    await createLink(solo, ns, "east", { targetClusterName: "east", credentialsSecret: "missing" });
    const failed = await cli(["check", "--kubeconfig", kubeconfig, "--context", "solo", "-n", ns, "-o", "json"]);
    expect(failed.code).toBe(1);
    const report = CheckReportSchema.parse(JSON.parse(failed.stdout));
    expect(report.success).toBe(false);
    expect(find(report, "credentials.secret")).toMatchObject({
      result: "error",
      error: `${ns}/east: Secret ${ns}/missing does not exist`,
    });
    const short = await cli(["check", "--kubeconfig", kubeconfig, "--context", "solo", "-n", ns, "-o", "short"]);
    expect(short.code).toBe(1);
    expect(short.stdout).toContain(
      `× credentials.secret: every link's credentials Secret exists and holds a usable kubeconfig\n    ${ns}/east: Secret ${ns}/missing does not exist\n    fix: issue new credentials: zonesync link --context east --cluster-name east -n ${ns} --apply --to-context solo\n`,
    );
    expect(short.stdout).not.toContain("√");
  });
});

describe("zonesync check --probe", () => {
  it("runs the local subset only, fails on a missing Lease, and with --wait passes once it appears", async () => {
    const ns = await namespace(solo, "zs-probe");
    const tns = await namespace(east, "zs-probe-target");
    const sa = await targetServiceAccount(east, `probe-${ns}`, tns, true);
    await createSecret(
      solo,
      ns,
      "creds",
      await issuedKubeconfig(east, cluster("east"), sa, "east", 30 * 24 * 3600),
      sa,
    );
    await createLink(
      solo,
      ns,
      "east",
      { targetClusterName: "east", credentialsSecret: "creds", namespaces: [tns] },
      { standalone: true, lastSyncAgoMs: 0 },
    );
    await solo.create(Resources.deployments, controllerDeployment(ns, "east", "standalone"));
    await eventually(() => deploymentAvailable(solo, ns, controllerName("east")), 60_000, "the standalone controller");

    const args = ["check", "--probe", "--kubeconfig", kubeconfig, "--context", "solo", "-n", ns];
    const failing = await cli([...args, "-o", "json"]);
    expect(failing.code).toBe(1);
    const report = CheckReportSchema.parse(JSON.parse(failing.stdout));
    expect(checks(report).map((c) => c.id)).toEqual([
      "links.api-server",
      "links.crd-installed",
      "links.crd-version",
      "controllers.present",
      "controllers.mixed-modes",
      "controllers.exactly-one",
      "controllers.available",
      "controllers.lease",
      "credentials.secret",
      "credentials.token-expiry",
      "mirrors.name-conflicts",
      "mirrors.status-recent",
    ]);
    expect(find(report, "controllers.lease")).toMatchObject({
      result: "error",
      error: expect.stringContaining("does not exist"),
    });
    const short = await cli(args);
    expect(short.stdout).toMatch(/^× controllers\.lease: /);

    const remote = await cli([...args, "--probe-remote", "-o", "json"]);
    expect(checks(JSON.parse(remote.stdout) as CheckReport).find((c) => c.id === "credentials.access")).toMatchObject({
      result: "ok",
    });

    const waiting = cli([...args, "--wait", "60s"]);
    await sleep(1500);
    await createLease(solo, ns, "east", 0, 300);
    const waited = await waiting;
    expect(waited.stdout).toBe("Status check results are √ (12 passed, 0 warnings, 0 errors, 0 skipped)\n");
    expect(waited.code).toBe(0);
  });
});

describe("zonesync migrate", () => {
  it("prints the plan, and with --apply hands a standalone link over to the chart", async () => {
    const ns = await namespace(solo, "zs-migrate");
    const link = "mig";
    await installRelease(sharedEnv().helm4, env.clusters.solo!.kubeconfigPath, undefined, ns, {});
    await createSecret(solo, ns, "cluster-credentials-mig", "apiVersion: v1\nkind: Config\n", undefined, link);
    await createLink(
      solo,
      ns,
      link,
      { targetClusterName: "mig", credentialsSecret: "cluster-credentials-mig" },
      { standalone: true },
    );
    // As zonesync versions before standalone names of their own applied it: under the chart's names.
    await applyAll(
      solo,
      legacyNamed(standaloneControllerManifests({ link, namespace: ns, image: `${FAKE_IMAGE}:standalone` }), ns, link),
      "zonesync-test",
    );
    await eventually(() => deploymentAvailable(solo, ns, controllerName(link)), 60_000, "the standalone controller");

    const base = ["migrate", "--kubeconfig", kubeconfig, "--context", "solo", "-n", ns, "--link", link];
    const plan = await cli(base);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`Link ${ns}/mig: standalone → chart`);
    expect(plan.stdout).toContain(
      "    controllers:\n      - name: mig\n        credentialsSecret: cluster-credentials-mig\n",
    );
    for (const obj of [
      `ServiceAccount ${ns}/zonesync-link-mig`,
      `Role ${ns}/zonesync-link-mig`,
      "ClusterRole zonesync-link-mig",
      "ClusterRoleBinding zonesync-link-mig",
    ])
      expect(plan.stdout).toContain(`       - ${obj}\n`);
    expect(plan.stdout).toContain(
      `delete, keeping its ReplicaSet and pods (propagationPolicy=Orphan):\n       - Deployment ${ns}/zonesync-link-mig\n`,
    );
    expect(plan.stdout).toContain("Nothing was changed.");
    expect((await solo.get(Resources.zoneSyncLinks, ns, link)).metadata.labels?.["zonesync.io/controller-mode"]).toBe(
      "standalone",
    );

    const applied = await cli([...base, "--apply", "--helm", CHART, "--timeout", "90s"], {
      HELM_BIN: sharedEnv().helm4,
    });
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("Link mig is served by the chart now.");
    const deployment = await solo.get(Resources.deployments, ns, controllerName(link));
    expect(deployment.metadata.labels?.["zonesync.io/controller-mode"]).toBe("chart");
    expect(await deploymentAvailable(solo, ns, controllerName(link))).toBe(true);
    const leftovers = await solo.list(Resources.replicaSets, ns, {
      labelSelector: "zonesync.io/controller-mode=standalone",
    });
    expect(leftovers.items.filter((rs) => !rs.metadata.deletionTimestamp)).toEqual([]);
    const role = await solo.get(Resources.roles, ns, controllerName(link));
    expect(role.metadata.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "Helm",
      "zonesync.io/controller-mode": "chart",
    });
    // The standalone ClusterRole and binding went with the leftovers: the chart binds its shared mirrors role.
    expect(await solo.getOptional(Resources.clusterRoles, undefined, controllerName(link))).toBeUndefined();
    expect(await solo.getOptional(Resources.clusterRoleBindings, undefined, controllerName(link))).toBeUndefined();
    expect((await solo.get(Resources.zoneSyncLinks, ns, link)).metadata.labels?.["zonesync.io/controller-mode"]).toBe(
      "chart",
    );

    const after = await runChecks({
      clusters: [{ context: "solo", client: solo }],
      namespace: ns,
      select: (c) => c.category === "controllers",
    });
    expect(find(after, "controllers.mixed-modes").result).toBe("ok");
    expect(find(after, "controllers.standalone-legacy").result).toBe("ok");
    expect(find(after, "controllers.drift").result).toBe("ok");
    const again = await cli(base);
    expect(again.stdout).toContain("nothing to hand over");
  });
});

describe("both modes side by side", () => {
  it("runs old-style manifests next to a chart-managed link without touching the chart's objects; check names the migrate command; migrate removes them", async () => {
    const ns = await namespace(solo, "zs-side");
    const link = "side";
    await createSecret(solo, ns, "cluster-credentials-side", "apiVersion: v1\nkind: Config\n", undefined, link);
    await createLink(solo, ns, link, { targetClusterName: "side", credentialsSecret: "cluster-credentials-side" });
    await installRelease(sharedEnv().helm4, env.clusters.solo!.kubeconfigPath, undefined, ns, {
      controllers: [{ name: link, credentialsSecret: "cluster-credentials-side" }],
    });
    const chartObjects = [
      [Resources.deployments, ns],
      [Resources.serviceAccounts, ns],
      [Resources.roles, ns],
      [Resources.roleBindings, ns],
    ] as const;
    // What a change by someone else would move: the Deployment's generation (its status moves on its own), the
    // other objects' resourceVersion, and every label.
    const fingerprint = () =>
      Promise.all(
        chartObjects.map(async ([type, n]) => {
          const o = await solo.get(type, n, controllerName(link));
          return [
            type === Resources.deployments ? o.metadata.generation : o.metadata.resourceVersion,
            o.metadata.labels,
          ];
        }),
      );
    // Kubernetes 1.20's token controller adds a token Secret to a new ServiceAccount, which moves its
    // resourceVersion: wait for that before taking the fingerprint (seen racing it once in fresh-ci).
    await eventually(
      async () =>
        ((await solo.get<KubeObject & { secrets?: unknown[] }>(Resources.serviceAccounts, ns, controllerName(link)))
          .secrets?.length ?? 0) > 0,
      15_000,
      "the ServiceAccount's token Secret",
    );
    const before = await fingerprint();

    // `zonesync link --mode standalone | kubectl apply -f -` on the chart-managed link.
    const standalone = standaloneControllerManifests({ link, namespace: ns, image: `${FAKE_IMAGE}:standalone` });
    await applyAll(solo, standalone, "kubectl-client-side-apply");
    await eventually(() => deploymentAvailable(solo, ns, `zonesync-standalone-${link}`), 60_000, "the standalone one");
    expect(await fingerprint()).toEqual(before);
    expect((await solo.get(Resources.deployments, ns, controllerName(link))).metadata.labels).toMatchObject({
      "zonesync.io/controller-mode": "chart",
    });

    const mixed = await runChecks({
      clusters: [{ context: "solo", client: solo }],
      namespace: ns,
      select: (c) => c.category === "controllers",
    });
    const subject = find(mixed, "controllers.mixed-modes").details!.find((d) => d.subject === `${ns}/${link}`)!;
    expect(subject.result).toBe("error");
    expect(subject.hint).toMatch(new RegExp(`^zonesync migrate --link ${link} --context solo .*-n ${ns}.* --apply`));

    const applied = await cli(
      [
        "migrate",
        "--kubeconfig",
        kubeconfig,
        "--context",
        "solo",
        "-n",
        ns,
        "--link",
        link,
        "--apply",
        "--helm",
        CHART,
      ],
      { HELM_BIN: sharedEnv().helm4 },
    );
    expect(applied.code, applied.stderr).toBe(0);
    for (const obj of standalone) {
      const type = Object.values(Resources).find((t) => t.kind === obj.kind)!;
      const left = await solo.getOptional<KubeObject>(type, obj.metadata.namespace, obj.metadata.name!);
      expect(left === undefined || left.metadata.deletionTimestamp !== undefined, `${obj.kind} left`).toBe(true);
    }
    expect(await deploymentAvailable(solo, ns, controllerName(link))).toBe(true);
    const clean = await runChecks({
      clusters: [{ context: "solo", client: solo }],
      namespace: ns,
      select: (c) => c.category === "controllers",
    });
    expect(find(clean, "controllers.mixed-modes").result).toBe("ok");
    expect(find(clean, "controllers.cross-mode").result).toBe("ok");

    // Cross-mode conflicts: the chart's Deployment relabelled by another tool; a standalone one whose link is gone.
    await solo.patch(
      Resources.deployments,
      ns,
      controllerName(link),
      { metadata: { labels: { "zonesync.io/controller-mode": "standalone" } } },
      { fieldManager: "kubectl-label" },
    );
    await applyAll(
      solo,
      standaloneControllerManifests({ link: "gone", namespace: ns, image: `${FAKE_IMAGE}:standalone` }).filter(
        (o) => o.kind === "Deployment",
      ),
      "kubectl-client-side-apply",
    );
    const crossed = await runChecks({
      clusters: [{ context: "solo", client: solo }],
      namespace: ns,
      select: (c) => c.category === "controllers",
    });
    const details = find(crossed, "controllers.cross-mode").details!;
    expect(details.find((d) => d.subject === `${ns}/${controllerName(link)}`)).toMatchObject({
      result: "error",
      message: expect.stringContaining("belongs to Helm release zonesync but is labelled standalone"),
    });
    expect(details.find((d) => d.subject === `${ns}/zonesync-standalone-gone`)).toMatchObject({
      result: "warning",
      message: expect.stringContaining(`serves link ${ns}/gone, which is gone`),
      hint: expect.stringContaining(`zonesync unlink --cluster-name gone -n ${ns} --leftovers --context solo`),
    });
  });
});

/** Standalone manifests as zonesync versions before standalone names of their own wrote them: the chart's names. */
function legacyNamed(objects: KubeObject[], namespace: string, link: string): KubeObject[] {
  const json = JSON.stringify(objects)
    .replaceAll(`"zonesync-standalone-${namespace}-${link}"`, `"${controllerName(link)}"`)
    .replaceAll(`"zonesync-standalone-${link}"`, `"${controllerName(link)}"`);
  return JSON.parse(json) as KubeObject[];
}

describe("the manager when the ZoneSyncLink CRD is missing at start", () => {
  it("exits 1 after its sync timeout, is restarted (as Kubernetes would), and converges once the CRD is installed", async () => {
    const ns = await namespace(solo, "zs-nocrd");
    await installRelease(sharedEnv().helm4, env.clusters.solo!.kubeconfigPath, undefined, ns, {});
    const crdName = "zonesynclinks.zonesync.io";
    await solo.delete(Resources.crds, undefined, crdName);
    await eventually(async () => !(await solo.getOptional(Resources.crds, undefined, crdName)), 60_000, "CRD gone");

    // A restart loop like the kubelet's, around the real manager process.
    const exits: number[] = [];
    let supervising = true;
    let running: ReturnType<typeof execa> | undefined;
    const supervisor = (async () => {
      while (supervising) {
        running = execa(
          process.execPath,
          [
            join(REPO, "dist/src/cli/main.js"),
            "manager",
            "--namespace",
            ns,
            "--kubeconfig",
            env.clusters.solo!.kubeconfigPath,
            "--sync-timeout",
            "3s",
            "--http-addr",
            "127.0.0.1:0",
          ],
          { reject: false, env: { HELM_BIN: sharedEnv().helm4 } },
        );
        const result = await running;
        if (supervising) exits.push(result.exitCode ?? -1);
        await sleep(500);
      }
    })();
    try {
      await eventually(async () => exits.length >= 2, 60_000, "two failed starts");
      expect(exits.every((code) => code === 1)).toBe(true);

      const installed = Date.now();
      await ensureCrd(solo);
      await createSecret(solo, ns, "cluster-credentials-late", "apiVersion: v1\nkind: Config\n", undefined, "late");
      await createLink(solo, ns, "late", { targetClusterName: "late", credentialsSecret: "cluster-credentials-late" });
      const values = await eventually(
        async () => {
          const got = await exec(sharedEnv().helm4, [
            "get",
            "values",
            "zonesync",
            "-n",
            ns,
            "--kubeconfig",
            env.clusters.solo!.kubeconfigPath,
            "-o",
            "json",
          ]);
          const parsed = JSON.parse(got.stdout) as { controllers?: Array<{ name: string }> };
          return parsed.controllers?.some((e) => e.name === "late") && parsed;
        },
        60_000,
        "the link's entry in the release",
      );
      expect(values.controllers).toEqual([{ name: "late", credentialsSecret: "cluster-credentials-late" }]);
      console.log(
        `[figures] manager with the CRD missing: ${exits.length} exits (code 1), entry applied ` +
          `${((Date.now() - installed) / 1000).toFixed(1)} s after the CRD was installed`,
      );
    } finally {
      supervising = false;
      running?.kill("SIGTERM");
      await supervisor;
      await ensureCrd(solo);
    }
  });
});

describe("a stopped target API server", () => {
  it("fails the TCP check for that link and skips TLS, version and access", async () => {
    const hub = adminClient("hub");
    const ns = await namespace(hub, "zs-down");
    const sa = await targetServiceAccount(solo, `down-${ns}`, "default", true);
    const s = env.clusters.solo!;
    await createSecret(
      hub,
      ns,
      "creds",
      await issuedKubeconfig(solo, { server: s.server, caPem: s.caPem }, sa, "solo"),
      sa,
    );
    await createLink(hub, ns, "solo", { targetClusterName: "solo", credentialsSecret: "creds" });
    await s.stopApiserver();
    const report = await runChecks({
      clusters: [{ context: "hub", client: hub }],
      namespace: ns,
      select: (c) => c.category === "credentials",
    });
    const subjectOf = (id: string) => find(report, id).details!.find((d) => d.subject === `${ns}/solo`)!;
    expect(subjectOf("credentials.dns")).toMatchObject({ result: "ok" });
    expect(subjectOf("credentials.tcp")).toMatchObject({
      result: "error",
      message: expect.stringContaining("ECONNREFUSED"),
    });
    expect(subjectOf("credentials.tcp").hint).toContain("apiServerAddress");
    for (const id of ["credentials.tls", "credentials.server-version", "credentials.access"])
      expect(subjectOf(id).result, id).toBe("skipped");
  });
});
