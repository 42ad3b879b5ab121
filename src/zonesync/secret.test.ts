import { describe, expect, it } from "vitest";
import { configChecksum } from "./checksum.ts";
import { readTlsMaterial, resolveSecretRef, tlsChecksum } from "./secret.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const ref = { namespace: "nginx", name: "zone-sync-tls" };
const secret = (data: Record<string, string>) => ({ metadata: { name: "zone-sync-tls", namespace: "nginx" }, data });

describe("resolveSecretRef", () => {
  it("defaults to the ConfigMap's namespace", () => {
    expect(resolveSecretRef({ secret: { name: "s" } }, "cfg")).toEqual({ namespace: "cfg", name: "s" });
    expect(resolveSecretRef({ secret: { namespace: "x", name: "s" } }, "cfg")).toEqual({ namespace: "x", name: "s" });
  });
});

describe("readTlsMaterial", () => {
  it("decodes certificate, key and the configured CA key", () => {
    const read = readTlsMaterial(
      secret({ "tls.crt": b64("CERT"), "tls.key": b64("KEY"), "my-ca": b64("CA") }),
      { trustedCaKey: "my-ca" },
      ref,
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.material.cert.toString()).toBe("CERT");
    expect(read.material.key.toString()).toBe("KEY");
    expect(read.material.ca?.toString()).toBe("CA");
    expect(configChecksum("conf", read.material)).toBe(configChecksum("conf", { cert: "CERT", key: "KEY", ca: "CA" }));
  });

  it("names the missing Secret or keys, never a value", () => {
    expect(readTlsMaterial(undefined, { trustedCaKey: undefined }, ref)).toEqual({
      ok: false,
      problem: "Secret nginx/zone-sync-tls does not exist",
    });
    const partial = readTlsMaterial(secret({ "tls.crt": b64("SECRET-CERT") }), { trustedCaKey: "ca.crt" }, ref);
    expect(partial).toEqual({
      ok: false,
      problem: "Secret nginx/zone-sync-tls has no tls.key, ca.crt (or they are empty)",
    });
    const bad = readTlsMaterial(
      secret({ "tls.crt": "SECRET!!", "tls.key": b64("k") }),
      { trustedCaKey: undefined },
      ref,
    );
    expect(bad).toEqual({ ok: false, problem: "Secret nginx/zone-sync-tls has keys that are not base64: tls.crt" });
  });

  it("checksums TLS material apart from any config", () => {
    expect(tlsChecksum(undefined)).toBeUndefined();
    expect(tlsChecksum({ cert: "a", key: "b" })).not.toBe(tlsChecksum({ cert: "a", key: "c" }));
  });
});
