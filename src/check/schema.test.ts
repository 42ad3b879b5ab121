import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, SCHEMA_FILE, schemaFileContent } from "./generate-schema.ts";

describe("docs/check-output.schema.json", () => {
  it("is up to date with src/check/schema.ts (run `node src/check/generate-schema.ts` if this fails)", async () => {
    expect(await readFile(join(REPO_ROOT, SCHEMA_FILE), "utf8")).toBe(await schemaFileContent());
  });
});
