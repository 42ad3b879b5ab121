import { mkdtempSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { HelmError } from "../../src/helm/errors.ts";
import { Helm } from "../../src/helm/helm.ts";
import { ensureHelm } from "../env/binaries.ts";

const chart = join(import.meta.dirname, "..", "fixtures", "tiny-chart");
const binaries = ensureHelm();

/** A copy of the tiny chart with a broken template. */
function brokenChart(): string {
  const dir = mkdtempSync(join(tmpdir(), "zonesync-broken-chart-"));
  cpSync(chart, dir, { recursive: true });
  mkdirSync(join(dir, "templates"), { recursive: true });
  writeFileSync(join(dir, "templates", "broken.yaml"), "{{ .Values.greeting | nosuchfunction }}\n");
  return dir;
}

describe.each([
  ["Helm 3", binaries.helm3, 3],
  ["Helm 4", binaries.helm4, 4],
])("%s without a cluster", (_name, binary, major) => {
  const helm = new Helm({ binary });

  it("detects its version", async () => {
    const version = await helm.version();
    expect(version.major).toBe(major);
    expect(version.version).toMatch(/^v\d+\.\d+\.\d+/);
  });

  it("renders a chart with values from stdin", async () => {
    const manifest = await helm.template({
      release: "demo",
      chart,
      namespace: "somewhere",
      values: { greeting: "hi: there", data: { extra: "1" } },
    });
    const docs = parseAllDocuments(manifest).map((d) => d.toJS() as { kind: string; data: Record<string, string> });
    expect(docs).toHaveLength(1);
    expect(docs[0]!.kind).toBe("ConfigMap");
    expect(docs[0]!.data).toEqual({ greeting: "hi: there", replicas: "1", extra: "1" });
  });

  it("maps schema violations and broken charts to typed errors", async () => {
    const rejected = await helm.template({ release: "demo", chart, values: { replicas: "two" } }).catch((e) => e);
    expect(rejected).toBeInstanceOf(HelmError);
    expect((rejected as HelmError).kind).toBe("SchemaRejected");
    expect((rejected as HelmError).message).toMatch(/replicas/);
    const missing = await helm.template({ release: "demo", chart: "/no/such/chart" }).catch((e) => e);
    expect((missing as HelmError).kind).toBe("ChartInvalid");
    const broken = await helm.template({ release: "demo", chart: brokenChart() }).catch((e) => e);
    expect((broken as HelmError).kind).toBe("ChartInvalid");
  });

  it("lints: a good chart passes strict, a broken one reports its errors", async () => {
    expect(await helm.lint(chart, { strict: true, values: { greeting: "x" } })).toMatchObject({ ok: true });
    const bad = await helm.lint(brokenChart(), { strict: true });
    expect(bad.ok).toBe(false);
    expect(bad.messages.some((m) => m.startsWith("[ERROR]") && m.includes("nosuchfunction"))).toBe(true);
    const invalidValues = await helm.lint(chart, { values: { greeting: 42 } });
    expect(invalidValues.ok).toBe(false);
  });

  it("reports a missing binary", async () => {
    const err = await new Helm({ binary: "/no/such/helm" }).version().catch((e) => e);
    expect(err).toBeInstanceOf(HelmError);
    expect((err as HelmError).message).toMatch(/cannot run \/no\/such\/helm: ENOENT/);
  });
});
