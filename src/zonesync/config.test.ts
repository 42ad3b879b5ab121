import { describe, expect, it } from "vitest";
import { defaultZoneSyncConfig, describeOutcome, parseZoneSyncConfig, type ZoneSyncKeyError } from "./config.ts";

const on = { "zone-sync": "true" };
const tlsOn = { ...on, "zone-sync-tls": "true", "zone-sync-tls-secret": "zs-tls" };
const keysOf = (errors: ZoneSyncKeyError[]): string[] => errors.map((e) => e.key);

describe("parseZoneSyncConfig: defaults", () => {
  it("is disabled with upstream's defaults when no key is set", () => {
    const { config, errors } = parseZoneSyncConfig({});
    expect(errors).toEqual([]);
    expect(config).toEqual(defaultZoneSyncConfig());
    expect(config).toMatchObject({
      enabled: false,
      port: 12345,
      resolverAddresses: [{ kind: "hostname", host: "kube-dns.kube-system.svc.cluster.local" }],
      resolverValid: "5s",
      resolverIPv6: true,
      clusterDomain: "cluster.local",
      tls: undefined,
    });
  });

  it("accepts missing data and ignores keys that are not zone-sync's", () => {
    expect(parseZoneSyncConfig(undefined).errors).toEqual([]);
    expect(parseZoneSyncConfig(null).errors).toEqual([]);
    const { config, errors } = parseZoneSyncConfig({ ...on, "proxy-connect-timeout": "x", "sync-zone": "1" });
    expect(errors).toEqual([]);
    expect(config.enabled).toBe(true);
  });

  it("throws, with the zod error as cause, when data is not a map of strings", () => {
    const bad = { "zone-sync": true } as unknown as Record<string, string>;
    expect(() => parseZoneSyncConfig(bad)).toThrow(TypeError);
    try {
      parseZoneSyncConfig(bad);
    } catch (err) {
      expect((err as Error).cause).toBeDefined();
    }
  });
});

describe("parseZoneSyncConfig: each key", () => {
  it.each([
    ["zone-sync-port", " 7777 ", { port: 7777 }],
    ["zone-sync-resolver-addresses", "10.0.0.1, [fd00::1]:53", { resolverAddresses: expect.any(Array) }],
    ["zone-sync-resolver-valid", "1m30s", { resolverValid: "1m30s" }],
    ["zone-sync-resolver-ipv6", "False", { resolverIPv6: false }],
    ["zone-sync-resolver-ipv6", "1", { resolverIPv6: true }],
    ["zone-sync-cluster-domain", "corp.example", { clusterDomain: "corp.example" }],
    ["zone-sync-interval", "1s", { interval: "1s" }],
    ["zone-sync-timeout", "5s", { timeout: "5s" }],
    ["zone-sync-connect-timeout", "500ms", { connectTimeout: "500ms" }],
  ])("accepts %s: %j", (key, value, expected) => {
    const { config, errors } = parseZoneSyncConfig({ ...on, [key]: value });
    expect(errors).toEqual([]);
    expect(config).toMatchObject(expected);
  });

  it.each([
    ["zone-sync", "yes", "is not a boolean"],
    ["zone-sync-port", "99999", "is not a port"],
    ["zone-sync-port", "", "is not a port"],
    ["zone-sync-resolver-addresses", "10.0.0.1,", "is not a valid resolver list (entry 2: an empty entry)"],
    ["zone-sync-resolver-valid", "500ms", "is not an nginx time"],
    ["zone-sync-resolver-ipv6", "off", "is not a boolean"],
    ["zone-sync-cluster-domain", "Cluster.Local", "is not a DNS domain name"],
    ["zone-sync-interval", "1 s", "is not an nginx time"],
    ["zone-sync-timeout", "0s", "is not an nginx time"],
    ["zone-sync-connect-timeout", "fast", "is not an nginx time"],
    ["zone-sync-tls", "enabled", "is not a boolean"],
  ])("rejects %s: %j", (key, value, problem) => {
    const { config, errors } = parseZoneSyncConfig({ ...on, [key]: value });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ key, value });
    expect(errors[0]?.message).toContain(`${key}: ${JSON.stringify(value)} ${problem}; allowed: `);
    const defaults = { ...defaultZoneSyncConfig(), enabled: key !== "zone-sync" };
    expect(config).toEqual(defaults);
  });

  it("words errors with the key, the value and what is allowed", () => {
    const { errors } = parseZoneSyncConfig({ ...on, "zone-sync-port": "99999" });
    expect(errors).toEqual([
      {
        key: "zone-sync-port",
        value: "99999",
        allowed: "an integer from 1 to 65535",
        message: 'zone-sync-port: "99999" is not a port; allowed: an integer from 1 to 65535',
      },
    ]);
  });
});

describe("parseZoneSyncConfig: every error at once", () => {
  it("reports an invalid port and an invalid resolver together", () => {
    const { config, errors } = parseZoneSyncConfig({
      ...on,
      "zone-sync-port": "99999",
      "zone-sync-resolver-addresses": "kube_dns",
    });
    expect(keysOf(errors)).toEqual(["zone-sync-port", "zone-sync-resolver-addresses"]);
    expect(config.port).toBe(12345);
    expect(config.resolverAddresses).toEqual(defaultZoneSyncConfig().resolverAddresses);
  });

  it("keeps valid keys next to invalid ones", () => {
    const { config, errors } = parseZoneSyncConfig({
      ...on,
      "zone-sync-port": "abc",
      "zone-sync-resolver-valid": "30s",
      "zone-sync-resolver-ipv6": "maybe",
      "zone-sync-cluster-domain": "corp.example",
      "zone-sync-interval": "2s",
    });
    expect(keysOf(errors)).toEqual(["zone-sync-port", "zone-sync-resolver-ipv6"]);
    expect(config).toMatchObject({
      enabled: true,
      port: 12345,
      resolverValid: "30s",
      resolverIPv6: true,
      clusterDomain: "corp.example",
      interval: "2s",
    });
  });

  it("checks dependent keys on their own when zone-sync itself is invalid", () => {
    const { config, errors } = parseZoneSyncConfig({
      "zone-sync": "on",
      "zone-sync-port": "0",
      "zone-sync-resolver-valid": "10s",
    });
    expect(keysOf(errors)).toEqual(["zone-sync", "zone-sync-port"]);
    expect(config.enabled).toBe(false);
    expect(config.resolverValid).toBe("10s");
  });
});

describe("parseZoneSyncConfig: keys that need zone-sync", () => {
  it.each([undefined, "false", "0"])("rejects every dependent key when zone-sync is %j", (zoneSync) => {
    const data: Record<string, string> = {
      "zone-sync-port": "7777",
      "zone-sync-resolver-addresses": "10.0.0.1",
      "zone-sync-resolver-valid": "5s",
      "zone-sync-resolver-ipv6": "false",
      "zone-sync-cluster-domain": "corp.example",
      "zone-sync-interval": "1s",
      "zone-sync-timeout": "1s",
      "zone-sync-connect-timeout": "1s",
      "zone-sync-tls": "true",
      "zone-sync-tls-secret": "zs-tls",
    };
    if (zoneSync !== undefined) data["zone-sync"] = zoneSync;
    const { config, errors } = parseZoneSyncConfig(data);
    expect(keysOf(errors)).toEqual(
      Object.keys(data)
        .filter((k) => k !== "zone-sync")
        .sort(),
    );
    for (const error of errors) {
      expect(error.message).toBe(
        `${error.key}: ${JSON.stringify(data[error.key])} is set while zone-sync is not "true"; allowed: only together with zone-sync: "true"`,
      );
    }
    expect(config).toEqual(defaultZoneSyncConfig());
  });
});

describe("parseZoneSyncConfig: TLS", () => {
  it("reads a full TLS configuration", () => {
    const { config, errors } = parseZoneSyncConfig({
      ...tlsOn,
      "zone-sync-tls-secret": "nginx/zs-tls",
      "zone-sync-tls-trusted-ca": "true",
      "zone-sync-tls-verify": "true",
      "zone-sync-tls-verify-depth": "2",
      "zone-sync-tls-server-name": "false",
    });
    expect(errors).toEqual([]);
    expect(config.tls).toEqual({
      secret: { namespace: "nginx", name: "zs-tls" },
      trustedCaKey: "ca.crt",
      verify: true,
      verifyDepth: 2,
      serverName: false,
    });
  });

  it("leaves optional TLS settings unset", () => {
    const { config, errors } = parseZoneSyncConfig(tlsOn);
    expect(errors).toEqual([]);
    expect(config.tls).toEqual({
      secret: { name: "zs-tls" },
      trustedCaKey: undefined,
      verify: false,
      verifyDepth: undefined,
      serverName: undefined,
    });
  });

  it("takes the CA from another key of the Secret", () => {
    const { config } = parseZoneSyncConfig({ ...tlsOn, "zone-sync-tls-trusted-ca": "root.pem" });
    expect(config.tls?.trustedCaKey).toBe("root.pem");
  });

  it("needs a Secret when TLS is on, and stays without TLS until there is one", () => {
    const { config, errors } = parseZoneSyncConfig({ ...on, "zone-sync-tls": "true" });
    expect(errors).toEqual([
      expect.objectContaining({
        key: "zone-sync-tls-secret",
        value: undefined,
        message: expect.stringMatching(/^zone-sync-tls-secret: is required when zone-sync-tls is "true"; allowed: /),
      }),
    ]);
    expect(config.tls).toBeUndefined();
  });

  it("stays without TLS when the Secret name is invalid", () => {
    const { config, errors } = parseZoneSyncConfig({ ...tlsOn, "zone-sync-tls-secret": "Not_A_Name" });
    expect(keysOf(errors)).toEqual(["zone-sync-tls-secret"]);
    expect(config.tls).toBeUndefined();
  });

  it.each([undefined, "false"])("rejects TLS sub-keys when zone-sync-tls is %j", (tls) => {
    const data: Record<string, string> = {
      ...on,
      "zone-sync-tls-secret": "zs-tls",
      "zone-sync-tls-trusted-ca": "true",
      "zone-sync-tls-verify": "true",
      "zone-sync-tls-verify-depth": "2",
      "zone-sync-tls-server-name": "true",
    };
    if (tls !== undefined) data["zone-sync-tls"] = tls;
    const { config, errors } = parseZoneSyncConfig(data);
    expect(keysOf(errors)).toEqual([
      "zone-sync-tls-secret",
      "zone-sync-tls-server-name",
      "zone-sync-tls-trusted-ca",
      "zone-sync-tls-verify",
      "zone-sync-tls-verify-depth",
    ]);
    expect(errors[0]?.message).toBe(
      'zone-sync-tls-secret: "zs-tls" is set while zone-sync-tls is not "true"; allowed: only together with zone-sync-tls: "true"',
    );
    expect(config.tls).toBeUndefined();
  });

  it("checks TLS sub-keys on their own when zone-sync-tls is invalid", () => {
    const { errors } = parseZoneSyncConfig({
      ...on,
      "zone-sync-tls": "sure",
      "zone-sync-tls-secret": "zs-tls",
      "zone-sync-tls-verify-depth": "1000",
    });
    expect(keysOf(errors)).toEqual(["zone-sync-tls", "zone-sync-tls-verify-depth"]);
  });

  it.each([
    ["zone-sync-tls-secret", "a/b/c", "is not a Secret name"],
    ["zone-sync-tls-trusted-ca", "x/y", "is neither a boolean nor a Secret key name"],
    ["zone-sync-tls-verify", "strict", "is not a boolean"],
    ["zone-sync-tls-verify-depth", "0", "is not a verify depth"],
    ["zone-sync-tls-verify-depth", "101", "is not a verify depth"],
    ["zone-sync-tls-server-name", "example.com", "is not a boolean"],
  ])("rejects %s: %j", (key, value, problem) => {
    const data = { ...tlsOn, "zone-sync-tls-trusted-ca": "true", "zone-sync-tls-verify": "true", [key]: value };
    const { errors } = parseZoneSyncConfig(data);
    expect(errors.map((e) => e.message)).toContainEqual(expect.stringContaining(`${key}: "${value}" ${problem}`));
  });

  it("needs a CA to verify peers, as nginx does", () => {
    const { config, errors } = parseZoneSyncConfig({ ...tlsOn, "zone-sync-tls-verify": "true" });
    expect(errors).toEqual([
      expect.objectContaining({
        key: "zone-sync-tls-verify",
        message: expect.stringContaining(
          'zone-sync-tls-verify: "true" needs zone-sync-tls-trusted-ca to name the CA that peers are verified against',
        ),
      }),
    ]);
    expect(config.tls?.verify).toBe(false);
  });

  it("rejects a verify depth without verification", () => {
    const { config, errors } = parseZoneSyncConfig({
      ...tlsOn,
      "zone-sync-tls-trusted-ca": "true",
      "zone-sync-tls-verify-depth": "3",
    });
    expect(keysOf(errors)).toEqual(["zone-sync-tls-verify-depth"]);
    expect(errors[0]?.message).toContain('has no effect unless zone-sync-tls-verify is "true"');
    expect(config.tls?.verifyDepth).toBeUndefined();
  });
});

describe("parseZoneSyncConfig: unknown keys", () => {
  it("suggests the closest key", () => {
    const { errors } = parseZoneSyncConfig({ ...on, "zone-sync-prot": "7777" });
    expect(errors).toEqual([
      {
        key: "zone-sync-prot",
        value: "7777",
        allowed: expect.stringMatching(/^one of zone-sync, zone-sync-port, /),
        message: expect.stringMatching(/^zone-sync-prot: unknown key, did you mean zone-sync-port\?; allowed: one of /),
      },
    ]);
  });

  it.each([
    ["zone_sync_port", "zone-sync-port"],
    ["Zone-Sync-Port", "zone-sync-port"],
    ["zone-sync-resolver-address", "zone-sync-resolver-addresses"],
    ["zone-sync-tls-verifydepth", "zone-sync-tls-verify-depth"],
    ["zone-sync-ipv6", "zone-sync-resolver-ipv6"],
    ["zone-sync-secret", "zone-sync-tls-secret"],
  ])("suggests %s → %s", (key, suggestion) => {
    const { errors } = parseZoneSyncConfig({ ...on, [key]: "x" });
    expect(errors[0]?.message).toContain(`did you mean ${suggestion}?`);
  });

  it("says only 'unknown key' when nothing is close", () => {
    const { errors } = parseZoneSyncConfig({ "zone-sync-something-else-entirely": "1" });
    expect(errors[0]?.message).toMatch(/^zone-sync-something-else-entirely: unknown key; allowed: /);
  });

  it("still reads the known keys", () => {
    const { config, errors } = parseZoneSyncConfig({ ...on, "zone-sync-prot": "1", "zone-sync-port": "2" });
    expect(keysOf(errors)).toEqual(["zone-sync-prot"]);
    expect(config.port).toBe(2);
  });
});

describe("describeOutcome", () => {
  it("says that a valid configuration is applied", () => {
    expect(describeOutcome([])).toBe("all zone-sync keys are valid; applying the configuration");
  });

  it("counts and names the invalid keys and keeps the last good configuration", () => {
    const { errors } = parseZoneSyncConfig({
      ...on,
      "zone-sync-port": "99999",
      "zone-sync-resolver-addresses": "kube_dns",
    });
    expect(describeOutcome(errors)).toBe(
      "2 invalid zone-sync keys (zone-sync-port, zone-sync-resolver-addresses); keeping the last good configuration",
    );
  });

  it("speaks of one key in the singular and says when there is nothing to keep", () => {
    expect(describeOutcome([{ key: "zone-sync" }], { hasLastGood: false })).toBe(
      "1 invalid zone-sync key (zone-sync); zone-sync stays unconfigured until they are fixed",
    );
  });
});
