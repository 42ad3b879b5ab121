import { parseDuration } from "../api/duration.ts";
import { DNS1123_LABEL, LABEL_VALUE, QUALIFIED_NAME } from "../api/kube-schemas.ts";
import { UsageError } from "./errors.ts";

/**
 * Checks of command-line values: each returns the parsed value or throws a UsageError (exit 2) naming the flag and
 * what it accepts. Values that end up in object names, label selectors or durations go through here, never
 * straight into a request.
 */

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export const LOG_FORMATS = ["json", "text"] as const;

/** The longest lifetime of a target token `zonesync link` asks for. */
export const MAX_TOKEN_TTL_MS = 365 * 24 * 3600 * 1000;

export function choiceFlag<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** A Kubernetes object name that is a DNS-1123 label (link, cluster and source names). */
export function dnsLabelFlag(flag: string, value: string): string {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new UsageError(
      `${flag}: "${value}" is not a valid name (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63)`,
    );
  }
  return value;
}

/** A comma-separated list of namespace names (at least one; duplicates dropped). */
export function namespacesFlag(flag: string, value: string): string[] {
  const names = value.split(",").map((n) => n.trim());
  if (names.some((n) => n === "")) throw new UsageError(`${flag}: "${value}" has an empty namespace name`);
  return [...new Set(names.map((n) => dnsLabelFlag(flag, n)))];
}

/** A TCP port, written in decimal digits (not "1e3", not "0x50"). */
export function portFlag(flag: string, value: string): number {
  const port = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`${flag}: "${value}" is not a port (1-65535)`);
  return port;
}

/** A duration such as 90s, 5m or 720h, within bounds; returns milliseconds. */
export function durationFlag(flag: string, value: string, bounds: { minMs?: number; maxMs?: number } = {}): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`, { cause: err });
  }
  if (bounds.minMs !== undefined && ms < bounds.minMs) {
    throw new UsageError(`${flag}: "${value}" is below the minimum of ${bounds.minMs / 1000}s`);
  }
  if (bounds.maxMs !== undefined && ms > bounds.maxMs) {
    throw new UsageError(`${flag}: "${value}" is above the maximum of ${bounds.maxMs / 3_600_000}h`);
  }
  return ms;
}

/** `key=value,...` with valid label keys and values, at least one pair. */
export function labelsFlag(flag: string, value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of value.split(",").map((p) => p.trim())) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag}: "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const label = part.slice(eq + 1).trim();
    if (!QUALIFIED_NAME.test(key) || (key.split("/").pop() ?? "").length > 63) {
      throw new UsageError(`${flag}: "${key}" is not a valid label key`);
    }
    if (label.length > 63 || !LABEL_VALUE.test(label)) {
      throw new UsageError(`${flag}: "${label}" is not a valid label value`);
    }
    labels[key] = label;
  }
  return labels;
}

/** A percentage "1%" to "99%", as a fraction. */
export function percentFlag(flag: string, value: string): number {
  const match = /^([0-9]{1,2})%$/.exec(value);
  const percent = match ? Number(match[1]) : NaN;
  if (!(percent >= 1 && percent <= 99)) throw new UsageError(`${flag}: "${value}" is not a percentage from 1% to 99%`);
  return percent / 100;
}

/** A number of concurrent workers, 1 to 256. */
export function workersFlag(flag: string, value: string): number {
  const n = /^[0-9]{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 256)) throw new UsageError(`${flag}: "${value}" must be an integer from 1 to 256`);
  return n;
}
