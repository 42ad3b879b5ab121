/**
 * The check engine's vocabulary. Kept free of runtime imports: `zonesync check --probe` loads this module on its
 * cold-start path, and the manager's `/readyz` imports it in-process.
 */

export const CATEGORIES = [
  "links",
  "controllers",
  "credentials",
  "mirrors",
  "zone-sync",
  "multicluster",
  "mcs",
] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_TITLES: Record<Category, string> = {
  links: "links",
  controllers: "controllers and modes",
  credentials: "credentials",
  mirrors: "mirrors",
  "zone-sync": "zone-sync",
  multicluster: "across clusters",
  mcs: "multi-cluster services",
};

export type Severity = "error" | "warning";
/** What a check (or one subject of it) came to. `warning` is a failed check of severity warning. */
export type CheckStatus = "ok" | "warning" | "error" | "skipped";

/** The outcome of a check for one subject (a link, a mirror Service…) or for the whole cluster. */
export interface Outcome {
  /** `fail` becomes `error` or `warning` according to the check's severity (or `severity` when given). */
  status: "ok" | "fail" | "skipped";
  /** For failures: what is wrong. For ok or skipped: an optional note (e.g. "server v1.20.2"). */
  message?: string;
  /** For failures: the exact command or edit that fixes it. */
  hint?: string;
  /** Overrides the check's severity for this subject (e.g. token expiry: warning soon, error when expired). */
  severity?: Severity;
}

export const ok = (message?: string): Outcome => ({ status: "ok", message });
export const fail = (message: string, hint?: string, severity?: Severity): Outcome => ({
  status: "fail",
  message,
  hint,
  severity,
});
export const skip = (message: string): Outcome => ({ status: "skipped", message });

/** The result of one subject in a check's report. */
export interface SubjectResult {
  subject: string;
  result: CheckStatus;
  message: string | null;
  hint: string | null;
}

/** One check's line in the report (the JSON shape: see schema.ts and docs/check-output.schema.json). */
export interface CheckResult {
  id: string;
  description: string;
  severity: Severity;
  result: CheckStatus;
  /** Why the check did not pass (for warnings and errors), or why it was skipped; null when ok. */
  error: string | null;
  /** The command or edit that fixes it; null when ok. */
  hint: string | null;
  /** A short note on a passing check (e.g. "3 links", "server v1.20.2"); null when there is none. */
  message: string | null;
  /** Per subject (link, mirror, …) results of a check that looks at several; omitted for cluster-wide checks. */
  details?: SubjectResult[];
}

export interface CategoryResult {
  name: Category;
  checks: CheckResult[];
}

export interface ClusterResult {
  context: string;
  server: string | null;
  categories: CategoryResult[];
}

export interface CheckReport {
  /** true when no check ended in error (warnings allowed). */
  success: boolean;
  clusters: ClusterResult[];
}

/** Every check the engine knows about, described once. */
export interface CheckInfo {
  /** Stable id, `<category>.<name>`. Scripts and alerting may match on it. */
  id: string;
  category: Category;
  description: string;
  severity: Severity;
  /** Worth retrying under `--wait` (the state converges by itself: availability, reachability, leases). */
  retryable: boolean;
  /** Checks whose failure (for the same subject, or cluster-wide) makes this one meaningless: it is skipped. */
  dependsOn?: readonly string[];
  /** Part of the fast local subset run by `--probe` and by the manager's /readyz. */
  probe?: boolean;
  /** Calls a target cluster (only run in probe mode with `--probe-remote`). */
  remote?: boolean;
}

/** A check over the whole cluster: one outcome. */
export interface ClusterCheck<C> extends CheckInfo {
  scope: "cluster";
  run(ctx: C): Promise<Outcome>;
}

/**
 * A check over several subjects (every link, every mirror, …): one outcome each, run concurrently. Subjects named
 * like a link (`<namespace>/<name>`) are matched with the same subject of the checks this one depends on.
 */
export interface SubjectCheck<C, S> extends CheckInfo {
  scope: "subjects";
  subjects(ctx: C): Promise<readonly S[]>;
  subjectName(subject: S): string;
  run(ctx: C, subject: S): Promise<Outcome>;
  /** The message when there are no subjects (default "nothing to check"). */
  none?: string;
}

export type CheckDefinition<C> = ClusterCheck<C> | SubjectCheck<C, never>;

/** A subject check with its subject type erased, so definitions of different subject types fit in one list. */
export function subjectCheck<C, S>(def: Omit<SubjectCheck<C, S>, "scope">): CheckDefinition<C> {
  return { ...def, scope: "subjects" } as unknown as CheckDefinition<C>;
}

export function clusterCheck<C>(def: Omit<ClusterCheck<C>, "scope">): CheckDefinition<C> {
  return { ...def, scope: "cluster" };
}
