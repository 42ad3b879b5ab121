import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, ResponseTooLargeError } from "../../src/kube/client.ts";
import { emptyCounts, type DropCounts } from "../../src/mirror/drops.ts";
import { targetPolicy, type PolicySpec } from "../../src/mirror/policy.ts";
import { renderService, renderSlices, type Desired, type MirrorContext } from "../../src/mirror/render.ts";
import { TargetWatch } from "../../src/mirror/target.ts";
import { sleep } from "../../src/sleep.ts";

/**
 * Hostile target data, through the production path: a loopback API server plays the target cluster and answers the
 * link controller's lists (and holds its watches open); a TargetWatch reads it exactly as a link controller does
 * (informer transforms of model.ts, the link's policy, the caps); the mirrors are rendered as the reconciler renders
 * them. Each case says what is mirrored and which drop counter grows, with every other counter at zero.
 */

type Raw = Record<string, unknown>;

let server: Server;
let port = 0;
let target: { services: Raw[]; slices: Raw[]; serviceEvents?: Raw[] } = { services: [], slices: [] };

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    res.setHeader("content-type", "application/json");
    if (url.searchParams.get("watch") === "true") {
      // Held open until the watch is stopped; silent but for the Service events a case asks for.
      const events = url.pathname.endsWith("/services") ? (target.serviceEvents ?? []) : [];
      res.write(events.map((e) => JSON.stringify(e) + "\n").join(""));
      return;
    }
    const items = url.pathname.endsWith("/services") ? target.services : target.slices;
    res.end(JSON.stringify({ metadata: { resourceVersion: "1" }, items }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function targetClient(): KubeClient {
  return KubeClient.fromString(
    JSON.stringify({
      clusters: [{ name: "t", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user: {} }],
      contexts: [{ name: "t", context: { cluster: "t", user: "u" } }],
      "current-context": "t",
    }),
  );
}

const ctx: MirrorContext = { link: "east", linkUid: "uid-east", cluster: "east", sliceVersion: "v1" };

const service = (overrides: { metadata?: Raw; spec?: Raw } = {}): Raw => ({
  metadata: { name: "web", namespace: "shop", resourceVersion: "5", ...overrides.metadata },
  spec: { clusterIP: "10.1.0.1", ports: [{ name: "http", protocol: "TCP", port: 80 }], ...overrides.spec },
});

const GOOD = { addresses: ["10.0.0.1"], conditions: { ready: true } };
const GOOD6 = { addresses: ["fd00::1"], conditions: { ready: true } };
const HTTP = { name: "http", protocol: "TCP", port: 8080 };

function slice(
  endpoints: unknown[],
  options: { addressType?: string; ports?: unknown[]; name?: string; service?: string } = {},
): Raw {
  return {
    metadata: {
      name: options.name ?? "web-abcde",
      namespace: "shop",
      resourceVersion: "7",
      labels: { "kubernetes.io/service-name": options.service ?? "web" },
    },
    addressType: options.addressType ?? "IPv4",
    endpoints,
    ports: options.ports ?? [HTTP],
  };
}
const v6 = (endpoints: unknown[]) => slice(endpoints, { addressType: "IPv6" });
const ip = (address: string) => ({ addresses: [address], conditions: { ready: true } });

interface Outcome {
  /** The Service is mirrored (rendered); false when it is skipped (invalid) or past maxServices. */
  mirrored: boolean;
  /** Every address of the rendered slices, sorted. */
  addresses: string[];
  /** Drop totals of the link (TargetWatch.droppedCounts), non-zero reasons only. */
  dropped: Partial<DropCounts>;
  slices: Desired[];
  service?: Desired;
}

async function mirror(
  services: Raw[],
  slices: Raw[],
  spec: PolicySpec = {},
  overrides: Parameters<typeof targetPolicy>[1] = {},
  which = { namespace: "shop", name: "web" },
  changed: string[] = [],
): Promise<Outcome & { watch: TargetWatch }> {
  target = { services, slices };
  const client = targetClient();
  const watch = new TargetWatch({
    client,
    sliceVersion: "v1",
    selector: "zonesync.io/export=true",
    onChange: (key) => changed.push(key),
    policy: targetPolicy(spec, overrides),
  });
  watch.start();
  try {
    await watch.waitForSync(10_000);
  } finally {
    await watch.stop();
    await client.close();
  }
  const dropped = Object.fromEntries(Object.entries(watch.droppedCounts()).filter(([, n]) => n !== 0));
  // What the reconciler does: a missing or invalid Service (or one past the cap) mirrors nothing.
  const svc = watch.service(which.namespace, which.name);
  if (!svc || svc.invalid || !watch.withinCap(which.namespace, which.name)) {
    return { watch, mirrored: false, addresses: [], dropped, slices: [] };
  }
  const rendered = renderSlices(ctx, svc, watch.slicesOf(which.namespace, which.name), { stale: false });
  const addresses = rendered.flatMap((d) =>
    (d.body.endpoints as Array<{ addresses: string[] }>).flatMap((e) => e.addresses),
  );
  return {
    watch,
    mirrored: true,
    addresses: addresses.sort(),
    dropped,
    slices: rendered,
    service: renderService(ctx, svc),
  };
}

const endpointsOf = (d: Desired | undefined) => (d?.body.endpoints ?? []) as Array<Record<string, unknown>>;
const portsOf = (d: Desired | undefined) => (d?.body.ports ?? []) as Array<Record<string, unknown>>;

interface Case {
  name: string;
  services?: Raw[];
  slices: Raw[];
  spec?: PolicySpec;
  mirrored?: boolean;
  addresses: string[];
  dropped: Partial<DropCounts>;
  /** Further checks of the rendered mirrors. */
  check?: (o: Outcome) => void;
}

const many = (n: number, prefix = "10.1") =>
  Array.from({ length: n }, (_, i) => ip(`${prefix}.${Math.floor(i / 250)}.${(i % 250) + 1}`));

const CASES: Case[] = [
  // --- addresses that would point a mirror at this cluster's own node -------------------------------------------
  {
    name: "IPv4 loopback 127.0.0.1",
    slices: [slice([GOOD, ip("127.0.0.1")])],
    addresses: ["10.0.0.1"],
    dropped: { loopback: 1 },
  },
  { name: "IPv6 loopback ::1", slices: [v6([GOOD6, ip("::1")])], addresses: ["fd00::1"], dropped: { loopback: 1 } },
  {
    name: "cloud metadata 169.254.169.254",
    slices: [slice([GOOD, ip("169.254.169.254")])],
    addresses: ["10.0.0.1"],
    dropped: { linkLocal: 1 },
  },
  {
    name: "IPv6 link-local fe80::1",
    slices: [v6([GOOD6, ip("fe80::1")])],
    addresses: ["fd00::1"],
    dropped: { linkLocal: 1 },
  },
  {
    name: "unspecified 0.0.0.0",
    slices: [slice([GOOD, ip("0.0.0.0")])],
    addresses: ["10.0.0.1"],
    dropped: { unspecified: 1 },
  },
  { name: "unspecified ::", slices: [v6([GOOD6, ip("::")])], addresses: ["fd00::1"], dropped: { unspecified: 1 } },
  {
    name: "multicast 224.0.0.1",
    slices: [slice([GOOD, ip("224.0.0.1")])],
    addresses: ["10.0.0.1"],
    dropped: { multicast: 1 },
  },
  {
    name: "multicast ff02::1",
    slices: [v6([GOOD6, ip("ff02::1")])],
    addresses: ["fd00::1"],
    dropped: { multicast: 1 },
  },
  {
    name: "broadcast 255.255.255.255",
    slices: [slice([GOOD, ip("255.255.255.255")])],
    addresses: ["10.0.0.1"],
    dropped: { broadcast: 1 },
  },
  {
    name: "IPv4-mapped loopback ::ffff:127.0.0.1",
    slices: [v6([GOOD6, ip("::ffff:127.0.0.1")])],
    addresses: ["fd00::1"],
    dropped: { loopback: 1 },
  },
  {
    name: "IPv4-mapped metadata ::ffff:a9fe:a9fe",
    slices: [v6([GOOD6, ip("::ffff:a9fe:a9fe")])],
    addresses: ["fd00::1"],
    dropped: { linkLocal: 1 },
  },
  {
    name: "a loopback address hidden second in one endpoint: the endpoint keeps its good address",
    slices: [slice([{ addresses: ["10.0.0.2", "127.0.0.1"], conditions: { ready: true } }])],
    addresses: ["10.0.0.2"],
    dropped: { loopback: 1 },
  },
  // --- addresses of the wrong family or not addresses at all -------------------------------------------------------
  {
    name: "IPv6 address in an IPv4 slice",
    slices: [slice([GOOD, ip("fd00::9")])],
    addresses: ["10.0.0.1"],
    dropped: { wrongFamily: 1 },
  },
  {
    name: "IPv4 address in an IPv6 slice",
    slices: [v6([GOOD6, ip("10.0.0.9")])],
    addresses: ["fd00::1"],
    dropped: { wrongFamily: 1 },
  },
  {
    name: "IPv4-mapped (non-special) ::ffff:10.0.0.9 in an IPv6 slice",
    slices: [v6([GOOD6, ip("::ffff:10.0.0.9")])],
    addresses: ["fd00::1"],
    dropped: { wrongFamily: 1 },
  },
  {
    name: 'a CIDR "10.0.0.1/32" as an address',
    slices: [slice([GOOD, ip("10.0.0.1/32")])],
    addresses: ["10.0.0.1"],
    dropped: { invalid: 1 },
  },
  {
    name: 'a leading-zero quad "010.0.0.1"',
    slices: [slice([GOOD, ip("010.0.0.1")])],
    addresses: ["10.0.0.1"],
    dropped: { invalid: 1 },
  },
  {
    name: "an IPv6 zone index fe80::1%eth0",
    slices: [v6([GOOD6, ip("fe80::1%eth0")])],
    addresses: ["fd00::1"],
    dropped: { invalid: 1 },
  },
  {
    name: "addresses that are not strings, and an endpoint without addresses",
    slices: [slice([GOOD, { addresses: [42, null] }, { addresses: [] }, "not an endpoint"])],
    addresses: ["10.0.0.1"],
    dropped: { invalid: 4 },
  },
  {
    name: "an address in spec.excludeCIDRs (the local Service range)",
    spec: { excludeCIDRs: ["10.96.0.0/12"] },
    slices: [slice([GOOD, ip("10.96.0.10")])],
    addresses: ["10.0.0.1"],
    dropped: { excluded: 1 },
  },
  // --- FQDN slices -------------------------------------------------------------------------------------------------
  {
    name: "an FQDN slice without spec.mirrorFQDN: not mirrored at all",
    slices: [slice([GOOD]), slice([ip("web-0.shop.example.com")], { addressType: "FQDN", name: "web-fqdn" })],
    addresses: ["10.0.0.1"],
    dropped: { fqdn: 1 },
    check: (o) => expect(o.slices.map((d) => d.body.addressType)).toEqual(["IPv4"]),
  },
  {
    name: "an FQDN slice with spec.mirrorFQDN: mirrored",
    spec: { mirrorFQDN: true },
    slices: [slice([ip("web-0.shop.example.com")], { addressType: "FQDN" })],
    addresses: ["web-0.shop.example.com"],
    dropped: {},
    check: (o) => expect(o.slices.map((d) => d.body.addressType)).toEqual(["FQDN"]),
  },
  {
    name: "FQDN addresses that are not DNS names (or name localhost), with the opt-in",
    spec: { mirrorFQDN: true },
    slices: [
      slice(
        [
          ip("web-0.shop.example.com"),
          ip("not a name!"),
          ip("Web-0.Shop.Example.com"),
          ip("single"),
          ip(`${"a".repeat(64)}.example.com`),
          ip(`${"a.".repeat(127)}com`), // 257 characters
          ip("db.localhost"),
        ],
        { addressType: "FQDN" },
      ),
    ],
    addresses: ["web-0.shop.example.com"],
    dropped: { invalid: 5, loopback: 1 },
  },
  {
    name: 'an unknown addressType "Carrier": the slice is not mirrored',
    slices: [slice([GOOD]), slice([GOOD], { addressType: "Carrier", name: "web-x" })],
    addresses: ["10.0.0.1"],
    dropped: { invalid: 1 },
  },
  // --- hostnames, zones, node names -------------------------------------------------------------------------------
  {
    name: "a 300-character hostname: the endpoint is kept without it",
    slices: [slice([{ ...GOOD, hostname: "a".repeat(300) }])],
    addresses: ["10.0.0.1"],
    dropped: { hostname: 1 },
    check: (o) => expect(endpointsOf(o.slices[0])).toEqual([{ addresses: ["10.0.0.1"], conditions: { ready: true } }]),
  },
  {
    name: "hostnames with upper case and underscores are dropped, a valid one is kept",
    slices: [
      slice([
        { ...GOOD, hostname: "Web_0" },
        { ...ip("10.0.0.2"), hostname: "web-1" },
      ]),
    ],
    addresses: ["10.0.0.1", "10.0.0.2"],
    dropped: { hostname: 1 },
    check: (o) => expect(endpointsOf(o.slices[0]).map((e) => e.hostname)).toEqual([undefined, "web-1"]),
  },
  {
    name: "an invalid zone is dropped; the node name is never copied",
    slices: [
      slice([
        { ...GOOD, zone: "zone a!", nodeName: "local-node-1" },
        { ...ip("10.0.0.2"), zone: "eu-1a" },
      ]),
    ],
    addresses: ["10.0.0.1", "10.0.0.2"],
    dropped: { zone: 1 },
    check: (o) =>
      expect(endpointsOf(o.slices[0])).toEqual([
        { addresses: ["10.0.0.1"], conditions: { ready: true } },
        { addresses: ["10.0.0.2"], conditions: { ready: true }, zone: "eu-1a" },
      ]),
  },
  // --- ports ------------------------------------------------------------------------------------------------------
  {
    name: "slice ports: 0, 70000, a 64-character name, protocol HTTP, a duplicate name, a bad appProtocol",
    slices: [
      slice([GOOD], {
        ports: [
          HTTP,
          { name: "zero", protocol: "TCP", port: 0 },
          { name: "big", protocol: "TCP", port: 70000 },
          { name: "p".repeat(64), protocol: "TCP", port: 81 },
          { name: "web", protocol: "HTTP", port: 82 },
          { name: "http", protocol: "UDP", port: 83 },
          { name: "grpc", protocol: "TCP", port: 9090, appProtocol: "not valid!" },
        ],
      }),
    ],
    addresses: ["10.0.0.1"],
    dropped: { port: 6 },
    check: (o) =>
      expect(portsOf(o.slices[0])).toEqual([
        { name: "grpc", protocol: "TCP", port: 9090 },
        { name: "http", protocol: "TCP", port: 8080 },
      ]),
  },
  {
    name: "a slice with no valid port keeps zero ports (as Kubernetes allows)",
    slices: [slice([GOOD], { ports: [{ name: "x", protocol: "TCP", port: -1 }] })],
    addresses: ["10.0.0.1"],
    dropped: { port: 1 },
    check: (o) => expect(portsOf(o.slices[0])).toEqual([]),
  },
  {
    name: "Service ports: protocol HTTP, port 70000 and an unnamed second port are dropped",
    services: [
      service({
        spec: {
          ports: [
            { name: "http", protocol: "TCP", port: 80 },
            { name: "web", protocol: "HTTP", port: 81 },
            { name: "big", port: 70000 },
            { protocol: "TCP", port: 82 },
          ],
        },
      }),
    ],
    slices: [slice([GOOD])],
    addresses: ["10.0.0.1"],
    dropped: { port: 3 },
    check: (o) =>
      expect((o.service?.body.spec as { ports: unknown[] }).ports).toEqual([
        { name: "http", protocol: "TCP", port: 80 },
      ]),
  },
  // --- names, labels, annotations ---------------------------------------------------------------------------------
  {
    name: "a Service name that is not a DNS label: not mirrored, nor its slices",
    services: [service({ metadata: { name: "Web_1" } })],
    slices: [slice([GOOD], { service: "Web_1" })],
    mirrored: false,
    addresses: [],
    dropped: { name: 2 },
  },
  {
    name: "a namespace that is not a DNS label",
    services: [service({ metadata: { namespace: "Shop!" } })],
    slices: [
      {
        ...slice([GOOD]),
        metadata: { name: "web-abcde", namespace: "Shop!", labels: { "kubernetes.io/service-name": "web" } },
      },
    ],
    mirrored: false,
    addresses: [],
    dropped: { name: 2 },
  },
  {
    name: "the target's labels, annotations and finalizers are not copied onto the mirrors",
    services: [
      service({
        metadata: {
          labels: { "zonesync.io/export": "true", "zonesync.io/link": "west", evil: "x" },
          annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", "zonesync.io/remote-ref": "forged" },
          finalizers: ["example.com/never"],
          ownerReferences: [{ apiVersion: "v1", kind: "Namespace", name: "kube-system", uid: "u" }],
        },
      }),
    ],
    slices: [
      {
        ...slice([GOOD]),
        metadata: {
          name: "web-abcde",
          namespace: "shop",
          labels: { "kubernetes.io/service-name": "web", "zonesync.io/link-uid": "forged" },
          annotations: { "zonesync.io/stale": "false" },
        },
      },
    ],
    addresses: ["10.0.0.1"],
    dropped: {},
    check: (o) => {
      for (const d of [o.service!, ...o.slices]) {
        // no finalizers, no foreign owner references: only what the renderer sets (slices get their owner at write)
        expect(Object.keys(d.body.metadata).sort()).toEqual(["annotations", "labels", "name", "namespace"]);
        expect(d.body.metadata.labels).toMatchObject({
          "zonesync.io/link": "east",
          "zonesync.io/link-uid": "uid-east",
        });
        expect(Object.keys(d.body.metadata.annotations!).sort()).toEqual([
          "zonesync.io/mirror-hash",
          "zonesync.io/remote-ref",
        ]);
        expect(d.body.metadata.annotations!["zonesync.io/remote-ref"]).toBe("east/shop/web");
      }
      expect(Object.keys(o.slices[0]!.body.metadata.labels!).sort()).toEqual([
        "endpointslice.kubernetes.io/managed-by",
        "kubernetes.io/service-name",
        "zonesync.io/link",
        "zonesync.io/link-uid",
        "zonesync.io/mirrored-from",
      ]);
    },
  },
  // --- sizes ------------------------------------------------------------------------------------------------------
  {
    name: "1500 endpoints in one slice: the first 1000 are kept",
    slices: [slice(many(1500))],
    addresses: many(1000)
      .flatMap((e) => e.addresses)
      .sort(),
    dropped: { tooMany: 500 },
  },
  {
    name: "5000 addresses in one endpoint: the first 100 are kept",
    slices: [slice([{ addresses: many(5000).flatMap((e) => e.addresses), conditions: { ready: true } }])],
    addresses: many(100)
      .flatMap((e) => e.addresses)
      .sort(),
    dropped: { tooMany: 4900 },
  },
  {
    name: "1200 slices for one Service: the first 1000 by name are mirrored",
    slices: Array.from({ length: 1200 }, (_, i) =>
      slice([ip(`10.2.${Math.floor(i / 250)}.${(i % 250) + 1}`)], { name: `web-${String(i).padStart(4, "0")}` }),
    ),
    addresses: Array.from({ length: 1000 }, (_, i) => `10.2.${Math.floor(i / 250)}.${(i % 250) + 1}`).sort(),
    dropped: { tooMany: 200 },
    check: (o) => expect(o.slices).toHaveLength(1000),
  },
  {
    name: "over 10000 endpoints for one Service (11 slices of 1000): the first 10000 are mirrored",
    slices: Array.from({ length: 11 }, (_, s) => slice(many(1000, `10.${10 + s}`), { name: `web-${s + 10}` })),
    addresses: Array.from({ length: 10 }, (_, s) => many(1000, `10.${10 + s}`).flatMap((e) => e.addresses))
      .flat()
      .sort(),
    dropped: { tooMany: 1000 },
  },
];

describe("hostile target data, through TargetWatch → render", () => {
  it("has at least 25 cases", () => expect(CASES.length).toBeGreaterThanOrEqual(25));

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const outcome = await mirror(c.services ?? [service()], c.slices, c.spec);
    expect(outcome.mirrored).toBe(c.mirrored ?? true);
    expect(outcome.addresses).toEqual(c.addresses);
    expect(outcome.dropped).toEqual(c.dropped);
    c.check?.(outcome);
  });

  it("spec.maxServices: the first N Services by namespace/name are within the cap, deterministically", async () => {
    const named = (namespace: string, name: string) => service({ metadata: { namespace, name } });
    const services = [named("shop", "web"), named("api", "zeta"), named("api", "alpha"), named("shop", "cart")];
    const { watch, mirrored } = await mirror(services, [slice([GOOD])], { maxServices: 2 });
    expect([...watch.serviceCap().within]).toEqual(["api/alpha", "api/zeta"]);
    expect(watch.serviceCap().over).toEqual(["shop/cart", "shop/web"]);
    expect(mirrored).toBe(false); // shop/web is past the cap
    expect(watch.withinCap("api", "alpha")).toBe(true);
    expect(watch.droppedCounts()).toEqual(emptyCounts());
  });

  it("Services that cross spec.maxServices either way are handed to the work queue", async () => {
    const changed: string[] = [];
    const named = (name: string) => service({ metadata: { name } });
    const { watch } = await mirror([named("b"), named("a")], [], { maxServices: 2 }, {}, undefined, changed);
    const nextTick = () => new Promise((resolve) => setImmediate(resolve));
    await nextTick();
    changed.length = 0;
    watch.setPolicy(targetPolicy({ maxServices: 1 }));
    await nextTick();
    expect(changed).toEqual(["svc:shop/b"]);
    expect([watch.withinCap("shop", "a"), watch.withinCap("shop", "b")]).toEqual([true, false]);
    changed.length = 0;
    watch.setPolicy(targetPolicy({ maxServices: 2 }));
    await nextTick();
    expect(changed).toEqual(["svc:shop/b"]);
    expect(watch.withinCap("shop", "b")).toBe(true);
  });

  it("a policy change applies to the slices held, without new watches", async () => {
    const changed: string[] = [];
    const { watch } = await mirror([service()], [slice([GOOD, ip("10.96.0.10")])], {}, {}, undefined, changed);
    expect(watch.slicesOf("shop", "web")[0]!.endpoints.map((e) => e.addresses[0])).toEqual(["10.0.0.1", "10.96.0.10"]);
    changed.length = 0;
    watch.setPolicy(targetPolicy({ excludeCIDRs: ["10.96.0.0/12"] }));
    expect(changed).toEqual(["svc:shop/web"]);
    expect(watch.slicesOf("shop", "web")[0]!.endpoints.map((e) => e.addresses[0])).toEqual(["10.0.0.1"]);
    expect(watch.droppedCounts()).toEqual({ ...emptyCounts(), excluded: 1 });
  });

  it("a target that holds more objects than a watch may cache: the watch fails and keeps its last state", async () => {
    const named = (name: string) => service({ metadata: { name } });
    target = { services: [named("a"), named("b"), named("c")], slices: [] };
    const errors: unknown[] = [];
    const options = {
      sliceVersion: "v1" as const,
      selector: "zonesync.io/export=true",
      onChange: () => {},
      onError: (err: unknown) => errors.push(err),
      maxObjects: { services: 2 },
    };
    let client = targetClient();
    let watch = new TargetWatch({ client, ...options });
    watch.start();
    await expect(watch.waitForSync(300)).rejects.toThrow(/did not sync/);
    await watch.stop();
    await client.close();
    expect(errors[0]).toBeInstanceOf(ResponseTooLargeError);
    expect((errors[0] as Error).message).toBe(
      "GET v1/services: the list exceeds the limit of 2 items; not reading further",
    );

    // Within the cap when listed; one more arrives by watch.
    errors.length = 0;
    target = { services: [named("a"), named("b")], slices: [], serviceEvents: [{ type: "ADDED", object: named("c") }] };
    client = targetClient();
    watch = new TargetWatch({ client, ...options });
    watch.start();
    await watch.waitForSync(5000);
    for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(10);
    await watch.stop();
    await client.close();
    expect(errors[0]).toBeInstanceOf(ResponseTooLargeError);
    expect((errors[0] as Error).message).toBe(
      "WATCH v1/services: the list exceeds the limit of 2 items; not reading further",
    );
    expect(watch.serviceCount).toBe(2);
    expect(watch.service("shop", "c")).toBeUndefined();
  });
});
