import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { DEFAULT_RENEW_AFTER, renewalDue, tokenLifetime, withToken } from "./renewal.ts";

const jwt = (claims: Record<string, unknown>) => `h.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.s`;

describe("token renewal", () => {
  it("reads the lifetime a token states, and renews at a fraction of it", () => {
    const lifetime = tokenLifetime(jwt({ iat: 1000, exp: 1600 }))!;
    expect(lifetime).toEqual({ issuedAt: 1_000_000, expiresAt: 1_600_000 });
    expect(renewalDue(lifetime, DEFAULT_RENEW_AFTER)).toBe(1_480_000);
    expect(renewalDue(lifetime, 0.02)).toBe(1_012_000);
  });

  it("has no lifetime for tokens that are not JWTs or state none", () => {
    expect(tokenLifetime(undefined)).toBeUndefined();
    expect(tokenLifetime("static-token")).toBeUndefined();
    expect(tokenLifetime(jwt({ exp: 1600 }))).toBeUndefined();
    expect(tokenLifetime(jwt({ iat: 1600, exp: 1000 }))).toBeUndefined();
  });

  it("replaces only the current user's token", () => {
    const config = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "east", cluster: { server: "https://10.0.0.1:6443" } }],
      users: [
        { name: "other", user: { token: "keep" } },
        { name: "u", user: { token: "old" } },
      ],
      contexts: [{ name: "east", context: { cluster: "east", user: "u" } }],
      "current-context": "east",
    };
    const renewed = parse(withToken(stringify(config), "new")) as typeof config;
    expect(renewed.users).toEqual([
      { name: "other", user: { token: "keep" } },
      { name: "u", user: { token: "new" } },
    ]);
    expect(renewed.clusters).toEqual(config.clusters);
    expect(() => withToken(stringify({ ...config, "current-context": "none" }), "x")).toThrow(/no user/);
  });
});
