import { describe, expect, it } from "vitest";
import { configChecksum } from "./checksum.ts";
import { parseZoneSyncConfig } from "./config.ts";
import { renderStreamConfig } from "./render.ts";

const target = { serviceName: "nginx-deployment-hl", namespace: "nginx" };
const checksumOf = (data: Record<string, string>): string =>
  configChecksum(renderStreamConfig(parseZoneSyncConfig(data).config, target));

describe("configChecksum", () => {
  it("is a sha256 hex digest and stable for the same input", () => {
    const sum = configChecksum("a", { cert: "c", key: "k" });
    expect(sum).toMatch(/^[0-9a-f]{64}$/);
    expect(configChecksum("a", { cert: "c", key: "k" })).toBe(sum);
  });

  it("only sees the rendered output: key order and unrelated keys do not matter", () => {
    const base = checksumOf({ "zone-sync": "true", "zone-sync-port": "7777" });
    expect(checksumOf({ "zone-sync-port": "7777", "zone-sync": "true" })).toBe(base);
    expect(checksumOf({ "zone-sync": "True", "zone-sync-port": " 7777", "worker-processes": "4" })).toBe(base);
    expect(checksumOf({ "zone-sync": "true", "zone-sync-port": "7778" })).not.toBe(base);
  });

  it("tells disabled from an empty rendering", () => {
    expect(configChecksum(undefined)).not.toBe(configChecksum(""));
  });

  it("covers the TLS material and treats strings and bytes alike", () => {
    const rendered = "conf";
    const plain = configChecksum(rendered);
    const withTls = configChecksum(rendered, { cert: "CERT", key: "KEY" });
    expect(withTls).not.toBe(plain);
    expect(configChecksum(rendered, { cert: "CERT", key: "KEY2" })).not.toBe(withTls);
    expect(configChecksum(rendered, { cert: "CERT", key: "KEY", ca: "CA" })).not.toBe(withTls);
    expect(configChecksum(rendered, { cert: "CERT", key: "KEY", ca: "" })).not.toBe(withTls);
    expect(configChecksum(rendered, { cert: Buffer.from("CERT"), key: new TextEncoder().encode("KEY") })).toBe(withTls);
  });

  it("frames fields so content cannot move between them", () => {
    expect(configChecksum("ab", { cert: "c", key: "" })).not.toBe(configChecksum("a", { cert: "bc", key: "" }));
    expect(configChecksum("", { cert: "x", key: "y" })).not.toBe(configChecksum("", { cert: "", key: "xy" }));
    expect(configChecksum("a", { cert: "", key: "" })).not.toBe(configChecksum("a"));
  });
});
