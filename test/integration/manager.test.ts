import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Helm } from "../../src/helm/helm.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { EventRecorder } from "../../src/kube/events.ts";
import { Resources, type ResourceType } from "../../src/kube/resources.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { ServerDryRun } from "../../src/manager/entry-check.ts";
import { HelmReleaseBackend } from "../../src/manager/helm-backend.ts";
import { credentialsSecret } from "../../src/link/credentials.ts";
import { Manager } from "../../src/manager/manager.ts";
import { MANAGER_OPERATION_LABEL, type ReleaseBackend } from "../../src/manager/release.ts";
import { bundledChartPath, bundledCrdPath } from "../../src/paths.ts";
import { kubeconfigYaml } from "../env/index.ts";
import { adminClient, cluster, createNamespace, eventually, sharedEnv, uniqueName } from "../support.ts";
import { sleep } from "../../src/sleep.ts";

/**
 * The manager against a real API server and the real Helm binaries: ZoneSyncLinks in, a Helm release with the
 * controllers: entries out, link controller Deployments made available by the pod simulator.
 */

const hub = adminClient("hub");
const resourceQuotas: ResourceType = {
  group: "",
  version: "v1",
  plural: "resourcequotas",
  kind: "ResourceQuota",
  namespaced: true,
};
const running: Manager[] = [];

interface LinkStatus {
  mode?: string;
  valuesHash?: string;
  conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
}
type Link = KubeObject & { spec: Record<string, unknown>; status?: LinkStatus };

/** A real backend that also counts the upgrades it ran. */
class CountingBackend implements ReleaseBackend {
  upgrades = 0;
  rollbacks = 0;
  private readonly inner: ReleaseBackend;
  constructor(inner: ReleaseBackend) {
    this.inner = inner;
  }
  snapshot() {
    return this.inner.snapshot();
  }
  async upgrade(values: Record<string, unknown>, options: { operation: string; signal?: AbortSignal }) {
    const result = await this.inner.upgrade(values, options);
    this.upgrades++;
    return result;
  }
  async rollback(revision: number, options: { signal?: AbortSignal }) {
    await this.inner.rollback(revision, options);
    this.rollbacks++;
  }
}

function helmFor(binary: string): Helm {
  return new Helm({ binary, kubeconfig: cluster("hub").kubeconfigPath });
}

async function startManager(
  namespace: string,
  options: { helm?: Helm; baseValues?: Record<string, unknown>; apply?: boolean; chart?: string } = {},
) {
  const helm = options.helm ?? helmFor(sharedEnv().helm4);
  const backend = new CountingBackend(
    new HelmReleaseBackend({
      helm,
      client: hub,
      release: "zonesync",
      namespace,
      chart: options.chart ?? bundledChartPath(),
      timeout: "2m",
    }),
  );
  const logger = process.env.ZONESYNC_TEST_LOGS ? createLogger({ format: "text", level: "debug" }) : silentLogger();
  const dryRun = new ServerDryRun({
    helm,
    client: hub,
    release: "zonesync",
    namespace,
    chart: options.chart ?? bundledChartPath(),
    logger,
  });
  const manager = new Manager({
    client: hub,
    namespace,
    backend,
    apply: options.apply ?? true,
    validator: (values, links) => dryRun.rejected(values, links),
    baseValues: options.baseValues ?? { manager: { enabled: false } },
    events: new EventRecorder({ client: hub, component: "zonesync-manager", logger }),
    logger,
    coalesceMs: 500,
  });
  await manager.start();
  running.push(manager);
  return { manager, backend, helm };
}

function linkObject(
  namespace: string,
  name: string,
  controller?: Record<string, unknown>,
  labels: Record<string, string> = {},
): Link {
  return {
    apiVersion: "zonesync.io/v1alpha1",
    kind: "ZoneSyncLink",
    metadata: { name, namespace, labels },
    spec: {
      targetClusterName: name,
      credentialsSecret: `cluster-credentials-${name}`,
      selector: { matchLabels: { "zonesync.io/exported": "true" } },
      ...(controller ? { controller } : {}),
    },
  };
}

/** The link with its credentials Secret as `zonesync link` writes it (typed, labelled for the link). */
async function createLink(link: Link): Promise<void> {
  const { name, namespace } = link.metadata;
  await hub.create(
    Resources.secrets,
    credentialsSecret({ clusterName: name!, namespace: namespace!, kubeconfig: "apiVersion: v1\nkind: Config\n" }),
  );
  await hub.create(Resources.zoneSyncLinks, link);
}

/**
 * An upgrade of the manager's (its operation label) that waits for a controller that never gets ready (its
 * credentials are not a kubeconfig), killed like an evicted pod's helm: the release stays pending-upgrade.
 */
async function killUpgradeMidWay(helm: Helm, namespace: string, link: string, operation: string): Promise<void> {
  const killed = execa(
    helm.binary,
    [
      "upgrade",
      "zonesync",
      bundledChartPath(),
      "--namespace",
      namespace,
      "--kubeconfig",
      cluster("hub").kubeconfigPath,
      "--reuse-values",
      "--values",
      "-",
      "--wait",
      "--timeout",
      "5m",
      "--labels",
      `${MANAGER_OPERATION_LABEL}=${operation}`,
    ],
    {
      reject: false,
      input: JSON.stringify({
        controllers: [{ name: link, credentialsSecret: `cluster-credentials-${link}`, replicas: 1 }],
      }),
    },
  );
  let exited = false;
  void killed.finally(() => (exited = true));
  const pendingOrExited = await eventually(
    async () => {
      if (exited) return "exited";
      return (await helm.history("zonesync", namespace)).at(-1)?.status === "pending-upgrade" && "pending";
    },
    30_000,
    "the pending-upgrade revision",
  );
  if (pendingOrExited === "exited") {
    const early = await killed;
    throw new Error(`helm ended before it was killed (exit ${early.exitCode}): ${early.stderr}`);
  }
  killed.kill("SIGKILL");
  await killed;
  expect((await helm.history("zonesync", namespace)).at(-1)?.status).toBe("pending-upgrade");
}

type Entry = { name: string; replicas?: number; logLevel?: string };
async function releaseEntries(helm: Helm, namespace: string): Promise<Entry[]> {
  const values = await helm.getValues("zonesync", namespace);
  return (values.controllers as Entry[] | undefined) ?? [];
}

async function events(client: KubeClient, namespace: string, reason: string): Promise<KubeObject[]> {
  const list = await client.list<KubeObject & { reason?: string }>(Resources.events, namespace);
  return list.items.filter((e) => e.reason === reason);
}

beforeAll(async () => {
  const crd = parse(readFileSync(bundledCrdPath(), "utf8")) as KubeObject;
  await hub.apply(Resources.crds, crd, { fieldManager: "zonesync-tests" });
  await eventually(() => hub.list(Resources.zoneSyncLinks, "default"), 15_000, "the CRD to be served");
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

describe.each([
  ["Helm 4", () => sharedEnv().helm4],
  ["Helm 3", () => sharedEnv().helm3],
])("the manager with %s", (_label, helmBinary) => {
  it("turns a link into a controllers entry and an available link controller Deployment; upgrades once per real change", async () => {
    const namespace = uniqueName("mgr");
    await createNamespace(hub, namespace);
    const name = uniqueName("east");
    // replicas 0 for the controller: this test is about the manager, not the link controller process.
    await createLink(linkObject(namespace, name, { replicas: 0, logLevel: "debug" }));
    const { backend, helm } = await startManager(namespace, { helm: helmFor(helmBinary()) });

    const deployment = await eventually(
      () =>
        hub.getOptional<
          KubeObject & { spec: { replicas: number; template: { spec: { containers: Array<{ args: string[] }> } } } }
        >(Resources.deployments, namespace, `zonesync-link-${name}`),
      60_000,
      "the link controller Deployment",
    );
    expect(deployment.metadata.labels).toMatchObject({
      "zonesync.io/link": name,
      "zonesync.io/controller-mode": "chart",
    });
    expect(deployment.spec.template.spec.containers[0]!.args).toEqual(
      expect.arrayContaining(["link-controller", "--link", name, "--namespace", namespace, "--log-level", "debug"]),
    );
    expect(await releaseEntries(helm, namespace)).toEqual([
      { name, credentialsSecret: `cluster-credentials-${name}`, replicas: 0, logLevel: "debug" },
    ]);
    await eventually(async () => backend.upgrades === 1, 30_000, "the helm process to return");

    const status = await eventually(
      async () => {
        const link = await hub.get<Link>(Resources.zoneSyncLinks, namespace, name);
        return link.status?.mode === "chart" && link.status.valuesHash ? link.status : undefined;
      },
      15_000,
      "the link's status",
    );
    expect(status.conditions?.find((c) => c.type === "ControllerReady")).toMatchObject({
      status: "False",
      reason: "ScaledToZero",
    });

    // A real change: exactly one upgrade.
    await hub.patch(Resources.zoneSyncLinks, namespace, name, {
      spec: { controller: { replicas: 1, logLevel: "debug" } },
    });
    await eventually(
      async () => (await releaseEntries(helm, namespace))[0]?.replicas === 1,
      30_000,
      "replicas 1 in the release",
    );
    await eventually(
      async () =>
        (
          await hub.get<KubeObject & { spec: { replicas: number } }>(
            Resources.deployments,
            namespace,
            `zonesync-link-${name}`,
          )
        ).spec.replicas === 1,
      15_000,
    );
    // The release and the Deployment show the change before the helm process itself has returned.
    await eventually(async () => backend.upgrades === 2, 30_000, "the upgrade to finish");

    // 100 changes that do not change the rendered values: no upgrade.
    for (let i = 0; i < 100; i++) {
      await hub.patch(Resources.zoneSyncLinks, namespace, name, {
        metadata: { annotations: { "test/resync": String(i) } },
      });
    }
    await sleep(2500);
    expect(backend.upgrades).toBe(2);
    const history = await helm.history("zonesync", namespace);
    expect(history).toHaveLength(2);
  });

  it("recovers by itself from its helm killed mid-upgrade five times in a row: every later change is applied", async () => {
    const namespace = uniqueName("stuck");
    await createNamespace(hub, namespace);
    const name = uniqueName("east");
    await createLink(linkObject(namespace, name, { replicas: 0 }));
    const first = await startManager(namespace, { helm: helmFor(helmBinary()) });
    await eventually(async () => first.backend.upgrades === 1, 60_000, "the first upgrade");
    const helm = first.helm;
    let manager = first.manager;
    const levels = ["debug", "warn", "error", "info", "debug"];
    const recoveries: number[] = [];
    let rollbacks = 0;
    for (const [round, level] of levels.entries()) {
      // The manager's pod dies, and its helm with it, mid-upgrade; the next leader finds the release pending.
      running.splice(running.indexOf(manager), 1);
      await manager.stop({ graceMs: 0 });
      await killUpgradeMidWay(helm, namespace, name, `killed-${round}`);
      const next = await startManager(namespace, { helm });
      manager = next.manager;
      const changed = Date.now();
      await hub.patch(Resources.zoneSyncLinks, namespace, name, {
        spec: { controller: { replicas: 0, logLevel: level } },
      });
      const deployment = await eventually(
        async () => {
          const d = await hub.get<
            KubeObject & { spec: { replicas: number; template: { spec: { containers: Array<{ args: string[] }> } } } }
          >(Resources.deployments, namespace, `zonesync-link-${name}`);
          const args = d.spec.template.spec.containers[0]!.args;
          return args[args.indexOf("--log-level") + 1] === level && d.spec.replicas === 0 ? d : undefined;
        },
        60_000,
        `round ${round}: the change to reach the Deployment`,
      );
      recoveries.push(Date.now() - changed);
      expect(deployment.spec.replicas).toBe(0);
      rollbacks += next.backend.rollbacks;
      expect(rollbacks).toBe(round + 1);
      // The Deployment shows the change while helm may still be finishing its upgrade.
      await eventually(
        async () => (await helm.history("zonesync", namespace)).at(-1)?.status === "deployed",
        60_000,
        `round ${round}: the upgrade to be deployed`,
      );
    }
    console.log(`[figures] ${helmBinary()}: link change → Deployment after a killed helm: ${recoveries.join(", ")} ms`);
    const recovered = await eventually(async () => {
      const list = await events(hub, namespace, "ReleaseRecovered");
      return list.length > 0 && (list[0] as KubeObject & { message?: string; count?: number });
    }, 15_000);
    expect(recovered.message).toMatch(
      /left pending-upgrade at revision \d+ by an upgrade of the manager's that was interrupted: rolled back to revision \d+/,
    );
  });

  it("keeps a person's helm upgrade --reuse-values --set through later link changes", async () => {
    const namespace = uniqueName("person");
    await createNamespace(hub, namespace);
    const name = uniqueName("east");
    await createLink(linkObject(namespace, name, { replicas: 0 }));
    const { backend, helm } = await startManager(namespace, { helm: helmFor(helmBinary()) });
    await eventually(async () => backend.upgrades === 1, 60_000, "the first upgrade");
    const person = await execa(helmBinary(), [
      "upgrade",
      "zonesync",
      bundledChartPath(),
      "--namespace",
      namespace,
      "--kubeconfig",
      cluster("hub").kubeconfigPath,
      "--reuse-values",
      "--set",
      "manager.logLevel=debug",
    ]);
    expect(person.exitCode).toBe(0);
    await hub.patch(Resources.zoneSyncLinks, namespace, name, {
      spec: { controller: { replicas: 0, logLevel: "warn" } },
    });
    await eventually(
      async () => (await releaseEntries(helm, namespace))[0]?.logLevel === "warn",
      60_000,
      "the link change in the release",
    );
    const values = await helm.getValues("zonesync", namespace);
    expect(values.manager).toEqual({ enabled: false, logLevel: "debug" });
    expect(backend.upgrades).toBe(2);
  });
});

describe("the manager", () => {
  it("coalesces a burst of 50 links into at most 3 upgrades, and drops the entry of a deleted link", async () => {
    const namespace = uniqueName("burst");
    await createNamespace(hub, namespace);
    const { backend, helm } = await startManager(namespace, {
      baseValues: { manager: { enabled: false }, controllerDefaults: { replicas: 0 } },
    });
    const prefix = uniqueName("b");
    const names = Array.from({ length: 50 }, (_, i) => `${prefix}-${i}`);
    await Promise.all(names.map((n) => createLink(linkObject(namespace, n))));
    await eventually(async () => (await releaseEntries(helm, namespace)).length === 50, 90_000, "50 entries");
    await eventually(
      async () =>
        (await hub.list(Resources.deployments, namespace, { labelSelector: "zonesync.io/controller-mode=chart" })).items
          .length === 50,
      60_000,
      "50 link controller Deployments",
    );
    await sleep(2000);
    expect(backend.upgrades).toBeGreaterThanOrEqual(1);
    expect(backend.upgrades).toBeLessThanOrEqual(3);
    const deployments = await hub.list(Resources.deployments, namespace, {
      labelSelector: "zonesync.io/controller-mode=chart",
    });
    expect(deployments.items).toHaveLength(50);

    await hub.delete(Resources.zoneSyncLinks, namespace, names[7]!);
    await eventually(
      async () => !(await releaseEntries(helm, namespace)).some((e) => e.name === names[7]),
      30_000,
      "the deleted link's entry to go",
    );
    await eventually(
      async () => !(await hub.getOptional(Resources.deployments, namespace, `zonesync-link-${names[7]}`)),
      30_000,
      "its Deployment to go",
    );
  });

  it("leaves standalone links to their own controller", async () => {
    const namespace = uniqueName("sa");
    await createNamespace(hub, namespace);
    const chartLink = uniqueName("c");
    const standaloneLink = uniqueName("s");
    await createLink(linkObject(namespace, chartLink, { replicas: 0 }));
    await hub.create(
      Resources.zoneSyncLinks,
      linkObject(namespace, standaloneLink, undefined, { "zonesync.io/controller-mode": "standalone" }),
    );
    const { helm } = await startManager(namespace);
    await eventually(async () => (await releaseEntries(helm, namespace)).length === 1, 60_000);
    expect((await releaseEntries(helm, namespace)).map((e) => e.name)).toEqual([chartLink]);
    const link = await eventually(async () => {
      const l = await hub.get<Link>(Resources.zoneSyncLinks, namespace, standaloneLink);
      return l.status?.mode ? l : undefined;
    }, 15_000);
    expect(link.status?.mode).toBe("standalone");
    expect(link.status?.conditions?.find((c) => c.type === "ControllerReady")).toMatchObject({
      status: "False",
      reason: "ControllerMissing",
    });
  });

  it("keeps the link controller's conditions when it writes its own, and folds them into Ready", async () => {
    const namespace = uniqueName("cond");
    await createNamespace(hub, namespace);
    const name = uniqueName("k");
    await createLink(linkObject(namespace, name, { replicas: 0 }));
    await startManager(namespace);
    await eventually(async () => (await hub.get<Link>(Resources.zoneSyncLinks, namespace, name)).status?.mode, 60_000);
    // What a link controller writes: its three conditions, by merge patch of the status.
    const current = await hub.get<Link>(Resources.zoneSyncLinks, namespace, name);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const own = ["CredentialsValid", "TargetReachable", "Mirrored"].map((type) => ({
      type,
      status: type === "Mirrored" ? "False" : "True",
      reason: type === "Mirrored" ? "NamespaceMissing" : "Ok",
      message: `${type} as a link controller reports it`,
      lastTransitionTime: now,
    }));
    await hub.patch(
      Resources.zoneSyncLinks,
      namespace,
      name,
      { status: { ...current.status, conditions: [...(current.status?.conditions ?? []), ...own] } },
      { subresource: "status" },
    );
    const folded = await eventually(async () => {
      const l = await hub.get<Link>(Resources.zoneSyncLinks, namespace, name);
      return l.status?.conditions?.find((c) => c.type === "Ready")?.reason === "ControllerUnavailable" ||
        l.status?.conditions?.find((c) => c.type === "Ready")?.reason === "ScaledToZero"
        ? l
        : undefined;
    }, 15_000);
    // The manager rewrote Ready; the link controller's entries are all still there.
    expect(folded.status?.conditions?.map((c) => c.type).sort()).toEqual([
      "ControllerReady",
      "CredentialsValid",
      "Mirrored",
      "Ready",
      "TargetReachable",
    ]);
    // A change the manager reports on (a new generation) keeps them too.
    await hub.patch(Resources.zoneSyncLinks, namespace, name, { spec: { staleAfter: "3m" } });
    const after = await eventually(
      async () => {
        const l = await hub.get<Link>(Resources.zoneSyncLinks, namespace, name);
        const ready = l.status?.conditions?.find((c) => c.type === "Ready");
        return (ready as { observedGeneration?: number } | undefined)?.observedGeneration === l.metadata.generation
          ? l
          : undefined;
      },
      15_000,
      "Ready for the new generation",
    );
    expect(after.status?.conditions?.map((c) => c.type).sort()).toEqual([
      "ControllerReady",
      "CredentialsValid",
      "Mirrored",
      "Ready",
      "TargetReachable",
    ]);
  });

  it("reports an invalid link with an Event and a condition, keeping its last valid spec", async () => {
    const namespace = uniqueName("inv");
    await createNamespace(hub, namespace);
    const name = uniqueName("v");
    await createLink(linkObject(namespace, name, { replicas: 0 }));
    const { helm, backend } = await startManager(namespace);
    await eventually(async () => (await releaseEntries(helm, namespace)).length === 1, 60_000);
    // The CRD cannot express this rule (staleAfter below 5s); zod does.
    await hub.patch(Resources.zoneSyncLinks, namespace, name, {
      spec: { staleAfter: "1s", controller: { replicas: 2 } },
    });
    const link = await eventually(
      async () => {
        const l = await hub.get<Link>(Resources.zoneSyncLinks, namespace, name);
        const ready = l.status?.conditions?.find((c) => c.type === "Ready");
        return ready?.reason === "InvalidSpec" ? l : undefined;
      },
      15_000,
      "the InvalidSpec condition",
    );
    expect(link.status?.conditions?.find((c) => c.type === "Ready")?.message).toMatch(
      /staleAfter: must be at least 5s/,
    );
    await eventually(
      async () => (await events(hub, namespace, "InvalidSpec")).length > 0,
      10_000,
      "the InvalidSpec Event",
    );
    expect((await releaseEntries(helm, namespace))[0]?.replicas).toBe(0);
    expect(backend.upgrades).toBe(1);
  });

  it("grants a link's controller only a credentials Secret of the credentials type labelled for that link", async () => {
    const namespace = uniqueName("grant");
    await createNamespace(hub, namespace);
    const [good, stolen, plain] = [uniqueName("g"), uniqueName("t"), uniqueName("p")];
    await createLink(linkObject(namespace, good, { replicas: 0 }));
    // One link names another link's credentials; one names an Opaque Secret labelled for it.
    await hub.create(Resources.zoneSyncLinks, {
      ...linkObject(namespace, stolen, { replicas: 0 }),
      spec: { ...linkObject(namespace, stolen).spec, credentialsSecret: `cluster-credentials-${good}` },
    });
    await hub.create(Resources.secrets, {
      metadata: { name: `cluster-credentials-${plain}`, namespace, labels: { "zonesync.io/link": plain } },
      stringData: { kubeconfig: "x" },
    });
    await hub.create(Resources.zoneSyncLinks, linkObject(namespace, plain, { replicas: 0 }));
    const { helm } = await startManager(namespace);
    await eventually(async () => (await releaseEntries(helm, namespace)).length === 1, 60_000, "one entry");
    expect((await releaseEntries(helm, namespace)).map((e) => e.name)).toEqual([good]);
    const readyOf = async (name: string) =>
      eventually(
        async () => {
          const l = await hub.get<Link>(Resources.zoneSyncLinks, namespace, name);
          const ready = l.status?.conditions?.find((c) => c.type === "Ready");
          return ready?.reason === "InvalidSpec" ? ready : undefined;
        },
        15_000,
        `InvalidSpec on ${name}`,
      );
    expect((await readyOf(stolen)).message).toContain("is labelled for another link");
    expect((await readyOf(plain)).message).toContain("has type Opaque");
    // Fixed with a Secret of its own: granted.
    await hub.create(
      Resources.secrets,
      credentialsSecret({ clusterName: stolen, namespace, kubeconfig: "apiVersion: v1\nkind: Config\n" }),
    );
    await hub.patch(Resources.zoneSyncLinks, namespace, stolen, {
      spec: { credentialsSecret: `cluster-credentials-${stolen}` },
    });
    await eventually(
      async () => (await releaseEntries(helm, namespace)).length === 2,
      60_000,
      "the fixed link's entry",
    );
    const entries = await releaseEntries(helm, namespace);
    expect(entries.find((e) => e.name === stolen)).toMatchObject({
      credentialsSecret: `cluster-credentials-${stolen}`,
    });
  });

  it("holds back a link whose objects the API server refuses, keeping its last good entry; the others upgrade", async () => {
    const namespace = uniqueName("iso");
    await createNamespace(hub, namespace);
    const [good, bad] = [uniqueName("good"), uniqueName("bad")];
    await createLink(linkObject(namespace, good, { replicas: 0 }));
    await createLink(linkObject(namespace, bad, { replicas: 0 }));
    const { helm } = await startManager(namespace);
    await eventually(async () => (await releaseEntries(helm, namespace)).length === 2, 60_000, "both entries");

    // Passes zod and the chart's schema, refused by the API server: requests above limits.
    const refused = { cpu: "2" };
    await hub.patch(Resources.zoneSyncLinks, namespace, bad, {
      spec: { controller: { replicas: 0, resources: { requests: refused, limits: { cpu: "1" } } } },
    });
    await hub.patch(Resources.zoneSyncLinks, namespace, good, {
      spec: { controller: { replicas: 0, logLevel: "debug" } },
    });
    await eventually(
      async () => (await releaseEntries(helm, namespace)).find((e) => e.name === good)?.logLevel === "debug",
      60_000,
      "the good link's change",
    );
    const ready = await eventually(async () => {
      const l = await hub.get<Link>(Resources.zoneSyncLinks, namespace, bad);
      const c = l.status?.conditions?.find((c) => c.type === "Ready");
      return c?.reason === "RejectedByAPIServer" ? c : undefined;
    }, 15_000);
    expect(ready.message).toMatch(
      /Deployment zonesync-link-.*must be less than or equal to cpu limit.*keeping its last good entry/,
    );
    expect((await releaseEntries(helm, namespace)).find((e) => e.name === bad)).toEqual({
      name: bad,
      credentialsSecret: `cluster-credentials-${bad}`,
      replicas: 0,
    });
    // The Event is recorded asynchronously, after the condition may already show.
    await eventually(async () => (await events(hub, namespace, "RejectedByAPIServer")).length === 1, 15_000);

    // Fixed: applied.
    await hub.patch(Resources.zoneSyncLinks, namespace, bad, {
      spec: { controller: { replicas: 0, resources: { requests: { cpu: "1" }, limits: { cpu: "1" } } } },
    });
    await eventually(
      async () => (await releaseEntries(helm, namespace)).find((e) => e.name === bad && "resources" in e),
      60_000,
      "the fixed entry",
    );
  });

  it("reports a failing Helm with an Event and a condition, retries, and loses nothing", async () => {
    const namespace = uniqueName("fail");
    await createNamespace(hub, namespace);
    // A chart that fails to render, as a broken chart or a helm that cannot reach the cluster fails every upgrade.
    const chart = mkdtempSync(join(tmpdir(), "zonesync-chart-"));
    cpSync(bundledChartPath(), chart, { recursive: true });
    const broken = join(chart, "templates", "broken.yaml");
    writeFileSync(broken, '{{ fail "broken on purpose" }}\n');

    const name = uniqueName("f");
    await createLink(linkObject(namespace, name, { replicas: 0 }));
    const { backend, helm } = await startManager(namespace, { chart });
    const failed = await eventually(async () => (await events(hub, namespace, "HelmUpgradeFailed"))[0], 30_000);
    expect((failed as KubeObject & { message?: string }).message).toContain("broken on purpose");
    await eventually(
      async () => {
        const l = await hub.get<Link>(Resources.zoneSyncLinks, namespace, name);
        return l.status?.conditions?.find((c) => c.type === "Ready")?.reason === "HelmUpgradeFailed";
      },
      15_000,
      "the Ready condition to say HelmUpgradeFailed",
    );
    expect(backend.upgrades).toBe(0);

    // The cause goes away: the retry (with backoff) applies the entry.
    rmSync(broken);
    await eventually(
      async () => (await releaseEntries(helm, namespace)).some((e) => e.name === name),
      60_000,
      "the retried upgrade",
    );
    await eventually(async () => backend.upgrades === 1, 30_000, "the helm process to return");
  });
});

describe("the manager after a failed revision", () => {
  it("retries a revision Helm recorded as failed: the deployed revision, not the newest, is what it compares with", async () => {
    const namespace = uniqueName("failedrev");
    await createNamespace(hub, namespace);
    const first = uniqueName("a");
    await createLink(linkObject(namespace, first, { replicas: 0 }));
    const started = await startManager(namespace);
    await eventually(async () => started.backend.upgrades === 1, 60_000, "the first upgrade");
    const helm = started.helm;
    running.splice(running.indexOf(started.manager), 1);
    await started.manager.stop();

    // While no manager runs, a second link comes, and an upgrade with exactly the entries the manager wants fails
    // half-way: a quota refuses the new Deployment, so Helm records the revision as failed with those values.
    const second = uniqueName("b");
    await createLink(linkObject(namespace, second, { replicas: 0 }));
    const [entry] = await releaseEntries(helm, namespace);
    if (!entry) throw new Error("the first link's entry is not in the release");
    const wanted = [entry, JSON.parse(JSON.stringify(entry).replaceAll(first, second)) as Entry].sort((x, y) =>
      x.name.localeCompare(y.name),
    );
    await hub.create(resourceQuotas, {
      metadata: { name: "one-deployment", namespace },
      spec: { hard: { "count/deployments.apps": "1" } },
    });
    await eventually(
      async () => {
        const q = await hub.get<KubeObject & { status?: { used?: Record<string, string> } }>(
          resourceQuotas,
          namespace,
          "one-deployment",
        );
        return q.status?.used?.["count/deployments.apps"] === "1";
      },
      30_000,
      "the quota to count the Deployment",
    );
    const refused = await execa(
      helm.binary,
      [
        "upgrade",
        "zonesync",
        bundledChartPath(),
        "--namespace",
        namespace,
        "--kubeconfig",
        cluster("hub").kubeconfigPath,
        "--reuse-values",
        "--values",
        "-",
        "--labels",
        `${MANAGER_OPERATION_LABEL}=refused`,
      ],
      { reject: false, input: JSON.stringify({ controllers: wanted }) },
    );
    expect(refused.exitCode, refused.stdout).not.toBe(0);
    expect(refused.stderr).toMatch(/exceeded quota/);
    const history = await helm.history("zonesync", namespace);
    expect(history.at(-1)?.status).toBe("failed");
    expect(((await helm.getValues("zonesync", namespace)).controllers as Entry[]).map((e) => e.name)).toEqual(
      wanted.map((e) => e.name),
    );
    await expect(hub.get(Resources.deployments, namespace, `zonesync-link-${second}`)).rejects.toThrow(/not found/);

    // The cause goes; the next manager sees that the deployed revision lacks the entry and upgrades again.
    await hub.delete(resourceQuotas, namespace, "one-deployment");
    const next = await startManager(namespace, { helm });
    await eventually(
      () => hub.get(Resources.deployments, namespace, `zonesync-link-${second}`).catch(() => undefined),
      60_000,
      "the second link's Deployment",
    );
    // The Deployment shows while helm still waits for it: wait for the upgrade to return.
    await eventually(async () => next.backend.upgrades === 1, 60_000, "the retried upgrade to return");
    expect((await helm.history("zonesync", namespace)).at(-1)?.status).toBe("deployed");
  });
});

describe("the manager process", () => {
  it("gives up the Lease and exits non-zero when, as leader, its watches cannot sync", async () => {
    const namespace = uniqueName("nosync");
    await createNamespace(hub, namespace);
    // An identity that may hold the Lease and record Events, but not list the links: the first sync never ends.
    await hub.create(Resources.serviceAccounts, { metadata: { name: "manager", namespace } });
    await hub.create(Resources.roles, {
      metadata: { name: "lease-only", namespace },
      rules: [
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      ],
    });
    await hub.create(Resources.roleBindings, {
      metadata: { name: "lease-only", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "lease-only" },
      subjects: [{ kind: "ServiceAccount", name: "manager", namespace }],
    });
    const token = await hub.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/manager/token`,
      { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } } },
    );
    const dir = mkdtempSync(join(tmpdir(), "zonesync-manager-"));
    const kubeconfig = join(dir, "kubeconfig");
    const info = cluster("hub");
    writeFileSync(
      kubeconfig,
      kubeconfigYaml([{ name: "hub", server: info.server, caPem: info.caPem, token: token.status.token }]),
    );
    const started = Date.now();
    const run = await execa(
      process.execPath,
      [
        "dist/src/cli/main.js",
        "manager",
        "--namespace",
        namespace,
        "--kubeconfig",
        kubeconfig,
        "--sync-timeout",
        "2s",
        "--http-addr",
        "127.0.0.1:0",
        "--log-format",
        "json",
      ],
      { reject: false, timeout: 60_000 },
    );
    expect(run.exitCode, run.stderr).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.stderr).toMatch(/the control loops could not start; releasing the lease and exiting/);
    const lease = await hub.get<KubeObject & { spec: { holderIdentity?: string } }>(
      Resources.leases,
      namespace,
      "zonesync-manager",
    );
    expect(lease.spec.holderIdentity).toBe("");
    rmSync(dir, { recursive: true, force: true });
  });
});
