import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeApiError } from "../kube/errors.ts";
import {
  classifyTargetError,
  credentialsFromSecret,
  compactSecret,
  CredentialsError,
  describeTargetError,
  targetErrorReason,
} from "./credentials.ts";

const TOKEN = "s3cr3t-token-value";

function secret(config: unknown) {
  const text = typeof config === "string" ? config : stringify(config);
  return compactSecret({
    metadata: { name: "creds", namespace: "zs" },
    data: { kubeconfig: Buffer.from(text).toString("base64"), other: "eA==" },
  });
}

const kubeconfig = {
  apiVersion: "v1",
  kind: "Config",
  clusters: [
    {
      name: "east",
      cluster: {
        server: "https://10.0.0.1:6443",
        "certificate-authority-data": Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64"),
      },
    },
  ],
  users: [{ name: "u", user: { token: TOKEN } }],
  contexts: [{ name: "east", context: { cluster: "east", user: "u" } }],
  "current-context": "east",
};

describe("credentials from the Secret", () => {
  it("keeps only the kubeconfig key of the Secret", () => {
    expect(Object.keys(secret(kubeconfig))).toEqual(["metadata", "kubeconfig"]);
  });

  it("keeps the target ServiceAccount a Secret names only when it is namespace/name", () => {
    const annotated = (ref: string) =>
      compactSecret({
        metadata: { name: "creds", annotations: { "zonesync.io/target-service-account": ref } },
        data: {},
      }).targetServiceAccount;
    expect(annotated("zonesync-system/zonesync-remote-hub")).toBe("zonesync-system/zonesync-remote-hub");
    for (const bad of ["a/b/c", "Bad/x", "x", "ns/", "ns/a..b"]) expect(annotated(bad), bad).toBeUndefined();
  });

  it("reads the current context's credentials, with the link's server override", () => {
    expect(credentialsFromSecret(secret(kubeconfig), "zs/creds").server).toBe("https://10.0.0.1:6443");
    expect(
      credentialsFromSecret(secret(kubeconfig), "zs/creds", { apiServerAddress: "https://east.example:443" }).server,
    ).toBe("https://east.example:443");
  });

  it("names what is wrong without quoting the content", () => {
    const bad = () => credentialsFromSecret(secret(`clusters: [ {{ ${TOKEN}`), "zs/creds");
    expect(bad).toThrow(CredentialsError);
    try {
      bad();
    } catch (err) {
      expect((err as Error).message).not.toContain(TOKEN);
      expect((err as CredentialsError).reason).toBe("InvalidKubeconfig");
    }
    expect(() => credentialsFromSecret(undefined, "zs/creds")).toThrow(/does not exist/);
    expect(() => credentialsFromSecret(compactSecret({ metadata: { name: "creds" }, data: {} }), "zs/creds")).toThrow(
      /no "kubeconfig" key/,
    );
  });

  it("refuses exec plugins", () => {
    const exec = {
      ...kubeconfig,
      users: [{ name: "u", user: { exec: { command: "sh", apiVersion: "client.authentication.k8s.io/v1" } } }],
    };
    expect(() => credentialsFromSecret(secret(exec), "zs/creds")).toThrow(/exec plugin/);
  });

  it("accepts insecure-skip-tls-verify only when the link allows it", () => {
    const insecure = {
      ...kubeconfig,
      clusters: [{ name: "east", cluster: { server: "https://10.0.0.1:6443", "insecure-skip-tls-verify": true } }],
    };
    expect(() => credentialsFromSecret(secret(insecure), "zs/creds")).toThrow(/spec.insecureSkipTLSVerify/);
    expect(credentialsFromSecret(secret(insecure), "zs/creds", { allowInsecure: true }).server).toBe(
      "https://10.0.0.1:6443",
    );
  });

  it("classifies target errors", () => {
    const err = (status: number, reason = "") => new KubeApiError("x", status, reason, "GET", "/");
    expect(classifyTargetError(err(401))).toBe("credentials");
    expect(classifyTargetError(err(403))).toBe("credentials");
    expect(classifyTargetError(err(0))).toBe("unreachable");
    expect(classifyTargetError(err(503))).toBe("unreachable");
    expect(classifyTargetError(err(404))).toBe("other");
    expect(targetErrorReason(err(401))).toBe("Unauthorized");
    expect(targetErrorReason(err(0))).toBe("Unreachable");
  });
});

describe("target error descriptions", () => {
  it("name the root cause of a transport failure", () => {
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
    const err = new KubeApiError(
      "GET /api/v1/services: cannot reach https://127.0.0.1:6443",
      0,
      "Unreachable",
      "GET",
      "/",
      {
        cause: new TypeError("fetch failed", { cause: root }),
      },
    );
    expect(describeTargetError(err)).toContain("ECONNREFUSED");
  });
});
