import { spawnSync } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHART_CRD_FILE, CRD_FILE, driftedFiles, generatedFiles, REPO_ROOT, VALUES_SCHEMA_FILE } from "./generate.ts";

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; items?: Schema };

/** Every schema node, with its JSON path. */
function* walk(node: Schema, path = ""): Generator<[string, Schema]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {})) yield* walk(child, `${path}.${name}`);
  if (node.items) yield* walk(node.items, `${path}[]`);
  if (node.additionalProperties && typeof node.additionalProperties === "object") {
    yield* walk(node.additionalProperties as Schema, `${path}{}`);
  }
}

describe("generated files", () => {
  const temps: string[] = [];
  afterAll(() => Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true }))));

  it("are committed and up to date with src/api (run `npm run generate` if this fails)", async () => {
    expect(await driftedFiles()).toEqual([]);
  });

  it("names a drifted copy", async () => {
    const root = await mkdtemp(join(tmpdir(), "zonesync-generate-"));
    temps.push(root);
    await cp(join(REPO_ROOT, "crds"), join(root, "crds"), { recursive: true });
    await cp(join(REPO_ROOT, "chart"), join(root, "chart"), { recursive: true });
    await cp(join(REPO_ROOT, ".prettierrc.json"), join(root, ".prettierrc.json"));
    expect(await driftedFiles(root)).toEqual([]);
    await writeFile(join(root, CHART_CRD_FILE), "# edited by hand\n");
    expect(await driftedFiles(root)).toEqual([CHART_CRD_FILE]);
    const check = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/generate.ts"), "--check", `--root=${root}`], {
      encoding: "utf8",
    });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(`${CHART_CRD_FILE} is out of date`);
  });

  it("produce a structural CRD schema with descriptions everywhere", async () => {
    const crd = parse((await generatedFiles()).get(CRD_FILE)!) as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: Schema }; additionalPrinterColumns: unknown[] }> };
    };
    const version = crd.spec.versions[0]!;
    const root = version.schema.openAPIV3Schema;
    for (const [path, node] of walk(root)) {
      expect(node, path).not.toHaveProperty("$schema");
      expect(node, path).not.toHaveProperty("propertyNames");
      expect(node.additionalProperties, path).not.toBe(false);
      if (node["x-kubernetes-int-or-string"]) {
        expect(node.anyOf, path).toEqual([{ type: "integer" }, { type: "string" }]);
        expect(node, path).not.toHaveProperty("type");
      } else {
        expect(node, path).not.toHaveProperty("anyOf");
        expect(typeof node.type, path).toBe("string");
      }
      const inProperties = path !== "" && !path.endsWith("[]") && !path.endsWith("{}") && path !== ".metadata";
      if (inProperties) expect(typeof node.description, `description of ${path}`).toBe("string");
    }
    const spec = root.properties!.spec!;
    expect(spec.required).toEqual(["targetClusterName", "credentialsSecret"]);
    expect(spec.properties!.staleAfter).toMatchObject({ default: "2m", pattern: "^([0-9]+(ms|s|m|h))+$" });
    expect(spec.properties!.controller!.properties!.affinity).toMatchObject({
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
    });
    expect(spec.properties!.controller!.properties!.nodeSelector!.additionalProperties).toEqual({ type: "string" });
    expect(spec.properties!.controller!.properties!.replicas).not.toHaveProperty("default");
    expect(version.additionalPrinterColumns).toContainEqual(
      expect.objectContaining({ name: "Ready", jsonPath: '.status.conditions[?(@.type=="Ready")].status' }),
    );
  });

  it("produce a draft-07 values schema that rejects unknown keys", async () => {
    const schema = JSON.parse((await generatedFiles()).get(VALUES_SCHEMA_FILE)!) as Schema;
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    for (const [path, node] of walk(schema)) {
      expect(
        Object.keys(node).filter((k) => k.startsWith("x-kubernetes-")),
        path,
      ).toEqual([]);
      if (node.type === "object" && node.properties && path !== "") {
        expect(node.additionalProperties, path).toBe(false);
      }
    }
    expect(schema.properties!.controllers!.items!.required).toEqual(["name"]);
  });
});
