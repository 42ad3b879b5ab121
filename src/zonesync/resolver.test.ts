import { describe, expect, it } from "vitest";
import { formatResolverAddress, parseResolverAddress, resolverAddressesValue } from "./resolver.ts";

describe("parseResolverAddress", () => {
  it.each([
    ["10.96.0.10", { kind: "ipv4", host: "10.96.0.10" }],
    ["10.96.0.10:53", { kind: "ipv4", host: "10.96.0.10", port: 53 }],
    ["fd00::a", { kind: "ipv6", host: "fd00::a" }],
    ["::1", { kind: "ipv6", host: "::1" }],
    ["[fd00::a]", { kind: "ipv6", host: "fd00::a" }],
    ["[FD00::A]:5353", { kind: "ipv6", host: "fd00::a", port: 5353 }],
    ["[::ffff:10.0.0.1]:53", { kind: "ipv6", host: "::ffff:10.0.0.1", port: 53 }],
    ["kube-dns.kube-system.svc.cluster.local", { kind: "hostname", host: "kube-dns.kube-system.svc.cluster.local" }],
    ["CoreDNS:1053", { kind: "hostname", host: "coredns", port: 1053 }],
    ["localhost", { kind: "hostname", host: "localhost" }],
  ])("reads %j", (entry, expected) => {
    expect(parseResolverAddress(entry)).toEqual(expected);
  });

  it.each([
    ["", "an empty entry"],
    ["10.96.0.300", '"10.96.0.300" is not an IPv4 address'],
    ["10.96.0", '"10.96.0" is not an IPv4 address'],
    ["10.96.0.10:0", '"10.96.0.10:0" has an invalid port'],
    ["10.96.0.10:65536", '"10.96.0.10:65536" has an invalid port'],
    ["10.96.0.10:", '"10.96.0.10:" has an invalid port'],
    ["dns:port", '"dns:port" has an invalid port'],
    ["fd00::a:53:xyz", '"fd00::a:53:xyz" is not an IPv6 address (write [address]:port to give a port)'],
    ["fe80::1%eth0", '"fe80::1%eth0" is not an IPv6 address (write [address]:port to give a port)'],
    ["[10.0.0.1]", '"[10.0.0.1]" is not an IPv6 address in brackets'],
    ["[fd00::a]:x", '"[fd00::a]:x" has an invalid port'],
    ["[fd00::a", '"[fd00::a" is not an IPv6 address (write [address]:port to give a port)'],
    ["kube_dns", '"kube_dns" is not an IP address or host name'],
    ["-dns.local", '"-dns.local" is not an IP address or host name'],
    ["dns..local", '"dns..local" is not an IP address or host name'],
    ["http://10.0.0.1", '"http://10.0.0.1" has an invalid port'],
  ])("rejects %j", (entry, problem) => {
    expect(parseResolverAddress(entry)).toEqual({ problem });
  });
});

describe("resolverAddressesValue", () => {
  it("splits on commas and ignores whitespace around entries", () => {
    expect(resolverAddressesValue.parse(" 10.0.0.1 ,[fd00::1]:53,\tdns.local:5353 ")).toEqual([
      { kind: "ipv4", host: "10.0.0.1" },
      { kind: "ipv6", host: "fd00::1", port: 53 },
      { kind: "hostname", host: "dns.local", port: 5353 },
    ]);
  });

  it("names every bad entry in one issue", () => {
    const result = resolverAddressesValue.safeParse("10.0.0.1,,dns_1, 10.0.0.2,");
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toBe(
      'is not a valid resolver list (entry 2: an empty entry; entry 3: "dns_1" is not an IP address or host name; entry 5: an empty entry)',
    );
  });

  it("rejects an empty list", () => {
    expect(resolverAddressesValue.safeParse("").success).toBe(false);
    expect(resolverAddressesValue.safeParse(" , ").success).toBe(false);
  });
});

describe("formatResolverAddress", () => {
  it("brackets IPv6 addresses and appends ports", () => {
    expect(formatResolverAddress({ kind: "ipv6", host: "fd00::a" })).toBe("[fd00::a]");
    expect(formatResolverAddress({ kind: "ipv6", host: "fd00::a", port: 53 })).toBe("[fd00::a]:53");
    expect(formatResolverAddress({ kind: "ipv4", host: "10.0.0.1", port: 53 })).toBe("10.0.0.1:53");
    expect(formatResolverAddress({ kind: "hostname", host: "dns.local" })).toBe("dns.local");
  });
});
