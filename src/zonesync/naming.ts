/** Names and selectors of the objects local zone-sync creates for one NGINX workload. */
import { createHash } from "node:crypto";

/** Service names are DNS-1035 labels: at most 63 characters. */
const MAX_SERVICE_NAME = 63;
/** ConfigMap names are DNS-1123 subdomains: at most 253 characters. */
const MAX_CONFIGMAP_NAME = 253;
const HASH_LENGTH = 8;

/** The label the Deployment controller adds to ReplicaSets and pods; never part of a workload's identity. */
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";
/**
 * A pod-template-hash suffix. Kubernetes writes the 32-bit hash in decimal and maps each digit through
 * rand.SafeEncodeString, so only 4-9, b, c, d and f occur, one per digit (at most 10). Hashes below 100000
 * (6 digits) are so rare that requiring 6 keeps names like `web-bff` from losing a word.
 */
const POD_TEMPLATE_HASH_SUFFIX = /-[4-9bcdf]{6,10}$/;

/**
 * The headless peer Service of a workload, `<owner>-<kind>-hl`, as the NGINX Ingress Controller names it.
 *
 * `kind` is lowercased. For a ReplicaSet (what a Deployment's pods are owned by) the pod-template-hash suffix
 * is stripped, so the name stays the same across rollouts: `nginx-7d9c5b8f4`, ReplicaSet → `nginx-replicaset-hl`.
 * Characters a Service name cannot hold become `-` (dots, upper case is lowercased), a name that does not start
 * with a letter gets a `zs-` prefix, and a name longer than 63 characters is shortened deterministically: the
 * owner part is cut and followed by 8 hex characters of the SHA-256 of the full name.
 */
export function peerServiceName(ownerName: string, kind: string): string {
  if (ownerName === "" || kind === "") throw new RangeError("peerServiceName needs an owner name and a kind");
  const lowerKind = kind.toLowerCase();
  const owner = lowerKind === "replicaset" ? ownerName.replace(POD_TEMPLATE_HASH_SUFFIX, "") : ownerName;
  let base = sanitize(owner);
  if (!/^[a-z]/.test(base)) base = `zs-${base}`;
  return fitName(base, `-${sanitize(lowerKind)}-hl`, MAX_SERVICE_NAME);
}

/** The peer Service's selector: the workload's matchLabels without pod-template-hash, keys sorted. */
export function peerSelector(matchLabels: Readonly<Record<string, string>>): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const key of Object.keys(matchLabels).sort()) {
    const value = matchLabels[key];
    if (key !== POD_TEMPLATE_HASH_LABEL && value !== undefined) selector[key] = value;
  }
  if (Object.keys(selector).length === 0) {
    throw new RangeError(
      `the workload's matchLabels ${JSON.stringify(matchLabels)} leave no label besides ${POD_TEMPLATE_HASH_LABEL} to select zone-sync peers by`,
    );
  }
  return selector;
}

/** The ConfigMap that carries a workload's rendered zone-sync.conf: `<workload>-zone-sync`. */
export function streamConfigMapName(workloadName: string): string {
  return fitName(workloadName, "-zone-sync", MAX_CONFIGMAP_NAME);
}

function sanitize(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** `${base}${suffix}`, or when longer than max, the cut base, a short hash of the full name, and the suffix. */
function fitName(base: string, suffix: string, max: number): string {
  const full = `${base}${suffix}`;
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, HASH_LENGTH);
  const room = Math.max(0, max - suffix.length - HASH_LENGTH - 1);
  const cut = base.slice(0, room).replace(/-+$/, "");
  return `${cut}-${hash}${suffix}`;
}
