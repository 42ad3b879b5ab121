import { describeError } from "../kube/errors.ts";
import {
  CATEGORIES,
  type Category,
  type CategoryResult,
  type CheckDefinition,
  type CheckInfo,
  type CheckReport,
  type CheckResult,
  type CheckStatus,
  type ClusterResult,
  type Outcome,
  type SubjectResult,
} from "./types.ts";

/**
 * Runs checks. Per cluster: categories in order, checks in their order within a category, every subject of a
 * check concurrently (bounded). A check whose prerequisite failed is skipped — for the same subject when both
 * look at subjects (a link whose Secret is missing skips that link's DNS check, not the others'), wholesale when
 * the prerequisite is cluster-wide — and reported as skipped, never as passed. Clusters run in parallel; the
 * `multicluster` category runs last, once every cluster's own checks are done, because it compares them.
 */

const SUBJECT_CONCURRENCY = 32;

interface Recorded {
  result: CheckStatus;
  subjects?: Map<string, CheckStatus>;
}

/** Runs `fn` over `items` with at most `limit` in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const RANK: Record<CheckStatus, number> = { skipped: 0, ok: 1, warning: 2, error: 3 };

function statusOf(outcome: Outcome, info: CheckInfo): CheckStatus {
  if (outcome.status === "fail") return outcome.severity ?? info.severity;
  return outcome.status;
}

async function settle(run: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await run();
  } catch (err) {
    return { status: "fail", message: describeError(err) };
  }
}

function unique(values: Array<string | null | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => Boolean(v)))];
}

/** The checks of one cluster, run one category after another. */
export class ClusterRun<C> {
  private readonly ctx: C;
  private readonly recorded = new Map<string, Recorded>();
  private readonly results = new Map<Category, CheckResult[]>();

  constructor(ctx: C) {
    this.ctx = ctx;
  }

  async runCategory(category: Category, checks: readonly CheckDefinition<C>[]): Promise<void> {
    const results: CheckResult[] = [];
    for (const def of checks.filter((c) => c.category === category)) results.push(await this.runCheck(def));
    if (results.length) this.results.set(category, results);
  }

  categories(): CategoryResult[] {
    return CATEGORIES.filter((c) => this.results.has(c)).map((name) => ({ name, checks: this.results.get(name)! }));
  }

  /** Prerequisites that failed for the whole cluster, or undefined when the check may run. */
  private blockedBy(def: CheckDefinition<C>): string | undefined {
    for (const dep of def.dependsOn ?? []) {
      const rec = this.recorded.get(dep);
      if (!rec) continue; // not part of this run (e.g. the probe subset): nothing to wait for
      // A subject check waits per subject, unless its prerequisite failed before it had any subject to judge.
      const wholesale = def.scope === "cluster" || !rec.subjects || rec.subjects.size === 0;
      if (wholesale && (rec.result === "error" || rec.result === "skipped")) return dep;
    }
    return undefined;
  }

  private subjectBlockedBy(def: CheckDefinition<C>, subject: string): string | undefined {
    for (const dep of def.dependsOn ?? []) {
      const status = this.recorded.get(dep)?.subjects?.get(subject);
      if (status === "error" || status === "skipped") return dep;
    }
    return undefined;
  }

  private async runCheck(def: CheckDefinition<C>): Promise<CheckResult> {
    const base = { id: def.id, description: def.description, severity: def.severity };
    const blocker = this.blockedBy(def);
    if (blocker) {
      this.recorded.set(def.id, { result: "skipped", subjects: def.scope === "subjects" ? new Map() : undefined });
      const how = this.recorded.get(blocker)?.result === "skipped" ? "was skipped" : "did not pass";
      return { ...base, result: "skipped", error: `skipped: ${blocker} ${how}`, hint: null, message: null };
    }
    if (def.scope === "cluster") {
      const outcome = await settle(() => def.run(this.ctx));
      const result = statusOf(outcome, def);
      this.recorded.set(def.id, { result });
      const failed = result === "error" || result === "warning";
      return {
        ...base,
        result,
        error: failed || result === "skipped" ? (outcome.message ?? null) : null,
        hint: failed ? (outcome.hint ?? null) : null,
        message: result === "ok" ? (outcome.message ?? null) : null,
      };
    }
    let subjects: readonly unknown[];
    try {
      subjects = await def.subjects(this.ctx);
    } catch (err) {
      this.recorded.set(def.id, { result: def.severity, subjects: new Map() });
      return { ...base, result: def.severity, error: describeError(err), hint: null, message: null };
    }
    const details = await mapLimit(
      subjects as never[],
      SUBJECT_CONCURRENCY,
      async (subject): Promise<SubjectResult> => {
        const name = def.subjectName(subject);
        const dep = this.subjectBlockedBy(def, name);
        const outcome = dep
          ? { status: "skipped" as const, message: `${dep} did not pass` }
          : await settle(() => def.run(this.ctx, subject));
        const result = statusOf(outcome, def);
        return {
          subject: name,
          result,
          message: outcome.message ?? null,
          hint: result === "error" || result === "warning" ? (outcome.hint ?? null) : null,
        };
      },
    );
    const result = details.length
      ? details.reduce<CheckStatus>((worst, d) => (RANK[d.result] > RANK[worst] ? d.result : worst), "skipped")
      : "ok";
    this.recorded.set(def.id, { result, subjects: new Map(details.map((d) => [d.subject, d.result])) });
    const failing = details.filter((d) => d.result === "error" || d.result === "warning");
    const skipped = details.filter((d) => d.result === "skipped");
    let message: string | null = null;
    if (result === "ok") {
      const passed = details.length - skipped.length;
      message = details.length === 0 ? (def.none ?? "nothing to check") : `${passed} ok`;
      if (skipped.length) message += `, ${skipped.length} skipped`;
      if (details.length === 1 && details[0]!.message && !skipped.length) message = details[0]!.message;
    }
    return {
      ...base,
      result,
      error:
        result === "skipped"
          ? `skipped for every subject (${unique(skipped.map((d) => d.message)).join("; ")})`
          : failing.length
            ? failing.map((d) => `${d.subject}: ${d.message ?? d.result}`).join("\n")
            : null,
      hint: failing.length ? unique(failing.map((d) => d.hint)).join("\n") || null : null,
      message,
      details,
    };
  }
}

/** A report's overall verdict: no check ended in error. */
export function reportSuccess(clusters: readonly ClusterResult[]): boolean {
  return clusters.every((c) => c.categories.every((cat) => cat.checks.every((check) => check.result !== "error")));
}

export function buildReport(clusters: ClusterResult[]): CheckReport {
  return { success: reportSuccess(clusters), clusters };
}

/** Whether a report has an error that `--wait` may see go away (a retryable check, or one skipped behind it). */
export function hasRetryableError(report: CheckReport, retryable: ReadonlySet<string>): boolean {
  return report.clusters.some((c) =>
    c.categories.some((cat) => cat.checks.some((check) => check.result === "error" && retryable.has(check.id))),
  );
}
