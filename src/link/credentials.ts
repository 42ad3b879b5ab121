import { stringify } from "yaml";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import {
  ANNOTATION_TARGET_SERVICE_ACCOUNT,
  ANNOTATION_TOKEN_EXPIRES,
  credentialsSecretName,
  LABEL_LINK,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  SECRET_KEY_KUBECONFIG,
  SECRET_TYPE_REMOTE_KUBECONFIG,
} from "../api/names.ts";

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

/** Asks the target for a bounded-lifetime token of a ServiceAccount (TokenRequest API). */
export async function requestToken(
  target: KubeClient,
  namespace: string,
  serviceAccount: string,
  ttlSeconds: number,
): Promise<IssuedToken> {
  const response = await target.request<{ status: { token: string; expirationTimestamp: string } }>(
    "POST",
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`,
    { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: ttlSeconds } } },
  );
  return { token: response.status.token, expiresAt: response.status.expirationTimestamp };
}

/** The CA bundle (PEM) the client trusts for its current cluster, if any. */
export function clusterCaPem(client: KubeClient): string | undefined {
  return client.endpoint.caPem;
}

export interface RemoteKubeconfig {
  clusterName: string;
  server: string;
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
  token: string;
}

/** A self-contained kubeconfig (CA and token inline) with one context named after the target cluster. */
export function remoteKubeconfig(config: RemoteKubeconfig): string {
  const cluster: Record<string, unknown> = { server: config.server };
  if (config.caPem) cluster["certificate-authority-data"] = Buffer.from(config.caPem).toString("base64");
  if (config.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: config.clusterName, cluster }],
    users: [{ name: `zonesync-${config.clusterName}`, user: { token: config.token } }],
    contexts: [
      { name: config.clusterName, context: { cluster: config.clusterName, user: `zonesync-${config.clusterName}` } },
    ],
    "current-context": config.clusterName,
  });
}

export function credentialsSecret(options: {
  clusterName: string;
  namespace: string;
  kubeconfig: string;
  expiresAt?: string;
  targetServiceAccount?: string;
}): KubeObject {
  const annotations: Record<string, string> = {};
  if (options.expiresAt) annotations[ANNOTATION_TOKEN_EXPIRES] = options.expiresAt;
  if (options.targetServiceAccount) annotations[ANNOTATION_TARGET_SERVICE_ACCOUNT] = options.targetServiceAccount;
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: SECRET_TYPE_REMOTE_KUBECONFIG,
    metadata: {
      name: credentialsSecretName(options.clusterName),
      namespace: options.namespace,
      labels: { [LABEL_LINK]: options.clusterName, [LABEL_PART_OF]: "zonesync", [LABEL_MANAGED_BY]: "zonesync" },
      annotations,
    },
    data: { [SECRET_KEY_KUBECONFIG]: Buffer.from(options.kubeconfig).toString("base64") },
  };
}

/** Reads the kubeconfig out of a credentials Secret. */
export async function readCredentials(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<string | undefined> {
  const secret = await client.getOptional<KubeObject & { data?: Record<string, string> }>(
    Resources.secrets,
    namespace,
    name,
  );
  const encoded = secret?.data?.[SECRET_KEY_KUBECONFIG];
  return encoded ? Buffer.from(encoded, "base64").toString("utf8") : undefined;
}
