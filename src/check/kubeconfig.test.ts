import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { jwtExpiry } from "../api/jwt.ts";
import { normalizeServer, parseKubeconfig } from "./kubeconfig.ts";

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;

describe("kubeconfig reader", () => {
  const text = stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "east",
        cluster: {
          server: "https://10.0.0.1:6443/",
          "certificate-authority-data": Buffer.from("CA").toString("base64"),
        },
      },
      { name: "west", cluster: { server: "https://west.example", "insecure-skip-tls-verify": true } },
    ],
    users: [
      { name: "t", user: { token: "abc" } },
      { name: "x", user: { exec: { command: "aws" } } },
    ],
    contexts: [
      { name: "east", context: { cluster: "east", user: "t", namespace: "ns" } },
      { name: "west", context: { cluster: "west", user: "x" } },
      { name: "broken", context: { cluster: "nowhere", user: "t" } },
    ],
    "current-context": "east",
  });

  it("reads servers, CA, tokens and plugins per context", () => {
    const kc = parseKubeconfig(text);
    expect(kc.contextNames).toEqual(["east", "west", "broken"]);
    expect(kc.entry()).toMatchObject({
      context: "east",
      server: "https://10.0.0.1:6443",
      caPem: "CA",
      token: "abc",
      usesPlugin: false,
      namespace: "ns",
    });
    expect(kc.entry("west")).toMatchObject({
      server: "https://west.example",
      insecureSkipTlsVerify: true,
      usesPlugin: true,
    });
    expect(() => kc.entry("broken")).toThrow(/names cluster "nowhere", which is not defined/);
    expect(() => kc.entry("nope")).toThrow(/unknown context "nope"/);
  });

  it("rejects what is not a kubeconfig", () => {
    expect(() => parseKubeconfig("a: [")).toThrow(/not valid YAML/);
    expect(() => parseKubeconfig("apiVersion: v1\n")).toThrow(/no contexts/);
  });

  it("reads a JWT's exp without verifying it", () => {
    expect(jwtExpiry(jwt({ exp: 1700000000 }))?.toISOString()).toBe("2023-11-14T22:13:20.000Z");
    expect(jwtExpiry(jwt({ sub: "x" }))).toBeUndefined();
    expect(jwtExpiry("not-a-jwt")).toBeUndefined();
    expect(jwtExpiry("a.!!!.c")).toBeUndefined();
  });

  it("normalizes API server addresses for comparison", () => {
    expect(normalizeServer("https://Example.com/")).toBe("https://example.com:443");
    expect(normalizeServer("https://example.com:443")).toBe("https://example.com:443");
    expect(normalizeServer("https://[::1]:6443")).toBe("https://[::1]:6443");
    expect(normalizeServer("https://1.2.3.4:6443")).not.toBe(normalizeServer("https://1.2.3.4:6444"));
  });
});
