import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseRemoteKubeconfig, RemoteKubeconfigError } from "./remote-kubeconfig.ts";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln";
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

type Cluster = Record<string, unknown>;
type User = Record<string, unknown>;

function kubeconfig(cluster: Cluster = {}, user: User = {}, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "east", cluster: { server: "https://10.0.0.1:6443", "certificate-authority-data": b64(CA), ...cluster } },
    ],
    users: [{ name: "u", user: { token: TOKEN, ...user } }],
    contexts: [{ name: "east", context: { cluster: "east", user: "u" } }],
    "current-context": "east",
    ...extra,
  });
}

describe("the credentials policy for a kubeconfig from a Secret", () => {
  it("reads inline credentials of the current context", () => {
    expect(parseRemoteKubeconfig(kubeconfig())).toEqual({
      context: "east",
      server: "https://10.0.0.1:6443",
      caPem: CA,
      insecureSkipTlsVerify: false,
      token: TOKEN,
    });
    const cert = parseRemoteKubeconfig(
      kubeconfig({}, { token: undefined, "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") }),
    );
    expect([cert.clientCertPem, cert.clientKeyPem, cert.token]).toEqual(["CERT", "KEY", undefined]);
    expect(parseRemoteKubeconfig(kubeconfig(), { serverOverride: "https://east.example/" }).server).toBe(
      "https://east.example",
    );
  });

  const refused: Array<[string, string, RegExp]> = [
    ["exec plugin", kubeconfig({}, { exec: { command: "/bin/sh", args: ["-c", "id"] } }), /exec plugin/],
    ["auth provider", kubeconfig({}, { "auth-provider": { name: "gcp" } }), /auth provider/],
    ["token file", kubeconfig({}, { tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" }), /token file/],
    ["token-file", kubeconfig({}, { "token-file": "/etc/passwd" }), /token file/],
    ["CA file", kubeconfig({ "certificate-authority": "/etc/ssl/private/key.pem" }), /CA file/],
    ["client certificate file", kubeconfig({}, { "client-certificate": "/root/.ssh/id_rsa" }), /certificate file/],
    ["client key file", kubeconfig({}, { "client-key": "/root/.ssh/id_rsa" }), /key file/],
    ["proxy", kubeconfig({ "proxy-url": "http://attacker.example:3128" }), /proxy/],
    ["impersonation", kubeconfig({}, { as: "system:admin" }), /impersonation/],
    ["basic auth", kubeconfig({}, { username: "admin", password: "x" }), /basic authentication/],
    ["plain http", kubeconfig({ server: "http://10.0.0.1:8080" }), /must be https/],
    ["a file URL", kubeconfig({ server: "file:///etc/passwd" }), /must be https/],
    ["credentials in the URL", kubeconfig({ server: "https://u:p@10.0.0.1" }), /must not carry credentials/],
    ["insecure without the link's consent", kubeconfig({ "insecure-skip-tls-verify": true }), /insecureSkipTLSVerify/],
    ["no credentials", kubeconfig({}, { token: undefined }), /no inline credentials/],
    [
      "a certificate without its key",
      kubeconfig({}, { token: undefined, "client-certificate-data": b64("C") }),
      /no inline/,
    ],
    ["CA data that is not base64", kubeconfig({ "certificate-authority-data": "not base64!" }), /not base64/],
    ["no current context", kubeconfig({}, {}, { "current-context": "" }), /no current-context/],
    ["an unknown current context", kubeconfig({}, {}, { "current-context": "west" }), /not defined/],
    ["not YAML", `clusters: [ {{ ${TOKEN}`, /not valid YAML/],
    ["a list", "- a\n- b\n", /not a YAML mapping/],
    ["too large", `# ${"x".repeat(300 * 1024)}\n${kubeconfig()}`, /larger than/],
    [
      "an alias bomb",
      `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n`,
      /not valid YAML/,
    ],
  ];
  it.each(refused)("refuses %s, naming the rule and never the content", (_what, text, rule) => {
    let error: unknown;
    try {
      parseRemoteKubeconfig(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RemoteKubeconfigError);
    expect((error as Error).message).toMatch(rule);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it("accepts skipping TLS verification when the link allows it, and an https override of a bad server", () => {
    const insecure = kubeconfig({ "insecure-skip-tls-verify": true });
    expect(parseRemoteKubeconfig(insecure, { allowInsecure: true }).insecureSkipTlsVerify).toBe(true);
    expect(() => parseRemoteKubeconfig(kubeconfig(), { serverOverride: "http://east.example" })).toThrow(/https/);
  });
});
