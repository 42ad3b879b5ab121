// Writes docs/check-output.schema.json from the zod schema of `zonesync check -o json` (src/check/schema.ts).
// `node src/check/generate-schema.ts --check` exits 1 when the committed copy differs.
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { checkReportJsonSchema } from "./schema.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SCHEMA_FILE = "docs/check-output.schema.json";

export async function schemaFileContent(root = REPO_ROOT): Promise<string> {
  const file = join(root, SCHEMA_FILE);
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(JSON.stringify(checkReportJsonSchema(), null, 2), { ...options, filepath: file });
}

if (import.meta.main) {
  const file = join(REPO_ROOT, SCHEMA_FILE);
  const content = await schemaFileContent();
  if (process.argv.includes("--check")) {
    const onDisk = await readFile(file, "utf8").catch(() => undefined);
    if (onDisk !== content) {
      process.stderr.write(`${SCHEMA_FILE} is out of date; run node src/check/generate-schema.ts\n`);
      process.exitCode = 1;
    }
  } else {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  }
}
