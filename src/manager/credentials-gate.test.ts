import { describe, expect, it } from "vitest";
import { credentialsSecretProblem, toSecretView } from "./credentials-gate.ts";

const secret = (labels: Record<string, string>, type?: string) =>
  toSecretView({
    metadata: { name: "creds", namespace: "zs", labels },
    type,
    data: { kubeconfig: "c2VjcmV0" },
  } as never);

describe("the credentials Secret a link may have its controller read", () => {
  it("is one of the credentials type, labelled for this link", () => {
    expect(
      credentialsSecretProblem(
        "east",
        "creds",
        secret({ "zonesync.io/link": "east" }, "zonesync.io/remote-kubeconfig"),
      ),
    ).toBeUndefined();
  });

  it("is refused when missing, labelled for another link, or of another type (Helm's release, a token)", () => {
    expect(credentialsSecretProblem("east", "creds", undefined)).toMatch(
      /does not exist or is not labelled zonesync.io\/link=east/,
    );
    expect(
      credentialsSecretProblem(
        "east",
        "creds",
        secret({ "zonesync.io/link": "west" }, "zonesync.io/remote-kubeconfig"),
      ),
    ).toMatch(/labelled for another link/);
    expect(
      credentialsSecretProblem(
        "east",
        "sh.helm.release.v1.zonesync.v1",
        secret({ "zonesync.io/link": "east" }, "helm.sh/release.v1"),
      ),
    ).toMatch(/has type helm.sh\/release.v1/);
    expect(credentialsSecretProblem("east", "creds", secret({ "zonesync.io/link": "east" }))).toMatch(
      /has type Opaque/,
    );
  });

  it("keeps no data of the Secret", () => {
    expect(JSON.stringify(secret({ "zonesync.io/link": "east" }, "zonesync.io/remote-kubeconfig"))).not.toContain(
      "c2VjcmV0",
    );
  });
});
