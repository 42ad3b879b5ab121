import { describe, expect, it } from "vitest";
import { type ClusterExport, type ExportCondition, type ExportedPort, MAX_PORTS, resolveImport } from "./resolve.ts";

// The conformance suite's "hello" Service (kubernetes-sigs/mcs-api conformance/k8s_objects.go).
const TCP_42: ExportedPort = { name: "tcp", protocol: "TCP", port: 42 };
const UDP_42: ExportedPort = { name: "udp", protocol: "UDP", port: 42 };

/** A hello export from `cluster`, created `second` seconds into the test's minute (the suite waits 1.1 s between). */
function hello(cluster: string, second: number, overrides: Partial<ClusterExport> = {}): ClusterExport {
  return {
    cluster,
    exportCreated: `2024-05-01T10:00:${String(second).padStart(2, "0")}Z`,
    serviceType: "ClusterIP",
    headless: false,
    ports: [TCP_42, UDP_42],
    sessionAffinity: "ClientIP",
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 } },
    ...overrides,
  };
}

function conditionsOf(result: ReturnType<typeof resolveImport>, cluster: string): ExportCondition[] {
  const list = result.conditions.get(cluster);
  if (!list) throw new Error(`no conditions for ${cluster}`);
  return list;
}

function condition(result: ReturnType<typeof resolveImport>, cluster: string, type: string): ExportCondition {
  const found = conditionsOf(result, cluster).find((c) => c.type === type);
  if (!found) throw new Error(`no ${type} condition for ${cluster}`);
  return found;
}

function expectConflict(result: ReturnType<typeof resolveImport>, cluster: string, reason: string): ExportCondition {
  const conflict = condition(result, cluster, "Conflict");
  expect(conflict).toMatchObject({ status: "True", reason });
  return conflict;
}

function expectNoConflict(result: ReturnType<typeof resolveImport>, cluster: string): void {
  expect(condition(result, cluster, "Conflict")).toMatchObject({ status: "False", reason: "NoConflicts" });
}

describe("ServiceImport (mcs-api conformance/service_import.go)", () => {
  it("Exporting a ClusterIP service should create a ServiceImport of type ClusterSetIP", () => {
    const result = resolveImport([hello("a", 0)]);

    expect(result.spec?.type).toBe("ClusterSetIP");
    expect(result.clusters).toEqual(["a"]);
    expect(conditionsOf(result, "a")).toEqual([
      { type: "Valid", status: "True", reason: "Valid", message: "The Service can be exported." },
      {
        type: "Ready",
        status: "True",
        reason: "Exported",
        message: "The service is imported from 1 cluster of the clusterset.",
      },
      { type: "Conflict", status: "False", reason: "NoConflicts", message: "The exports of this service agree." },
    ]);
  });

  it.each(["NodePort", "LoadBalancer"] as const)(
    "exporting a %s service creates a ClusterSetIP ServiceImport",
    (type) => {
      const result = resolveImport([hello("a", 0, { serviceType: type })]);

      expect(result.spec?.type).toBe("ClusterSetIP");
      expect(condition(result, "a", "Valid").status).toBe("True");
    },
  );

  it("Exporting a headless service should create a ServiceImport of type Headless", () => {
    const result = resolveImport([hello("a", 0, { headless: true })]);

    expect(result.spec?.type).toBe("Headless");
    expect(result.clusters).toEqual(["a"]);
    expectNoConflict(result, "a");
  });

  it("Exporting an ExternalName service should set ServiceExport Valid condition to False", () => {
    const result = resolveImport([hello("a", 0, { serviceType: "ExternalName", ports: [] })]);

    expect(result.spec).toBeUndefined();
    expect(result.clusters).toEqual([]);
    expect(conditionsOf(result, "a")).toEqual([
      {
        type: "Valid",
        status: "False",
        reason: "InvalidServiceType",
        message: "A Service of type ExternalName cannot be exported: only ClusterIP, NodePort and LoadBalancer.",
      },
      {
        type: "Ready",
        status: "False",
        reason: "Failed",
        message: "Not exported: the ServiceExport is not valid (InvalidServiceType).",
      },
    ]);
  });

  it("The SessionAffinity for a ClusterSetIP ServiceImport should match the exported service's SessionAffinity", () => {
    const result = resolveImport([hello("a", 0)]);

    expect(result.spec?.sessionAffinity).toBe("ClientIP");
    expect(result.spec?.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10 } });
  });

  it("The ports for a ClusterSetIP ServiceImport should match those of the exported service", () => {
    const result = resolveImport([hello("a", 0)]);

    expect(result.spec?.ports).toEqual([TCP_42, UDP_42]);
  });

  it("A ServiceImport should only exist as long as there's at least one exporting cluster", () => {
    const both = resolveImport([hello("a", 0), hello("b", 2)]);
    expect(both.spec).toBeDefined();
    expect(both.clusters).toEqual(["a", "b"]);

    const secondOnly = resolveImport([hello("b", 2)]);
    expect(secondOnly.spec).toBeDefined();
    expect(secondOnly.clusters).toEqual(["b"]);

    const none = resolveImport([]);
    expect(none).toEqual({ spec: undefined, labels: {}, annotations: {}, clusters: [], conditions: new Map() });
  });

  describe("A ClusterIP service exported on two clusters", () => {
    it("should expose the union of the constituent service ports", () => {
      const stcp: ExportedPort = { name: "stcp", protocol: "SCTP", port: 142 };
      const result = resolveImport([hello("a", 0), hello("b", 2, { ports: [TCP_42, stcp] })]);

      expect(result.spec?.ports).toEqual([stcp, TCP_42, UDP_42]);
      // v1alpha1's PortConflict is about clashing ports only: ports that merge cleanly are no conflict.
      expectNoConflict(result, "a");
      expectNoConflict(result, "b");
    });

    it("with conflicting ports should apply the conflict resolution policy and report a Conflict condition on each ServiceExport", () => {
      const result = resolveImport([hello("a", 0), hello("b", 2, { ports: [{ ...TCP_42, port: 43 }] })]);

      expect(result.spec?.ports).toEqual([TCP_42, UDP_42]);
      expect(result.clusters).toEqual(["a", "b"]);
      const message =
        'Conflicting ports: 1/2 clusters export ports that clash with an older export\'s (same name or protocol/port, other properties): "tcp" 43/TCP from cluster "b" lost to "tcp" 42/TCP from the older export in cluster "a".';
      expect(expectConflict(result, "a", "PortConflict").message).toBe(message);
      expect(expectConflict(result, "b", "PortConflict").message).toBe(message);
    });
  });

  it("A service exported on two clusters with conflicting headlessness should apply the conflict resolution policy and report a Conflict condition on the ServiceExport", () => {
    const result = resolveImport([hello("a", 0), hello("b", 2, { headless: true })]);

    expect(result.spec?.type).toBe("ClusterSetIP");
    expect(result.clusters).toEqual(["a", "b"]);
    for (const cluster of ["a", "b"]) {
      expect(expectConflict(result, cluster, "TypeConflict").message).toBe(
        'Conflicting type: using "ClusterSetIP" from the oldest export that sets it, in cluster "a"; 1/2 clusters disagree.',
      );
      // A conflicting export still takes part in the import.
      expect(condition(result, cluster, "Ready").status).toBe("True");
    }
  });
});

describe("precedence: the oldest ServiceExport wins", () => {
  it("a headless oldest export makes the import Headless, whatever the input order", () => {
    const exports = [hello("a", 5), hello("b", 1, { headless: true }), hello("c", 3)];

    const result = resolveImport(exports);

    expect(result.spec?.type).toBe("Headless");
    expect(expectConflict(result, "a", "TypeConflict").message).toBe(
      'Conflicting type: using "Headless" from the oldest export that sets it, in cluster "b"; 2/3 clusters disagree.',
    );
    expect(resolveImport([...exports].reverse())).toEqual(result);
  });

  it("ties on the creation timestamp are broken by cluster name", () => {
    const result = resolveImport([hello("zeta", 0, { headless: true }), hello("alpha", 0)]);

    expect(result.spec?.type).toBe("ClusterSetIP");
    expect(expectConflict(result, "zeta", "TypeConflict").message).toContain('in cluster "alpha"');
  });

  it("timestamps compare as instants, not as text", () => {
    const result = resolveImport([
      hello("a", 0, { exportCreated: "2024-05-01T09:30:00Z" }),
      // 08:30 UTC: older, although its text sorts after a's.
      hello("b", 0, { exportCreated: "2024-05-01T10:30:00.5+02:00", headless: true }),
    ]);

    expect(result.spec?.type).toBe("Headless");
  });

  it("an unparseable timestamp counts as the newest export", () => {
    const result = resolveImport([
      hello("a", 0, { exportCreated: "yesterday", headless: true }),
      hello("b", 0, { exportCreated: "2024-05-01 10:00:00" }),
      hello("c", 0, { exportCreated: "2030-01-01T00:00:00Z" }),
    ]);

    expect(result.spec?.type).toBe("ClusterSetIP");
    expect(expectConflict(result, "a", "TypeConflict").message).toContain('in cluster "c"');
  });

  it("the result does not depend on the input order", () => {
    const exports = [
      hello("c", 3, { ports: [{ name: "tcp", protocol: "TCP", port: 8080 }], sessionAffinity: "None" }),
      hello("a", 9, { serviceType: undefined }),
      hello("b", 1, { ports: [UDP_42, { name: "web", protocol: "TCP", port: 80 }] }),
      hello("d", 1, { ipFamilies: ["IPv6"] }),
    ];
    const expected = resolveImport(exports);

    for (const order of [
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ]) {
      const result = resolveImport(order.map((i) => exports[i]!));
      expect(result).toEqual(expected);
      expect([...result.conditions.keys()]).toEqual(["a", "b", "c", "d"]);
    }
    expect(expected.spec?.ports.map((p) => p.name)).toEqual(["tcp", "udp", "web"]);
    expect(expected.spec?.ports.find((p) => p.name === "tcp")?.port).toBe(42);
  });

  it("rejects two exports from the same cluster", () => {
    expect(() => resolveImport([hello("a", 0), hello("a", 1)])).toThrow(
      'cluster "a" exports the service more than once',
    );
  });
});

describe("validity", () => {
  it("an export whose Service is missing is not Valid (NoService) and takes no part in the import", () => {
    const result = resolveImport([
      hello("a", 0, { serviceType: undefined, headless: true, ports: [{ name: "tcp", protocol: "TCP", port: 1 }] }),
      hello("b", 2),
    ]);

    expect(result.clusters).toEqual(["b"]);
    expect(result.spec?.type).toBe("ClusterSetIP");
    expect(result.spec?.ports).toEqual([TCP_42, UDP_42]);
    expect(conditionsOf(result, "a")).toEqual([
      { type: "Valid", status: "False", reason: "NoService", message: "The Service to export does not exist." },
      {
        type: "Ready",
        status: "False",
        reason: "Failed",
        message: "Not exported: the ServiceExport is not valid (NoService).",
      },
    ]);
    // The missing Service neither wins (it is the oldest) nor conflicts.
    expectNoConflict(result, "b");
  });

  it("an ExternalName export next to a valid one gets no Conflict condition", () => {
    const result = resolveImport([hello("a", 0, { serviceType: "ExternalName" }), hello("b", 2)]);

    expect(result.clusters).toEqual(["b"]);
    expect(conditionsOf(result, "a").map((c) => c.type)).toEqual(["Valid", "Ready"]);
    expect(condition(result, "a", "Valid").reason).toBe("InvalidServiceType");
    expectNoConflict(result, "b");
  });

  it("an unknown service type is not exportable", () => {
    const result = resolveImport([hello("a", 0, { serviceType: "Bogus" as unknown as "ClusterIP" })]);

    expect(result.spec).toBeUndefined();
    expect(condition(result, "a", "Valid")).toMatchObject({ status: "False", reason: "InvalidServiceType" });
  });

  it("when every export is invalid there is no import, but every export gets its conditions", () => {
    const result = resolveImport([
      hello("b", 0, { serviceType: "ExternalName" }),
      hello("a", 1, { serviceType: undefined }),
    ]);

    expect(result.spec).toBeUndefined();
    expect(result.clusters).toEqual([]);
    expect([...result.conditions.keys()]).toEqual(["a", "b"]);
    expect(condition(result, "a", "Valid").reason).toBe("NoService");
    expect(condition(result, "b", "Valid").reason).toBe("InvalidServiceType");
    expect(condition(result, "a", "Ready")).toMatchObject({ status: "False", reason: "Failed" });
  });
});

describe("ports", () => {
  it("a TCP and a UDP port on the same number with their own names are no conflict", () => {
    const result = resolveImport([hello("a", 0, { ports: [TCP_42] }), hello("b", 2, { ports: [UDP_42] })]);

    expect(result.spec?.ports).toEqual([TCP_42, UDP_42]);
    expectNoConflict(result, "a");
  });

  it("identical ports from every cluster merge into one", () => {
    const result = resolveImport([hello("a", 0), hello("b", 2), hello("c", 4)]);

    expect(result.spec?.ports).toEqual([TCP_42, UDP_42]);
    expect(result.clusters).toEqual(["a", "b", "c"]);
    for (const cluster of result.clusters) expectNoConflict(result, cluster);
  });

  it("the same name with another protocol is a PortConflict", () => {
    const result = resolveImport([
      hello("a", 0, { ports: [TCP_42] }),
      hello("b", 2, { ports: [{ ...TCP_42, protocol: "UDP" }] }),
    ]);

    expect(result.spec?.ports).toEqual([TCP_42]);
    expectConflict(result, "b", "PortConflict");
  });

  it("the same protocol and port under another name is a PortConflict", () => {
    const result = resolveImport([
      hello("a", 0, { ports: [TCP_42] }),
      hello("b", 2, { ports: [{ name: "other", protocol: "TCP", port: 42 }] }),
    ]);

    expect(result.spec?.ports).toEqual([TCP_42]);
    expect(expectConflict(result, "a", "PortConflict").message).toContain(
      '"other" 42/TCP from cluster "b" lost to "tcp" 42/TCP from the older export in cluster "a"',
    );
  });

  it("two unnamed ports on different numbers clash: the empty name counts as a name", () => {
    const result = resolveImport([
      hello("a", 0, { ports: [{ protocol: "TCP", port: 80 }] }),
      hello("b", 2, { ports: [{ name: "", protocol: "TCP", port: 8080 }] }),
    ]);

    expect(result.spec?.ports).toEqual([{ protocol: "TCP", port: 80 }]);
    expect(expectConflict(result, "b", "PortConflict").message).toContain(
      'the unnamed port 8080/TCP from cluster "b" lost to the unnamed port 80/TCP',
    );
  });

  it("another appProtocol on the same port is a PortConflict", () => {
    const result = resolveImport([
      hello("a", 0, { ports: [{ ...TCP_42, appProtocol: "http" }] }),
      hello("b", 2, { ports: [{ ...TCP_42, appProtocol: "kubernetes.io/h2c" }] }),
    ]);

    expect(result.spec?.ports).toEqual([{ ...TCP_42, appProtocol: "http" }]);
    expect(expectConflict(result, "b", "PortConflict").message).toContain(
      '"tcp" 42/TCP (kubernetes.io/h2c) from cluster "b" lost to "tcp" 42/TCP (http)',
    );
  });

  it("a clash among newer exports is won by the older of them, not by the oldest export", () => {
    const result = resolveImport([
      hello("a", 0, { ports: [TCP_42] }),
      hello("b", 2, { ports: [TCP_42, { name: "metrics", protocol: "TCP", port: 9090 }] }),
      hello("c", 4, { ports: [TCP_42, { name: "metrics", protocol: "TCP", port: 9091 }] }),
    ]);

    expect(result.spec?.ports).toEqual([{ name: "metrics", protocol: "TCP", port: 9090 }, TCP_42]);
    expect(expectConflict(result, "a", "PortConflict").message).toContain(
      '"metrics" 9091/TCP from cluster "c" lost to "metrics" 9090/TCP from the older export in cluster "b"',
    );
  });

  it("a PortConflict message lists five clashes and counts the rest", () => {
    const older = Array.from({ length: 8 }, (_, i) => ({ name: `p${i}`, protocol: "TCP" as const, port: 1000 + i }));
    const newer = older.map((p) => ({ ...p, port: p.port + 100 }));
    const result = resolveImport([hello("a", 0, { ports: older }), hello("b", 2, { ports: newer })]);

    const message = expectConflict(result, "a", "PortConflict").message;
    expect(message.match(/ lost to /g)).toHaveLength(5);
    expect(message).toMatch(/; and 3 more\.$/);
    expect(result.spec?.ports).toEqual(older);
  });

  it("ports are sorted by name, the unnamed port first", () => {
    const result = resolveImport([
      hello("a", 0, {
        ports: [
          { name: "zz", protocol: "TCP", port: 1 },
          { name: "aa", protocol: "UDP", port: 3 },
          { name: "mm", protocol: "SCTP", port: 2 },
        ],
      }),
      hello("b", 2, { ports: [{ name: "", protocol: "TCP", port: 4 }] }),
    ]);

    expect(result.spec?.ports.map((p) => p.name ?? "")).toEqual(["", "aa", "mm", "zz"]);
  });

  it(`considers at most ${MAX_PORTS} ports of one export and says so`, () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ name: `p${i}`, protocol: "TCP" as const, port: 1 + i }));
    const result = resolveImport([hello("a", 0, { ports: many })]);

    expect(result.spec?.ports).toHaveLength(MAX_PORTS);
    expect(result.spec?.ports.some((p) => p.name === "p99")).toBe(true);
    expect(result.spec?.ports.some((p) => p.name === "p100")).toBe(false);
    expect(condition(result, "a", "Valid")).toMatchObject({
      status: "True",
      message: `The Service can be exported. 50 ports ignored: malformed, repeated or beyond the first ${MAX_PORTS}.`,
    });
  });

  it("ignores malformed and repeated ports", () => {
    const result = resolveImport([
      hello("a", 0, {
        ports: [
          TCP_42,
          { name: "zero", protocol: "TCP", port: 0 },
          { name: "big", protocol: "TCP", port: 70_000 },
          { name: "frac", protocol: "TCP", port: 1.5 },
          { name: "icmp", protocol: "ICMP" as "TCP", port: 7 },
          { name: "Bad_Name", protocol: "TCP", port: 8 },
          { name: "long", protocol: "TCP", port: 9, appProtocol: "x".repeat(317) },
          { name: "tcp", protocol: "TCP", port: 10 },
          { name: "again", protocol: "TCP", port: 42 },
          UDP_42,
        ],
      }),
    ]);

    expect(result.spec?.ports).toEqual([TCP_42, UDP_42]);
    expect(condition(result, "a", "Valid").message).toContain("8 ports ignored");
    expectNoConflict(result, "a");
  });

  it(`limits the union to ${MAX_PORTS} ports, the older exports' first, as a PortConflict`, () => {
    const ports = (from: number) =>
      Array.from({ length: 60 }, (_, i) => ({ name: `p${from + i}`, protocol: "TCP" as const, port: from + i }));
    const result = resolveImport([hello("b", 2, { ports: ports(1000) }), hello("a", 0, { ports: ports(2000) })]);

    expect(result.spec?.ports).toHaveLength(MAX_PORTS);
    expect(result.spec?.ports.filter((p) => p.port >= 2000)).toHaveLength(60);
    expect(expectConflict(result, "b", "PortConflict").message).toBe(
      `Too many ports: the union is limited to ${MAX_PORTS} ports; 20 newer ports left out.`,
    );
  });
});

describe("session affinity", () => {
  it("different affinities are a SessionAffinityConflict, the oldest export's affinity wins", () => {
    const result = resolveImport([
      hello("a", 0, { sessionAffinity: "None", sessionAffinityConfig: undefined }),
      hello("b", 2),
    ]);

    expect(result.spec?.sessionAffinity).toBe("None");
    expect(result.spec?.sessionAffinityConfig).toBeUndefined();
    expect(expectConflict(result, "a", "SessionAffinityConflict").message).toBe(
      'Conflicting session affinity: using "None" from the oldest export that sets it, in cluster "a"; 1/2 clusters disagree.',
    );
  });

  it("different ClientIP timeouts are a SessionAffinityConfigConflict, the oldest export's config wins", () => {
    const result = resolveImport([
      hello("a", 0),
      hello("b", 2, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 20 } } }),
    ]);

    expect(result.spec?.sessionAffinity).toBe("ClientIP");
    expect(result.spec?.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10 } });
    expect(expectConflict(result, "b", "SessionAffinityConfigConflict").message).toBe(
      'Conflicting session affinity config: using timeoutSeconds 10 from the oldest export that sets it, in cluster "a"; 1/2 clusters disagree.',
    );
  });

  it("an unset ClientIP timeout equals the default 10800 seconds", () => {
    const result = resolveImport([
      hello("a", 0, { sessionAffinityConfig: undefined }),
      hello("b", 2, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 10_800 } } }),
    ]);

    expectNoConflict(result, "a");
    expect(result.spec?.sessionAffinityConfig).toBeUndefined();
  });

  it("an export with None affinity adds no config conflict next to the affinity conflict", () => {
    const result = resolveImport([
      hello("a", 0),
      hello("b", 2, { sessionAffinity: "None", sessionAffinityConfig: undefined }),
    ]);

    expectConflict(result, "a", "SessionAffinityConflict");
  });

  it("a config next to None affinity is dropped, and an out-of-range timeout counts as unset", () => {
    const none = resolveImport([hello("a", 0, { sessionAffinity: "None" })]);
    expect(none.spec?.sessionAffinityConfig).toBeUndefined();

    const outOfRange = resolveImport([
      hello("a", 0, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 100_000 } } }),
      hello("b", 2, { sessionAffinityConfig: { clientIP: {} } }),
    ]);
    expect(outOfRange.spec?.sessionAffinityConfig).toEqual({ clientIP: {} });
    expectNoConflict(outOfRange, "a");
  });
});

describe("IP families", () => {
  it("different families are an IPFamilyConflict, the oldest export's families win", () => {
    const result = resolveImport([
      hello("a", 0, { ipFamilies: ["IPv4"] }),
      hello("b", 2, { ipFamilies: ["IPv4", "IPv6"] }),
    ]);

    expect(result.spec?.ipFamilies).toEqual(["IPv4"]);
    expect(expectConflict(result, "b", "IPFamilyConflict").message).toBe(
      'Conflicting IP families: using [IPv4] from the oldest export that sets it, in cluster "a"; 1/2 clusters disagree.',
    );
  });

  it("the same families in another order are no conflict", () => {
    const result = resolveImport([
      hello("a", 0, { ipFamilies: ["IPv6", "IPv4"] }),
      hello("b", 2, { ipFamilies: ["IPv4", "IPv6"] }),
    ]);

    expect(result.spec?.ipFamilies).toEqual(["IPv6", "IPv4"]);
    expectNoConflict(result, "a");
  });

  it("exports that do not report families neither win nor disagree", () => {
    const result = resolveImport([
      hello("a", 0),
      hello("b", 2, { ipFamilies: ["IPv6"] }),
      hello("c", 4, { ipFamilies: ["IPv6", "IPv6", "IPX" as "IPv4"] }),
    ]);

    expect(result.spec?.ipFamilies).toEqual(["IPv6"]);
    expectNoConflict(result, "a");

    const unreported = resolveImport([hello("a", 0)]);
    expect(unreported.spec).not.toHaveProperty("ipFamilies");
  });
});

describe("traffic policies (Kubernetes 1.21+ and 1.30+; contract cases in test/unit/contract.test.ts)", () => {
  it("with differing service InternalTrafficPolicy: the oldest export's wins, Conflict on every exporting cluster", () => {
    const result = resolveImport([hello("a", 0, { internalTrafficPolicy: "Local" }), hello("b", 2)]);

    expect(result.spec?.internalTrafficPolicy).toBe("Local");
    expect(expectConflict(result, "a", "InternalTrafficPolicyConflict").message).toBe(
      'Conflicting internal traffic policy: using "Local" from the oldest export that sets it, in cluster "a"; ' +
        "1/2 clusters disagree.",
    );
    expectConflict(result, "b", "InternalTrafficPolicyConflict");
  });

  it("an unset internal traffic policy is Cluster: no conflict with an explicit Cluster, Cluster on the import", () => {
    // mcs-api conformance: "The InternalTrafficPolicy for a ClusterSetIP ServiceImport should match the exported
    // service's InternalTrafficPolicy" (a Service of 1.22+ always states one, Cluster by default).
    const result = resolveImport([hello("a", 0), hello("b", 2, { internalTrafficPolicy: "Cluster" })]);

    expectNoConflict(result, "a");
    expect(result.spec?.internalTrafficPolicy).toBe("Cluster");
  });

  it("with differing service TrafficDistribution: the oldest export's wins, Conflict on every exporting cluster", () => {
    const result = resolveImport([
      hello("a", 0, { trafficDistribution: "PreferSameNode" }),
      hello("b", 2, { trafficDistribution: "PreferClose" }),
      hello("c", 4),
    ]);

    expect(result.spec?.trafficDistribution).toBe("PreferSameNode");
    expect(expectConflict(result, "c", "TrafficDistributionConflict").message).toBe(
      'Conflicting traffic distribution: using "PreferSameNode" from the oldest export that sets it, in cluster "a"; ' +
        "2/3 clusters disagree.",
    );
  });

  it("an unset traffic distribution on the oldest export wins too: the import has none", () => {
    const result = resolveImport([hello("a", 0), hello("b", 2, { trafficDistribution: "PreferClose" })]);

    expect(result.spec).not.toHaveProperty("trafficDistribution");
    expectConflict(result, "b", "TrafficDistributionConflict");
  });

  it("a malformed traffic distribution counts as unset", () => {
    const result = resolveImport([
      hello("a", 0, { trafficDistribution: "Prefer Close; rm -rf" }),
      hello("b", 2, { trafficDistribution: "x".repeat(64) }),
    ]);

    expect(result.spec).not.toHaveProperty("trafficDistribution");
    expectNoConflict(result, "a");
  });
});

describe("exported labels and annotations (KEP: Labels and annotations)", () => {
  it("Only labels and annotations specified as exported in the ServiceExport should be propagated to the ServiceImport", () => {
    const result = resolveImport([
      hello("a", 0, { exportedLabels: { "dummy-label": "true" }, exportedAnnotations: { "dummy-annotation": "true" } }),
    ]);
    expect(result.labels).toEqual({ "dummy-label": "true" });
    expect(result.annotations).toEqual({ "dummy-annotation": "true" });
    expectNoConflict(result, "a");
  });

  it("with conflicting annotations and labels: the oldest export's win, Conflict on every exporting cluster", () => {
    const result = resolveImport([
      hello("a", 0, { exportedLabels: { team: "a" }, exportedAnnotations: { note: "a" } }),
      hello("b", 2, { exportedLabels: { team: "b" }, exportedAnnotations: { note: "a" } }),
      hello("c", 4, { exportedLabels: { team: "a" }, exportedAnnotations: { note: "c", more: "x" } }),
    ]);
    expect(result.labels).toEqual({ team: "a" });
    expect(result.annotations).toEqual({ note: "a" });
    for (const cluster of ["a", "b", "c"]) {
      expectConflict(result, cluster, "LabelsConflict,AnnotationsConflict");
    }
    expect(condition(result, "a", "Conflict").message).toBe(
      'Conflicting exported labels: using 1 label from the oldest export that sets it, in cluster "a"; 1/3 clusters ' +
        "disagree. Conflicting exported annotations: using 1 annotation from the oldest export that sets it, in " +
        'cluster "a"; 1/3 clusters disagree.',
    );
  });

  it("none exported and an empty set are the same; the order of keys does not matter", () => {
    const result = resolveImport([
      hello("a", 0, { exportedLabels: { x: "1", y: "2" } }),
      hello("b", 2, { exportedLabels: { y: "2", x: "1" }, exportedAnnotations: {} }),
    ]);
    expectNoConflict(result, "b");
  });

  it("filters what another cluster exports: reserved and malformed keys never reach the import", () => {
    const result = resolveImport([
      hello("a", 0, {
        exportedLabels: { "zonesync.io/mcs": "true", "kubernetes.io/service-name": "x", ok: "yes", "no way": "z" },
        exportedAnnotations: { "zonesync.io/mirror-hash": "forged" },
      }),
    ]);
    expect(result.labels).toEqual({ ok: "yes" });
    expect(result.annotations).toEqual({});
  });
});

describe("several conflicts at once", () => {
  it("joins the reasons with commas in a fixed order and gives one sentence each", () => {
    const result = resolveImport([
      hello("b", 2, { headless: true, ports: [{ ...TCP_42, port: 43 }], ipFamilies: ["IPv6"] }),
      hello("a", 0, { sessionAffinity: "None", sessionAffinityConfig: undefined, ipFamilies: ["IPv4"] }),
      hello("c", 4, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 99 } } }),
    ]);

    for (const cluster of ["a", "b", "c"]) {
      const conflict = expectConflict(
        result,
        cluster,
        "TypeConflict,PortConflict,SessionAffinityConflict,IPFamilyConflict",
      );
      // metav1.Condition's reason pattern.
      expect(conflict.reason).toMatch(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
      expect(conflict.message.split(/(?<=\.) (?=[A-Z])/)).toEqual([
        expect.stringMatching(/^Conflicting type: /),
        expect.stringMatching(/^Conflicting ports: /),
        expect.stringMatching(/^Conflicting session affinity: /),
        expect.stringMatching(/^Conflicting IP families: /),
      ]);
    }
    expect(result.spec).toEqual({
      type: "ClusterSetIP",
      ports: [TCP_42, UDP_42],
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilies: ["IPv4"],
    });
  });

  it("a ClientIP winner with a different timeout and a None export report both affinity reasons", () => {
    const result = resolveImport([
      hello("a", 0),
      hello("b", 2, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 20 } } }),
      hello("c", 4, { sessionAffinity: "None", sessionAffinityConfig: undefined }),
    ]);

    expectConflict(result, "c", "SessionAffinityConflict,SessionAffinityConfigConflict");
  });
});

describe("outputs are fresh objects", () => {
  it("neither changes its input nor shares objects with it", () => {
    const exports = [
      hello("b", 2, { ipFamilies: ["IPv4"], ports: [{ ...TCP_42, appProtocol: "http" }] }),
      hello("a", 0, { ipFamilies: ["IPv4"], ports: [{ ...TCP_42, appProtocol: "http" }] }),
    ];
    const before = structuredClone(exports);

    const result = resolveImport(exports);
    result.spec!.ports[0]!.port = 1;
    result.spec!.sessionAffinityConfig!.clientIP!.timeoutSeconds = 1;
    result.spec!.ipFamilies!.push("IPv6");
    condition(result, "a", "Conflict").status = "Unknown";

    expect(exports).toEqual(before);
    expect(condition(result, "b", "Conflict").status).toBe("False");
  });
});
