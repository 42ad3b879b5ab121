/**
 * `zonesync check` against the shared real clusters: every failure path constructed for real (a deleted Secret, a
 * token without RBAC, an expired token, an orphan values entry, a chart and a standalone controller for one link, a
 * drifted Deployment, an unavailable controller, an expired Lease, orphaned, empty and stale mirrors, a bad NGINX
 * ConfigMap, a credentials Secret with an exec plugin), and the checks across clusters. The passing side of each check, the CLI and `migrate` are in
 * check-cli.test.ts (on a private cluster, where cluster-wide checks see nothing of other tests).
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { ANNOTATION_WORKLOAD, ownedLabels } from "../../src/zonesync/objects.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controllerName } from "../../src/api/names.ts";
import { runChecks } from "../../src/check/run.ts";
import { CheckReportSchema } from "../../src/check/schema.ts";
import type { CheckReport, CheckResult } from "../../src/check/types.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import { adminClient, cluster, createNamespace, eventually, sharedEnv, uniqueName } from "../support.ts";
import {
  controllerDeployment,
  createLease,
  createLink,
  createMirror,
  createSecret,
  deploymentAvailable,
  ensureCrd,
  expiredToken,
  installRelease,
  issuedKubeconfig,
  targetServiceAccount,
} from "./check-fixtures.ts";
import { remoteKubeconfig } from "../../src/link/credentials.ts";

let hub: KubeClient;
let east: KubeClient;
let west: KubeClient;
const namespaces: Array<[KubeClient, string]> = [];

async function namespace(client: KubeClient, prefix: string, name = uniqueName(prefix)): Promise<string> {
  await createNamespace(client, name);
  namespaces.push([client, name]);
  return name;
}

function servers(): Map<string, string> {
  return new Map(Object.values(sharedEnv().clusters).map((c) => [c.name, c.server]));
}

function find(report: CheckReport, id: string, context = report.clusters[0]!.context): CheckResult {
  const check = report.clusters
    .find((c) => c.context === context)
    ?.categories.flatMap((c) => c.checks)
    .find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id} for ${context}`);
  return check;
}

function subject(check: CheckResult, name: string) {
  const found = check.details?.find((d) => d.subject === name);
  if (!found) throw new Error(`${check.id} has no subject ${name}: ${JSON.stringify(check.details)}`);
  return found;
}

beforeAll(async () => {
  hub = adminClient("hub");
  east = adminClient("east");
  west = adminClient("west");
  await Promise.all([hub, east, west].map(ensureCrd));
});

afterAll(async () => {
  await Promise.all(namespaces.map(([client, ns]) => client.delete(Resources.namespaces, undefined, ns)));
});

describe("zonesync check on real clusters: failures", () => {
  it("finds every broken thing, says how to fix it, and skips what depends on it", async () => {
    const sfx = uniqueName("x").slice(2);
    const ns = await namespace(hub, "zs-check");
    const other = await namespace(hub, "zs-check-other");
    const tns = await namespace(east, "zs-check-target");
    const eastAddress = cluster("east");
    const names = {
      good: `good-${sfx}`,
      gone: `gone-${sfx}`,
      norbac: `norbac-${sfx}`,
      expired: `expired-${sfx}`,
      both: `both-${sfx}`,
      legacy: `legacy-${sfx}`,
      none: `none-${sfx}`,
      invalid: `invalid-${sfx}`,
      dup: `dup-${sfx}`,
      ghost: `ghost-${sfx}`,
      plugin: `plugin-${sfx}`,
    };
    const key = (link: string) => `${ns}/${link}`;

    // Credentials: a granted identity, one without RBAC, an expired token, a Secret that was deleted.
    // Read access in the links' one namespace only (zonesync allow --namespaces): enough for every check.
    const granted = await targetServiceAccount(east, `check-${sfx}`, tns, { namespaces: [tns] });
    const ungranted = await targetServiceAccount(east, `check-norbac-${sfx}`, tns, false);
    const goodConfig = await issuedKubeconfig(east, eastAddress, granted, "east");
    await createSecret(hub, ns, `creds-${names.good}`, goodConfig, granted);
    await createSecret(
      hub,
      ns,
      `creds-${names.norbac}`,
      await issuedKubeconfig(east, eastAddress, ungranted, "east"),
      ungranted,
    );
    const expired = await expiredToken(eastAddress.dir, "east", granted);
    await createSecret(
      hub,
      ns,
      `creds-${names.expired}`,
      remoteKubeconfig({ clusterName: "east", server: eastAddress.server, caPem: eastAddress.caPem, token: expired }),
    );
    // A Secret whose kubeconfig would run a program and read a file of whoever runs `zonesync check`.
    const marker = join(mkdtempSync(join(tmpdir(), "zonesync-exec-")), "ran");
    const hostile = parse(goodConfig) as { users: Array<{ user: Record<string, unknown> }> };
    hostile.users[0]!.user = {
      exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh", args: ["-c", `touch ${marker}`] },
    };
    await createSecret(hub, ns, `creds-${names.plugin}`, stringify(hostile));
    await createSecret(hub, ns, `creds-${names.gone}`, goodConfig);
    await hub.delete(Resources.secrets, ns, `creds-${names.gone}`);
    for (const link of [names.both, names.legacy, names.none, names.invalid, names.dup])
      await createSecret(hub, ns, `creds-${link}`, goodConfig, granted);

    const spec = (link: string, target = `east-${link}`) => ({
      targetClusterName: target,
      credentialsSecret: `creds-${link}`,
      namespaces: [tns],
    });
    await createLink(hub, ns, names.good, spec(names.good, `east-${sfx}`), { lastSyncAgoMs: 60 * 60_000 });
    await createLink(hub, ns, names.dup, spec(names.dup, `east-${sfx}`));
    await createLink(hub, ns, names.gone, spec(names.gone));
    await createLink(hub, ns, names.norbac, spec(names.norbac));
    await createLink(hub, ns, names.expired, spec(names.expired));
    await createLink(hub, ns, names.both, spec(names.both));
    await createLink(hub, ns, names.legacy, spec(names.legacy), { standalone: true });
    await createLink(hub, ns, names.none, spec(names.none));
    await createLink(hub, ns, names.invalid, { ...spec(names.invalid), staleAfter: "1s" });
    await createLink(hub, ns, names.plugin, spec(names.plugin));
    // What a link controller reports when local objects hold mirrors' names.
    await hub.patch(
      Resources.zoneSyncLinks,
      ns,
      names.dup,
      { status: { nameConflicts: [`Service ${ns}/web-east`, `Service ${ns}/api-east`] } },
      { subresource: "status" },
    );

    // Controllers: the release has entries for good, both and an orphan "ghost"; both also has a standalone
    // controller in another namespace; legacy is standalone only, and pinned to a node nobody plays (unavailable).
    await installRelease(sharedEnv().helm4, sharedEnv().kubeconfigPath, "hub", ns, {
      controllers: [
        { name: names.good, credentialsSecret: `creds-${names.good}` },
        { name: names.both, credentialsSecret: `creds-${names.both}` },
        { name: names.ghost },
      ],
    });
    await hub.create(
      Resources.deployments,
      controllerDeployment(other, names.both, "standalone", { linkNamespace: ns }),
    );
    await hub.create(
      Resources.deployments,
      controllerDeployment(ns, names.legacy, "standalone", { nodeName: "nowhere" }),
    );
    await eventually(() => deploymentAvailable(hub, ns, controllerName(names.good)), 60_000, "the chart controller");
    // Drift: someone scaled the chart's Deployment by hand.
    await hub.patch(Resources.deployments, ns, controllerName(names.good), { spec: { replicas: 2 } });
    await createLease(hub, ns, names.good, 10 * 60_000);
    await createLease(hub, ns, names.both);

    // Mirrors: one of a deleted link, one without endpoints, one whose source Service does not exist.
    await east.create(Resources.services, {
      metadata: { name: "web", namespace: tns, labels: { "zonesync.io/exported": "true" } },
      spec: { ports: [{ port: 80 }] },
    } as KubeObject);
    const orphan = await createMirror(hub, ns, `deleted-${sfx}`, "east", { namespace: tns, name: "old" }, 1);
    const empty = await createMirror(hub, ns, names.good, `east-${sfx}`, { namespace: tns, name: "web" }, 0);
    const stale = await createMirror(hub, ns, names.good, `east-${sfx}`, { namespace: tns, name: "vanished" }, 1);

    // Zone-sync: an invalid port.
    await hub.create(Resources.configMaps, {
      metadata: { name: "nginx-config", namespace: ns },
      data: { "zone-sync": "true", "zone-sync-port": "99999" },
    } as KubeObject);

    const report = await runChecks({
      clusters: [{ context: "hub", client: hub }],
      kubeconfigServers: servers(),
      namespace: ns,
      nginxConfigMap: `${ns}/nginx-config`,
      nginxWorkload: `Deployment/${ns}/nginx`,
    });
    expect(CheckReportSchema.parse(report)).toEqual(report);
    expect(report.success).toBe(false);

    // links
    expect(subject(find(report, "links.valid"), key(names.invalid))).toMatchObject({
      result: "error",
      message: expect.stringContaining("spec.staleAfter: must be at least 5s"),
    });
    expect(find(report, "links.unique-targets")).toMatchObject({
      result: "error",
      error: expect.stringContaining(`all target "east-${sfx}"`),
    });
    // controllers and modes
    expect(subject(find(report, "controllers.present"), key(names.none))).toMatchObject({
      result: "error",
      message: expect.stringContaining("no controller"),
    });
    expect(subject(find(report, "controllers.present"), key(names.invalid))).toMatchObject({ result: "skipped" });
    const mixed = subject(find(report, "controllers.mixed-modes"), key(names.both));
    expect(mixed).toMatchObject({
      result: "error",
      message: expect.stringContaining(`standalone Deployment ${other}/${controllerName(names.both)}`),
    });
    expect(mixed.hint).toContain(`zonesync migrate --link ${names.both} --context hub -n ${ns}`);
    expect(subject(find(report, "controllers.standalone-legacy"), key(names.legacy))).toMatchObject({
      result: "warning",
      hint: expect.stringContaining(`zonesync migrate --link ${names.legacy}`),
    });
    expect(find(report, "controllers.orphan-entries")).toMatchObject({
      result: "error",
      error: expect.stringContaining(names.ghost),
      hint: expect.stringContaining(`- name: ${names.ghost}`),
    });
    expect(subject(find(report, "controllers.drift"), `${ns}/${controllerName(names.good)}`)).toMatchObject({
      result: "warning",
      message: expect.stringContaining("replicas 2, values say 1"),
    });
    expect(subject(find(report, "controllers.drift"), `${ns}/${controllerName(names.both)}`)).toMatchObject({
      result: "ok",
    });
    expect(subject(find(report, "controllers.available"), `${ns}/${controllerName(names.legacy)}`)).toMatchObject({
      result: "error",
      message: expect.stringContaining("not available"),
    });
    expect(subject(find(report, "controllers.lease"), key(names.good))).toMatchObject({
      result: "error",
      message: expect.stringMatching(/expired .* ago/),
    });
    expect(subject(find(report, "controllers.lease"), key(names.both))).toMatchObject({ result: "ok" });
    // credentials
    const secret = find(report, "credentials.secret");
    expect(subject(secret, key(names.gone))).toMatchObject({
      result: "error",
      message: `Secret ${ns}/creds-${names.gone} does not exist`,
      hint: expect.stringContaining("zonesync link --context"),
    });
    expect(subject(secret, key(names.plugin))).toMatchObject({
      result: "error",
      message: expect.stringContaining("uses an exec plugin: refused"),
    });
    expect(existsSync(marker)).toBe(false);
    expect(subject(find(report, "credentials.dns"), key(names.gone))).toMatchObject({
      result: "skipped",
      message: "credentials.secret did not pass",
    });
    expect(subject(find(report, "credentials.dns"), key(names.good))).toMatchObject({ result: "ok" });
    expect(subject(find(report, "credentials.token-expiry"), key(names.expired))).toMatchObject({
      result: "error",
      message: expect.stringContaining("expired"),
    });
    expect(subject(find(report, "credentials.token-expiry"), key(names.good))).toMatchObject({
      result: "warning",
      message: expect.stringContaining("expires in"),
    });
    const access = find(report, "credentials.access");
    expect(subject(access, key(names.norbac))).toMatchObject({
      result: "error",
      message: expect.stringContaining("list services"),
    });
    expect(subject(access, key(names.norbac)).hint).toContain(
      `zonesync allow --context <target-context> --source check-norbac-${sfx} -n ${tns} --apply`,
    );
    expect(subject(access, key(names.expired))).toMatchObject({
      result: "error",
      message: expect.stringContaining("401"),
    });
    expect(subject(access, key(names.good))).toMatchObject({ result: "ok", message: "6 permissions granted" });
    // mirrors
    expect(subject(find(report, "mirrors.name-conflicts"), key(names.dup))).toMatchObject({
      result: "error",
      message: `2 local objects have a mirror's name but were not created by link ${names.dup}, so those mirrors are not written: Service ${ns}/web-east, Service ${ns}/api-east`,
      hint: expect.stringContaining(`-n ${ns} delete service web-east`),
    });
    expect(subject(find(report, "mirrors.name-conflicts"), key(names.good))).toMatchObject({ result: "ok" });
    expect(find(report, "mirrors.orphaned")).toMatchObject({
      result: "error",
      error: expect.stringContaining(`${ns}/${orphan}`),
      hint: expect.stringContaining(`zonesync.io/link=deleted-${sfx}`),
    });
    expect(subject(find(report, "mirrors.endpoints"), key(names.good))).toMatchObject({
      result: "warning",
      message: expect.stringContaining(`${ns}/${empty}`),
    });
    const staleSubject = subject(find(report, "mirrors.stale"), key(names.good));
    expect(staleSubject).toMatchObject({ result: "warning", message: expect.stringContaining(`${ns}/${stale}`) });
    expect(staleSubject.message).not.toContain(`${ns}/${empty}`);
    expect(subject(find(report, "mirrors.status-recent"), key(names.good))).toMatchObject({
      result: "warning",
      message: expect.stringContaining("last synced 1h ago"),
    });
    // zone-sync
    expect(find(report, "zone-sync.config")).toMatchObject({
      result: "error",
      error: expect.stringContaining("zone-sync-port"),
    });
    expect(find(report, "zone-sync.peer-service")).toMatchObject({ result: "skipped" });
    // across clusters
    expect(find(report, "multicluster.unique-targets")).toMatchObject({
      result: "error",
      error: expect.stringContaining(eastAddress.server),
    });
  });

  it("checks the NGINX peer Service's selector", async () => {
    const ns = await namespace(hub, "zs-check-nginx");
    await hub.create(Resources.configMaps, {
      metadata: { name: "nginx-config", namespace: ns },
      data: { "zone-sync": "true" },
    } as KubeObject);
    const labels = { app: "nginx", tier: "edge" };
    await hub.create(Resources.deployments, {
      metadata: { name: "nginx", namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "nginx", image: "example.test/nginx" }] } },
      },
    } as KubeObject);
    await hub.create(Resources.services, {
      metadata: { name: "nginx-deployment-hl", namespace: ns },
      spec: { clusterIP: "None", selector: { app: "nginx" }, ports: [{ port: 12345 }] },
    } as KubeObject);
    const check = () =>
      runChecks({
        clusters: [{ context: "hub", client: hub }],
        namespace: ns,
        nginxConfigMap: `${ns}/nginx-config`,
        nginxWorkload: `Deployment/${ns}/nginx`,
        select: (c) => c.category === "zone-sync",
      });
    // A Service of the peer Service's name that zonesync did not create is a name conflict.
    expect(find(await check(), "zone-sync.peer-service")).toMatchObject({
      result: "error",
      error: expect.stringContaining(
        `Service ${ns}/nginx-deployment-hl has the peer Service's name but was not created by zonesync`,
      ),
    });
    await hub.patch(Resources.services, ns, "nginx-deployment-hl", {
      metadata: { labels: ownedLabels(true), annotations: { [ANNOTATION_WORKLOAD]: `Deployment/${ns}/nginx` } },
    });
    const report = await check();
    expect(find(report, "zone-sync.config")).toMatchObject({
      result: "ok",
      message: "zone-sync enabled on port 12345",
    });
    expect(find(report, "zone-sync.peer-service")).toMatchObject({
      result: "error",
      error: expect.stringContaining(
        'its selector {"app":"nginx"} is not the workload\'s {"app":"nginx","tier":"edge"}',
      ),
    });
    expect(find(report, "zone-sync.peer-endpoints")).toMatchObject({ result: "skipped" });
  });
});

describe("zonesync check across clusters", () => {
  it("matches links to contexts, finds a link to the wrong cluster, and checks a mesh", async () => {
    const ns = uniqueName("zs-mesh");
    await Promise.all([hub, east, west].map((c) => namespace(c, "", ns)));
    const [hubInfo, eastInfo] = [cluster("hub"), cluster("east")];
    const toEast = await targetServiceAccount(east, `mesh-hub-${ns}`, ns, true);
    const toHub = await targetServiceAccount(hub, `mesh-east-${ns}`, ns, true);
    const hubToEast = await issuedKubeconfig(east, eastInfo, toEast, "east");
    await createSecret(hub, ns, "creds-east", hubToEast, toEast);
    await createSecret(hub, ns, "creds-wrong", hubToEast, toEast);
    await createSecret(east, ns, "creds-hub", await issuedKubeconfig(hub, hubInfo, toHub, "hub"), toHub);
    await createLink(hub, ns, "east", { targetClusterName: "east", credentialsSecret: "creds-east", namespaces: [ns] });
    await createLink(east, ns, "hub", { targetClusterName: "hub", credentialsSecret: "creds-hub", namespaces: [ns] });

    const check = (contexts: string[]) =>
      runChecks({
        clusters: contexts.map((context) => ({ context, client: adminClient(context) })),
        kubeconfigServers: servers(),
        namespace: ns,
        expectMesh: true,
        select: (c) => c.category === "links" || c.id === "credentials.secret" || c.category === "multicluster",
      });

    const pair = await check(["hub", "east"]);
    expect(pair.clusters.map((c) => c.context)).toEqual(["hub", "east"]);
    expect(find(pair, "multicluster.symmetric", "hub")).toMatchObject({ result: "ok", message: "links to east" });
    expect(find(pair, "multicluster.symmetric", "east")).toMatchObject({ result: "ok", message: "links to hub" });
    expect(subject(find(pair, "multicluster.target-address", "hub"), `${ns}/east`)).toMatchObject({
      result: "ok",
      message: `${eastInfo.server} = context east`,
    });
    expect(find(pair, "multicluster.unique-targets", "hub")).toMatchObject({ result: "ok" });

    // A link that names west but points at east's API server; and west joins without links.
    await createLink(hub, ns, "west", {
      targetClusterName: "west",
      credentialsSecret: "creds-wrong",
      namespaces: [ns],
    });
    const three = await check(["hub", "east", "west"]);
    const wrong = subject(find(three, "multicluster.target-address", "hub"), `${ns}/west`);
    expect(wrong).toMatchObject({
      result: "error",
      message: `points at ${eastInfo.server}, which is context east, not west (${cluster("west").server})`,
    });
    expect(find(three, "multicluster.unique-targets", "hub")).toMatchObject({
      result: "error",
      error: expect.stringContaining("east, west all point at"),
    });
    expect(find(three, "multicluster.symmetric", "hub")).toMatchObject({ result: "ok" }); // hub's "west" link counts by name
    expect(find(three, "multicluster.symmetric", "east")).toMatchObject({
      result: "error",
      error: "no link from east to west",
      hint: expect.stringContaining("zonesync link --context west --cluster-name west"),
    });
    expect(find(three, "multicluster.symmetric", "west")).toMatchObject({
      result: "error",
      error: "no link from west to hub, east",
    });
    expect(three.success).toBe(false);
  });
});
