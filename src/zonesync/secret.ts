/**
 * The TLS material of zone-sync: the Secret named by `zone-sync-tls-secret`, read for the config checksum only
 * (NGINX reads the files from its own mount, see tls.ts). Nothing here ever logs or reports the Secret's content:
 * problems name the Secret and the keys, never values.
 */
import { z } from "zod";
import type { KubeObject } from "../kube/client.ts";
import type { TlsMaterial } from "./checksum.ts";
import type { ZoneSyncTlsConfig } from "./config.ts";
import { configChecksum } from "./checksum.ts";
import { TLS_CERT_FILE, TLS_KEY_FILE } from "./tls.ts";

export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface ResolvedSecretRef {
  namespace: string;
  name: string;
}

/** The Secret of a TLS configuration; without a namespace it is the NGINX ConfigMap's (see SECRET_REF_ALLOWED). */
export function resolveSecretRef(
  tls: Pick<ZoneSyncTlsConfig, "secret">,
  configMapNamespace: string,
): ResolvedSecretRef {
  return { namespace: tls.secret.namespace ?? configMapNamespace, name: tls.secret.name };
}

export const formatSecretRef = (ref: ResolvedSecretRef): string => `${ref.namespace}/${ref.name}`;

const secretData = z.record(z.string(), z.string()).nullish();
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type TlsMaterialResult = { ok: true; material: TlsMaterial } | { ok: false; problem: string };

/**
 * The certificate, key and (when configured) CA of `secret`, decoded, or the problem that makes them unusable:
 * the Secret is missing, or a key is missing, empty or not base64.
 */
export function readTlsMaterial(
  secret: SecretObject | undefined,
  tls: Pick<ZoneSyncTlsConfig, "trustedCaKey">,
  ref: ResolvedSecretRef,
): TlsMaterialResult {
  const where = `Secret ${formatSecretRef(ref)}`;
  if (secret === undefined) return { ok: false, problem: `${where} does not exist` };
  const parsed = secretData.safeParse(secret.data);
  if (!parsed.success) return { ok: false, problem: `${where} has data that is not a map of strings` };
  const data = parsed.data ?? {};
  const wanted = [TLS_CERT_FILE, TLS_KEY_FILE, ...(tls.trustedCaKey === undefined ? [] : [tls.trustedCaKey])];
  const missing = wanted.filter((key) => !data[key]);
  if (missing.length > 0) {
    return {
      ok: false,
      problem: `${where} has no ${missing.join(", ")} (or ${missing.length === 1 ? "it is" : "they are"} empty)`,
    };
  }
  const invalid = wanted.filter((key) => !BASE64.test(data[key]!));
  if (invalid.length > 0) return { ok: false, problem: `${where} has keys that are not base64: ${invalid.join(", ")}` };
  const decode = (key: string): Buffer => Buffer.from(data[key]!, "base64");
  return {
    ok: true,
    material: {
      cert: decode(TLS_CERT_FILE),
      key: decode(TLS_KEY_FILE),
      ...(tls.trustedCaKey === undefined ? {} : { ca: decode(tls.trustedCaKey) }),
    },
  };
}

/** A checksum of the TLS material alone (to tell a TLS rotation from a config change in the Rollout Event). */
export function tlsChecksum(material: TlsMaterial | undefined): string | undefined {
  return material === undefined ? undefined : configChecksum(undefined, material);
}
