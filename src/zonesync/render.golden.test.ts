/**
 * Golden files for zone-sync.conf. Run with UPDATE_GOLDEN=1 to rewrite them after an intended change, then
 * review the diff: `UPDATE_GOLDEN=1 npx vitest run --project unit src/zonesync/render.golden.test.ts`.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseZoneSyncConfig } from "./config.ts";
import { renderStreamConfig } from "./render.ts";
import { GOLDEN_CASES, GOLDEN_TARGET } from "./testdata/cases.ts";

const update = process.env["UPDATE_GOLDEN"] === "1";
const goldenPath = (name: string): string => new URL(`./testdata/${name}.conf`, import.meta.url).pathname;

describe("renderStreamConfig golden files", () => {
  for (const c of GOLDEN_CASES) {
    it(c.name, () => {
      const { config, errors } = parseZoneSyncConfig(c.data);
      expect(errors).toEqual([]);
      const rendered = renderStreamConfig(config, c.target ?? GOLDEN_TARGET, c.options);
      const path = goldenPath(c.name);

      if (c.renders === false) {
        expect(rendered).toBeUndefined();
        if (update) rmSync(path, { force: true });
        expect(existsSync(path), `${path} should not exist: nothing is rendered`).toBe(false);
        return;
      }
      if (rendered === undefined) throw new Error(`case ${c.name} rendered nothing`);
      if (update) writeFileSync(path, rendered);
      expect(existsSync(path), `${path} is missing; run with UPDATE_GOLDEN=1 to create it`).toBe(true);
      expect(rendered).toBe(readFileSync(path, "utf8"));
    });
  }
});
