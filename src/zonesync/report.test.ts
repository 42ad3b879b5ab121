import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/client.ts";
import { parseZoneSyncConfig } from "./config.ts";
import { ConfigReporter, ProblemReporter, type EventSink } from "./report.ts";

function sink(): EventSink & { seen: string[] } {
  const seen: string[] = [];
  return { seen, event: (_t, type, reason, message) => seen.push(`${type} ${reason}: ${message}`) };
}
const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "nginx-config", namespace: "n" } };

describe("ConfigReporter", () => {
  it("reports each bad key once, then one summary, and again only what changed", () => {
    const events = sink();
    const reporter = new ConfigReporter(events);
    const bad = parseZoneSyncConfig({ "zone-sync": "true", "zone-sync-port": "0", "zone-sync-resolver-valid": "x" });
    reporter.report(cm, bad.errors, true);
    expect(events.seen).toEqual([
      expect.stringMatching(/^Warning InvalidValue: zone-sync-port: "0"/),
      expect.stringMatching(/^Warning InvalidValue: zone-sync-resolver-valid: "x"/),
      "Warning InvalidConfiguration: 2 invalid zone-sync keys (zone-sync-port, zone-sync-resolver-valid); keeping the last good configuration",
    ]);
    reporter.report(cm, bad.errors, true);
    expect(events.seen).toHaveLength(3);

    const fewer = parseZoneSyncConfig({ "zone-sync": "true", "zone-sync-port": "0" });
    reporter.report(cm, fewer.errors, true);
    expect(events.seen.slice(3)).toEqual([
      "Warning InvalidConfiguration: 1 invalid zone-sync key (zone-sync-port); keeping the last good configuration",
    ]);

    reporter.report(cm, [], true);
    reporter.report(cm, [], true);
    expect(events.seen.slice(4)).toEqual([
      "Normal ConfigurationValid: all zone-sync keys are valid; applying the configuration",
    ]);
    reporter.report(cm, fewer.errors, true);
    expect(events.seen).toHaveLength(7);
  });

  it("says nothing about a valid configuration it never complained about", () => {
    const events = sink();
    new ConfigReporter(events).report(cm, [], false);
    expect(events.seen).toEqual([]);
  });
});

describe("ProblemReporter", () => {
  it("emits a Warning per new message of a reason", () => {
    const events = sink();
    const problems = new ProblemReporter(events);
    problems.set(cm, "InvalidTLSSecret", "missing");
    problems.set(cm, "InvalidTLSSecret", "missing");
    problems.set(cm, "InvalidTLSSecret", "no tls.key");
    problems.clear("InvalidTLSSecret");
    problems.set(cm, "InvalidTLSSecret", "no tls.key");
    expect(events.seen).toEqual([
      "Warning InvalidTLSSecret: missing",
      "Warning InvalidTLSSecret: no tls.key",
      "Warning InvalidTLSSecret: no tls.key",
    ]);
  });
});
