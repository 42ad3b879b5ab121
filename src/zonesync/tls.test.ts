import { describe, expect, it } from "vitest";
import { TLS_CA_PATH, TLS_CERT_PATH, TLS_KEY_PATH, tlsSecretItems } from "./tls.ts";

describe("tls paths", () => {
  it("mounts the Secret under /etc/nginx/zone-sync-tls", () => {
    expect([TLS_CERT_PATH, TLS_KEY_PATH, TLS_CA_PATH]).toEqual([
      "/etc/nginx/zone-sync-tls/tls.crt",
      "/etc/nginx/zone-sync-tls/tls.key",
      "/etc/nginx/zone-sync-tls/ca.crt",
    ]);
  });

  it("projects the CA key, whatever its name, to ca.crt", () => {
    expect(tlsSecretItems({ trustedCaKey: undefined })).toEqual([
      { key: "tls.crt", path: "tls.crt" },
      { key: "tls.key", path: "tls.key" },
    ]);
    expect(tlsSecretItems({ trustedCaKey: "root.pem" })).toContainEqual({ key: "root.pem", path: "ca.crt" });
  });
});
