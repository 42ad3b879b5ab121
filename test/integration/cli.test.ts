import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { parseLink } from "../../src/api/link.ts";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import { bundledCrdPath } from "../../src/paths.ts";
import { kubeconfigYaml } from "../env/index.ts";
import { adminClient, cluster, createNamespace, eventually, sharedEnv, uniqueName } from "../support.ts";

/** The link, allow, unlink and values commands, run as the built CLI against the real clusters. */

const hub = adminClient("hub");
const east = adminClient("east");

function zonesync(args: string[], kubeconfig = sharedEnv().kubeconfigPath) {
  return execa(process.execPath, ["dist/src/cli/main.js", ...args], { env: { KUBECONFIG: kubeconfig }, reject: false });
}

beforeAll(async () => {
  await hub.apply(Resources.crds, parse(readFileSync(bundledCrdPath(), "utf8")) as KubeObject, {
    fieldManager: "zonesync-tests",
  });
  await eventually(() => hub.list(Resources.zoneSyncLinks, "default"), 15_000, "the CRD to be served");
});

describe("zonesync link", () => {
  it("prints a link and a credentials Secret whose token really reads the target, and nothing more", async () => {
    const source = uniqueName("src");
    const result = await zonesync([
      "link",
      "--context",
      "east",
      "--cluster-name",
      "east",
      "--source",
      source,
      "--create-access",
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const docs = parseAllDocuments(result.stdout).map((d) => d.toJS() as KubeObject & Record<string, unknown>);
    expect(docs.map((d) => d.kind)).toEqual(["Namespace", "Secret", "ZoneSyncLink"]);
    const link = docs[2]!;
    expect(parseLink(link).ok).toBe(true);
    expect(link.metadata.labels?.["zonesync.io/controller-mode"]).toBe("chart");
    const secret = docs[1] as KubeObject & { type: string; data: { kubeconfig: string } };
    expect(secret.type).toBe("zonesync.io/remote-kubeconfig");
    expect(secret.metadata.name).toBe("cluster-credentials-east");
    expect(Date.parse(secret.metadata.annotations!["zonesync.io/token-expires-at"]!)).toBeGreaterThan(
      Date.now() + 29 * 86_400_000,
    );

    const remote = KubeClient.fromString(Buffer.from(secret.data.kubeconfig, "base64").toString());
    expect(remote.server).toBe(cluster("east").server);
    await expect(remote.list(Resources.services, "default")).resolves.toBeDefined();
    await expect(remote.list(Resources.secrets, "default")).rejects.toMatchObject({ status: 403 });
    await expect(remote.list(Resources.pods, "default")).rejects.toMatchObject({ status: 403 });
  });

  it("prints old-style controller manifests in standalone mode and applies everything with --apply", async () => {
    const namespace = uniqueName("link");
    const name = uniqueName("east");
    const standalone = await zonesync([
      "link",
      "--context",
      "east",
      "--cluster-name",
      name,
      "--source",
      "hub",
      "--create-access",
      "--mode",
      "standalone",
      "--namespace",
      namespace,
      "--selector",
      "tier=public",
    ]);
    expect(standalone.exitCode, standalone.stderr).toBe(0);
    const docs = parseAllDocuments(standalone.stdout).map((d) => d.toJS() as KubeObject);
    const deployment = docs.find((d) => d.kind === "Deployment")!;
    expect(deployment.metadata.labels).toMatchObject({
      "zonesync.io/controller-mode": "standalone",
      "zonesync.io/link": name,
    });
    expect(docs.find((d) => d.kind === "ZoneSyncLink")).toMatchObject({
      spec: { selector: { matchLabels: { tier: "public" } } },
    });

    const applied = await zonesync([
      "link",
      "--context",
      "east",
      "--cluster-name",
      name,
      "--source",
      "hub",
      "--create-access",
      "--namespace",
      namespace,
      "--apply",
      "--to-context",
      "hub",
    ]);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(new RegExp(`linked ${name} into hub`));
    await hub.get(Resources.zoneSyncLinks, namespace, name);
    await hub.get(Resources.secrets, namespace, `cluster-credentials-${name}`);

    const values = await zonesync(["values", "--context", "hub", "--namespace", namespace]);
    expect(values.exitCode, values.stderr).toBe(0);
    expect(parse(values.stdout)).toEqual({ controllers: [{ name, credentialsSecret: `cluster-credentials-${name}` }] });

    // Printed, the link comes alone (kubectl delete waits until its controller removed the mirrors); the
    // leftovers only once it is gone.
    const unlink = await zonesync(["unlink", "--cluster-name", name, "--namespace", namespace, "--context", "hub"]);
    expect(unlink.exitCode, unlink.stderr).toBe(0);
    const toDelete = parseAllDocuments(unlink.stdout).map((d) => d.toJS() as KubeObject);
    expect(toDelete.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([`ZoneSyncLink/${name}`]);
    expect(unlink.stderr).toContain(`zonesync unlink --cluster-name ${name} -n ${namespace} --leftovers --context hub`);
    const early = await zonesync([
      "unlink",
      "--cluster-name",
      name,
      "-n",
      namespace,
      "--leftovers",
      "--context",
      "hub",
    ]);
    expect(early.exitCode).toBe(1);
    expect(early.stderr).toMatch(/still exists: its controller is still needed to remove its mirrors/);
    await hub.delete(Resources.zoneSyncLinks, namespace, name);
    const leftovers = await zonesync([
      "unlink",
      "--cluster-name",
      name,
      "-n",
      namespace,
      "--leftovers",
      "--context",
      "hub",
    ]);
    expect(leftovers.exitCode, leftovers.stderr).toBe(0);
    expect(parseAllDocuments(leftovers.stdout).map((d) => (d.toJS() as KubeObject).kind)).toEqual(["Secret"]);
  });

  it("fails clearly: unknown context (2), missing flags (2), unreachable cluster (1), missing RBAC (1)", async () => {
    const unknown = await zonesync(["link", "--context", "nowhere", "--cluster-name", "x"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown context "nowhere"/);

    const missing = await zonesync(["link", "--cluster-name", "x"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--context/);

    const badMode = await zonesync(["link", "--context", "east", "--cluster-name", "x", "--mode", "both"]);
    expect(badMode.exitCode).toBe(2);

    const dir = mkdtempSync(join(tmpdir(), "zonesync-cli-"));
    const unreachable = join(dir, "unreachable");
    writeFileSync(
      unreachable,
      kubeconfigYaml([{ name: "gone", server: "https://127.0.0.1:1", caPem: cluster("east").caPem, token: "x" }]),
    );
    const down = await zonesync(["link", "--context", "gone", "--cluster-name", "gone"], unreachable);
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toMatch(/unreachable/);

    // A real identity with no rights on east.
    const namespace = uniqueName("norbac");
    await createNamespace(east, namespace);
    await east.create(Resources.serviceAccounts, { metadata: { name: "nobody", namespace } });
    const { status } = await east.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/nobody/token`,
      { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } } },
    );
    const nobody = join(dir, "nobody");
    writeFileSync(
      nobody,
      kubeconfigYaml([
        { name: "east", server: cluster("east").server, caPem: cluster("east").caPem, token: status.token },
      ]),
    );
    const denied = await zonesync(["link", "--context", "east", "--cluster-name", "east", "--create-access"], nobody);
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toMatch(/missing RBAC permission/);
  });
});

describe("command-line values", () => {
  it("every bad value exits 2 naming the flag, before anything reaches a cluster", async () => {
    const link = ["link", "--context", "east", "--cluster-name", "east"];
    const cases: Array<[string[], RegExp]> = [
      [["allow", "--source", "Bad_Name"], /--source: "Bad_Name" is not a valid name/],
      [["allow", "--source", "hub", "--namespaces", "shop,,pay"], /--namespaces: "shop,,pay" has an empty namespace/],
      [[...link, "--namespaces", "Shop"], /--namespaces: "Shop" is not a valid name/],
      [[...link, "--source", "a,b"], /--source: "a,b" is not a valid name/],
      [
        ["link", "--context", "east", "--cluster-name", "east,zonesync.io/link"],
        /--cluster-name: .* is not a valid name/,
      ],
      [[...link, "--selector", ""], /--selector: "" is not key=value/],
      [
        [...link, "--zone-sync-target", "a/b", "--zone-sync-local", "c/d", "--zone-sync-port", "1e3"],
        /--zone-sync-port: "1e3" is not a port/,
      ],
      [[...link, "--token-ttl", "100000h"], /--token-ttl: "100000h" is above the maximum of 8760h/],
      [["manager", "--log-level", "verbose"], /--log-level: "verbose" is not one of error, warn, info, debug/],
      [["manager", "--log-format", "yaml"], /--log-format: "yaml" is not one of json, text/],
      [["manager", "--helm-timeout", "abc"], /--helm-timeout: invalid duration "abc"/],
      [["link-controller", "--link", "east", "--log-level", "loud"], /--log-level: "loud" is not one of/],
      [["link-controller", "--link", "East!"], /--link: "East!" is not a valid name/],
      [["migrate", "--link", "a b"], /--link: "a b" is not a valid name/],
      [["unlink", "--cluster-name", "x/y"], /--cluster-name: "x\/y" is not a valid name/],
    ];
    for (const [args, message] of cases) {
      const result = await zonesync(args);
      expect(result.exitCode, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(message);
    }
  });
});

describe("zonesync allow", () => {
  it("prints exactly the read access a link controller needs, and applies it", async () => {
    const printed = await zonesync(["allow", "--source", "hub"]);
    expect(printed.exitCode, printed.stderr).toBe(0);
    const docs = parseAllDocuments(printed.stdout).map((d) => d.toJS() as KubeObject & { rules?: unknown });
    expect(docs.map((d) => d.kind)).toEqual([
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
    ]);
    expect(docs[2]!.rules).toEqual([
      { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    ]);
    // Renewing its own token: TokenRequest for its ServiceAccount only.
    expect(docs[4]!.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["serviceaccounts/token"],
        resourceNames: ["zonesync-remote-hub"],
        verbs: ["create"],
      },
    ]);
    const source = uniqueName("allow");
    const applied = await zonesync(["allow", "--source", source, "--context", "west", "--apply"]);
    expect(applied.exitCode, applied.stderr).toBe(0);
    await adminClient("west").get(Resources.clusterRoles, undefined, `zonesync-remote-${source}`);
  });

  it("with --namespaces grants read in exactly those namespaces, and replaces its own cluster-wide grant", async () => {
    const west = adminClient("west");
    const source = uniqueName("allow-ns");
    const [shop, pay, other] = [uniqueName("shop"), uniqueName("pay"), uniqueName("other")];
    for (const ns of [shop, pay, other]) await createNamespace(west, ns);
    const account = `zonesync-remote-${source}`;
    const may = async (verb: string, resource: string, namespace?: string): Promise<boolean> => {
      const review = await west.request<{ status: { allowed: boolean } }>(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
          body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
              user: `system:serviceaccount:zonesync-system:${account}`,
              groups: ["system:serviceaccounts", "system:authenticated"],
              resourceAttributes: {
                verb,
                resource,
                group: resource === "endpointslices" ? "discovery.k8s.io" : "",
                namespace,
              },
            },
          },
        },
      );
      return review.status.allowed;
    };

    const wide = await zonesync(["allow", "--source", source, "--context", "west", "--apply"]);
    expect(wide.exitCode, wide.stderr).toBe(0);
    expect(await may("watch", "services", other)).toBe(true);

    const printed = await zonesync(["allow", "--source", source, "--namespaces", `${shop},${pay}`]);
    const docs = parseAllDocuments(printed.stdout).map((d) => d.toJS() as KubeObject);
    expect(docs.map((d) => [d.kind, d.metadata.namespace])).toEqual([
      ["Namespace", undefined],
      ["ServiceAccount", "zonesync-system"],
      ["Role", shop],
      ["RoleBinding", shop],
      ["Role", pay],
      ["RoleBinding", pay],
      ["Role", "zonesync-system"],
      ["RoleBinding", "zonesync-system"],
    ]);

    const narrow = await zonesync([
      "allow",
      "--source",
      source,
      "--namespaces",
      `${shop},${pay}`,
      "--context",
      "west",
      "--apply",
    ]);
    expect(narrow.exitCode, narrow.stderr).toBe(0);
    for (const ns of [shop, pay]) {
      for (const verb of ["get", "list", "watch"]) {
        expect(await may(verb, "services", ns)).toBe(true);
        expect(await may(verb, "endpointslices", ns)).toBe(true);
      }
    }
    expect(await may("list", "services", other)).toBe(false);
    expect(await may("list", "services")).toBe(false);
    expect(await may("create", "services", shop)).toBe(false);
    expect(await west.getOptional(Resources.clusterRoleBindings, undefined, account)).toBeUndefined();
    expect(await west.getOptional(Resources.clusterRoles, undefined, account)).toBeUndefined();
  });

  it("never removes a cluster-wide grant it did not make", async () => {
    const west = adminClient("west");
    const source = uniqueName("allow-own");
    const ns = uniqueName("shop");
    await createNamespace(west, ns);
    const account = `zonesync-remote-${source}`;
    await west.create(Resources.clusterRoles, { metadata: { name: account }, rules: [] });
    const narrow = await zonesync(["allow", "--source", source, "--namespaces", ns, "--context", "west", "--apply"]);
    expect(narrow.exitCode, narrow.stderr).toBe(0);
    expect(await west.getOptional(Resources.clusterRoles, undefined, account)).toBeDefined();
    await west.delete(Resources.clusterRoles, undefined, account);
  });
});

describe("zonesync check --all-contexts", () => {
  it("checks every context of the kubeconfig, each reported on its own", async () => {
    const run = await zonesync(["check", "--all-contexts", "-o", "json"]);
    expect([0, 1], run.stderr).toContain(run.exitCode);
    const report = JSON.parse(run.stdout) as {
      success: boolean;
      clusters: Array<{
        context: string;
        categories: Array<{ name: string; checks: Array<{ id: string; result: string }> }>;
      }>;
    };
    expect(report.clusters.map((c) => c.context).sort()).toEqual(["east", "hub", "west"]);
    for (const c of report.clusters) {
      const apiServer = c.categories.flatMap((cat) => cat.checks).find((check) => check.id === "links.api-server");
      expect(apiServer?.result, c.context).toBe("ok");
    }
    expect(report.success).toBe(run.exitCode === 0);
  });
});

describe("zonesync export / unexport", () => {
  it("writes and removes the standard ServiceExport; a second export or unexport changes nothing", async () => {
    // In west: mcs.test.ts checks east's exports while it may run beside this file.
    const west = adminClient("west");
    for (const file of ["multicluster.x-k8s.io_serviceexports.yaml", "multicluster.x-k8s.io_serviceimports.yaml"]) {
      const crd = parse(readFileSync(join("crds", file), "utf8")) as KubeObject;
      await west.apply(Resources.crds, crd, { fieldManager: "zonesync-tests" });
    }
    await eventually(() => west.list(Resources.serviceExports, "default"), 15_000, "the MCS CRDs to be served");
    const ns = uniqueName("export");
    await createNamespace(west, ns);

    const printed = await zonesync(["export", "web", "-n", ns]);
    expect(printed.exitCode, printed.stderr).toBe(0);
    expect(parse(printed.stdout)).toEqual({
      apiVersion: "multicluster.x-k8s.io/v1alpha1",
      kind: "ServiceExport",
      metadata: { name: "web", namespace: ns },
    });
    expect(await west.getOptional(Resources.serviceExports, ns, "web")).toBeUndefined();

    const created = await zonesync(["export", "web", "-n", ns, "--apply", "--context", "west"]);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/Service .*web does not exist; the export is Valid=False \(NoService\)/);
    expect(await west.getOptional(Resources.serviceExports, ns, "web")).toBeDefined();
    const again = await zonesync(["export", "web", "-n", ns, "--apply", "--context", "west"]);
    expect(again.stdout).toMatch(/already exists; nothing to do/);

    const removed = await zonesync(["unexport", "web", "-n", ns, "--apply", "--context", "west"]);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/deleted/);
    expect(await west.getOptional(Resources.serviceExports, ns, "web")).toBeUndefined();
    const gone = await zonesync(["unexport", "web", "-n", ns, "--apply", "--context", "west"]);
    expect(gone.stdout).toMatch(/does not exist; nothing to do/);

    const bad = await zonesync(["export", "Web!", "-n", ns]);
    expect(bad.exitCode).toBe(2);
  });
});
