/**
 * The zone-sync ConfigMap keys and their defaults. The first five are the NGINX Ingress Controller's keys, with
 * its names and defaults; the rest are zonesync's own additions (cluster domain, timing, TLS).
 */

export const KEY_ZONE_SYNC = "zone-sync";
export const KEY_PORT = "zone-sync-port";
export const KEY_RESOLVER_ADDRESSES = "zone-sync-resolver-addresses";
export const KEY_RESOLVER_VALID = "zone-sync-resolver-valid";
export const KEY_RESOLVER_IPV6 = "zone-sync-resolver-ipv6";
export const KEY_CLUSTER_DOMAIN = "zone-sync-cluster-domain";
export const KEY_INTERVAL = "zone-sync-interval";
export const KEY_TIMEOUT = "zone-sync-timeout";
export const KEY_CONNECT_TIMEOUT = "zone-sync-connect-timeout";
export const KEY_TLS = "zone-sync-tls";
export const KEY_TLS_SECRET = "zone-sync-tls-secret";
export const KEY_TLS_TRUSTED_CA = "zone-sync-tls-trusted-ca";
export const KEY_TLS_VERIFY = "zone-sync-tls-verify";
export const KEY_TLS_VERIFY_DEPTH = "zone-sync-tls-verify-depth";
export const KEY_TLS_SERVER_NAME = "zone-sync-tls-server-name";

/** Every key zonesync understands, in the order they are checked and documented. */
export const ZONE_SYNC_KEYS: readonly string[] = [
  KEY_ZONE_SYNC,
  KEY_PORT,
  KEY_RESOLVER_ADDRESSES,
  KEY_RESOLVER_VALID,
  KEY_RESOLVER_IPV6,
  KEY_CLUSTER_DOMAIN,
  KEY_INTERVAL,
  KEY_TIMEOUT,
  KEY_CONNECT_TIMEOUT,
  KEY_TLS,
  KEY_TLS_SECRET,
  KEY_TLS_TRUSTED_CA,
  KEY_TLS_VERIFY,
  KEY_TLS_VERIFY_DEPTH,
  KEY_TLS_SERVER_NAME,
];

export const DEFAULT_PORT = 12345;
export const DEFAULT_RESOLVER_ADDRESS = "kube-dns.kube-system.svc.cluster.local";
export const DEFAULT_RESOLVER_VALID = "5s";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

/**
 * Whether a ConfigMap key belongs to zone-sync: it starts with `zone-sync`, ignoring case and writing `_` for
 * `-`, so that `Zone-Sync-Port` and `zone_sync_port` are reported as likely typos instead of silently ignored.
 */
export function isZoneSyncKey(key: string): boolean {
  return normalizeKey(key).startsWith(KEY_ZONE_SYNC);
}

export function normalizeKey(key: string): string {
  return key.toLowerCase().replaceAll("_", "-");
}
