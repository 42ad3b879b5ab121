import { createHash } from "node:crypto";

/**
 * Names of the objects the link controller writes. Everything here is deterministic: the same remote object always
 * maps to the same local name, so a restarted (or killed) controller finds and converges what an earlier run wrote,
 * and never writes a duplicate.
 */

/** Kubernetes object names that are DNS-1123 labels (Services) are limited to 63 characters. */
export const MAX_LABEL_NAME = 63;
/** DNS-1123 subdomain names (EndpointSlices) are limited to 253 characters. */
export const MAX_SUBDOMAIN_NAME = 253;
const HASH_LENGTH = 8;

/** The first `length` hex characters of the SHA-256 of `text`. */
export function shortHash(text: string, length = HASH_LENGTH): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * `name` when it fits in `max` characters; otherwise a prefix of it, a dash and a hash of the whole name, `max`
 * characters at most. Dashes at the cut are trimmed, so the result stays a valid DNS-1123 label.
 */
export function shortenName(name: string, max = MAX_LABEL_NAME): string {
  if (name.length <= max) return name;
  const prefix = name.slice(0, max - HASH_LENGTH - 1).replace(/[-.]+$/, "");
  return `${prefix}-${shortHash(name)}`;
}

/** The local mirror Service of a target Service: `<svc>-<cluster>`, shortened to 63 characters. */
export function mirrorServiceName(service: string, cluster: string): string {
  return shortenName(`${service}-${cluster}`);
}

/**
 * The local EndpointSlice mirroring one target EndpointSlice: the mirror Service's name and a hash of the target
 * slice's name (target slice names are generated, so they say nothing a person needs; the hash keeps names short).
 */
export function mirrorSliceName(mirrorService: string, targetSlice: string): string {
  return `${mirrorService}-${shortHash(targetSlice, 10)}`;
}

/** A zone-sync peer EndpointSlice on the local peer Service, for one target peer slice. */
export function peerSliceName(localPeerService: string, cluster: string, targetSlice: string): string {
  return `${shortenName(`${localPeerService}-${cluster}`, MAX_SUBDOMAIN_NAME - 12)}-${shortHash(`${cluster}/${targetSlice}`, 10)}`;
}

/** `<cluster>/<namespace>/<service>`: the annotation value naming a mirror's source. */
export function remoteRef(cluster: string, namespace: string, service: string): string {
  return `${cluster}/${namespace}/${service}`;
}

export function parseRemoteRef(ref: string): { cluster: string; namespace: string; name: string } | undefined {
  const parts = ref.split("/");
  if (parts.length !== 3 || parts.some((p) => !p)) return undefined;
  return { cluster: parts[0]!, namespace: parts[1]!, name: parts[2]! };
}

/** The server-side apply field manager of one link's controller. */
export function fieldManager(link: string): string {
  return `zonesync-link-${link}`;
}
