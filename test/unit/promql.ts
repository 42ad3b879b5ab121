// What the alert rule and dashboard tests need to hold PromQL to the metrics zonesync really exports: the sample
// names of every metric registry, built with the real factory functions, and the metric names an expression selects
// (parsed by Prometheus' own PromQL grammar, @prometheus-io/lezer-promql), and promtool's verdict on expressions.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { execa } from "execa";
import { Registry } from "prom-client";
import { stringify } from "yaml";
import { managerMetrics } from "../../src/manager/metrics.ts";
import { mcsMetrics } from "../../src/mcs/metrics.ts";
import { mirrorMetrics } from "../../src/mirror/metrics.ts";
import { collectRuntimeMetrics } from "../../src/runtime-metrics.ts";
import { queueMetrics } from "../../src/queue/metrics.ts";
import { zoneSyncMetrics } from "../../src/zonesync/metrics.ts";
import { promtool } from "../env/prometheus.ts";

/**
 * The registries of the processes zonesync runs, built as they build them (src/cli/*.ts); with `runtime`, also the
 * process and Node.js runtime metrics each of them adds.
 */
export function processRegistries(runtime = false): Record<"manager" | "linkController" | "mcsController", Registry> {
  const manager = new Registry();
  managerMetrics(manager);
  queueMetrics(manager);
  zoneSyncMetrics(manager);
  const processes = {
    manager,
    linkController: mirrorMetrics("example").registry,
    mcsController: mcsMetrics().registry,
  };
  if (runtime) for (const registry of Object.values(processes)) collectRuntimeMetrics(registry);
  return processes;
}

function registries(): Registry[] {
  return Object.values(processRegistries());
}

/** The names of the samples a metric of this type exposes (a histogram's _bucket, _sum and _count). */
function sampleNames(name: string, type: string): string[] {
  if (type === "histogram") return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === "summary") return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

/** Every sample name zonesync's processes expose (the metric factories' own names; no process or Node defaults). */
export async function exportedSampleNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const registry of registries()) {
    for (const metric of await registry.getMetricsAsJSON()) {
      for (const name of sampleNames(metric.name, String(metric.type))) names.add(name);
    }
  }
  return names;
}

/**
 * The metric names `expr` selects. Throws when the grammar finds a syntax error, and when a selector names no metric
 * (`{__name__=~"..."}`), which no check could hold to the registries.
 */
export function selectedMetrics(expr: string): string[] {
  const names = new Set<string>();
  const problems: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) problems.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(node.from))}`);
      if (node.name !== "VectorSelector") return;
      const identifier = node.node.getChild("Identifier");
      if (identifier) names.add(expr.slice(identifier.from, identifier.to));
      else problems.push(`a selector without a metric name: ${expr.slice(node.from, node.to)}`);
    },
  });
  if (problems.length) throw new Error(`${expr}: ${problems.join("; ")}`);
  return [...names];
}

export interface PromtoolResult {
  ok: boolean;
  output: string;
}

/** `promtool check rules` on a rules file. */
export async function checkRulesFile(file: string): Promise<PromtoolResult> {
  const result = await execa(promtool(), ["check", "rules", file], { reject: false, all: true });
  return { ok: result.exitCode === 0, output: result.all ?? "" };
}

/**
 * Has promtool parse expressions: each becomes a recording rule of a temporary rules file, which
 * `promtool check rules` parses with Prometheus' own PromQL parser.
 */
export async function checkExpressions(exprs: ReadonlyMap<string, string>): Promise<PromtoolResult> {
  const dir = mkdtempSync(join(tmpdir(), "zonesync-promql-"));
  try {
    const rules = [...exprs].map(([id, expr]) => ({
      record: `zonesync_check:${id.replace(/[^a-zA-Z0-9_]/g, "_")}`,
      expr,
    }));
    const file = join(dir, "exprs.rules.yaml");
    writeFileSync(file, stringify({ groups: [{ name: "expressions", rules }] }));
    return await checkRulesFile(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
