import { execa } from "execa";
import { stringify } from "yaml";
import type { z } from "zod";
import type { Logger } from "../log.ts";
import { classifyHelmError, HelmError, helmErrorSummary, redactSecrets, secretStrings } from "./errors.ts";
import {
  historySchema,
  listSchema,
  releaseSchema,
  valuesSchema,
  type HistoryEntry,
  type ListEntry,
  type Release,
} from "./schemas.ts";

export interface HelmOptions {
  /** The helm binary (default $HELM_BIN, else `helm` on the PATH). */
  binary?: string;
  kubeconfig?: string;
  kubeContext?: string;
  /** Default namespace of releases (per-call namespaces win). */
  namespace?: string;
  /** Extra environment for the helm process (the current environment is passed on too). */
  env?: Record<string, string | undefined>;
  /** Kill a helm process after this long (default 15 min; commands with a `timeout` get that plus one minute). */
  processTimeoutMs?: number;
  /** Literal strings to remove from error output, on top of secret-looking values. */
  redact?: readonly string[];
  logger?: Logger;
}

export interface HelmVersion {
  major: number;
  minor: number;
  patch: number;
  /** As Helm prints it, e.g. `v4.1.4`. */
  version: string;
}

/** A Go duration for Helm: a number is milliseconds; a string is passed on as is (`"5m"`, `"90s"`). */
export type Duration = number | string;

export interface UpgradeInstallOptions {
  release: string;
  /** A chart directory, packaged chart, `repo/name` or OCI reference. */
  chart: string;
  namespace?: string;
  /** The complete user values (passed on stdin as YAML, `--values -`, with `--reset-values`). */
  values?: Record<string, unknown>;
  /** Chart version constraint for repository charts. */
  version?: string;
  /** Install when the release does not exist (default true). */
  install?: boolean;
  /** Wait for the resources to be ready (Helm 4: the `watcher` strategy). */
  wait?: boolean;
  waitForJobs?: boolean;
  timeout?: Duration;
  createNamespace?: boolean;
  /** Roll back (upgrade) or uninstall (install) on failure: `--atomic` (Helm 3), `--rollback-on-failure` (Helm 4). */
  atomic?: boolean;
  /** Replace resources: `--force` (Helm 3), `--force-replace` (Helm 4). */
  force?: boolean;
  historyMax?: number;
  description?: string;
  /** Release labels (`--labels`), merged by Helm with the previous revision's. */
  labels?: Record<string, string>;
  /** Render and validate against the server without changing anything (`--dry-run=server`). */
  dryRun?: boolean;
  /**
   * Helm 4 only (Helm 3 always applies client-side): false passes `--server-side=false`. A caller with
   * name-restricted RBAC needs this: server-side apply creates objects with PATCH, which `create` does not allow.
   */
  serverSide?: boolean;
  signal?: AbortSignal;
}

export interface TemplateOptions {
  release: string;
  chart: string;
  namespace?: string;
  values?: Record<string, unknown>;
  version?: string;
  /** Capabilities.KubeVersion, e.g. "1.20.2". */
  kubeVersion?: string;
  /** Capabilities.APIVersions. */
  apiVersions?: readonly string[];
  /** Only these templates, e.g. `templates/deployment.yaml`. */
  showOnly?: readonly string[];
  includeCrds?: boolean;
}

export interface LintResult {
  ok: boolean;
  /** `[ERROR] ...`, `[WARNING] ...`, `[INFO] ...` lines. */
  messages: string[];
}

interface RunOptions {
  input?: string;
  namespace?: string | false;
  timeout?: Duration;
  secrets?: readonly string[];
  signal?: AbortSignal;
}

/** Go duration from a Duration. */
export function goDuration(duration: Duration): string {
  return typeof duration === "number" ? `${Math.max(0, Math.round(duration))}ms` : duration;
}

function durationMs(duration: Duration): number | undefined {
  if (typeof duration === "number") return duration;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const parts = duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  for (const [, value, unit] of parts) total += Number(value) * units[unit!]!;
  return total || undefined;
}

export function parseHelmVersion(text: string): HelmVersion {
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!match) throw new Error(`cannot parse a Helm version from "${text.trim()}"`);
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    version: text.trim(),
  };
}

/**
 * A typed client of the Helm CLI (Helm 3 and Helm 4): every command runs with an argument array (never a shell),
 * values go in on stdin, JSON output is parsed with zod, and failures become a `HelmError` with a `kind`. The major
 * version is detected once, and flags that Helm 4 renamed are adapted.
 */
export class Helm {
  readonly binary: string;
  private readonly options: HelmOptions;
  private detected: Promise<HelmVersion> | undefined;

  constructor(options: HelmOptions = {}) {
    this.options = options;
    this.binary = options.binary ?? process.env.HELM_BIN ?? "helm";
  }

  /** The Helm version (asked once). */
  version(): Promise<HelmVersion> {
    this.detected ??= this.exec(["version", "--template", "{{.Version}}"], { namespace: false })
      .then(parseHelmVersion)
      .catch((err: unknown) => {
        this.detected = undefined;
        throw err;
      });
    return this.detected;
  }

  /** `helm upgrade --install`: returns the new release (revision and status). */
  async upgradeInstall(options: UpgradeInstallOptions): Promise<Release> {
    const { major } = await this.version();
    const args = ["upgrade", options.release, options.chart, "--output", "json", "--reset-values", "--values", "-"];
    if (options.install ?? true) args.push("--install");
    if (options.version) args.push("--version", options.version);
    if (options.wait) args.push(major >= 4 ? "--wait=watcher" : "--wait");
    if (options.waitForJobs) args.push("--wait-for-jobs");
    if (options.timeout !== undefined) args.push("--timeout", goDuration(options.timeout));
    if (options.createNamespace) args.push("--create-namespace");
    if (options.atomic) args.push(major >= 4 ? "--rollback-on-failure" : "--atomic");
    if (options.force) args.push(major >= 4 ? "--force-replace" : "--force");
    if (options.historyMax !== undefined) args.push("--history-max", String(options.historyMax));
    if (options.description) args.push("--description", options.description);
    if (options.labels && Object.keys(options.labels).length > 0) {
      args.push(
        "--labels",
        Object.entries(options.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
      );
    }
    if (options.dryRun) args.push("--dry-run=server");
    if (options.serverSide !== undefined && major >= 4) args.push(`--server-side=${options.serverSide}`);
    const values = options.values ?? {};
    const stdout = await this.exec(args, {
      input: stringify(values),
      namespace: options.namespace,
      timeout: options.timeout,
      secrets: secretStrings(values),
      signal: options.signal,
    });
    return this.parse(releaseSchema, stdout, args);
  }

  /** The user-supplied values of a release (`{}` when it has none), or all computed values with `all`. */
  async getValues(
    release: string,
    namespace?: string,
    options: { all?: boolean; revision?: number } = {},
  ): Promise<Record<string, unknown>> {
    const args = ["get", "values", release, "--output", "json"];
    if (options.all) args.push("--all");
    if (options.revision !== undefined) args.push("--revision", String(options.revision));
    return this.parse(valuesSchema, await this.exec(args, { namespace }), args);
  }

  async status(release: string, namespace?: string, options: { revision?: number } = {}): Promise<Release> {
    const args = ["status", release, "--output", "json"];
    if (options.revision !== undefined) args.push("--revision", String(options.revision));
    return this.parse(releaseSchema, await this.exec(args, { namespace }), args);
  }

  /** Revisions, oldest first. */
  async history(release: string, namespace?: string, options: { max?: number } = {}): Promise<HistoryEntry[]> {
    const args = ["history", release, "--output", "json"];
    if (options.max !== undefined) args.push("--max", String(options.max));
    return this.parse(historySchema, await this.exec(args, { namespace }), args);
  }

  /**
   * Releases of a namespace (or of all with `allNamespaces`), in every state (Helm lists only deployed and failed
   * ones by default, and Helm 4 dropped `--all`, so the states are named).
   */
  async list(
    namespace?: string,
    options: { allNamespaces?: boolean; filter?: string; selector?: string } = {},
  ): Promise<ListEntry[]> {
    const args = ["list", "--output", "json", "--max", "0"];
    args.push("--deployed", "--failed", "--pending", "--superseded", "--uninstalling", "--uninstalled");
    if (options.allNamespaces) args.push("--all-namespaces");
    if (options.filter) args.push("--filter", options.filter);
    if (options.selector) args.push("--selector", options.selector);
    return this.parse(
      listSchema,
      await this.exec(args, { namespace: options.allNamespaces ? false : namespace }),
      args,
    );
  }

  /** Uninstalls a release; resolves false when it did not exist and `ignoreNotFound` is set. */
  async uninstall(
    release: string,
    namespace?: string,
    options: { wait?: boolean; timeout?: Duration; keepHistory?: boolean; ignoreNotFound?: boolean } = {},
  ): Promise<boolean> {
    const { major } = await this.version();
    const args = ["uninstall", release];
    if (options.wait) args.push(major >= 4 ? "--wait=watcher" : "--wait");
    if (options.timeout !== undefined) args.push("--timeout", goDuration(options.timeout));
    if (options.keepHistory) args.push("--keep-history");
    try {
      await this.exec(args, { namespace, timeout: options.timeout });
      return true;
    } catch (err) {
      if (options.ignoreNotFound && err instanceof HelmError && err.kind === "ReleaseNotFound") return false;
      throw err;
    }
  }

  /** Rolls back to `revision` (default: the previous one); also how a release stuck in pending-* is recovered. */
  async rollback(
    release: string,
    namespace?: string,
    options: { revision?: number; wait?: boolean; timeout?: Duration; signal?: AbortSignal } = {},
  ): Promise<void> {
    const { major } = await this.version();
    const args = ["rollback", release];
    if (options.revision !== undefined) args.push(String(options.revision));
    if (options.wait) args.push(major >= 4 ? "--wait=watcher" : "--wait");
    if (options.timeout !== undefined) args.push("--timeout", goDuration(options.timeout));
    await this.exec(args, { namespace, timeout: options.timeout, signal: options.signal });
  }

  /** Renders the chart locally; returns the manifest stream. */
  async template(options: TemplateOptions): Promise<string> {
    const args = ["template", options.release, options.chart, "--values", "-"];
    if (options.version) args.push("--version", options.version);
    if (options.kubeVersion) args.push("--kube-version", options.kubeVersion);
    for (const v of options.apiVersions ?? []) args.push("--api-versions", v);
    for (const s of options.showOnly ?? []) args.push("--show-only", s);
    if (options.includeCrds) args.push("--include-crds");
    const values = options.values ?? {};
    return this.exec(args, {
      input: stringify(values),
      namespace: options.namespace ?? false,
      secrets: secretStrings(values),
    });
  }

  /** `helm lint`; a chart with errors (or warnings, with `strict`) is `ok: false`, not an exception. */
  async lint(chart: string, options: { strict?: boolean; values?: Record<string, unknown> } = {}): Promise<LintResult> {
    const args = ["lint", chart, "--values", "-"];
    if (options.strict) args.push("--strict");
    const values = options.values ?? {};
    const result = await this.spawn(args, {
      input: stringify(values),
      namespace: false,
      secrets: secretStrings(values),
    });
    const messages = `${result.stdout}\n${result.stderr}`
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /^\[(ERROR|WARNING|INFO)\]/.test(l));
    const ok = result.exitCode === 0;
    return { ok: ok && !messages.some((m) => m.startsWith("[ERROR]")), messages };
  }

  private parse<S extends z.ZodType>(schema: S, stdout: string, args: readonly string[]): z.output<S> {
    let json: unknown;
    try {
      json = JSON.parse(stdout);
    } catch (err) {
      throw new HelmError(
        `helm ${args[0]}: output is not JSON`,
        { kind: "Unknown", stderr: "", args: [...args] },
        { cause: err },
      );
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      throw new HelmError(
        `helm ${args[0]}: unexpected output shape: ${result.error.message}`,
        { kind: "Unknown", stderr: "", args: [...args] },
        { cause: result.error },
      );
    }
    return result.data;
  }

  /** Runs helm; resolves with stdout, or throws a classified HelmError. */
  private async exec(command: string[], run: RunOptions = {}): Promise<string> {
    const result = await this.spawn(command, run);
    if (result.exitCode === 0) return result.stdout;
    throw new HelmError(
      `helm ${command.slice(0, 2).join(" ")}: ${helmErrorSummary(result.stderr)}`,
      { kind: classifyHelmError(result.stderr), stderr: result.stderr, exitCode: result.exitCode, args: result.args },
      { cause: new Error(`helm exited with code ${result.exitCode}`) },
    );
  }

  /**
   * Runs helm and returns its output and exit code (stderr with secrets removed); throws a HelmError only when it
   * could not run or finish (missing binary, killed after the process timeout, canceled).
   */
  private async spawn(
    command: string[],
    run: RunOptions,
  ): Promise<{ stdout: string; stderr: string; exitCode: number; args: string[] }> {
    const args = [...command];
    if (this.options.kubeconfig) args.push("--kubeconfig", this.options.kubeconfig);
    if (this.options.kubeContext) args.push("--kube-context", this.options.kubeContext);
    const namespace = run.namespace === false ? undefined : (run.namespace ?? this.options.namespace);
    if (namespace) args.push("--namespace", namespace);
    const helmTimeout = run.timeout !== undefined ? durationMs(run.timeout) : undefined;
    const processTimeout =
      helmTimeout !== undefined ? helmTimeout + 60_000 : (this.options.processTimeoutMs ?? 15 * 60_000);
    const started = performance.now();
    const result = await execa(this.binary, args, {
      input: run.input ?? "",
      reject: false,
      timeout: processTimeout,
      cancelSignal: run.signal,
      env: this.options.env,
    });
    this.options.logger?.debug("helm", {
      args: args.join(" "),
      exitCode: result.exitCode,
      ms: Math.round(performance.now() - started),
    });
    const secrets = [...(this.options.redact ?? []), ...(run.secrets ?? [])];
    const stderr = redactSecrets(String(result.stderr ?? ""), secrets);
    if (result.exitCode === undefined || result.timedOut || result.isCanceled) {
      const why = result.timedOut
        ? `killed after ${processTimeout} ms`
        : result.isCanceled
          ? "canceled"
          : `cannot run ${this.binary}: ${result.code ?? result.shortMessage ?? "unknown error"}`;
      throw new HelmError(
        `helm ${command.slice(0, 2).join(" ")}: ${why}`,
        { kind: result.timedOut ? "Timeout" : "Unknown", stderr, args },
        { cause: result.cause ?? new Error(result.shortMessage) },
      );
    }
    return { stdout: String(result.stdout ?? ""), stderr, exitCode: result.exitCode, args };
  }
}
