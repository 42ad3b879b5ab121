import { createHash } from "node:crypto";
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, LABEL_VALUE, QUALIFIED_NAME } from "../api/kube-schemas.ts";

/**
 * The Kubernetes name rules a target's strings are held to before they become (part of) a local object. Every check
 * bounds the length first, so a megabyte-long string costs no regular-expression time.
 */

/** DNS-1035 label: a Service name (starts with a letter, at most 63 characters). */
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const isDns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
export const isDns1035Label = (s: string): boolean => s.length <= 63 && DNS1035_LABEL.test(s);
export const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
export const isLabelValue = (s: string): boolean => s.length <= 63 && LABEL_VALUE.test(s);

/** A qualified name (an `appProtocol`): an optional DNS subdomain prefix and `/`, then at most 63 characters. */
export function isQualifiedName(s: string): boolean {
  if (s.length > 253 + 1 + 63 || !QUALIFIED_NAME.test(s)) return false;
  const slash = s.indexOf("/");
  return slash < 0 ? s.length <= 63 : slash <= 253 && s.length - slash - 1 <= 63;
}

/**
 * A fully qualified DNS name as Kubernetes accepts it in an FQDN EndpointSlice (RFC 1123): at most 253 characters,
 * lower-case labels of at most 63 characters, at least two of them; one trailing dot is allowed.
 */
export function isFqdn(s: string): boolean {
  const name = s.endsWith(".") ? s.slice(0, -1) : s;
  if (!isDns1123Subdomain(name)) return false;
  const labels = name.split(".");
  return labels.length >= 2 && labels.every((l) => l.length <= 63);
}

/**
 * A target string made safe to quote in a message, a log line or a condition: at most `max` characters (longer ones
 * end in `…` and a hash of the whole, so two long names stay apart), JSON-quoted so control characters show escaped.
 */
export function quoteUntrusted(s: string, max = 80): string {
  if (s.length <= max) return JSON.stringify(s);
  const hash = createHash("sha256").update(s).digest("hex").slice(0, 8);
  return JSON.stringify(`${s.slice(0, max)}…${hash}`);
}

/**
 * A target name kept for bookkeeping (store keys, messages) even when it is not valid: at most 253 characters; a
 * longer one is cut and ends in `…` and a hash of the whole, so it stays distinct and can never equal a valid name.
 */
export function boundName(s: string, max = 253): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max - 9)}…${createHash("sha256").update(s).digest("hex").slice(0, 8)}`;
}
