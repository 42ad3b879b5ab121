import { describe, expect, it } from "vitest";
import { ClusterRun, Limiter, reportSuccess } from "./engine.ts";
import { clusterCheck, fail, ok, skip, subjectCheck, type CheckDefinition } from "./types.ts";
import { sleep } from "../sleep.ts";

interface Ctx {
  calls: string[];
}

const base = { retryable: false, severity: "error" as const };

function run(checks: CheckDefinition<Ctx>[], ctx: Ctx = { calls: [] }) {
  const r = new ClusterRun(ctx);
  return (async () => {
    for (const category of ["links", "controllers", "credentials"] as const) await r.runCategory(category, checks);
    return r.categories();
  })();
}

describe("check engine", () => {
  it("runs categories in order and reports each check once, with its result", async () => {
    const ctx: Ctx = { calls: [] };
    const cats = await run(
      [
        clusterCheck<Ctx>({
          ...base,
          id: "credentials.a",
          category: "credentials",
          description: "a",
          run: async (c) => (c.calls.push("a"), ok("fine")),
        }),
        clusterCheck<Ctx>({
          ...base,
          id: "links.b",
          category: "links",
          description: "b",
          run: async (c) => (c.calls.push("b"), ok()),
        }),
      ],
      ctx,
    );
    expect(ctx.calls).toEqual(["b", "a"]);
    expect(cats.map((c) => c.name)).toEqual(["links", "credentials"]);
    expect(cats[1]!.checks[0]).toMatchObject({
      id: "credentials.a",
      result: "ok",
      message: "fine",
      error: null,
      hint: null,
    });
  });

  it("skips a whole check when a cluster-wide prerequisite failed, and says which", async () => {
    let ran = false;
    const cats = await run([
      clusterCheck<Ctx>({
        ...base,
        id: "links.crd",
        category: "links",
        description: "crd",
        run: async () => fail("no CRD", "install it"),
      }),
      clusterCheck<Ctx>({
        ...base,
        id: "links.after",
        category: "links",
        description: "after",
        dependsOn: ["links.crd"],
        run: async () => ((ran = true), ok()),
      }),
      subjectCheck<Ctx, string>({
        ...base,
        id: "links.subj",
        category: "links",
        description: "s",
        dependsOn: ["links.after"],
        subjects: async () => ["x"],
        subjectName: (s) => s,
        run: async () => ok(),
      }),
    ]);
    expect(ran).toBe(false);
    const [crd, after, subj] = cats[0]!.checks;
    expect(crd).toMatchObject({ result: "error", error: "no CRD", hint: "install it" });
    expect(after).toMatchObject({ result: "skipped", error: "skipped: links.crd did not pass" });
    expect(subj).toMatchObject({ result: "skipped", error: "skipped: links.after was skipped" });
  });

  it("skips per subject: a link whose prerequisite failed is skipped, the others run", async () => {
    const seen: string[] = [];
    const cats = await run([
      subjectCheck<Ctx, string>({
        ...base,
        id: "credentials.secret",
        category: "credentials",
        description: "secret",
        subjects: async () => ["ns/a", "ns/b"],
        subjectName: (s) => s,
        run: async (_, s) => (s === "ns/a" ? fail("missing", "recreate") : ok()),
      }),
      subjectCheck<Ctx, string>({
        ...base,
        id: "credentials.dns",
        category: "credentials",
        description: "dns",
        dependsOn: ["credentials.secret"],
        subjects: async () => ["ns/a", "ns/b"],
        subjectName: (s) => s,
        run: async (_, s) => (seen.push(s), ok()),
      }),
    ]);
    expect(seen).toEqual(["ns/b"]);
    const [secret, dns] = cats[0]!.checks;
    expect(secret).toMatchObject({ result: "error", error: "ns/a: missing", hint: "recreate" });
    expect(dns).toMatchObject({ result: "ok", message: "1 ok, 1 skipped" });
    expect(dns!.details).toEqual([
      { subject: "ns/a", result: "skipped", message: "credentials.secret did not pass", hint: null },
      { subject: "ns/b", result: "ok", message: null, hint: null },
    ]);
  });

  it("takes the worst subject, with a per-subject severity override, and turns exceptions into failures", async () => {
    const cats = await run([
      subjectCheck<Ctx, string>({
        ...base,
        severity: "warning",
        id: "links.expiry",
        category: "links",
        description: "e",
        subjects: async () => ["a", "b", "c"],
        subjectName: (s) => s,
        run: async (_, s) => (s === "a" ? fail("soon") : s === "b" ? fail("expired", "renew", "error") : ok()),
      }),
      subjectCheck<Ctx, string>({
        ...base,
        id: "links.boom",
        category: "links",
        description: "b",
        subjects: async () => ["a"],
        subjectName: (s) => s,
        run: async () => {
          throw new Error("kaput");
        },
      }),
      subjectCheck<Ctx, string>({
        ...base,
        id: "links.nosubjects",
        category: "links",
        description: "n",
        subjects: async () => {
          throw new Error("cannot list");
        },
        subjectName: (s) => s,
        run: async () => ok(),
      }),
      subjectCheck<Ctx, string>({
        ...base,
        id: "links.dep",
        category: "links",
        description: "d",
        dependsOn: ["links.nosubjects"],
        subjects: async () => ["a"],
        subjectName: (s) => s,
        run: async () => ok(),
      }),
      subjectCheck<Ctx, string>({
        ...base,
        id: "links.empty",
        category: "links",
        description: "e",
        none: "no links",
        subjects: async () => [],
        subjectName: (s) => s,
        run: async () => ok(),
      }),
      clusterCheck<Ctx>({
        ...base,
        id: "links.skips",
        category: "links",
        description: "s",
        run: async () => skip("not configured"),
      }),
    ]);
    const byId = Object.fromEntries(cats[0]!.checks.map((c) => [c.id, c]));
    expect(byId["links.expiry"]).toMatchObject({ result: "error", error: "a: soon\nb: expired", hint: "renew" });
    expect(byId["links.expiry"]!.details!.map((d) => d.result)).toEqual(["warning", "error", "ok"]);
    expect(byId["links.boom"]).toMatchObject({ result: "error", error: "a: kaput" });
    expect(byId["links.nosubjects"]).toMatchObject({ result: "error", error: "cannot list" });
    expect(byId["links.dep"]).toMatchObject({ result: "skipped" });
    expect(byId["links.empty"]).toMatchObject({ result: "ok", message: "no links" });
    expect(byId["links.skips"]).toMatchObject({ result: "skipped", error: "not configured" });
  });

  it("pipelines per subject: a slow subject does not hold back the others' next checks", async () => {
    const started = performance.now();
    const at: Record<string, number> = {};
    const cats = await run([
      subjectCheck<Ctx, string>({
        ...base,
        id: "credentials.dns",
        category: "credentials",
        description: "dns",
        subjects: async () => ["slow", "fast"],
        subjectName: (s) => s,
        run: async (_, s) => (await sleep(s === "slow" ? 300 : 0), ok()),
      }),
      subjectCheck<Ctx, string>({
        ...base,
        id: "credentials.tcp",
        category: "credentials",
        description: "tcp",
        dependsOn: ["credentials.dns"],
        subjects: async () => ["slow", "fast"],
        subjectName: (s) => s,
        run: async (_, s) => ((at[s] = performance.now() - started), ok()),
      }),
    ]);
    expect(at.fast).toBeLessThan(200);
    expect(at.slow).toBeGreaterThanOrEqual(290);
    expect(cats[0]!.checks.map((c) => [c.id, c.result])).toEqual([
      ["credentials.dns", "ok"],
      ["credentials.tcp", "ok"],
    ]);
  });

  it("is successful with warnings, not with an error", () => {
    const check = (result: "ok" | "warning" | "error") => ({
      id: "x.y",
      description: "",
      severity: "error" as const,
      result,
      error: null,
      hint: null,
      message: null,
    });
    const cluster = (result: "ok" | "warning" | "error") => ({
      context: "c",
      server: null,
      categories: [{ name: "links" as const, checks: [check(result)] }],
    });
    expect(reportSuccess([cluster("ok"), cluster("warning")])).toBe(true);
    expect(reportSuccess([cluster("ok"), cluster("error")])).toBe(false);
  });

  it("limits concurrency, keeping the order of results", async () => {
    let inFlight = 0;
    let most = 0;
    const limiter = new Limiter(2);
    const out = await Promise.all(
      [5, 1, 3, 2, 4].map((n) =>
        limiter.run(async () => {
          most = Math.max(most, ++inFlight);
          await sleep(n);
          inFlight--;
          return n * 10;
        }),
      ),
    );
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(most).toBe(2);
  });
});
