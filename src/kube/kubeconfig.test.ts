import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { jwtExpiry } from "../api/jwt.ts";
import { authorizerFor } from "./authorization.ts";
import { loadKubeconfig, normalizeServer, parseKubeconfig } from "./kubeconfig.ts";

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

  describe("files", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };

    it("merges a $KUBECONFIG list as kubectl does: the first file to define a name or current-context wins", () => {
      write("ca.pem", "FILE-CA");
      const first = write(
        "first.yaml",
        stringify({
          clusters: [{ name: "c", cluster: { server: "https://first:6443", "certificate-authority": "ca.pem" } }],
          users: [{ name: "u", user: { username: "admin", password: "pw" } }],
          contexts: [{ name: "one", context: { cluster: "c", user: "u" } }],
        }),
      );
      const second = write(
        "second.yaml",
        stringify({
          clusters: [{ name: "c", cluster: { server: "https://second:6443" } }],
          users: [{ name: "v", user: { token: "t2" } }],
          contexts: [
            { name: "one", context: { cluster: "nowhere", user: "v" } },
            { name: "two", context: { cluster: "c", user: "v" } },
          ],
          "current-context": "two",
        }),
      );
      const kc = loadKubeconfig([first, join(dir, "missing.yaml"), second]);
      expect(kc.currentContext).toBe("two");
      expect(kc.contextNames).toEqual(["one", "two"]);
      expect(kc.entry("one")).toMatchObject({ server: "https://first:6443", caPem: "FILE-CA", username: "admin" });
      expect(kc.entry()).toMatchObject({ server: "https://first:6443", token: "t2" });
    });

    it("authorizes with a token, basic authentication, or a token file that is read again as it rotates", async () => {
      const base = { context: "c", server: "https://x", insecureSkipTlsVerify: false, usesPlugin: false };
      expect((await authorizerFor({ ...base, token: "abc" }, undefined)()).headers).toEqual({
        authorization: "Bearer abc",
      });
      expect((await authorizerFor({ ...base, username: "a", password: "b" }, undefined)()).headers).toEqual({
        authorization: `Basic ${Buffer.from("a:b").toString("base64")}`,
      });
      const tokenFile = write("token", "first\n");
      const now = { t: 1_000_000 };
      const authorize = authorizerFor({ ...base, tokenFile }, undefined, () => now.t);
      expect((await authorize()).headers.authorization).toBe("Bearer first");
      writeFileSync(tokenFile, "second\n");
      expect((await authorize()).headers.authorization).toBe("Bearer first");
      now.t += 60_000;
      expect((await authorize()).headers.authorization).toBe("Bearer second");
      rmSync(tokenFile);
      now.t += 60_000;
      expect((await authorize()).headers.authorization).toBe("Bearer second");
    });

    it("refuses a plugin user without the operator's kubeconfig files to run it from", () => {
      const base = { context: "c", server: "https://x", insecureSkipTlsVerify: false };
      expect(() => authorizerFor({ ...base, usesPlugin: true }, undefined)).toThrow(/plugin, which is refused here/);
    });
  });
});
