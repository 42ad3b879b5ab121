import { createHash } from "node:crypto";
import { canonicalJson } from "../api/render.ts";

/** A short, stable content hash (16 base64url characters of SHA-256 of the canonical JSON). */
export function contentHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("base64url").slice(0, 16);
}
