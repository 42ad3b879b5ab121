import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { HelmError } from "../../src/helm/errors.ts";
import { Helm } from "../../src/helm/helm.ts";
import type { KubeObject } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import { adminClient, cluster, createNamespace, eventually, sharedEnv, uniqueName } from "../support.ts";

const chart = join(import.meta.dirname, "..", "fixtures", "tiny-chart");

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "no error";
  } catch (err) {
    if (err instanceof HelmError) return err.kind;
    throw err;
  }
}

describe.each([
  ["Helm 3", () => sharedEnv().helm3, 3],
  ["Helm 4", () => sharedEnv().helm4, 4],
])("%s against the hub cluster", (_name, binary, major) => {
  const kubeconfig = () => cluster("hub").kubeconfigPath;

  async function setup(prefix: string) {
    const client = adminClient("hub");
    const namespace = uniqueName(`helm${major}-${prefix}`);
    await createNamespace(client, namespace);
    const helm = new Helm({ binary: binary(), kubeconfig: kubeconfig(), namespace });
    return { client, namespace, helm };
  }

  it("installs, upgrades, reads values, status, history and list, then uninstalls", async () => {
    const { client, namespace, helm } = await setup("life");
    expect((await helm.version()).major).toBe(major);

    const values = { greeting: "hello", data: { region: "eu-west" } };
    const installed = await helm.upgradeInstall({ release: "tiny", chart, namespace, values });
    expect(installed).toMatchObject({ name: "tiny", namespace, revision: 1, status: "deployed", chart: "tiny-0.1.0" });
    expect(await helm.getValues("tiny", namespace)).toEqual(values);
    const cm = await client.get<ConfigMap>(Resources.configMaps, namespace, "tiny-tiny");
    expect(cm.data).toEqual({ greeting: "hello", replicas: "1", region: "eu-west" });

    const next = { greeting: "bonjour", replicas: 3 };
    const upgraded = await helm.upgradeInstall({ release: "tiny", chart, namespace, values: next, wait: true });
    expect(upgraded).toMatchObject({ revision: 2, status: "deployed" });
    // The values are the complete intent: the earlier `data` is gone (--reset-values), not merged.
    expect(await helm.getValues("tiny", namespace)).toEqual(next);
    expect(await helm.getValues("tiny", namespace, { all: true })).toEqual({
      greeting: "bonjour",
      replicas: 3,
      data: {},
      blocker: false,
    });
    expect((await client.get<ConfigMap>(Resources.configMaps, namespace, "tiny-tiny")).data).toEqual({
      greeting: "bonjour",
      replicas: "3",
    });

    expect(await helm.status("tiny", namespace)).toMatchObject({ name: "tiny", revision: 2, status: "deployed" });
    expect((await helm.history("tiny", namespace)).map((h) => [h.revision, h.status])).toEqual([
      [1, "superseded"],
      [2, "deployed"],
    ]);
    expect(await helm.list(namespace)).toEqual([
      expect.objectContaining({ name: "tiny", namespace, revision: 2, status: "deployed", chart: "tiny-0.1.0" }),
    ]);

    expect(await helm.uninstall("tiny", namespace)).toBe(true);
    expect(await helm.list(namespace)).toEqual([]);
    expect(await client.getOptional(Resources.configMaps, namespace, "tiny-tiny")).toBeUndefined();
    expect(await helm.uninstall("tiny", namespace, { ignoreNotFound: true })).toBe(false);
  });

  it("returns {} for a release without user values, and ReleaseNotFound for a missing one", async () => {
    const { namespace, helm } = await setup("empty");
    await helm.upgradeInstall({ release: "bare", chart, namespace });
    expect(await helm.getValues("bare", namespace)).toEqual({});
    expect(await kindOf(helm.status("nope", namespace))).toBe("ReleaseNotFound");
    expect(await kindOf(helm.getValues("nope", namespace))).toBe("ReleaseNotFound");
    expect(await kindOf(helm.history("nope", namespace))).toBe("ReleaseNotFound");
    expect(await kindOf(helm.uninstall("nope", namespace))).toBe("ReleaseNotFound");
  });

  it("maps values the schema rejects to SchemaRejected, without touching the release", async () => {
    const { namespace, helm } = await setup("schema");
    await helm.upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "ok" } });
    const err = (await helm
      .upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "ok", replicas: "many" } })
      .catch((e: unknown) => e)) as HelmError;
    expect(err).toBeInstanceOf(HelmError);
    expect(err.kind).toBe("SchemaRejected");
    expect(err.stderr).toMatch(/replicas/);
    expect(err.cause).toBeInstanceOf(Error);
    expect((await helm.status("tiny", namespace)).revision).toBe(1);
  });

  it("maps a wait that runs out to Timeout, and atomic rolls back", async () => {
    const { namespace, helm } = await setup("timeout");
    await helm.upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "ok" } });
    // The PVC never binds (no volume binder runs), so the wait cannot succeed.
    const blocked = { greeting: "ok", blocker: true };
    expect(
      await kindOf(
        helm.upgradeInstall({ release: "tiny", chart, namespace, values: blocked, wait: true, timeout: 1500 }),
      ),
    ).toBe("Timeout");
    expect((await helm.status("tiny", namespace)).status).toBe("failed");
    const atomic = helm.upgradeInstall({
      release: "tiny",
      chart,
      namespace,
      values: blocked,
      atomic: true,
      timeout: 1500,
    });
    expect(await kindOf(atomic)).toBe("Timeout");
    const after = await helm.status("tiny", namespace);
    expect(after.status).toBe("deployed"); // rolled back
    expect(after.revision).toBe(4);
  });

  it("maps a release stuck in pending-upgrade to PendingOperation, and rollback recovers it", async () => {
    const { namespace, helm } = await setup("pending");
    await helm.upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "v1" } });
    // A real upgrade that waits for a PVC that never binds, killed like a crashed process.
    const stuck = execa(
      binary(),
      ["upgrade", "tiny", chart, "-n", namespace, "--kubeconfig", kubeconfig(), "--set", "blocker=true"].concat(
        major >= 4 ? ["--wait=watcher"] : ["--wait"],
        ["--timeout", "120s"],
      ),
      { reject: false },
    );
    await eventually(
      async () => (await helm.status("tiny", namespace)).status === "pending-upgrade",
      20_000,
      "pending-upgrade",
    );
    const concurrent = (await helm
      .upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "v2" } })
      .catch((e: unknown) => e)) as HelmError;
    expect(concurrent.kind).toBe("PendingOperation");
    expect(concurrent.message).toMatch(/another operation/);

    stuck.kill("SIGKILL"); // no chance to mark the release failed: it stays pending for good
    await stuck;
    expect((await helm.status("tiny", namespace)).status).toBe("pending-upgrade");
    expect(await kindOf(helm.upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "v2" } }))).toBe(
      "PendingOperation",
    );

    await helm.rollback("tiny", namespace, { revision: 1 });
    const recovered = await helm.upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "v2" } });
    expect(recovered.status).toBe("deployed");
    expect(await helm.getValues("tiny", namespace)).toEqual({ greeting: "v2" });
  });

  it("maps an unreachable cluster to Unreachable, and a bad chart path to ChartInvalid", async () => {
    const { namespace, helm } = await setup("errors");
    const dir = mkdtempSync(join(tmpdir(), "zonesync-helm-"));
    const broken = join(dir, "kubeconfig");
    const server = cluster("hub").server;
    writeFileSync(broken, readFileSync(kubeconfig(), "utf8").replace(server, "https://127.0.0.1:1"), { mode: 0o600 });
    const offline = new Helm({ binary: binary(), kubeconfig: broken, namespace });
    const err = (await offline.status("tiny").catch((e: unknown) => e)) as HelmError;
    expect(err.kind).toBe("Unreachable");
    expect(err.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(await kindOf(helm.upgradeInstall({ release: "x", chart: join(dir, "no-chart"), namespace }))).toBe(
      "ChartInvalid",
    );
  });

  it("keeps secret values out of errors", async () => {
    const { namespace, helm } = await setup("secret");
    const err = (await helm
      .upgradeInstall({ release: "tiny", chart, namespace, values: { greeting: "x", token: "s3cr3t-t0ken-value" } })
      .catch((e: unknown) => e)) as HelmError;
    expect(err.kind).toBe("SchemaRejected"); // `token` is not in the schema
    expect(`${err.message}\n${err.stderr}`).not.toContain("s3cr3t-t0ken-value");
    expect(err.args.join(" ")).not.toContain("s3cr3t");
  });
});
