import { LABEL_LINK, SECRET_TYPE_REMOTE_KUBECONFIG } from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";

/** What the manager keeps of a credentials Secret: never its data. */
export interface SecretView extends KubeObject {
  type?: string;
}

export function toSecretView(raw: KubeObject & { type?: string }): SecretView {
  const { name, namespace, labels, resourceVersion, uid } = raw.metadata;
  return { metadata: { name, namespace, labels, resourceVersion, uid }, type: raw.type };
}

/**
 * Why a link's spec.credentialsSecret must not be granted to its controller, or undefined when it may. The chart
 * renders a Role that lets the controller read that Secret by name, so a link could otherwise point its controller
 * at any Secret of the namespace (Helm's release Secrets, another link's credentials). Granted only to a Secret of
 * the credentials type that is labelled for this very link, as `zonesync link` writes it.
 */
export function credentialsSecretProblem(
  link: string,
  secretName: string,
  secret: SecretView | undefined,
): string | undefined {
  const how = `zonesync link writes it so; or label it ${LABEL_LINK}=${link} with type ${SECRET_TYPE_REMOTE_KUBECONFIG}`;
  if (!secret) {
    return `spec.credentialsSecret: Secret ${secretName} does not exist or is not labelled ${LABEL_LINK}=${link} (${how})`;
  }
  if (secret.metadata.labels?.[LABEL_LINK] !== link) {
    return `spec.credentialsSecret: Secret ${secretName} is labelled for another link, not ${link} (${how})`;
  }
  if (secret.type !== SECRET_TYPE_REMOTE_KUBECONFIG) {
    return `spec.credentialsSecret: Secret ${secretName} has type ${secret.type ?? "Opaque"}, not ${SECRET_TYPE_REMOTE_KUBECONFIG} (${how})`;
  }
  return undefined;
}
