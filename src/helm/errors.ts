/** What went wrong in a Helm command, as far as its error output tells. */
export type HelmErrorKind =
  "ReleaseNotFound" | "PendingOperation" | "Timeout" | "SchemaRejected" | "ChartInvalid" | "Unreachable" | "Unknown";

/** A failed Helm command. `stderr` has secrets removed; `args` is the command line without values. */
export class HelmError extends Error {
  override readonly name = "HelmError";
  readonly kind: HelmErrorKind;
  readonly stderr: string;
  readonly exitCode: number | undefined;
  readonly args: readonly string[];

  constructor(
    message: string,
    details: { kind: HelmErrorKind; stderr: string; exitCode?: number; args: readonly string[] },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = details.kind;
    this.stderr = details.stderr;
    this.exitCode = details.exitCode;
    this.args = details.args;
  }
}

export const isHelmError = (err: unknown, kind?: HelmErrorKind): err is HelmError =>
  err instanceof HelmError && (kind === undefined || err.kind === kind);

/**
 * Ordered: the first match wins. The patterns cover the wording of Helm 3.17 and Helm 4.1 (which lower-cases
 * "kubernetes cluster unreachable" and words schema violations differently, but keeps the headline sentences).
 */
const PATTERNS: Array<[HelmErrorKind, RegExp]> = [
  ["PendingOperation", /another operation \(install\/upgrade\/rollback\) is in progress/i],
  ["SchemaRejected", /values don't meet the specifications of the schema/i],
  ["ReleaseNotFound", /release: not found|release not loaded|has no deployed releases/i],
  [
    "Unreachable",
    /kubernetes cluster unreachable|connect: connection refused|no such host|tls handshake timeout|network is unreachable|unable to connect to the server/i,
  ],
  ["Timeout", /context deadline exceeded|timed out waiting for the condition|timeout waiting for/i],
  [
    "ChartInvalid",
    /path "[^"]*" not found|chart\.yaml file is missing|validation: chart|chart metadata|parse error|yaml parse error|error converting yaml|unable to build kubernetes objects|execution error at|no template "[^"]*" associated|chart requires kubeversion|failed to load chart|not a valid chart|apiversion is required|unable to decode/i,
  ],
];

/** The kind of failure Helm's error output describes. */
export function classifyHelmError(stderr: string): HelmErrorKind {
  for (const [kind, pattern] of PATTERNS) if (pattern.test(stderr)) return kind;
  return "Unknown";
}

/** The lines Helm prints after "Error:" (its own log lines, e.g. Helm 4's `level=WARN ...`, are left out). */
export function helmErrorSummary(stderr: string): string {
  const start = stderr.search(/^Error: /m);
  const text = (start >= 0 ? stderr.slice(start + "Error: ".length) : stderr).trim();
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const summary = lines.slice(0, 6).join("; ");
  return summary.length > 600 ? `${summary.slice(0, 597)}...` : summary || "no error output";
}

const SECRET_KEY = /token|password|passwd|secret|credential|kubeconfig|private|apikey|api-key|cert|key$/i;

/** String values in `values` whose keys look secret, so that they can be removed from error output. */
export function secretStrings(values: unknown, out: string[] = [], secretParent = false): string[] {
  if (typeof values === "string") {
    if (secretParent && values.length >= 4) out.push(values);
  } else if (Array.isArray(values)) {
    for (const item of values) secretStrings(item, out, secretParent);
  } else if (values && typeof values === "object") {
    for (const [key, value] of Object.entries(values)) secretStrings(value, out, secretParent || SECRET_KEY.test(key));
  }
  return out;
}

const GENERIC_SECRETS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g, "[redacted PEM]"],
  [/\b(bearer)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, "[redacted JWT]"],
  [
    /\b(token|password|secret|client-key-data|client-certificate-data)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
    "$1$2[redacted]",
  ],
];

/** Removes bearer tokens, JWTs, PEM blocks, `password: x` pairs and the given literal secrets from text. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret) out = out.split(secret).join("[redacted]");
  }
  for (const [pattern, replacement] of GENERIC_SECRETS) out = out.replace(pattern, replacement);
  return out;
}
