import { describe, expect, it } from "vitest";
import { mirrorServiceName, mirrorSliceName, parseRemoteRef, peerSliceName, remoteRef, shortenName } from "./naming.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe("mirror names", () => {
  it("appends the cluster name", () => {
    expect(mirrorServiceName("web", "east")).toBe("web-east");
  });

  it("shortens names over 63 characters deterministically, with a hash suffix", () => {
    const long = "a".repeat(70);
    const name = mirrorServiceName(long, "east");
    expect(name).toHaveLength(63);
    expect(name).toMatch(DNS_LABEL);
    expect(mirrorServiceName(long, "east")).toBe(name);
    expect(mirrorServiceName(long, "west")).not.toBe(name);
    expect(name.startsWith("a".repeat(54))).toBe(true);
  });

  it("keeps a valid DNS label when the cut falls on a dash", () => {
    const name = shortenName(`${"a".repeat(53)}-${"b".repeat(20)}`);
    expect(name).toMatch(DNS_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it("distinguishes names that share a long prefix", () => {
    const base = "x".repeat(60);
    expect(shortenName(`${base}-one`)).not.toBe(shortenName(`${base}-two`));
  });

  it("names slices after the mirror Service and the target slice", () => {
    const a = mirrorSliceName("web-east", "web-abcde");
    expect(a).toMatch(/^web-east-[0-9a-f]{10}$/);
    expect(mirrorSliceName("web-east", "web-abcde")).toBe(a);
    expect(mirrorSliceName("web-east", "web-fghij")).not.toBe(a);
    expect(peerSliceName("nginx-hl", "east", "peers-x")).toMatch(/^nginx-hl-east-[0-9a-f]{10}$/);
    expect(peerSliceName("nginx-hl", "west", "peers-x")).not.toBe(peerSliceName("nginx-hl", "east", "peers-x"));
  });

  it("round-trips remote references", () => {
    expect(parseRemoteRef(remoteRef("east", "shop", "web"))).toEqual({
      cluster: "east",
      namespace: "shop",
      name: "web",
    });
    expect(parseRemoteRef("east/shop")).toBeUndefined();
    expect(parseRemoteRef("east//web")).toBeUndefined();
  });
});
