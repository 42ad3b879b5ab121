import { readFileSync } from "node:fs";
import { execa } from "execa";
import { parseAllDocuments } from "yaml";
import type { KubeClient, KubeObject } from "../src/kube/client.ts";
import { endpointSliceType, Resources, servedVersion } from "../src/kube/resources.ts";
import { bundledChartPath, bundledCrdPath } from "../src/paths.ts";
import type { Environment } from "../test/env/index.ts";
import { eventually } from "../test/env/wait.ts";

const NAMESPACE = "zonesync-system";

interface DemoOptions {
  kubeconfigPath: string;
  say: (message: string) => void;
}

function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  return eventually(probe, timeoutMs, what, 250);
}

async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  await client.apply(Resources.namespaces, { metadata: { name } });
}

function deployment(namespace: string, name: string, replicas: number): KubeObject {
  return {
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: `demo/${name}:1`, ports: [{ containerPort: 8080, protocol: "TCP" }] }] },
      },
    },
  };
}

/** A sample app (exported in east and west) and an NGINX-like Deployment with zone-sync on, in one cluster. */
async function seedCluster(client: KubeClient, exported: boolean): Promise<void> {
  await ensureNamespace(client, "demo");
  await ensureNamespace(client, "nginx");
  await client.apply(Resources.deployments, deployment("demo", "echo", 2));
  await client.apply(Resources.services, {
    metadata: { name: "echo", namespace: "demo", labels: exported ? { "zonesync.io/exported": "true" } : {} },
    spec: { selector: { app: "echo" }, ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] },
  });
  await client.apply(Resources.deployments, deployment("nginx", "nginx", 2));
  await client.apply(Resources.configMaps, {
    metadata: { name: "nginx-config", namespace: "nginx" },
    data: { "zone-sync": "true", "zone-sync-port": "12345" },
  });
}

function zonesync(kubeconfig: string, args: string[]) {
  return execa(process.execPath, ["dist/src/cli/main.js", ...args], { env: { KUBECONFIG: kubeconfig } });
}

export async function runDemo(env: Environment, { kubeconfigPath, say }: DemoOptions): Promise<string> {
  const helm = env.binaries.helm4;
  const crd = parseAllDocuments(readFileSync(bundledCrdPath(), "utf8")).map((d) => d.toJS() as KubeObject);
  const names = Object.keys(env.clusters);
  say("installing the ZoneSyncLink CRD, sample workloads and the zonesync chart (MCS API on) in every cluster");
  await Promise.all(
    names.map(async (name) => {
      const client = env.clusters[name]!.client();
      for (const doc of crd) await client.apply(Resources.crds, doc);
      await seedCluster(client, name !== "hub");
      await execa(helm, [
        "upgrade",
        "--install",
        "zonesync",
        bundledChartPath(),
        "--namespace",
        NAMESPACE,
        "--create-namespace",
        "--kube-context",
        name,
        "--kubeconfig",
        kubeconfigPath,
        "--set",
        "manager.nginx.configMap=nginx/nginx-config",
        "--set",
        "manager.nginx.workload=Deployment/nginx/nginx",
        "--set",
        "mcs.enabled=true",
        "--set",
        `mcs.clusterId=${name}`,
        "--wait",
        "--timeout",
        "120s",
      ]);
      say(`  ${name}: chart installed, manager running`);
    }),
  );

  say("linking east and west into hub with `zonesync link`");
  for (const target of ["east", "west"]) {
    await zonesync(kubeconfigPath, [
      "link",
      "--context",
      target,
      "--cluster-name",
      target,
      "--source",
      "hub",
      "--create-access",
      "--create-namespaces",
      "--zone-sync-target",
      "nginx/nginx-deployment-hl",
      "--zone-sync-local",
      "nginx/nginx-deployment-hl",
      "--apply",
      "--to-context",
      "hub",
    ]);
  }

  const hub = env.clusters.hub!.client();
  say("waiting for the link controllers, the mirrors and the zone-sync peers");
  await waitFor("both link controllers to be available", 120_000, async () => {
    const list = await hub.list<KubeObject & { status?: { availableReplicas?: number } }>(
      Resources.deployments,
      NAMESPACE,
      {
        labelSelector: "zonesync.io/link",
      },
    );
    return list.items.filter((d) => (d.status?.availableReplicas ?? 0) > 0).length === 2;
  });
  await waitFor("the mirrors of echo from east and west", 60_000, async () => {
    const list = await hub.list(Resources.services, "demo", { labelSelector: "zonesync.io/mirrored-from" });
    return list.items.length === 2;
  });
  await waitFor("both links to report Ready", 60_000, async () => {
    const list = await hub.list<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(
      Resources.zoneSyncLinks,
      NAMESPACE,
    );
    return list.items.every((l) => l.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
  }).catch((err: unknown) => say(`warning: ${(err as Error).message}; the summary shows the current state`));

  say("exporting demo/echo from east and west with the Multi-Cluster Services API (`zonesync export`)");
  for (const target of ["east", "west"]) {
    await zonesync(kubeconfigPath, ["export", "echo", "-n", "demo", "--apply", "--context", target]);
  }
  await waitFor("hub's ServiceImport of demo/echo from east and west", 60_000, async () => {
    const imported = await hub.getOptional<ServiceImport>(Resources.serviceImports, "demo", "echo");
    return (imported?.status?.clusters?.length ?? 0) === 2 && (imported?.spec.ips?.length ?? 0) > 0;
  }).catch((err: unknown) => say(`warning: ${(err as Error).message}; the summary shows the current state`));
  return summary(env);
}

type ServiceImport = KubeObject & {
  spec: { type: string; ips?: string[]; ports?: Array<{ name?: string; port: number; protocol: string }> };
  status?: { clusters?: Array<{ cluster: string }> };
};

async function summary(env: Environment): Promise<string> {
  const hub = env.clusters.hub!.client();
  const slices = endpointSliceType(await servedVersion(hub, "discovery.k8s.io"));
  const lines: string[] = ["", "zonesync is running on hub, east and west", ""];
  const links = await hub.list<KubeObject & { spec: { targetClusterName: string }; status?: Record<string, unknown> }>(
    Resources.zoneSyncLinks,
    NAMESPACE,
  );
  lines.push("Links in hub:");
  for (const link of links.items) {
    const conditions =
      (link.status?.conditions as
        Array<{ type: string; status: string; reason: string; message: string }> | undefined) ?? [];
    const readyCondition = conditions.find((c) => c.type === "Ready");
    const ready =
      readyCondition?.status === "True"
        ? "True"
        : `${readyCondition?.status ?? "Unknown"} (${readyCondition?.reason ?? "no status yet"}: ${readyCondition?.message ?? ""})`;
    lines.push(
      `  ${link.metadata.name!.padEnd(6)} target=${link.spec.targetClusterName} mode=${String(link.status?.mode ?? "?")} ready=${ready} mirrored=${String(link.status?.mirroredServices ?? 0)}`,
    );
  }
  const deployments = await hub.list<
    KubeObject & { spec: { replicas?: number }; status?: { availableReplicas?: number } }
  >(Resources.deployments, NAMESPACE);
  lines.push("", "Deployments in hub/zonesync-system:");
  for (const d of deployments.items) {
    const mode =
      d.metadata.labels?.["zonesync.io/controller-mode"] ?? d.metadata.labels?.["app.kubernetes.io/component"] ?? "";
    lines.push(
      `  ${d.metadata.name!.padEnd(22)} ${mode.padEnd(14)} ${d.status?.availableReplicas ?? 0}/${d.spec.replicas ?? 1} available`,
    );
  }
  const mirrors = await hub.list(Resources.services, "demo", { labelSelector: "zonesync.io/mirrored-from" });
  lines.push("", "Mirrored Services in hub/demo:");
  for (const m of mirrors.items) {
    const slicesOf = await hub.list<KubeObject & { endpoints?: Array<{ addresses: string[] }> }>(slices, "demo", {
      labelSelector: `kubernetes.io/service-name=${m.metadata.name}`,
    });
    const addresses = slicesOf.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses));
    lines.push(
      `  ${m.metadata.name!.padEnd(12)} from ${m.metadata.labels?.["zonesync.io/mirrored-from"]}  endpoints ${addresses.join(", ")}`,
    );
  }
  const peers = await hub.list<KubeObject & { endpoints?: Array<{ addresses: string[] }> }>(slices, "nginx", {
    labelSelector: "kubernetes.io/service-name=nginx-deployment-hl",
  });
  lines.push("", "NGINX zone-sync peers of hub/nginx/nginx-deployment-hl (local and remote):");
  for (const s of peers.items.filter((slice) => (slice.endpoints ?? []).length > 0)) {
    const from = s.metadata.labels?.["zonesync.io/mirrored-from"] ?? "hub (local)";
    lines.push(`  ${from.padEnd(12)} ${(s.endpoints ?? []).flatMap((e) => e.addresses).join(", ")}`);
  }
  const imported = await hub.getOptional<ServiceImport>(Resources.serviceImports, "demo", "echo");
  lines.push("", "Multi-Cluster Services: hub's ServiceImport demo/echo (exported by east and west):");
  if (!imported) lines.push("  (not imported yet)");
  else {
    const ports = (imported.spec.ports ?? []).map((p) => `${p.port}/${p.protocol}`).join(", ");
    lines.push(
      `  type ${imported.spec.type}, clusterset IP ${imported.spec.ips?.join(", ") ?? "none"}, ports ${ports}, ` +
        `from ${(imported.status?.clusters ?? []).map((c) => c.cluster).join(", ")}`,
    );
    const derived = await hub.list<KubeObject & { endpoints?: Array<{ addresses: string[] }> }>(slices, "demo", {
      labelSelector: "multicluster.kubernetes.io/service-name=echo",
    });
    const bySource = new Map<string, string[]>();
    for (const s of derived.items) {
      const source = s.metadata.labels?.["multicluster.kubernetes.io/source-cluster"] ?? "?";
      bySource.set(source, [...(bySource.get(source) ?? []), ...(s.endpoints ?? []).flatMap((e) => e.addresses)]);
    }
    for (const [source, addresses] of [...bySource].sort())
      lines.push(`  endpoints from ${source.padEnd(5)} ${addresses.join(", ") || "(none)"}`);
  }
  const config = await hub.getOptional<KubeObject & { data?: Record<string, string> }>(
    Resources.configMaps,
    "nginx",
    "nginx-zone-sync",
  );
  lines.push("", "Rendered NGINX stream config (hub/nginx/nginx-zone-sync):");
  for (const line of (config?.data?.["zone-sync.conf"] ?? "(not rendered yet)\n").trimEnd().split("\n"))
    lines.push(`  ${line}`);
  return lines.join("\n") + "\n";
}
