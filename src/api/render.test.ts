import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseLink, type ZoneSyncLink } from "./link.ts";
import {
  canonicalJson,
  effectiveController,
  mergeControllersIntoValues,
  renderControllerEntries,
  valuesHash,
} from "./render.ts";
import { ControllerDefaultsSchema } from "./controller.ts";
import { VERSION } from "../version.ts";

function link(name: string, controller?: Record<string, unknown>, credentialsSecret = `cluster-credentials-${name}`) {
  const result = parseLink({
    metadata: { name, namespace: "zonesync-system" },
    spec: { targetClusterName: name, credentialsSecret, ...(controller ? { controller } : {}) },
  });
  if (!result.ok) throw new Error(result.errors.join("; "));
  return result.link;
}

const defaults = ControllerDefaultsSchema.parse({});

describe("renderControllerEntries", () => {
  it("renders one sparse entry per link, sorted by name", () => {
    const entries = renderControllerEntries([
      link("west", { replicas: 2, logLevel: "debug", podDisruptionBudget: { enabled: true } }),
      link("east", undefined, "east-kubeconfig"),
    ]);
    expect(entries).toEqual([
      { name: "east", credentialsSecret: "east-kubeconfig" },
      {
        name: "west",
        credentialsSecret: "cluster-credentials-west",
        replicas: 2,
        logLevel: "debug",
        podDisruptionBudget: { enabled: true },
      },
    ]);
  });

  it("never takes an image from a link: whoever may create a link must not choose what runs as its controller", () => {
    const entries = renderControllerEntries([
      link("east", { replicas: 2, image: { repository: "evil.example/miner", tag: "latest" } }),
    ]);
    expect(entries).toEqual([{ name: "east", credentialsSecret: "cluster-credentials-east", replicas: 2 }]);
  });

  it("is deterministic whatever the input order, and does not alias the links", () => {
    const links: ZoneSyncLink[] = [link("b", { nodeSelector: { zone: "a" } }), link("a"), link("c")];
    const one = renderControllerEntries(links);
    const two = renderControllerEntries([...links].reverse());
    expect(JSON.stringify(one)).toBe(JSON.stringify(two));
    one[1]!.nodeSelector!.zone = "changed";
    expect(links[0]!.spec.controller?.nodeSelector).toEqual({ zone: "a" });
  });
});

describe("mergeControllersIntoValues", () => {
  it("replaces controllers and keeps every other key, without touching the base", () => {
    const base = { image: { tag: "1.2.3" }, controllers: [{ name: "stale" }], manager: { apply: "helm" as const } };
    const merged = mergeControllersIntoValues(base, [{ name: "east" }]);
    expect(merged).toEqual({ image: { tag: "1.2.3" }, manager: { apply: "helm" }, controllers: [{ name: "east" }] });
    expect(base.controllers).toEqual([{ name: "stale" }]);
    merged.image.tag = "x";
    expect(base.image.tag).toBe("1.2.3");
  });
});

describe("valuesHash", () => {
  const values = {
    image: { repository: "r", tag: "t" },
    controllers: [{ name: "east", replicas: 1, nodeSelector: { b: "2", a: "1" } }],
  };

  it("does not depend on key order", () => {
    const reordered = {
      controllers: [{ nodeSelector: { a: "1", b: "2" }, replicas: 1, name: "east" }],
      image: { tag: "t", repository: "r" },
    };
    expect(valuesHash(reordered)).toBe(valuesHash(values));
    expect(valuesHash(values)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes when a replica count changes", () => {
    const changed = structuredClone(values);
    changed.controllers[0]!.replicas = 2;
    expect(valuesHash(changed)).not.toBe(valuesHash(values));
  });

  it("ignores undefined members, as JSON does", () => {
    expect(valuesHash({ a: 1, b: undefined })).toBe(valuesHash({ a: 1 }));
  });

  it("serializes like Go's encoding/json (Helm's toJson)", () => {
    expect(canonicalJson({ b: [1, "x<y>&z"], a: { "10": true, "9": null }, c: 0.5 })).toBe(
      '{"a":{"10":true,"9":null},"b":[1,"x\\u003cy\\u003e\\u0026z"],"c":0.5}',
    );
    expect(valuesHash({ a: 1 })).toBe(createHash("sha256").update('{"a":1}').digest("hex"));
  });
});

describe("effectiveController", () => {
  const image = { repository: "ghcr.io/zonesync/zonesync", tag: "0.1.0", pullPolicy: "IfNotPresent" as const };

  it("falls back to the defaults for every unset field", () => {
    expect(effectiveController({ name: "east" }, defaults, image)).toEqual({
      name: "east",
      credentialsSecret: "cluster-credentials-east",
      replicas: 1,
      logLevel: "info",
      logFormat: "json",
      resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
      nodeSelector: {},
      tolerations: [],
      affinity: {},
      podAntiAffinity: false,
      podDisruptionBudget: { enabled: false, minAvailable: 1 },
      image,
    });
  });

  it("resolves an empty image tag to the app version", () => {
    expect(effectiveController({ name: "east" }, defaults).image).toEqual({
      repository: "ghcr.io/zonesync/zonesync",
      tag: VERSION,
      pullPolicy: "IfNotPresent",
    });
    expect(effectiveController({ name: "east", image: { tag: "" } }, defaults, image, "2.0.0").image.tag).toBe("2.0.0");
    expect(effectiveController({ name: "east" }, defaults, { ...image, tag: "" }, "2.0.0").image.tag).toBe("2.0.0");
  });

  it("lets set fields win, including falsy ones, and merges pdb and image key by key", () => {
    const custom = ControllerDefaultsSchema.parse({ replicas: 3, podAntiAffinity: true, image: { tag: "9.9.9" } });
    const eff = effectiveController(
      {
        name: "west",
        credentialsSecret: "creds",
        replicas: 0,
        podAntiAffinity: false,
        resources: { requests: { cpu: "1" } },
        podDisruptionBudget: { enabled: true },
        image: { pullPolicy: "Always" },
      },
      custom,
      image,
    );
    expect(eff).toMatchObject({
      credentialsSecret: "creds",
      replicas: 0,
      podAntiAffinity: false,
      resources: { requests: { cpu: "1" } },
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      image: { repository: "ghcr.io/zonesync/zonesync", tag: "9.9.9", pullPolicy: "Always" },
    });
  });
});
