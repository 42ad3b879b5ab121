import { describe, expect, it } from "vitest";
import { boundName, isFqdn, isQualifiedName, quoteUntrusted } from "./identifiers.ts";
import { readTriggerTime, toTargetService, toTargetSlice } from "./model.ts";

describe("target names and bookkeeping fields are bounded", () => {
  it("keeps an invalid object's name short, distinct and quoted safely in its message", () => {
    const long = "x".repeat(100_000);
    const svc = toTargetService({ metadata: { name: long, namespace: "shop" } });
    expect(svc.metadata.name).toHaveLength(253);
    expect(svc.metadata.name).not.toBe(
      toTargetService({ metadata: { name: `${long}y`, namespace: "shop" } }).metadata.name,
    );
    expect(svc.invalid!.length).toBeLessThan(160);
    expect(svc.dropped).toEqual({ name: 1 });
    expect(toTargetService({ metadata: { name: "a\u0000b\n", namespace: "shop" } }).invalid).toBe(
      'metadata.name "a\\u0000b\\n" is not a DNS-1035 label (a valid Service name)',
    );
  });

  it("replaces an overlong resourceVersion by its hash (still tells versions apart)", () => {
    const meta = (rv: string) => ({ metadata: { name: "web", namespace: "shop", resourceVersion: rv } });
    expect(toTargetService(meta("123")).metadata.resourceVersion).toBe("123");
    const a = toTargetService(meta("9".repeat(1000))).metadata.resourceVersion!;
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(toTargetService(meta("8".repeat(1000))).metadata.resourceVersion).not.toBe(a);
  });

  it("refuses unknown Service types and names that start with a digit", () => {
    const svc = (spec: Record<string, unknown>, name = "web") =>
      toTargetService({ metadata: { name, namespace: "shop" }, spec });
    expect(svc({ type: "Tunnel" }).invalid).toBe('spec.type "Tunnel" is not a Service type');
    expect(svc({ type: "ExternalName" }).serviceType).toBe("ExternalName");
    expect(svc({}, "1web").invalid).toMatch(/DNS-1035/);
  });

  it("keeps an empty slice when every endpoint was dropped", () => {
    const slice = toTargetSlice({
      metadata: { name: "s", namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["127.0.0.1"] }],
    });
    expect(slice.invalid).toBeUndefined();
    expect(slice.endpoints).toEqual([]);
    expect(slice.dropped).toEqual({ loopback: 1 });
  });
});

describe("a target slice's last-change trigger time is untrusted", () => {
  it.each([
    ["2026-12-03T09:25:16Z", "2026-12-03T09:25:16.000Z"],
    ["2026-12-03T09:25:16.123456789Z", "2026-12-03T09:25:16.123Z"],
    ["2026-12-03T10:25:16+01:00", "2026-12-03T09:25:16.000Z"],
  ])("reads %s (Go's RFC3339Nano) as %s", (value, expected) => {
    expect(readTriggerTime(value)).toBe(expected);
  });

  it.each([
    ["not a time", "yesterday"],
    ["a date only", "2026-12-03"],
    ["a number", 1764754000],
    ["too long", `2026-12-03T09:25:16.${"1".repeat(40)}Z`],
    ["an impossible date", "2026-13-45T09:25:16Z"],
    ["a time with a newline", "2026-12-03T09:25:16Z\n"],
  ])("drops %s", (_what, value) => {
    expect(readTriggerTime(value)).toBeUndefined();
  });

  it("is kept on the slice when well-formed, and the slice is mirrored either way", () => {
    const slice = (time: unknown) =>
      toTargetSlice({
        metadata: {
          name: "web-1",
          namespace: "shop",
          labels: { "kubernetes.io/service-name": "web" },
          annotations: { "endpoints.kubernetes.io/last-change-trigger-time": time },
        },
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.1.0.1"] }],
      });
    expect(slice("2026-12-03T09:25:16Z").triggerTime).toBe("2026-12-03T09:25:16.000Z");
    const bad = slice("<script>");
    expect(bad).not.toHaveProperty("triggerTime");
    expect(bad.invalid).toBeUndefined();
    expect(bad.endpoints).toHaveLength(1);
  });
});

describe("identifier checks", () => {
  it("FQDNs, qualified names, bounded quoting", () => {
    expect(isFqdn("web-0.shop.example.com.")).toBe(true);
    expect(isFqdn("web-0")).toBe(false);
    expect(isFqdn("a..b")).toBe(false);
    expect(isQualifiedName("kubernetes.io/h2c")).toBe(true);
    expect(isQualifiedName("http")).toBe(true);
    expect(isQualifiedName("no spaces")).toBe(false);
    expect(isQualifiedName(`${"a".repeat(64)}`)).toBe(false);
    expect(quoteUntrusted("x".repeat(100), 10)).toMatch(/^"x{10}…[0-9a-f]{8}"$/);
    expect(boundName("short")).toBe("short");
  });
});
