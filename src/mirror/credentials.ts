import { z } from "zod";
import { ANNOTATION_TARGET_SERVICE_ACCOUNT, SECRET_KEY_KUBECONFIG } from "../api/names.ts";
import { DNS1123_LABEL, DNS1123_SUBDOMAIN } from "../api/kube-schemas.ts";
import { parseRemoteKubeconfig, RemoteKubeconfigError, type RemoteCredentials } from "../api/remote-kubeconfig.ts";
import { describeError, isForbidden, isKubeError, isUnauthorized } from "../kube/errors.ts";

/**
 * The target cluster's credentials: a kubeconfig in the link's Secret (key `kubeconfig`). Never logged, never put
 * in an error message: errors name the Secret and what is wrong with it, not its content.
 */

export class CredentialsError extends Error {
  override readonly name = "CredentialsError";
  /** The condition reason: SecretMissing, InvalidKubeconfig, Unauthorized, Forbidden. */
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

const SecretSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
    annotations: z.record(z.string(), z.string()).nullish(),
  }),
  data: z.record(z.string(), z.string()).nullish(),
});

/** `namespace/name` of a ServiceAccount: a DNS label, then a DNS subdomain. */
function isServiceAccountRef(ref: string): boolean {
  const [namespace, name, extra] = ref.split("/");
  return extra === undefined && DNS1123_LABEL.test(namespace ?? "") && DNS1123_SUBDOMAIN.test(name ?? "");
}

/** Only the fields the controller needs: the Secret's other keys never reach memory past the informer. */
export interface CredentialsSecret {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  /** The base64 kubeconfig, or undefined when the key is missing. */
  kubeconfig?: string;
  /** The target ServiceAccount the token is of (`namespace/name`, validated), when the Secret names it. */
  targetServiceAccount?: string;
  [key: string]: unknown;
}

export function compactSecret(raw: unknown): CredentialsSecret {
  const parsed = SecretSchema.safeParse(raw);
  if (!parsed.success) {
    const meta = (raw as { metadata?: { name?: string } })?.metadata;
    return { metadata: { name: meta?.name ?? "" } };
  }
  const { annotations, ...metadata } = parsed.data.metadata;
  const serviceAccount = annotations?.[ANNOTATION_TARGET_SERVICE_ACCOUNT];
  return {
    metadata,
    kubeconfig: parsed.data.data?.[SECRET_KEY_KUBECONFIG],
    ...(serviceAccount && isServiceAccountRef(serviceAccount) ? { targetServiceAccount: serviceAccount } : {}),
  };
}

/** The Secret's kubeconfig under the credentials policy; a CredentialsError names what is wrong. */
export function credentialsFromSecret(
  secret: CredentialsSecret | undefined,
  where: string,
  options: { apiServerAddress?: string; allowInsecure?: boolean } = {},
): RemoteCredentials {
  if (!secret) throw new CredentialsError("SecretMissing", `the credentials Secret ${where} does not exist`);
  if (!secret.kubeconfig) {
    throw new CredentialsError(
      "InvalidKubeconfig",
      `the credentials Secret ${where} has no "${SECRET_KEY_KUBECONFIG}" key`,
    );
  }
  try {
    return parseRemoteKubeconfig(Buffer.from(secret.kubeconfig, "base64").toString("utf8"), {
      allowInsecure: options.allowInsecure,
      serverOverride: options.apiServerAddress,
    });
  } catch (err) {
    const reason = err instanceof RemoteKubeconfigError ? err.message : "the kubeconfig cannot be read";
    throw new CredentialsError("InvalidKubeconfig", `the kubeconfig in Secret ${where}: ${reason}`, { cause: err });
  }
}

export type TargetErrorKind = "credentials" | "unreachable" | "other";

/** 401 and 403 are the credentials' fault; transport errors, timeouts and 5xx mean the target is unreachable. */
export function classifyTargetError(err: unknown): TargetErrorKind {
  if (err instanceof CredentialsError) return "credentials";
  if (isUnauthorized(err) || isForbidden(err)) return "credentials";
  if (!isKubeError(err)) return "unreachable";
  if (err.status === 0 || err.status >= 500 || err.status === 429) return "unreachable";
  return "other";
}

/** The condition reason for a target error. */
export function targetErrorReason(err: unknown): string {
  if (err instanceof CredentialsError) return err.reason;
  if (isUnauthorized(err)) return "Unauthorized";
  if (isForbidden(err)) return "Forbidden";
  if (isKubeError(err) && err.status === 0) return "Unreachable";
  if (isKubeError(err)) return err.reason && /^[A-Za-z]+$/.test(err.reason) ? err.reason : `HTTP${err.status}`;
  return "Error";
}

/** A one-line description of a target error for conditions and Events (no credentials in it), with its root cause. */
export function describeTargetError(err: unknown): string {
  let root: unknown = err;
  for (let depth = 0; depth < 5 && root instanceof Error && root.cause !== undefined; depth++) root = root.cause;
  const base = describeError(err);
  const rootText = root !== err && root instanceof Error ? root.message : "";
  const text = rootText && !base.includes(rootText) ? `${base} (${rootText})` : base;
  return text.replace(/\s+/g, " ").slice(0, 400);
}
