import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { coalesceValues, decodeReleaseData } from "./storage.ts";

describe("Helm release storage", () => {
  it("decodes base64 of gzipped JSON, and of plain JSON", () => {
    const release = { name: "zonesync", version: 3, config: { controllers: [{ name: "east" }] } };
    const gz = gzipSync(Buffer.from(JSON.stringify(release))).toString("base64");
    expect(decodeReleaseData(gz)).toEqual(release);
    expect(decodeReleaseData(Buffer.from(JSON.stringify(release)).toString("base64"))).toEqual(release);
  });

  it("coalesces user values over chart values like Helm: maps merge, lists replace, null deletes", () => {
    const chart = {
      image: { repository: "r", tag: "" },
      controllers: [{ name: "x" }],
      manager: { enabled: true, nginx: {} },
    };
    const user = { image: { tag: "1.2" }, controllers: [{ name: "y" }], manager: { nginx: null } };
    expect(coalesceValues(chart, user)).toEqual({
      image: { repository: "r", tag: "1.2" },
      controllers: [{ name: "y" }],
      manager: { enabled: true },
    });
    expect(chart.image.tag).toBe("");
  });
});
