// The chart's alert rules (chart/files/alerts.rules.yaml), checked with the real promtool (Debian's prometheus
// package, provisioned by test/env/provision.sh): the file is valid, every rule's unit tests in test/alerts pass, every
// alert has a case where it fires and one where it does not, and every metric a rule reads is one zonesync exports.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { promtool } from "../env/prometheus.ts";
import { checkRulesFile, exportedSampleNames, selectedMetrics } from "./promql.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RULES_FILE = join(repoRoot, "chart", "files", "alerts.rules.yaml");
const TESTS_DIR = join(repoRoot, "test", "alerts");

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface AlertCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string> }>;
}
interface TestFile {
  rule_files: string[];
  tests: Array<{ name?: string; alert_rule_test?: AlertCase[] }>;
}

const rulesFile = parse(readFileSync(RULES_FILE, "utf8")) as RulesFile;
const alerts = rulesFile.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => !!r.alert);
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith(".test.yaml"))
  .map((f) => join(TESTS_DIR, f));
const cases = testFiles.flatMap((file) =>
  (parse(readFileSync(file, "utf8")) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []),
);

/** Alerts about one link say which; the manager's and zone-sync's are about the release or an NGINX workload. */
const NOT_PER_LINK = new Set([
  "ZoneSyncManagerNoLeader",
  "ZoneSyncHelmUpgradesFailing",
  "ZoneSyncZoneSyncConfigInvalid",
  "ZoneSyncServiceExportsConflicted",
]);

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function testRules(file: string) {
  const result = await execa(promtool(), ["test", "rules", file], { reject: false, all: true });
  return { ok: result.exitCode === 0, output: result.all ?? "" };
}

describe("alert rules", () => {
  it("pass promtool check rules", async () => {
    const result = await checkRulesFile(RULES_FILE);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it("cover what the issue asks for, each with a for:, a severity, and a summary and description", () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        "ZoneSyncCredentialsExpired",
        "ZoneSyncCredentialsExpiringSoon",
        "ZoneSyncCredentialsNotRenewable",
        "ZoneSyncEndpointsStale",
        "ZoneSyncHelmUpgradesFailing",
        "ZoneSyncLinkNoLeader",
        "ZoneSyncLinkNotReady",
        "ZoneSyncManagerNoLeader",
        "ZoneSyncMirrorNameConflicts",
        "ZoneSyncServiceExportsConflicted",
        "ZoneSyncTargetUnreachable",
        "ZoneSyncZoneSyncConfigInvalid",
      ].sort(),
    );
    for (const rule of alerts) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(["warning", "critical"], rule.alert).toContain(rule.labels?.severity);
      expect(Object.keys(rule.annotations ?? {}).sort(), rule.alert).toEqual(["description", "summary"]);
      if (NOT_PER_LINK.has(rule.alert)) continue;
      expect(rule.annotations!.summary, rule.alert).toContain("{{ $labels.link }}");
      expect(rule.annotations!.description, rule.alert).toContain("{{ $labels.link }}");
    }
  });

  it("read only metrics that zonesync exports", async () => {
    const exported = await exportedSampleNames();
    for (const rule of alerts) {
      const used = selectedMetrics(rule.expr);
      expect(used.length, rule.alert).toBeGreaterThan(0);
      expect(
        used.filter((name) => !exported.has(name)),
        `${rule.alert} reads metrics no registry has`,
      ).toEqual([]);
    }
  });

  it("each have unit tests where they fire and where they do not (or resolve)", () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const known = new Set(alerts.map((a) => a.alert));
    // A case naming no rule would pass vacuously (no alert of that name ever fires).
    expect(cases.map((c) => c.alertname).filter((name) => !known.has(name))).toEqual([]);
    for (const name of known) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${name} has a case where it fires`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${name} has a case where it does not fire`,
      ).toBe(true);
    }
  });

  it.each(testFiles.map((f) => [f.slice(repoRoot.length + 1), f]))("pass promtool test rules %s", async (_, file) => {
    const result = await testRules(file);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain("SUCCESS");
  });

  it("fail promtool test rules when an expectation is wrong (the tests can fail)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zonesync-alerts-"));
    temps.push(dir);
    mkdirSync(join(dir, "test", "alerts"), { recursive: true });
    mkdirSync(join(dir, "chart", "files"), { recursive: true });
    copyFileSync(RULES_FILE, join(dir, "chart", "files", "alerts.rules.yaml"));
    const source = parse(readFileSync(join(TESTS_DIR, "links.test.yaml"), "utf8")) as TestFile;
    const firing = source.tests.flatMap((t) => t.alert_rule_test ?? []).find((c) => c.exp_alerts?.length)!;
    // The same expectation with the other severity.
    const labels = firing.exp_alerts![0]!.exp_labels!;
    labels.severity = labels.severity === "critical" ? "warning" : "critical";
    const file = join(dir, "test", "alerts", "links.test.yaml");
    writeFileSync(file, stringify(source));
    const result = await testRules(file);
    expect(result.ok, result.output).toBe(false);
    expect(result.output).toContain("FAILED");
    expect(result.output).toContain(firing.alertname);
  });
});
