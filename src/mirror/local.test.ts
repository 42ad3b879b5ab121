import { describe, expect, it } from "vitest";
import { mirrorSelector, toLocalMirror } from "./local.ts";
import { parseServiceKey, PEERS_KEY, serviceKey } from "./target.ts";

describe("local mirror cache entries", () => {
  it("keep the hash and the source key, nothing else", () => {
    const m = toLocalMirror({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "web-east",
        namespace: "shop",
        uid: "u",
        resourceVersion: "3",
        labels: { "zonesync.io/link": "east" },
        annotations: {
          "zonesync.io/remote-ref": "east/shop/web",
          "zonesync.io/mirror-hash": "h1",
          big: "x".repeat(1000),
        },
        managedFields: [{}],
      },
      spec: { clusterIP: "None", ports: [] },
    });
    expect(m).toEqual({
      metadata: { name: "web-east", namespace: "shop", uid: "u", resourceVersion: "3" },
      hash: "h1",
      source: "svc:shop/web",
      headless: true,
    });
  });

  it("attribute peer slices to the peers key and broken references to none", () => {
    const peer = toLocalMirror({
      kind: "EndpointSlice",
      metadata: { name: "p", namespace: "n", labels: { "zonesync.io/zone-sync-peers": "east" }, annotations: {} },
    });
    expect(peer.source).toBe(PEERS_KEY);
    expect(toLocalMirror({ kind: "EndpointSlice", metadata: { name: "x", namespace: "n" } }).source).toBeUndefined();
  });

  it("select only mirrors of the link", () => {
    expect(mirrorSelector("0d3c-uid")).toBe("zonesync.io/link-uid=0d3c-uid,zonesync.io/mirrored-from");
  });

  it("round-trip work queue keys", () => {
    expect(parseServiceKey(serviceKey("shop", "web"))).toEqual({ namespace: "shop", name: "web" });
    expect(parseServiceKey(PEERS_KEY)).toBeUndefined();
    expect(parseServiceKey("")).toBeUndefined();
  });
});
