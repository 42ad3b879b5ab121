import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { promtool } from "../env/prometheus.ts";
import { processRegistries } from "./promql.ts";

describe("every process's /metrics passes promtool check metrics (exposition format and naming lint)", () => {
  const processes = processRegistries(true);

  it.each(Object.keys(processes))("%s", async (name) => {
    const registry = processes[name as keyof typeof processes];
    const text = await registry.metrics();
    // Runtime metrics are there (not an empty exposition that trivially passes), without prom-client's misnamed ones.
    expect(text).toMatch(/^process_resident_memory_bytes[{ ]/m);
    expect(text).toMatch(/^zonesync_/m);
    expect(text).not.toMatch(/^nodejs_active_handles_total/m);
    const check = await execa(promtool(), ["check", "metrics"], { input: text, reject: false });
    expect(check.exitCode, `${check.stdout}${check.stderr}`).toBe(0);
  });

  it("would fail on a gauge named like a counter (the check can fail)", async () => {
    const text = "# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n";
    const check = await execa(promtool(), ["check", "metrics"], { input: text, reject: false });
    expect(check.exitCode).not.toBe(0);
  });
});
