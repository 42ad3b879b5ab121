/**
 * The checksum that decides whether NGINX pods must roll: it covers exactly what NGINX reads (the rendered
 * zone-sync.conf and the TLS files it references), so ConfigMap resourceVersions, key order or keys that do
 * not change the output never cause a restart.
 */
import { createHash, type Hash } from "node:crypto";

export interface TlsMaterial {
  cert: string | Uint8Array;
  key: string | Uint8Array;
  ca?: string | Uint8Array;
}

/** Bumped whenever the framing changes, so old and new checksums never compare equal by accident. */
const FORMAT = "zonesync/zone-sync-config/v1";

/**
 * sha256 hex over the rendered config (undefined: zone-sync disabled) and the TLS material. Every field is
 * framed as `name`, a presence byte, and for present fields its byte length then its bytes, so no two
 * different inputs produce the same byte stream (absent and empty differ; content cannot leak between fields).
 */
export function configChecksum(rendered: string | undefined, tls?: TlsMaterial): string {
  const hash = createHash("sha256");
  field(hash, "format", FORMAT);
  field(hash, "rendered", rendered);
  field(hash, "tls.crt", tls?.cert);
  field(hash, "tls.key", tls?.key);
  field(hash, "ca.crt", tls?.ca);
  return hash.digest("hex");
}

function field(hash: Hash, name: string, value: string | Uint8Array | undefined): void {
  hash.update(`${name}\0`);
  if (value === undefined) {
    hash.update("-");
    return;
  }
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  hash.update(`+${bytes.byteLength}:`);
  hash.update(bytes);
}
