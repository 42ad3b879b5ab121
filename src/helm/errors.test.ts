import { describe, expect, it } from "vitest";
import { classifyHelmError, helmErrorSummary, redactSecrets, secretStrings } from "./errors.ts";
import { goDuration, parseHelmVersion } from "./helm.ts";

/** Error output captured from Helm 3.17.2 and Helm 4.1.4. */
const samples: Array<[string, string]> = [
  ["PendingOperation", "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n"],
  [
    "SchemaRejected",
    "Error: values don't meet the specifications of the schema(s) in the following chart(s):\ntiny:\n- replicas: Invalid type. Expected: integer, given: string\n",
  ],
  [
    "SchemaRejected",
    "Error: values don't meet the specifications of the schema(s) in the following chart(s):\ntiny:\n- at '/replicas': got string, want integer\n",
  ],
  ["ReleaseNotFound", "Error: release: not found\n"],
  ["ReleaseNotFound", "Error: uninstall: Release not loaded: nope: release: not found\n"],
  [
    "Unreachable",
    'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": dial tcp 127.0.0.1:1: connect: connection refused\n',
  ],
  [
    "Unreachable",
    'Error: kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": dial tcp 127.0.0.1:1: connect: connection refused\n',
  ],
  ["Timeout", "Error: UPGRADE FAILED: context deadline exceeded\n"],
  [
    "Timeout",
    'level=WARN msg="upgrade failed" name=r error="resource PersistentVolumeClaim/hx4/r-blocker not ready. status: InProgress, message: PVC is not Bound. phase: Pending\\ncontext deadline exceeded"\nError: UPGRADE FAILED: resource PersistentVolumeClaim/hx4/r-blocker not ready. status: InProgress, message: PVC is not Bound. phase: Pending\ncontext deadline exceeded\n',
  ],
  ["ChartInvalid", 'Error: path "/nonexistent" not found\n'],
  [
    "ChartInvalid",
    'Error: parse error at (tiny/templates/x.yaml:1): function "nope" not defined\n\nUse --debug flag to render out invalid YAML\n',
  ],
  ["Unknown", "Error: something nobody expected\n"],
];

describe("classifyHelmError", () => {
  it.each(samples)("recognises %s", (kind, stderr) => {
    expect(classifyHelmError(stderr)).toBe(kind);
  });
});

describe("helmErrorSummary", () => {
  it("keeps what follows Error:, without Helm 4's log lines", () => {
    expect(helmErrorSummary(samples[8]![1])).toBe(
      "UPGRADE FAILED: resource PersistentVolumeClaim/hx4/r-blocker not ready. status: InProgress, message: PVC is not Bound. phase: Pending; context deadline exceeded",
    );
    expect(helmErrorSummary("")).toBe("no error output");
  });
});

describe("secrets in error output", () => {
  it("finds secret-looking values", () => {
    const values = {
      controllers: [{ link: "east", credentials: { token: "tok-123456", name: "plain" } }],
      image: { tag: "v1" },
      kubeconfig: "apiVersion: v1\nusers: []",
      password: "abc", // too short to redact safely
    };
    expect(secretStrings(values).sort()).toEqual(["apiVersion: v1\nusers: []", "plain", "tok-123456"]);
  });

  it("removes literal secrets, bearer tokens, JWTs, PEM blocks and key=value secrets", () => {
    const text = [
      "failed: tok-123456 rejected",
      "Authorization: Bearer abc.def-ghi",
      "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
      "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----",
      'password: "hunter22" and token=xyz123',
      "nothing secret here",
    ].join("\n");
    const out = redactSecrets(text, ["tok-123456"]);
    expect(out).not.toMatch(/tok-123456|abc\.def|eyJ|MIIabc|hunter22|xyz123/);
    expect(out).toContain("nothing secret here");
    expect(out).toContain("Bearer [redacted]");
  });
});

describe("versions and durations", () => {
  it("parses helm version output", () => {
    expect(parseHelmVersion("v4.1.4")).toEqual({ major: 4, minor: 1, patch: 4, version: "v4.1.4" });
    expect(parseHelmVersion("v3.17.2+gcc0bbbd\n")).toMatchObject({ major: 3, minor: 17, patch: 2 });
    expect(() => parseHelmVersion("garbage")).toThrow(/cannot parse/);
  });

  it("turns milliseconds into Go durations", () => {
    expect(goDuration(2500)).toBe("2500ms");
    expect(goDuration("5m")).toBe("5m");
  });
});
