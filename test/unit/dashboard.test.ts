// The Grafana dashboard the chart ships (chart/files/dashboard.json, generated from scripts/dashboard.ts): every query
// parses with the real promtool and reads only metrics zonesync exports, and the layout holds together.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Dashboard, Panel, RowPanel } from "@grafana/schema";
import { describe, expect, it } from "vitest";
import { dashboard } from "../../scripts/dashboard.ts";
import { checkExpressions, exportedSampleNames, selectedMetrics } from "./promql.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const shipped = JSON.parse(readFileSync(join(repoRoot, "chart", "files", "dashboard.json"), "utf8")) as Dashboard;

interface Target {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}

const isRow = (p: Panel | RowPanel): p is RowPanel => p.type === "row";
const rows = (shipped.panels ?? []).filter(isRow);
const panels = (shipped.panels ?? []).flatMap((p) => (isRow(p) ? p.panels : [p]));
const queries = panels.flatMap((panel) =>
  ((panel.targets ?? []) as unknown as Target[]).map((target) => ({ panel, target })),
);

/** Values for the Grafana variables a query may use: what Grafana puts in their place when it runs the query. */
const VARIABLES: Record<string, string> = { link: ".*", __rate_interval: "5m", __interval: "1m", __range: "6h" };

/** The query as Grafana sends it; an unknown variable is an error (a misspelt one would reach Prometheus as is). */
function expand(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const value = VARIABLES[(braced ?? bare)!];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });
}

/** The metric a `label_values(metric, label)` variable query reads. */
function variableSelectors(): string[] {
  return (shipped.templating?.list ?? [])
    .filter((v) => v.type === "query")
    .map((v) => {
      const match = /^label_values\((.+),\s*\w+\)$/.exec(String(v.query));
      if (!match) throw new Error(`variable ${v.name}: not a label_values(metric, label) query: ${String(v.query)}`);
      return match[1]!;
    });
}

describe("Grafana dashboard", () => {
  it("is what scripts/dashboard.ts generates", () => {
    expect(shipped).toEqual(JSON.parse(JSON.stringify(dashboard())));
  });

  it("has the rows the issue asks for, each panel described, sized and on the picked data source", () => {
    expect(rows.map((r) => r.title)).toEqual([
      "Links",
      "Lag",
      "Mirrors",
      "Credentials",
      "Manager",
      "Multi-Cluster Services",
      "Work queues",
    ]);
    const ids = (shipped.panels ?? []).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.title, `panel ${panel.id}`).toBeTruthy();
      expect(panel.description, panel.title).toBeTruthy();
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of (panel.targets ?? []) as unknown as Target[]) {
        expect(target.datasource, panel.title).toEqual(panel.datasource);
      }
    }
    expect(shipped.templating?.list?.map((v) => v.name)).toEqual(["datasource", "link"]);
  });

  it("lays the panels out on Grafana's 24 columns without overlaps", () => {
    const taken = new Map<string, string>();
    for (const panel of shipped.panels ?? []) {
      const { x = 0, y = 0, w = 0, h = 0 } = panel.gridPos ?? {};
      expect(w, panel.title).toBeGreaterThan(0);
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let col = x; col < x + w; col++) {
        for (let row = y; row < y + h; row++) {
          const cell = `${col},${row}`;
          expect(taken.get(cell), `${panel.title} overlaps at ${cell}`).toBeUndefined();
          taken.set(cell, panel.title ?? "");
        }
      }
    }
  });

  it("has queries that promtool parses", async () => {
    const exprs = new Map(
      queries.map(({ panel, target }) => [`panel_${panel.id}_${target.refId}`, expand(target.expr)]),
    );
    variableSelectors().forEach((selector, i) => exprs.set(`variable_${i}`, selector));
    expect(exprs.size).toBeGreaterThan(20);
    const result = await checkExpressions(exprs);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain(`SUCCESS: ${exprs.size} rules found`);
  });

  it("would fail a query that promtool cannot parse (the check can fail)", async () => {
    const result = await checkExpressions(
      new Map([["broken", "sum by (link) (rate(zonesync_mirror_writes_total[5m])"]]),
    );
    expect(result.ok).toBe(false);
    expect(expand('rate(x{link=~"$link"}[$__rate_interval])')).toBe('rate(x{link=~".*"}[5m])');
    expect(() => expand("rate(x[$__rate_intervall])")).toThrow(/unknown variable/);
  });

  it("reads only metrics that zonesync exports", async () => {
    const exported = await exportedSampleNames();
    const used = new Set<string>();
    for (const { panel, target } of queries) {
      const names = selectedMetrics(expand(target.expr));
      expect(names.length, `${panel.title} ${target.refId}`).toBeGreaterThan(0);
      for (const name of names) used.add(name);
      expect(
        names.filter((n) => !exported.has(n)),
        `${panel.title} (${target.refId}) reads metrics no registry has`,
      ).toEqual([]);
    }
    for (const selector of variableSelectors())
      expect(selectedMetrics(selector).every((n) => exported.has(n))).toBe(true);
    // What the issue names: per-link state, lag, mirrors, writes, errors, credentials, helm upgrades, queue depth.
    expect([...used]).toEqual(
      expect.arrayContaining([
        "zonesync_manager_link_ready",
        "zonesync_mirror_target_reachable",
        "zonesync_mirror_stale",
        "zonesync_mirror_leader",
        "zonesync_mirror_sync_lag_seconds_bucket",
        "zonesync_mirror_e2e_lag_seconds_bucket",
        "zonesync_mirror_services",
        "zonesync_mirror_endpoints",
        "zonesync_mirror_writes_total",
        "zonesync_mirror_errors_total",
        "zonesync_mirror_credentials_expiry_timestamp_seconds",
        "zonesync_manager_helm_upgrades_total",
        "zonesync_workqueue_depth",
      ]),
    );
  });

  it("would catch a metric no registry has, and a selector without a metric name (the check can fail)", async () => {
    const exported = await exportedSampleNames();
    expect(exported.has("zonesync_mirror_sync_lag_seconds_bucket")).toBe(true);
    expect(exported.has("zonesync_mirror_sync_lag_seconds")).toBe(false); // a histogram is read by its _bucket etc.
    expect(selectedMetrics("histogram_quantile(0.5, sum by (le) (rate(zonesync_mirror_synclag_bucket[5m])))")).toEqual([
      "zonesync_mirror_synclag_bucket",
    ]);
    expect(() => selectedMetrics('sum(rate({__name__=~"zonesync_.*"}[5m]))')).toThrow(/without a metric name/);
    expect(() => selectedMetrics("sum(rate(zonesync_mirror_writes_total[5m])")).toThrow(/syntax error/);
  });
});
