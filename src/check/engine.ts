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
 * Runs checks. Per cluster, categories in order; within a category every check starts at once and waits only for
 * its prerequisites. A check whose prerequisite failed is skipped — for the same subject when both look at
 * subjects (a link whose Secret is missing skips that link's DNS check, not the others'), wholesale when the
 * prerequisite is cluster-wide — and reported as skipped, never as passed. Clusters run in parallel (run.ts); the
 * `multicluster` category runs last, once every cluster's own checks are done, because it compares them.
 */

const SUBJECT_CONCURRENCY = 32;

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

/** At most `limit` functions running at once; the others wait in order. */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** A check under way: its verdict, and (for subject checks) each subject's, as soon as they are known. */
interface Started {
  scope: "cluster" | "subjects";
  /** The per-subject verdicts; undefined when the check has no subjects (cluster scope, or it could not list them). */
  subjects: Promise<Map<string, Promise<CheckStatus>> | undefined>;
  done: Promise<CheckStatus>;
}

const failed = (status: CheckStatus) => status === "error" || status === "skipped";

/**
 * The checks of one cluster. Categories run one after another; within a category every check starts at once and
 * waits only for its own prerequisites, per subject: a link moves on to its TCP check as soon as its own DNS check
 * passed, so one slow or unreachable target does not hold the other links back. Reported in declaration order.
 */
export class ClusterRun<C> {
  private readonly ctx: C;
  private readonly started = new Map<string, Started>();
  private readonly results = new Map<Category, CheckResult[]>();
  private readonly limiter = new Limiter(SUBJECT_CONCURRENCY);

  constructor(ctx: C) {
    this.ctx = ctx;
  }

  async runCategory(category: Category, checks: readonly CheckDefinition<C>[]): Promise<void> {
    const results = await Promise.all(checks.filter((c) => c.category === category).map((def) => this.start(def)));
    if (results.length) this.results.set(category, results);
  }

  categories(): CategoryResult[] {
    return CATEGORIES.filter((c) => this.results.has(c)).map((name) => ({ name, checks: this.results.get(name)! }));
  }

  private start(def: CheckDefinition<C>): Promise<CheckResult> {
    let publish!: (subjects: Map<string, Promise<CheckStatus>> | undefined) => void;
    const subjects = new Promise<Map<string, Promise<CheckStatus>> | undefined>((resolve) => (publish = resolve));
    const result = this.execute(def, publish).then((r) => {
      publish(undefined); // no-op when the subjects were published
      return r;
    });
    this.started.set(def.id, { scope: def.scope, subjects, done: result.then((r) => r.result) });
    return result;
  }

  private async execute(
    def: CheckDefinition<C>,
    publish: (subjects: Map<string, Promise<CheckStatus>> | undefined) => void,
  ): Promise<CheckResult> {
    const base = { id: def.id, description: def.description, severity: def.severity };
    // Prerequisites judged as a whole: cluster checks, and subject checks that never got to their subjects.
    const perSubject: Array<[string, Map<string, Promise<CheckStatus>>]> = [];
    for (const dep of def.dependsOn ?? []) {
      const started = this.started.get(dep);
      if (!started) continue; // not part of this run (e.g. the probe subset): nothing to wait for
      const map = def.scope === "subjects" && started.scope === "subjects" ? await started.subjects : undefined;
      if (map) {
        perSubject.push([dep, map]);
        continue;
      }
      const status = await started.done;
      if (failed(status)) {
        const how = status === "skipped" ? "was skipped" : "did not pass";
        return { ...base, result: "skipped", error: `skipped: ${dep} ${how}`, hint: null, message: null };
      }
    }
    if (def.scope === "cluster") {
      const outcome = await this.limiter.run(() => settle(() => def.run(this.ctx)));
      const result = statusOf(outcome, def);
      const bad = result === "error" || result === "warning";
      return {
        ...base,
        result,
        error: bad || result === "skipped" ? (outcome.message ?? null) : null,
        hint: bad ? (outcome.hint ?? null) : null,
        message: result === "ok" ? (outcome.message ?? null) : null,
      };
    }
    let subjects: readonly unknown[];
    try {
      subjects = await def.subjects(this.ctx);
    } catch (err) {
      return { ...base, result: def.severity, error: describeError(err), hint: null, message: null };
    }
    const pending = subjects.map((subject) => {
      const name = def.subjectName(subject as never);
      return { name, result: this.runSubject(def, subject, name, perSubject) };
    });
    const verdicts = new Map<string, Promise<CheckStatus>>();
    for (const p of pending)
      if (!verdicts.has(p.name))
        verdicts.set(
          p.name,
          p.result.then((d) => d.result),
        );
    publish(verdicts);
    return summarize(base, def, await Promise.all(pending.map((p) => p.result)));
  }

  private async runSubject(
    def: CheckDefinition<C>,
    subject: unknown,
    name: string,
    prerequisites: Array<[string, Map<string, Promise<CheckStatus>>]>,
  ): Promise<SubjectResult> {
    for (const [dep, map] of prerequisites) {
      const status = await map.get(name);
      if (status && failed(status)) {
        const how = status === "skipped" ? "was skipped" : "did not pass";
        return { subject: name, result: "skipped", message: `${dep} ${how}`, hint: null };
      }
    }
    const outcome = await this.limiter.run(() =>
      settle(() => (def as SubjectCheckOf<C>).run(this.ctx, subject as never)),
    );
    const result = statusOf(outcome, def);
    return {
      subject: name,
      result,
      message: outcome.message ?? null,
      hint: result === "error" || result === "warning" ? (outcome.hint ?? null) : null,
    };
  }
}

type SubjectCheckOf<C> = Extract<CheckDefinition<C>, { scope: "subjects" }>;

/** A subject check's line: the worst subject's result, failures listed, a count when all is well. */
function summarize(
  base: Pick<CheckResult, "id" | "description" | "severity">,
  def: CheckDefinition<unknown>,
  details: SubjectResult[],
): CheckResult {
  const result = details.length
    ? details.reduce<CheckStatus>((worst, d) => (RANK[d.result] > RANK[worst] ? d.result : worst), "skipped")
    : "ok";
  const failing = details.filter((d) => d.result === "error" || d.result === "warning");
  const skipped = details.filter((d) => d.result === "skipped");
  let message: string | null = null;
  if (result === "ok") {
    const passed = details.length - skipped.length;
    message = details.length === 0 ? ((def as { none?: string }).none ?? "nothing to check") : `${passed} ok`;
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
