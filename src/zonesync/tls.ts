/**
 * Where the zone-sync TLS material is mounted in the NGINX container, and which Secret keys go there.
 *
 * The controller mounts the `zone-sync-tls-secret` Secret at TLS_MOUNT_PATH with exactly the items of
 * tlsSecretItems(), so the rendered config can name fixed paths whatever the CA key is called in the Secret.
 */
import type { ZoneSyncTlsConfig } from "./config.ts";

export const TLS_MOUNT_PATH = "/etc/nginx/zone-sync-tls";
export const TLS_CERT_FILE = "tls.crt";
export const TLS_KEY_FILE = "tls.key";
export const TLS_CA_FILE = "ca.crt";

export const TLS_CERT_PATH = `${TLS_MOUNT_PATH}/${TLS_CERT_FILE}`;
export const TLS_KEY_PATH = `${TLS_MOUNT_PATH}/${TLS_KEY_FILE}`;
export const TLS_CA_PATH = `${TLS_MOUNT_PATH}/${TLS_CA_FILE}`;

/** A Secret volume item: `key` of the Secret, written to `path` under the mount. */
export interface SecretVolumeItem {
  key: string;
  path: string;
}

/** The Secret volume items for a TLS configuration: certificate, key and, when configured, the CA. */
export function tlsSecretItems(tls: Pick<ZoneSyncTlsConfig, "trustedCaKey">): SecretVolumeItem[] {
  const items: SecretVolumeItem[] = [
    { key: TLS_CERT_FILE, path: TLS_CERT_FILE },
    { key: TLS_KEY_FILE, path: TLS_KEY_FILE },
  ];
  if (tls.trustedCaKey !== undefined) items.push({ key: tls.trustedCaKey, path: TLS_CA_FILE });
  return items;
}
