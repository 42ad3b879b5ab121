import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { ControllerDefaultsSchema } from "../../src/api/controller.ts";
import { controllerChecksum, effectiveController } from "../../src/api/render.ts";
import { ChartValuesSchema, parseValues, type ChartValuesInput, type ControllerEntry } from "../../src/api/values.ts";
import { ensureHelm } from "../env/binaries.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const chartDir = join(repoRoot, "chart");
const packageVersion = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string })
  .version;
const RELEASE = "zonesync";
const NAMESPACE = "zonesync-system";

interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: unknown;
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    replicas?: number;
    minAvailable?: number | string;
    selector?: { matchLabels?: Record<string, string> };
    template?: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        serviceAccountName?: string;
        securityContext?: Record<string, unknown>;
        nodeSelector?: Record<string, string>;
        tolerations?: unknown[];
        affinity?: Record<string, unknown>;
        containers: Container[];
        volumes?: Array<{ name: string; emptyDir?: object }>;
      };
    };
  };
  rules?: Array<{ apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }>;
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

let helm: { helm4: string; helm3: string };
const temps: string[] = [];

beforeAll(() => {
  helm = ensureHelm();
});

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function valuesFile(values: object): string {
  const dir = mkdtempSync(join(tmpdir(), "zonesync-chart-"));
  temps.push(dir);
  const file = join(dir, "values.json");
  writeFileSync(file, JSON.stringify(values));
  return file;
}

async function runHelm(bin: string, args: string[]) {
  return execa(bin, args, { reject: false, env: { HELM_CACHE_HOME: join(tmpdir(), "zonesync-helm-cache") } });
}

/** `helm template` with these values, parsed into objects; throws with Helm's stderr on failure. */
async function render(bin: string, values: object, extra: string[] = []): Promise<Manifest[]> {
  const result = await runHelm(bin, [
    "template",
    RELEASE,
    chartDir,
    "--namespace",
    NAMESPACE,
    "-f",
    valuesFile(values),
    ...extra,
  ]);
  if (result.exitCode !== 0) throw new Error(result.stderr);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`helm template printed invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** The error Helm prints for these values (the render must fail). */
async function renderError(bin: string, values: object): Promise<string> {
  const result = await runHelm(bin, ["template", RELEASE, chartDir, "-n", NAMESPACE, "-f", valuesFile(values)]);
  expect(result.exitCode, result.stdout).not.toBe(0);
  return result.stderr;
}

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    const have = manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ");
    throw new Error(`no ${kind} ${name} in the rendered chart (have: ${have})`);
  }
  return found;
}

const container = (deployment: Manifest): Container => deployment.spec!.template!.spec.containers[0]!;
const checksumOf = (deployment: Manifest) =>
  deployment.spec!.template!.metadata.annotations!["zonesync.io/values-checksum"];

const twoControllers: ChartValuesInput = {
  controllerDefaults: { replicas: 2, logLevel: "debug", nodeSelector: { pool: "system" } },
  controllers: [
    { name: "east" },
    {
      name: "west",
      credentialsSecret: "west-kubeconfig",
      replicas: 3,
      logFormat: "text",
      resources: { requests: { cpu: "50m" } },
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
      podAntiAffinity: true,
      podDisruptionBudget: { enabled: true, minAvailable: "50%" },
      image: { tag: "9.9.9" },
    },
  ],
};

describe("chart metadata", () => {
  it("has the package version as appVersion", () => {
    const chart = parse(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as {
      apiVersion: string;
      appVersion: string;
    };
    expect(chart.apiVersion).toBe("v2");
    expect(chart.appVersion).toBe(packageVersion);
  });

  it("ships values.yaml equal to the schema's defaults", () => {
    const values: unknown = parse(readFileSync(join(chartDir, "values.yaml"), "utf8"));
    const parsed = parseValues(values);
    expect(parsed).toMatchObject({ ok: true });
    expect(values).toEqual(ChartValuesSchema.parse({}));
  });
});

describe.each([
  ["Helm 4", () => helm.helm4],
  ["Helm 3", () => helm.helm3],
])("chart with %s", (_label, bin) => {
  it("passes helm lint --strict, with default values and with controllers", async () => {
    for (const extra of [[], ["-f", valuesFile(twoControllers)]]) {
      const result = await runHelm(bin(), ["lint", "--strict", chartDir, ...extra]);
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it("renders a Deployment per controllers entry, with the defaults filled in", async () => {
    const manifests = await render(bin(), twoControllers);
    const east = find(manifests, "Deployment", "zonesync-link-east");
    const west = find(manifests, "Deployment", "zonesync-link-west");

    for (const [deployment, link] of [
      [east, "east"],
      [west, "west"],
    ] as const) {
      const mode = { "zonesync.io/link": link, "zonesync.io/controller-mode": "chart" };
      expect(deployment.metadata.namespace).toBe(NAMESPACE);
      expect(deployment.metadata.labels).toMatchObject({
        ...mode,
        "app.kubernetes.io/name": "zonesync",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/version": packageVersion,
        "app.kubernetes.io/component": "link-controller",
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/part-of": "zonesync",
      });
      expect(deployment.spec!.selector!.matchLabels).toEqual(mode);
      expect(deployment.spec!.template!.metadata.labels).toMatchObject(mode);
      expect(deployment.spec!.template!.spec.serviceAccountName).toBe(`zonesync-link-${link}`);
      const c = container(deployment);
      expect(c.command).toBeUndefined();
      expect(c.env).toEqual([
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "NODE_OPTIONS", value: "--max-semi-space-size=4 --max-old-space-size=192" },
        { name: "MALLOC_ARENA_MAX", value: "2" },
      ]);
      expect(c.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
      expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
      expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
      expect(deployment.spec!.template!.spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(c.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
      expect(deployment.spec!.template!.spec.volumes).toEqual([{ name: "tmp", emptyDir: {} }]);
    }

    // east sets nothing: controllerDefaults (and the built-in defaults below them) apply.
    expect(east.spec!.replicas).toBe(2);
    expect(container(east).args).toEqual([
      "link-controller",
      "--link",
      "east",
      "--namespace",
      NAMESPACE,
      "--log-level",
      "debug",
      "--log-format",
      "json",
    ]);
    expect(container(east).image).toBe(`ghcr.io/zonesync/zonesync:${packageVersion}`);
    expect(container(east).resources).toEqual({
      requests: { cpu: "10m", memory: "64Mi" },
      limits: { memory: "256Mi" },
    });
    expect(east.spec!.template!.spec.nodeSelector).toEqual({ pool: "system" });
    expect(east.spec!.template!.spec.affinity).toBeUndefined();
    expect(east.spec!.template!.spec.tolerations).toBeUndefined();

    // west overrides: its own settings win, the rest still comes from controllerDefaults.
    expect(west.spec!.replicas).toBe(3);
    expect(container(west).args).toEqual([
      "link-controller",
      "--link",
      "west",
      "--namespace",
      NAMESPACE,
      "--log-level",
      "debug",
      "--log-format",
      "text",
    ]);
    expect(container(west).image).toBe("ghcr.io/zonesync/zonesync:9.9.9");
    expect(container(west).resources).toEqual({ requests: { cpu: "50m" } });
    expect(west.spec!.template!.spec.nodeSelector).toEqual({ pool: "system" });
    expect(west.spec!.template!.spec.tolerations).toEqual([
      { key: "dedicated", operator: "Exists", effect: "NoSchedule" },
    ]);
    expect(west.spec!.template!.spec.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: "kubernetes.io/hostname",
              labelSelector: { matchLabels: { "zonesync.io/link": "west" } },
            },
          },
        ],
      },
    });
  });

  it("puts the same checksum on the pods as effectiveController() computes", async () => {
    const manifests = await render(bin(), twoControllers);
    const defaults = ControllerDefaultsSchema.parse(twoControllers.controllerDefaults);
    for (const entry of twoControllers.controllers as ControllerEntry[]) {
      const deployment = find(manifests, "Deployment", `zonesync-link-${entry.name}`);
      expect(checksumOf(deployment)).toMatch(/^[0-9a-f]{64}$/);
      expect(checksumOf(deployment), entry.name).toBe(controllerChecksum(effectiveController(entry, defaults)));
    }
  });

  it("changes only the checksum of the entry whose settings changed", async () => {
    const before = await render(bin(), twoControllers);
    const changed = structuredClone(twoControllers);
    changed.controllers![1]!.replicas = 4;
    const after = await render(bin(), changed);
    const sum = (manifests: Manifest[], link: string) =>
      checksumOf(find(manifests, "Deployment", `zonesync-link-${link}`));
    expect(sum(after, "east")).toBe(sum(before, "east"));
    expect(sum(after, "west")).not.toBe(sum(before, "west"));
    // Rendering again is deterministic.
    expect(sum(await render(bin(), twoControllers), "west")).toBe(sum(before, "west"));
  });

  it("gives each controller a ServiceAccount and least-privilege RBAC", async () => {
    const manifests = await render(bin(), twoControllers);
    find(manifests, "ServiceAccount", "zonesync-link-east");
    const role = find(manifests, "Role", "zonesync-link-west");
    expect(role.metadata.labels).toMatchObject({ "zonesync.io/link": "west", "zonesync.io/controller-mode": "chart" });
    expect(role.rules).toEqual(
      expect.arrayContaining([
        {
          apiGroups: [""],
          resources: ["secrets"],
          resourceNames: ["west-kubeconfig"],
          verbs: ["get", "list", "watch", "update", "patch"],
        },
        {
          apiGroups: ["zonesync.io"],
          resources: ["zonesynclinks"],
          resourceNames: ["west"],
          verbs: ["get", "list", "watch", "patch", "update"],
        },
        {
          apiGroups: ["zonesync.io"],
          resources: ["zonesynclinks/status"],
          resourceNames: ["west"],
          verbs: ["get", "patch", "update"],
        },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          resourceNames: ["zonesync-link-west"],
          verbs: ["get", "update", "patch"],
        },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      ]),
    );
    // Every rule that touches Secrets names exactly one.
    for (const rule of role.rules!) {
      if (rule.resources.includes("secrets")) expect(rule.resourceNames).toHaveLength(1);
    }
    const eastSecrets = find(manifests, "Role", "zonesync-link-east").rules!.find((r) =>
      r.resources.includes("secrets"),
    );
    expect(eastSecrets?.resourceNames).toEqual(["cluster-credentials-east"]);

    const binding = find(manifests, "RoleBinding", "zonesync-link-east");
    expect(binding.roleRef).toMatchObject({ kind: "Role", name: "zonesync-link-east" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "zonesync-link-east", namespace: NAMESPACE }]);

    // Cluster-wide, every link controller shares one static ClusterRole; one binding names their ServiceAccounts.
    expect(manifests.filter((m) => m.kind === "ClusterRole" && m.metadata.name.startsWith("zonesync-link-"))).toEqual(
      [],
    );
    const clusterRole = find(manifests, "ClusterRole", "zonesync-system-zonesync-mirrors");
    expect(clusterRole.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["services"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      },
      {
        apiGroups: ["discovery.k8s.io"],
        resources: ["endpointslices"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      },
      { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "watch", "create"] },
    ]);
    const clusterBinding = find(manifests, "ClusterRoleBinding", "zonesync-system-zonesync-mirrors");
    expect(clusterBinding.roleRef).toMatchObject({ kind: "ClusterRole", name: "zonesync-system-zonesync-mirrors" });
    expect(clusterBinding.subjects).toEqual([
      { kind: "ServiceAccount", name: "zonesync-link-east", namespace: NAMESPACE },
      { kind: "ServiceAccount", name: "zonesync-link-west", namespace: NAMESPACE },
    ]);
    // The ClusterRole is the same for any set of links: only the binding's subjects change.
    const none = await render(bin(), {});
    expect(find(none, "ClusterRole", "zonesync-system-zonesync-mirrors")).toEqual(clusterRole);
    expect(find(none, "ClusterRoleBinding", "zonesync-system-zonesync-mirrors").subjects).toEqual([]);
  });

  it("renders a PodDisruptionBudget only when enabled, policy/v1beta1 on Kubernetes 1.20", async () => {
    const current = await render(bin(), twoControllers);
    expect(current.filter((m) => m.kind === "PodDisruptionBudget").map((m) => m.metadata.name)).toEqual([
      "zonesync-link-west",
    ]);
    const pdb = find(current, "PodDisruptionBudget", "zonesync-link-west");
    expect(pdb.apiVersion).toBe("policy/v1");
    expect(pdb.spec!.minAvailable).toBe("50%");
    expect(pdb.spec!.selector!.matchLabels).toEqual({
      "zonesync.io/link": "west",
      "zonesync.io/controller-mode": "chart",
    });
    const old = await render(bin(), twoControllers, ["--kube-version", "1.20.2"]);
    expect(find(old, "PodDisruptionBudget", "zonesync-link-west").apiVersion).toBe("policy/v1beta1");
    const withKind = await render(bin(), twoControllers, ["--api-versions", "policy/v1/PodDisruptionBudget"]);
    expect(find(withKind, "PodDisruptionBudget", "zonesync-link-west").apiVersion).toBe("policy/v1");
  });

  it("renders the PrometheusRule only where the Operator's API is served, holding exactly the rules file's groups", async () => {
    const operator = ["--api-versions", "monitoring.coreos.com/v1/PrometheusRule"];
    const rules = parse(readFileSync(join(chartDir, "files", "alerts.rules.yaml"), "utf8")) as { groups: unknown[] };
    const prometheusRules = (manifests: Manifest[]) => manifests.filter((m) => m.kind === "PrometheusRule");
    const monitoringRules = (manifests: Manifest[]) =>
      find(manifests, "Role", "zonesync-manager").rules!.filter((r) => r.apiGroups.includes("monitoring.coreos.com"));

    // No Operator: nothing, not even the manager's RBAC for it.
    const plain = await render(bin(), twoControllers);
    expect(prometheusRules(plain)).toEqual([]);
    expect(monitoringRules(plain)).toEqual([]);

    const served = await render(bin(), { monitoring: { prometheusRule: { labels: { release: "kps" } } } }, operator);
    expect(prometheusRules(served)).toHaveLength(1);
    const rule = find(served, "PrometheusRule", "zonesync-alerts") as Manifest & { spec: { groups: unknown[] } };
    expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(rule.metadata.namespace).toBe(NAMESPACE);
    expect(rule.metadata.labels).toMatchObject({
      release: "kps",
      "app.kubernetes.io/instance": RELEASE,
      "app.kubernetes.io/component": "monitoring",
    });
    expect(rule.spec).toEqual({ groups: rules.groups });
    expect(rules.groups.length).toBeGreaterThan(0);
    // The manager's helm upgrade reads and patches it by name, and creates it when the Operator came later.
    expect(monitoringRules(served)).toEqual([
      { apiGroups: ["monitoring.coreos.com"], resources: ["prometheusrules"], verbs: ["create"] },
      {
        apiGroups: ["monitoring.coreos.com"],
        resources: ["prometheusrules"],
        resourceNames: ["zonesync-alerts"],
        verbs: ["get", "update", "patch", "delete"],
      },
    ]);

    const disabled = await render(bin(), { monitoring: { prometheusRule: { enabled: false } } }, operator);
    expect(prometheusRules(disabled)).toEqual([]);
    expect(monitoringRules(disabled)).toEqual([]);
  });

  it("renders a PodMonitor of every zonesync pod only where the Operator's API is served", async () => {
    const operator = ["--api-versions", "monitoring.coreos.com/v1/PodMonitor"];
    const podMonitors = (manifests: Manifest[]) => manifests.filter((m) => m.kind === "PodMonitor");
    const monitorRules = (manifests: Manifest[]) =>
      find(manifests, "Role", "zonesync-manager").rules!.filter((r) => r.resources.includes("podmonitors"));

    const plain = await render(bin(), twoControllers);
    expect(podMonitors(plain)).toEqual([]);
    expect(monitorRules(plain)).toEqual([]);

    const values = { ...twoControllers, mcs: { enabled: true }, monitoring: { podMonitor: { interval: "15s" } } };
    const served = await render(bin(), values, operator);
    const monitor = find(served, "PodMonitor", "zonesync") as Manifest & {
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: unknown[] };
    };
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: "http", path: "/metrics", interval: "15s" }]);
    // It selects the pods of the manager, of every link controller and of the MCS controller, each with a port http.
    const workloads = served.filter((m) => m.kind === "Deployment") as Array<
      Manifest & {
        spec: {
          template: {
            metadata: { labels: Record<string, string> };
            spec: { containers: Array<{ ports?: Array<{ name: string }> }> };
          };
        };
      }
    >;
    expect(workloads.map((d) => d.metadata.name).sort()).toEqual([
      "zonesync-link-east",
      "zonesync-link-west",
      "zonesync-manager",
      "zonesync-mcs",
    ]);
    for (const d of workloads) {
      expect(d.spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      expect(d.spec.template.spec.containers[0]!.ports?.map((p) => p.name)).toContain("http");
    }
    expect(monitorRules(served)).toEqual([
      { apiGroups: ["monitoring.coreos.com"], resources: ["podmonitors"], verbs: ["create"] },
      {
        apiGroups: ["monitoring.coreos.com"],
        resources: ["podmonitors"],
        resourceNames: ["zonesync"],
        verbs: ["get", "update", "patch", "delete"],
      },
    ]);

    const disabled = await render(bin(), { monitoring: { podMonitor: { enabled: false } } }, operator);
    expect(podMonitors(disabled)).toEqual([]);
    expect(monitorRules(disabled)).toEqual([]);
  });

  it("renders the dashboard ConfigMap only when enabled, labelled for the Grafana sidecar", async () => {
    const dashboardMaps = (manifests: Manifest[]) =>
      manifests.filter((m) => m.kind === "ConfigMap" && m.metadata.name === "zonesync-dashboard");
    const configMapRules = (manifests: Manifest[]) =>
      find(manifests, "Role", "zonesync-manager").rules!.filter((r) => r.resources.includes("configmaps"));
    const plain = await render(bin(), twoControllers);
    expect(dashboardMaps(plain)).toEqual([]);
    expect(configMapRules(plain)).toEqual([]);

    const enabled = await render(bin(), {
      monitoring: { dashboard: { enabled: true, labels: { team: "platform", grafana_dashboard: "0" } } },
    });
    const [map] = dashboardMaps(enabled) as Array<Manifest & { data: Record<string, string> }>;
    expect(map?.metadata.namespace).toBe(NAMESPACE);
    // The sidecar's label is always there, whatever the extra labels say.
    expect(map?.metadata.labels).toMatchObject({ grafana_dashboard: "1", team: "platform" });
    expect(Object.keys(map!.data)).toEqual(["zonesync.json"]);
    expect(JSON.parse(map!.data["zonesync.json"]!)).toEqual(
      JSON.parse(readFileSync(join(chartDir, "files", "dashboard.json"), "utf8")),
    );
    expect(configMapRules(enabled)).toEqual([
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: ["zonesync-dashboard"],
        verbs: ["get", "update", "patch"],
      },
    ]);
  });

  it("renders the manager with its arguments, probes, metrics Service and RBAC", async () => {
    const manifests = await render(bin(), {
      ...twoControllers,
      image: { repository: "registry.example/zonesync", tag: "1.0.0" },
      manager: {
        apply: "none",
        args: ["--resync", "5m"],
        nginx: { configMap: "nginx/nginx-config", workload: "Deployment/nginx/nginx-ingress" },
      },
    });
    const manager = find(manifests, "Deployment", "zonesync-manager");
    const c = container(manager);
    expect(c.command).toBeUndefined();
    expect(c.image).toBe("registry.example/zonesync:1.0.0");
    expect(c.args).toEqual([
      "manager",
      "--namespace",
      NAMESPACE,
      "--release",
      RELEASE,
      "--apply",
      "none",
      "--log-level",
      "info",
      "--log-format",
      "json",
      "--nginx-configmap",
      "nginx/nginx-config",
      "--nginx-workload",
      "Deployment/nginx/nginx-ingress",
      "--resync",
      "5m",
    ]);
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(manager.metadata.labels).toMatchObject({ "app.kubernetes.io/component": "manager" });
    // Link controllers follow the chart's image too, unless they override it.
    expect(container(find(manifests, "Deployment", "zonesync-link-east")).image).toBe(
      "registry.example/zonesync:1.0.0",
    );

    const service = find(manifests, "Service", "zonesync-manager") as Manifest & {
      spec: { ports: unknown[]; selector: Record<string, string> };
    };
    expect(service.spec.ports).toEqual([{ name: "http", port: 8080, targetPort: "http", protocol: "TCP" }]);
    expect(service.spec.selector).toEqual(manager.spec!.selector!.matchLabels);

    // Cluster-wide: the release's own cluster-scoped objects by name, and `bind` on the mirrors ClusterRole only.
    const clusterRole = find(manifests, "ClusterRole", "zonesync-system-zonesync-manager");
    expect(clusterRole.rules).toEqual([
      {
        apiGroups: ["rbac.authorization.k8s.io"],
        resources: ["clusterroles", "clusterrolebindings"],
        resourceNames: ["zonesync-system-zonesync-manager", "zonesync-system-zonesync-mirrors"],
        verbs: ["get", "update", "patch"],
      },
      {
        apiGroups: ["rbac.authorization.k8s.io"],
        resources: ["clusterroles"],
        resourceNames: ["zonesync-system-zonesync-mirrors"],
        verbs: ["bind"],
      },
      {
        apiGroups: ["apiextensions.k8s.io"],
        resources: ["customresourcedefinitions"],
        resourceNames: ["zonesynclinks.zonesync.io"],
        verbs: ["get"],
      },
    ]);
    // No escalation path anywhere in the chart.
    for (const m of manifests.filter((m) => m.kind === "ClusterRole" || m.kind === "Role")) {
      for (const rule of m.rules ?? []) {
        expect(rule.verbs, `${m.kind} ${m.metadata.name}`).not.toContain("escalate");
        expect(rule.verbs, `${m.kind} ${m.metadata.name}`).not.toContain("*");
        if (rule.verbs.includes("bind")) expect(rule.resourceNames).toEqual(["zonesync-system-zonesync-mirrors"]);
      }
    }
    // Local zone-sync: a Role in the NGINX namespace, by name except `create`.
    const zoneSync = find(manifests, "Role", "zonesync-manager-zone-sync");
    expect(zoneSync.metadata.namespace).toBe("nginx");
    expect(zoneSync.rules).toEqual([
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["nginx-config"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["nginx-ingress"],
        verbs: ["get", "list", "watch", "patch"],
      },
      { apiGroups: [""], resources: ["services", "configmaps"], verbs: ["create"] },
      {
        apiGroups: [""],
        resources: ["services"],
        resourceNames: ["nginx-ingress-deployment-hl"],
        verbs: ["get", "list", "watch", "update", "patch", "delete"],
      },
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: ["nginx-ingress-zone-sync"],
        verbs: ["get", "list", "watch", "update", "patch", "delete"],
      },
      {
        apiGroups: ["rbac.authorization.k8s.io"],
        resources: ["roles", "rolebindings"],
        resourceNames: ["zonesync-manager-zone-sync"],
        verbs: ["get", "update", "patch"],
      },
    ]);
    expect(find(manifests, "RoleBinding", "zonesync-manager-zone-sync").subjects).toEqual([
      { kind: "ServiceAccount", name: "zonesync-manager", namespace: NAMESPACE },
    ]);
    const role = find(manifests, "Role", "zonesync-manager");
    const secrets = role.rules!.find((r) => r.resources.includes("secrets"));
    expect(secrets?.resourceNames).toBeUndefined(); // Helm's release Secrets; the namespace bounds it
    find(manifests, "RoleBinding", "zonesync-manager");
    find(manifests, "ClusterRoleBinding", "zonesync-system-zonesync-manager");

    const disabled = await render(bin(), { manager: { enabled: false } });
    expect(disabled.filter((m) => m.metadata.name.endsWith("zonesync-manager"))).toEqual([]);
  });

  it("quotes every name-like value: a link named 53524e-0 or 1e3 in namespace 123 renders strings, not numbers", async () => {
    // Go's YAML reads an unquoted 53524e-0 as a float, and the API server then refuses the manifest; YAML 1.2's core
    // schema resolves such scalars the same way.
    const names = ["53524e-0", "1e3", "0123", "123"];
    const values = { controllers: names.map((name) => ({ name, credentialsSecret: `creds-${name}` })) };
    const result = await runHelm(bin(), ["template", "1e5", chartDir, "-n", "123", "-f", valuesFile(values)]);
    expect(result.exitCode, result.stderr).toBe(0);
    const offenders: string[] = [];
    const stringValued = new Set(["labels", "annotations", "matchLabels", "args", "resourceNames"]);
    const walk = (node: unknown, path: string, mustBeStrings: boolean): void => {
      if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${path}[${i}]`, mustBeStrings));
      else if (node !== null && typeof node === "object") {
        for (const [key, v] of Object.entries(node)) {
          if (key === "namespace" && typeof v !== "string") offenders.push(`${path}.${key}`);
          walk(v, `${path}.${key}`, stringValued.has(key));
        }
      } else if (mustBeStrings && typeof node !== "string") offenders.push(`${path} = ${String(node)}`);
    };
    const docs = parseAllDocuments(result.stdout, { schema: "core" }).map((d) => d.toJS() as Manifest | null);
    for (const doc of docs) if (doc) walk(doc, `${doc.kind}/${doc.metadata.name}`, false);
    expect(offenders).toEqual([]);
    expect(docs.filter((d) => d?.kind === "Deployment")).toHaveLength(names.length + 1);
  });

  it("never sets a container command (the image's entrypoint is the CLI)", async () => {
    const manifests = await render(bin(), twoControllers);
    const containers = manifests.flatMap((m) => m.spec?.template?.spec.containers ?? []);
    expect(containers.length).toBe(3);
    for (const c of containers) expect(c.command, c.name).toBeUndefined();
  });

  it("rejects bad values with a message naming the field", async () => {
    expect(await renderError(bin(), { controllers: [{ replicas: 2 }] })).toMatch(
      /at '\/controllers\/0': missing property 'name'|controllers\.0: name is required/,
    );
    expect(await renderError(bin(), { controllerDefaults: { replicas: "three" } })).toMatch(
      /at '\/controllerDefaults\/replicas': got string, want integer|controllerDefaults\.replicas: Invalid type\. Expected: integer, given: string/,
    );
    expect(await renderError(bin(), { controllerDefaults: { logLevel: "loud" } })).toMatch(
      /at '\/controllerDefaults\/logLevel': value must be one of 'error', 'warn', 'info', 'debug'|controllerDefaults\.logLevel must be one of the following: "error", "warn", "info", "debug"/,
    );
    expect(await renderError(bin(), { controllers: [{ name: "east", replica: 2 }] })).toMatch(
      /additional properties 'replica' not allowed|Additional property replica is not allowed/,
    );
    expect(await renderError(bin(), { controllers: [{ name: "East" }] })).toMatch(/controllers.0.*name/);
  });

  it("rejects duplicate controllers names", async () => {
    expect(await renderError(bin(), { controllers: [{ name: "east" }, { name: "west" }, { name: "east" }] })).toContain(
      'controllers[2].name: duplicate "east" (also controllers[0])',
    );
  });
});
