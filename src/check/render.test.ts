import { describe, expect, it } from "vitest";
import { renderJson, renderShort, renderTable, useColor } from "./render.ts";
import { CheckReportSchema } from "./schema.ts";
import type { CheckReport } from "./types.ts";

const report: CheckReport = {
  success: false,
  clusters: [
    {
      context: "hub",
      server: "https://127.0.0.1:6443",
      categories: [
        {
          name: "links",
          checks: [
            {
              id: "links.crd-installed",
              description: "the CRD is installed",
              severity: "error",
              result: "ok",
              error: null,
              hint: null,
              message: "established",
            },
            {
              id: "links.valid",
              description: "every link is valid",
              severity: "error",
              result: "error",
              error: "ns/east: spec.staleAfter: must be at least 5s",
              hint: "kubectl edit zonesynclink east",
              message: null,
              details: [
                {
                  subject: "ns/east",
                  result: "error",
                  message: "spec.staleAfter: must be at least 5s",
                  hint: "kubectl edit zonesynclink east",
                },
              ],
            },
          ],
        },
        {
          name: "controllers",
          checks: [
            {
              id: "controllers.standalone-legacy",
              description: "links are served in chart mode",
              severity: "warning",
              result: "warning",
              error: "ns/west: standalone only",
              hint: "zonesync migrate --link west",
              message: null,
            },
            {
              id: "controllers.lease",
              description: "leases are held",
              severity: "error",
              result: "skipped",
              error: "skipped: controllers.present did not pass",
              hint: null,
              message: null,
            },
          ],
        },
      ],
    },
  ],
};

describe("renderers", () => {
  it("table: categories, one line per check with its mark, what is wrong and the fix under failures, a summary", () => {
    const out = renderTable(report, { color: false });
    expect(out).toContain(
      "links\n-----\n√ the CRD is installed (established)\n× every link is valid\n    ns/east: spec.staleAfter: must be at least 5s\n    fix: kubectl edit zonesynclink east\n",
    );
    expect(out).toContain(
      "‼ links are served in chart mode\n    ns/west: standalone only\n    fix: zonesync migrate --link west\n",
    );
    expect(out).toContain("○ leases are held (skipped: controllers.present did not pass)");
    expect(out).toContain("controllers and modes\n---------------------\n");
    expect(out.trimEnd().split("\n").at(-1)).toBe(
      "Status check results are × (1 passed, 1 warning, 1 error, 1 skipped)",
    );
    expect(out).not.toContain("\u001b[");
  });

  it("colours only when asked", () => {
    expect(renderTable(report, { color: true })).toContain("\u001b[31m×\u001b[0m");
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColor({ isTTY: false }, {})).toBe(false);
  });

  it("short: only what is not OK", () => {
    const out = renderShort(report, { color: false });
    expect(out).toBe(
      "× links.valid: every link is valid\n    ns/east: spec.staleAfter: must be at least 5s\n    fix: kubectl edit zonesynclink east\n" +
        "‼ controllers.standalone-legacy: links are served in chart mode\n    ns/west: standalone only\n    fix: zonesync migrate --link west\n" +
        "Status check results are × (1 passed, 1 warning, 1 error, 1 skipped)\n",
    );
  });

  it("json: the documented shape", () => {
    const parsed = CheckReportSchema.parse(JSON.parse(renderJson(report)));
    expect(parsed).toEqual(report);
    expect(() => CheckReportSchema.parse({ ...report, clusters: [{ ...report.clusters[0], extra: 1 }] })).toThrow();
  });
});
