import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ANNOTATION_MIRROR_HASH, ANNOTATION_REMOTE_REF, LABEL_ENDPOINTSLICE_MANAGED_BY } from "../../src/api/names.ts";
import { Helm } from "../../src/helm/helm.ts";
import type { KubeObject } from "../../src/kube/client.ts";
import { KubeApiError } from "../../src/kube/errors.ts";
import { apiVersionOf, resourceForObject, resourcePath, Resources, servedVersion } from "../../src/kube/resources.ts";
import { ServiceImportSpecSchema } from "../../src/mcs/api.ts";
import { toExportedService, toImportSlice, type ExportedService, type ServiceExportView } from "../../src/mcs/model.ts";
import { planImport, serviceFieldsOf, type ImportPlan } from "../../src/mcs/plan.ts";
import { toTargetService, toTargetSlice } from "../../src/mirror/model.ts";
import { mirrorSliceName } from "../../src/mirror/naming.ts";
import { renderService, renderSlices, type MirrorContext } from "../../src/mirror/render.ts";
import { bundledChartPath } from "../../src/paths.ts";
import { ensureHelm } from "../env/binaries.ts";

/**
 * Contract tests: objects as a current API server (Kubernetes 1.31+, discovery.k8s.io/v1, policy/v1) returns them,
 * recorded in test/fixtures/contract (see its README), through the code that reads and renders them. The live tests
 * run on 1.20 only, which serves neither v1 EndpointSlices nor v1 PodDisruptionBudgets.
 */

interface Endpoint {
  addresses: string[];
  conditions: Record<string, boolean>;
  [field: string]: unknown;
}

const fixture = (name: string): KubeObject =>
  JSON.parse(readFileSync(join(import.meta.dirname, "..", "fixtures", "contract", name), "utf8")) as KubeObject;

const serviceRaw = fixture("service-v1-dual-stack.json");
const ipv4Raw = fixture("endpointslice-v1-ipv4.json");
const ipv6Raw = fixture("endpointslice-v1-ipv6.json");
const pdbRaw = fixture("poddisruptionbudget-policy-v1.json");

/** A local cluster that serves discovery.k8s.io/v1, mirroring the target cluster "east". */
const ctx: MirrorContext = { link: "east", linkUid: "uid-east", cluster: "east", sliceVersion: "v1" };
const MIRROR = "web-east";

const endpointsOf = (body: KubeObject) => body.endpoints as Endpoint[];

describe("a v1 EndpointSlice of the target", () => {
  const slice = toTargetSlice(ipv4Raw);

  it("is read with every endpoint's conditions and zone, without the target's nodes, pods or hints", () => {
    expect(slice).toEqual({
      metadata: { name: "web-8kzt4", namespace: "shop", resourceVersion: "1843327" },
      // The EndpointSlice controller's RFC3339Nano stamp, to the millisecond.
      triggerTime: "2025-03-11T14:02:19.000Z",
      service: "web",
      addressType: "IPv4",
      ports: [{ name: "http", protocol: "TCP", port: 8080, appProtocol: "http" }],
      endpoints: [
        { addresses: ["10.244.1.12"], ready: true, serving: true, terminating: false, zone: "eu-west-1a" },
        { addresses: ["10.244.2.7"], ready: true, serving: true, terminating: false, zone: "eu-west-1b" },
        { addresses: ["10.244.3.21"], ready: false, serving: true, terminating: true, zone: "eu-west-1c" },
      ],
    });
  });

  it("is mirrored as a v1 slice keeping ready, serving and terminating, so a terminating endpoint still serves", () => {
    const [mirror, ...more] = renderSlices(ctx, toTargetService(serviceRaw), [slice], {
      stale: false,
      serviceUid: "local-uid",
    });
    expect(more).toEqual([]);
    const body = mirror!.body;
    expect(body.addressType).toBe("IPv4");
    expect(endpointsOf(body)).toEqual([
      {
        addresses: ["10.244.1.12"],
        conditions: { ready: true, serving: true, terminating: false },
        zone: "eu-west-1a",
      },
      { addresses: ["10.244.2.7"], conditions: { ready: true, serving: true, terminating: false }, zone: "eu-west-1b" },
      {
        addresses: ["10.244.3.21"],
        conditions: { ready: false, serving: true, terminating: true },
        zone: "eu-west-1c",
      },
    ]);
    expect(body.ports).toEqual([{ name: "http", protocol: "TCP", port: 8080, appProtocol: "http" }]);
    expect(body.metadata).toEqual({
      name: mirrorSliceName(MIRROR, "web-8kzt4"),
      namespace: "shop",
      // The mirror Service's, not the target slice's (no `app`, no `zonesync.io/exported`, not the target's manager).
      labels: {
        "zonesync.io/link": "east",
        "zonesync.io/link-uid": "uid-east",
        "zonesync.io/mirrored-from": "east",
        "kubernetes.io/service-name": MIRROR,
        "endpointslice.kubernetes.io/managed-by": "link-controller.zonesync.io",
      },
      annotations: {
        [ANNOTATION_REMOTE_REF]: "east/shop/web",
        [ANNOTATION_MIRROR_HASH]: mirror!.hash,
        // Carried, so the local kube-proxy's programming latency and zonesync's lag start at the change in east.
        "endpoints.kubernetes.io/last-change-trigger-time": "2025-03-11T14:02:19.000Z",
      },
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name: MIRROR, uid: "local-uid" }],
    });
    // Nothing that names the target's nodes, pods or zones-to-route-to: hints would steer the local kube-proxy,
    // and a node name would make a remote endpoint look node-local.
    const text = JSON.stringify(body);
    for (const dropped of ["hints", "forZones", "nodeName", "worker-", "targetRef", "web-7c9f8d6b5", "Topology"]) {
      expect(text).not.toContain(dropped);
    }
  });

  it("is mirrored stale as neither ready nor serving, terminating kept", () => {
    const [mirror] = renderSlices(ctx, toTargetService(serviceRaw), [slice], { stale: true });
    expect(endpointsOf(mirror!.body).map((e) => e.conditions)).toEqual([
      { ready: false, serving: false, terminating: false },
      { ready: false, serving: false, terminating: false },
      { ready: false, serving: false, terminating: true },
    ]);
  });

  it("keeps its zone, not deprecatedTopology, when a v1beta1 writer made it", () => {
    // What v1 returns for an endpoint written through v1beta1 with extra topology keys.
    const endpoints = (ipv4Raw.endpoints as Endpoint[]).map((e) => ({
      ...e,
      deprecatedTopology: { "topology.kubernetes.io/region": "eu-west-1" },
    }));
    const [mirror] = renderSlices(ctx, toTargetService(serviceRaw), [toTargetSlice({ ...ipv4Raw, endpoints })], {
      stale: false,
    });
    expect(endpointsOf(mirror!.body).map((e) => e.zone)).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(JSON.stringify(mirror!.body)).not.toMatch(/region|Topology|topology/);
  });

  it("of addressType FQDN is mirrored as FQDN", () => {
    const fqdn = toTargetSlice({
      ...ipv4Raw,
      addressType: "FQDN",
      endpoints: [{ addresses: ["web-0.shop.example.com"], conditions: { ready: true } }],
    });
    expect(fqdn.invalid).toBeUndefined();
    const [mirror] = renderSlices(ctx, toTargetService(serviceRaw), [fqdn], { stale: false });
    expect(mirror!.body.addressType).toBe("FQDN");
    expect(endpointsOf(mirror!.body)).toEqual([{ addresses: ["web-0.shop.example.com"], conditions: { ready: true } }]);
  });
});

describe("a dual-stack v1 Service of the target", () => {
  const service = toTargetService(serviceRaw);

  it("is accepted with ipFamilies, ipFamilyPolicy, internalTrafficPolicy and trafficDistribution", () => {
    expect(service).toEqual({
      metadata: { name: "web", namespace: "shop", resourceVersion: "1402216" },
      headless: false,
      serviceType: "ClusterIP",
      ports: [{ name: "http", protocol: "TCP", appProtocol: "http", port: 80 }],
    });
  });

  it("is mirrored as a selector-less ClusterIP Service: the target's IPs and traffic settings stay there", () => {
    expect(renderService(ctx, service).body.spec).toEqual({
      type: "ClusterIP",
      ports: [{ name: "http", protocol: "TCP", port: 80, appProtocol: "http" }],
    });
  });

  it("has its IPv4 and IPv6 slices mirrored into one local slice per family", () => {
    const mirrors = renderSlices(ctx, service, [toTargetSlice(ipv4Raw), toTargetSlice(ipv6Raw)], { stale: false });
    expect(mirrors.map((m) => [m.name, m.body.addressType])).toEqual([
      [mirrorSliceName(MIRROR, "web-8kzt4"), "IPv4"],
      [mirrorSliceName(MIRROR, "web-x7hqm"), "IPv6"],
    ]);
    const [v4, v6] = mirrors.map((m) => endpointsOf(m.body));
    expect(v4!.map((e) => e.addresses)).toEqual([["10.244.1.12"], ["10.244.2.7"], ["10.244.3.21"]]);
    expect(v6!.map((e) => e.addresses)).toEqual([["fd00:10:244:1::c"], ["fd00:10:244:2::7"], ["fd00:10:244:3::15"]]);
    // The same pods: the same conditions and zones in both families.
    expect(v6!.map(({ addresses: _, ...rest }) => rest)).toEqual(v4!.map(({ addresses: _, ...rest }) => rest));
  });
});

describe("picking the version the server offers", () => {
  const server = (status: number) => ({
    paths: [] as string[],
    async request(method: string, path: string): Promise<unknown> {
      this.paths.push(path);
      if (status === 200) return { kind: "APIResourceList" };
      throw new KubeApiError(`${method} ${path}: ${status}`, status, status === 404 ? "NotFound" : "", method, path);
    },
  });

  it("is v1 where the server serves the group's v1, v1beta1 where it answers 404 (Kubernetes 1.20)", async () => {
    const current = server(200);
    expect(await servedVersion(current, "discovery.k8s.io")).toBe("v1");
    expect(await servedVersion(current, "policy")).toBe("v1");
    expect(current.paths).toEqual(["/apis/discovery.k8s.io/v1", "/apis/policy/v1"]);
    expect(await servedVersion(server(404), "discovery.k8s.io")).toBe("v1beta1");
    await expect(servedVersion(server(503), "policy")).rejects.toThrow(/503/);
  });
});

describe.each([
  ["Helm 4", () => ensureHelm().helm4],
  ["Helm 3", () => ensureHelm().helm3],
])("the chart's PodDisruptionBudget with %s", (_label, binary) => {
  const V1_KIND = "policy/v1/PodDisruptionBudget";
  const values = {
    controllers: [{ name: "west", replicas: 3, podDisruptionBudget: { enabled: true, minAvailable: "50%" } }],
  };

  async function renderPdb(capabilities: { kubeVersion?: string; apiVersions?: string[] } = {}): Promise<KubeObject> {
    const manifest = await new Helm({ binary: binary() }).template({
      release: "zonesync",
      chart: bundledChartPath(),
      namespace: "zonesync-system",
      values,
      showOnly: ["templates/controllers.yaml"],
      ...capabilities,
    });
    const pdbs = parseAllDocuments(manifest)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o) => o?.kind === "PodDisruptionBudget");
    expect(pdbs).toHaveLength(1);
    return pdbs[0]!;
  }

  it("is the recorded policy/v1 object, and is written to policy/v1", async () => {
    const pdb = await renderPdb();
    expect(pdb.apiVersion).toBe(pdbRaw.apiVersion);
    expect(pdb.spec).toEqual(pdbRaw.spec);
    expect(pdb.metadata.name).toBe(pdbRaw.metadata.name);
    expect(pdb.metadata.namespace).toBe(pdbRaw.metadata.namespace);
    // All labels but the two that name the chart version the object was recorded with.
    const { "helm.sh/chart": _c, "app.kubernetes.io/version": _v, ...labels } = pdbRaw.metadata.labels!;
    expect(pdb.metadata.labels).toMatchObject(labels);
    expect(apiVersionOf(Resources.podDisruptionBudgets)).toBe("policy/v1");
    expect(resourcePath(resourceForObject(pdbRaw), "zonesync-system", "zonesync-link-west")).toBe(
      "/apis/policy/v1/namespaces/zonesync-system/poddisruptionbudgets/zonesync-link-west",
    );
  });

  // `helm template` adds --api-versions to its built-in list (which has policy/v1) and takes --kube-version, or its
  // own (1.32 for Helm 3.17, 1.35 for Helm 4.1), as the server's version.
  it.each([
    { apiVersion: "policy/v1", when: "without capabilities (offline helm template)", capabilities: {} },
    { apiVersion: "policy/v1", when: "where the server lists its kind", capabilities: { apiVersions: [V1_KIND] } },
    { apiVersion: "policy/v1", when: "on Kubernetes 1.21", capabilities: { kubeVersion: "1.21.0" } },
    {
      apiVersion: "policy/v1",
      when: "with only policy/v1beta1 given",
      capabilities: { apiVersions: ["policy/v1beta1"] },
    },
    {
      apiVersion: "policy/v1",
      when: "on a 1.20 listing it",
      capabilities: { kubeVersion: "1.20.2", apiVersions: [V1_KIND] },
    },
    {
      apiVersion: "policy/v1beta1",
      when: "on Kubernetes 1.20, which lacks policy/v1",
      capabilities: { kubeVersion: "1.20.2" },
    },
  ])("is $apiVersion $when", async ({ capabilities, apiVersion }) => {
    expect((await renderPdb(capabilities)).apiVersion).toBe(apiVersion);
  });
});

/**
 * The mcs-api conformance cases that need Kubernetes 1.21+ (internalTrafficPolicy) and 1.30+ (trafficDistribution),
 * on Services as those servers return them: east exports `service-v1-dual-stack.json` (trafficDistribution
 * PreferClose, internalTrafficPolicy Cluster), west `service-v1-internal-local.json` (Local, no distribution), and each
 * cluster's MCS controller plans the import from its own export and the other's carried record.
 */
describe("the Multi-Cluster Services API on current Kubernetes", () => {
  const eastService = toExportedService(serviceRaw);
  const westService = toExportedService(fixture("service-v1-internal-local.json"));
  const exportOf = (created: string): ServiceExportView => ({
    metadata: { name: "web", namespace: "shop", generation: 1, creationTimestamp: created },
    conditions: [],
  });
  const EAST_EXPORTED = "2025-03-05T15:00:00Z";
  const WEST_EXPORTED = "2025-03-05T15:00:07Z";

  /** The plan of `cluster`, carrying in the record the other cluster's own plan published. */
  function planIn(cluster: "east" | "west", own: ExportedService, created: string, other?: ImportPlan): ImportPlan {
    const carried = (other?.ownSlices ?? []).map((slice) => {
      const body = slice.body as KubeObject;
      return toImportSlice({
        ...body,
        metadata: {
          ...body.metadata,
          labels: { ...body.metadata.labels, [LABEL_ENDPOINTSLICE_MANAGED_BY]: "link-controller.zonesync.io" },
        },
      });
    });
    return planImport({
      namespace: "shop",
      name: "web",
      clusterId: cluster,
      sliceVersion: "v1",
      serviceExport: exportOf(created),
      service: own,
      serviceSlices: [toImportSlice(ipv4Raw)],
      carriedSlices: carried,
      derivedIps: ["10.96.200.1"],
      serviceFields: serviceFieldsOf({ major: "1", minor: "32" }),
    });
  }

  const derivedSpec = (plan: ImportPlan) => plan.derivedService?.body.spec as Record<string, unknown> | undefined;
  const westAlone = planIn("west", westService, WEST_EXPORTED);
  const eastAlone = planIn("east", eastService, EAST_EXPORTED);
  const east = planIn("east", eastService, EAST_EXPORTED, westAlone);
  const west = planIn("west", westService, WEST_EXPORTED, eastAlone);

  it("reads internalTrafficPolicy Local and trafficDistribution from the Services; Cluster is the default", () => {
    expect(eastService).toMatchObject({ trafficDistribution: "PreferClose" });
    expect(eastService).not.toHaveProperty("internalTrafficPolicy");
    expect(westService).toMatchObject({ internalTrafficPolicy: "Local" });
    expect(westService).not.toHaveProperty("trafficDistribution");
  });

  it("publishes them in the export record, which an older reader still accepts when they are unset", () => {
    expect(westAlone.record).toMatchObject({ internalTrafficPolicy: "Local" });
    expect(eastAlone.record).toMatchObject({ trafficDistribution: "PreferClose" });
    expect(eastAlone.record).not.toHaveProperty("internalTrafficPolicy");
  });

  it("The InternalTrafficPolicy / TrafficDistribution for a ClusterSetIP ServiceImport should match the exported service's", () => {
    const spec = westAlone.serviceImport?.spec;
    expect(spec).toMatchObject({ type: "ClusterSetIP", internalTrafficPolicy: "Local", ips: ["10.96.200.1"] });
    expect(ServiceImportSpecSchema.parse(spec)).toEqual(spec);
    expect(derivedSpec(westAlone)).toMatchObject({ internalTrafficPolicy: "Local" });
    // east's Service states Cluster (a 1.22+ server fills it in) and PreferClose: its import says both.
    expect(eastAlone.serviceImport?.spec).toMatchObject({
      internalTrafficPolicy: "Cluster",
      trafficDistribution: "PreferClose",
    });
    expect(derivedSpec(eastAlone)).toMatchObject({
      internalTrafficPolicy: "Cluster",
      trafficDistribution: "PreferClose",
    });
  });

  it.each([
    ["east", () => east],
    ["west", () => west],
  ])(
    "with differing service InternalTrafficPolicy and TrafficDistribution: resolves the conflict, Conflict on %s",
    (_cluster, planOf) => {
      const plan = planOf();
      // East exported first: its Cluster policy and PreferClose win in both clusters.
      expect(plan.serviceImport?.spec).toMatchObject({ trafficDistribution: "PreferClose" });
      expect(plan.serviceImport?.spec).toMatchObject({ internalTrafficPolicy: "Cluster" });
      expect(plan.serviceImport?.clusters).toEqual(["east", "west"]);
      expect(plan.conditions?.find((c) => c.type === "Conflict")).toMatchObject({
        status: "True",
        reason: "InternalTrafficPolicyConflict,TrafficDistributionConflict",
      });
      const derived = derivedSpec(plan);
      expect(derived).toMatchObject({ trafficDistribution: "PreferClose" });
      expect(derived).toMatchObject({ internalTrafficPolicy: "Cluster" });
    },
  );
});
