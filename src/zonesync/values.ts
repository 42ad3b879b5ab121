/**
 * Value parsers for the zone-sync ConfigMap keys, as zod schemas from the raw string to a typed value.
 *
 * Every schema reports a problem as one issue whose message completes the sentence `<key>: "<value>" …`,
 * for example `is not a port`; config.ts adds the key, the value and what is allowed.
 */
import { z } from "zod";

/** A schema that turns a ConfigMap value into a T, or fails with issues phrased as "is not …". */
export type ValueSchema<T> = z.ZodType<T, string>;

/** Exactly the spellings Go's strconv.ParseBool accepts, which is what the NGINX Ingress Controller uses. */
const TRUE_SPELLINGS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_SPELLINGS = new Set(["0", "f", "F", "FALSE", "false", "False"]);
export const BOOL_ALLOWED = "true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False)";

export const boolValue: ValueSchema<boolean> = z.string().transform((value, ctx) => {
  if (TRUE_SPELLINGS.has(value)) return true;
  if (FALSE_SPELLINGS.has(value)) return false;
  ctx.addIssue({ code: "custom", message: "is not a boolean" });
  return z.NEVER;
});

/** A decimal integer in [min, max]: digits only, no sign, no exponent. */
export function intValue(min: number, max: number, what: string): ValueSchema<number> {
  return z.string().transform((value, ctx) => {
    const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    ctx.addIssue({ code: "custom", message: `is not ${what}` });
    return z.NEVER;
  });
}

export const portValue = intValue(1, 65535, "a port");
export const PORT_ALLOWED = "an integer from 1 to 65535";

/** nginx time units, longest first, in the only order nginx accepts them (ngx_parse_time). */
const TIME_UNITS: ReadonlyArray<readonly [unit: string, ms: number]> = [
  ["y", 365 * 24 * 3600 * 1000],
  ["M", 30 * 24 * 3600 * 1000],
  ["w", 7 * 24 * 3600 * 1000],
  ["d", 24 * 3600 * 1000],
  ["h", 3600 * 1000],
  ["m", 60 * 1000],
  ["s", 1000],
  ["ms", 1],
];
/** Keeps every value inside a signed 32-bit millisecond count (about 24.8 days). */
const MAX_TIME_MS = 2 ** 31 - 1;

/**
 * Parses an nginx time such as `5s`, `1m30s`, `500ms`, `1h` or a bare number of seconds into milliseconds.
 * Units must appear at most once and from the largest to the smallest, as nginx requires. Spaces are not
 * accepted, so the value stays a single token in the rendered directive. Returns undefined when invalid.
 */
export function parseNginxTime(value: string, options: { allowMilliseconds: boolean }): number | undefined {
  if (/^[0-9]{1,10}$/.test(value)) return checkTime(Number(value) * 1000);
  const parts = [...value.matchAll(/([0-9]{1,10})(ms|[yMwdhms])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value) return undefined;
  let total = 0;
  let lastRank = -1;
  for (const [, digits, unit] of parts) {
    const rank = TIME_UNITS.findIndex(([u]) => u === unit);
    const entry = TIME_UNITS[rank];
    if (entry === undefined || rank <= lastRank) return undefined;
    if (unit === "ms" && !options.allowMilliseconds) return undefined;
    lastRank = rank;
    total += Number(digits) * entry[1];
  }
  return checkTime(total);
}

function checkTime(ms: number): number | undefined {
  return ms > 0 && ms <= MAX_TIME_MS ? ms : undefined;
}

/** An nginx time, kept as written (it is rendered verbatim once valid). */
export function timeValue(options: { allowMilliseconds: boolean }): ValueSchema<string> {
  return z.string().refine((value) => parseNginxTime(value, options) !== undefined, { error: "is not an nginx time" });
}

export const TIME_ALLOWED =
  "an nginx time greater than zero and below 24 days, such as 500ms, 5s, 1m30s or 1h (units y M w d h m s ms, largest first, no spaces)";
export const SECONDS_TIME_ALLOWED =
  "an nginx time in whole seconds greater than zero and below 24 days, such as 5s, 1m30s or 1h (units y M w d h m s, largest first, no spaces)";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** RFC 1123 label as Kubernetes uses it for namespaces: lowercase, at most 63 characters. */
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value);
}

/** RFC 1123 subdomain as Kubernetes uses it for object names and cluster domains: lowercase, at most 253. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split(".").every(isDnsLabel);
}

export const clusterDomainValue: ValueSchema<string> = z
  .string()
  .refine(isDnsSubdomain, { error: "is not a DNS domain name" });
export const CLUSTER_DOMAIN_ALLOWED =
  "a lowercase DNS name such as cluster.local (labels of a-z, 0-9 and '-', separated by dots, no trailing dot)";

/** A reference to a Secret: `name`, or `namespace/name`. Without a namespace, the ConfigMap's own is meant. */
export interface SecretRef {
  namespace?: string;
  name: string;
}

export const secretRefValue: ValueSchema<SecretRef> = z.string().transform((value, ctx) => {
  const parts = value.split("/");
  const [first, second] = parts;
  if (parts.length === 1 && first !== undefined && isDnsSubdomain(first)) return { name: first };
  if (parts.length === 2 && first !== undefined && second !== undefined && isDnsLabel(first) && isDnsSubdomain(second))
    return { namespace: first, name: second };
  ctx.addIssue({ code: "custom", message: "is not a Secret name" });
  return z.NEVER;
});
export const SECRET_REF_ALLOWED =
  "the name of a kubernetes.io/tls Secret, as name or namespace/name (lowercase DNS names; the namespace defaults to the ConfigMap's)";

/** The key in the TLS Secret that holds the peers' CA certificate when zone-sync-tls-trusted-ca is "true". */
export const DEFAULT_CA_KEY = "ca.crt";
const SECRET_DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * zone-sync-tls-trusted-ca: a boolean (true means the Secret's `ca.crt`, false means no CA), or the name of
 * another key of the same Secret. Boolean spellings win, so a data key literally named "true" cannot be used.
 * The result is the Secret key to read, or undefined for none.
 */
export const trustedCaValue: ValueSchema<string | undefined> = z.string().transform((value, ctx) => {
  const asBool = boolValue.safeParse(value);
  if (asBool.success) return asBool.data ? DEFAULT_CA_KEY : undefined;
  if (SECRET_DATA_KEY.test(value) && value !== "." && value !== "..") return value;
  ctx.addIssue({ code: "custom", message: "is neither a boolean nor a Secret key name" });
  return z.NEVER;
});
export const TRUSTED_CA_ALLOWED = `true (use the Secret's ${DEFAULT_CA_KEY}), false (no CA), or the name of another key of the TLS Secret (letters, digits, '-', '_', '.')`;
