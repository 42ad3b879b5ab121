import { describe, expect, it } from "vitest";
import {
  boolValue,
  clusterDomainValue,
  intValue,
  parseNginxTime,
  portValue,
  secretRefValue,
  timeValue,
  trustedCaValue,
} from "./values.ts";

describe("boolValue (Go's strconv.ParseBool)", () => {
  it.each(["1", "t", "T", "TRUE", "true", "True"])("reads %j as true", (v) => {
    expect(boolValue.parse(v)).toBe(true);
  });
  it.each(["0", "f", "F", "FALSE", "false", "False"])("reads %j as false", (v) => {
    expect(boolValue.parse(v)).toBe(false);
  });
  it.each(["yes", "no", "on", "tRuE", "", "2", "truee"])("rejects %j", (v) => {
    const result = boolValue.safeParse(v);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("is not a boolean");
  });
});

describe("portValue and intValue", () => {
  it.each([
    ["1", 1],
    ["12345", 12345],
    ["65535", 65535],
    ["080", 80],
  ])("accepts %j", (v, n) => {
    expect(portValue.parse(v)).toBe(n);
  });
  it.each(["0", "65536", "99999", "-1", "+80", "80.0", "1e3", "", "port", "12345678901"])("rejects %j", (v) => {
    expect(portValue.safeParse(v).error?.issues[0]?.message).toBe("is not a port");
  });
  it("uses the given range", () => {
    const depth = intValue(1, 100, "a verify depth");
    expect(depth.parse("100")).toBe(100);
    expect(depth.safeParse("101").error?.issues[0]?.message).toBe("is not a verify depth");
  });
});

describe("parseNginxTime", () => {
  const ms = { allowMilliseconds: true };
  const sec = { allowMilliseconds: false };
  it.each([
    ["5s", 5000],
    ["500ms", 500],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["1d12h", 129_600_000],
    ["1w", 604_800_000],
    ["10", 10_000],
    ["1s500ms", 1500],
  ])("reads %j", (v, expected) => {
    expect(parseNginxTime(v, ms)).toBe(expected);
  });
  it.each(["", "0s", "0", "s", "5 s", "1m 30s", "30s1m", "1s1s", "5sec", "1.5s", "-5s", "1y", "25d", "5S"])(
    "rejects %j",
    (v) => {
      expect(parseNginxTime(v, ms)).toBeUndefined();
    },
  );
  it("rejects milliseconds where nginx wants seconds", () => {
    expect(parseNginxTime("500ms", sec)).toBeUndefined();
    expect(parseNginxTime("1s500ms", sec)).toBeUndefined();
    expect(parseNginxTime("1m30s", sec)).toBe(90_000);
  });
  it("keeps a valid time as written", () => {
    expect(timeValue(ms).parse("1m30s")).toBe("1m30s");
    expect(timeValue(ms).safeParse("soon").error?.issues[0]?.message).toBe("is not an nginx time");
  });
});

describe("clusterDomainValue", () => {
  it.each(["cluster.local", "corp.example", "k8s", "a-b.c-d"])("accepts %j", (v) => {
    expect(clusterDomainValue.parse(v)).toBe(v);
  });
  it.each(["", "Cluster.Local", "cluster.local.", ".cluster", "-a.b", "a_b.c", "a..b", `${"a".repeat(64)}.local`])(
    "rejects %j",
    (v) => {
      expect(clusterDomainValue.safeParse(v).error?.issues[0]?.message).toBe("is not a DNS domain name");
    },
  );
});

describe("secretRefValue", () => {
  it("reads name and namespace/name", () => {
    expect(secretRefValue.parse("zone-sync-tls")).toEqual({ name: "zone-sync-tls" });
    expect(secretRefValue.parse("nginx/zone-sync.tls")).toEqual({ namespace: "nginx", name: "zone-sync.tls" });
  });
  it.each(["", "/x", "x/", "a/b/c", "Upper", "ns.with.dots/x", "a b"])("rejects %j", (v) => {
    expect(secretRefValue.safeParse(v).error?.issues[0]?.message).toBe("is not a Secret name");
  });
});

describe("trustedCaValue", () => {
  it("maps booleans to ca.crt or nothing", () => {
    expect(trustedCaValue.parse("true")).toBe("ca.crt");
    expect(trustedCaValue.parse("T")).toBe("ca.crt");
    expect(trustedCaValue.parse("false")).toBeUndefined();
  });
  it("takes another key of the Secret", () => {
    expect(trustedCaValue.parse("ca.pem")).toBe("ca.pem");
    expect(trustedCaValue.parse("root_CA-2024.crt")).toBe("root_CA-2024.crt");
  });
  it.each(["", "a/b", "..", "ca crt"])("rejects %j", (v) => {
    expect(trustedCaValue.safeParse(v).success).toBe(false);
  });
});
