/** Names, labels and annotations shared by every zonesync component. One place, so they never drift apart. */

export const GROUP = "zonesync.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const LINK_KIND = "ZoneSyncLink";
export const LINK_PLURAL = "zonesynclinks";
export const CRD_NAME = `${LINK_PLURAL}.${GROUP}`;

export const DEFAULT_NAMESPACE = "zonesync-system";
export const DEFAULT_RELEASE = "zonesync";
export const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/zonesync/zonesync";

export const LABEL_LINK = "zonesync.io/link";
/**
 * The creating ZoneSyncLink's UID, on every object a link controller creates: its identity. Lists, resyncs and
 * cleanups select by it, so two links of one name (two installs) never touch each other's objects, and an object
 * without it is never adopted, changed or deleted.
 */
export const LABEL_LINK_UID = "zonesync.io/link-uid";
export const LABEL_CONTROLLER_MODE = "zonesync.io/controller-mode";
export const LABEL_MIRRORED_FROM = "zonesync.io/mirrored-from";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_PART_OF = "app.kubernetes.io/part-of";
export const LABEL_ZONE_SYNC_PEERS = "zonesync.io/zone-sync-peers";
export const LABEL_SERVICE_NAME = "kubernetes.io/service-name";
export const LABEL_ENDPOINTSLICE_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
/** A label value (no "/" allowed), in the style of Kubernetes' own "endpointslice-controller.k8s.io". */
export const ENDPOINTSLICE_MANAGER = "link-controller.zonesync.io";

export const ANNOTATION_REMOTE_REF = "zonesync.io/remote-ref";
export const ANNOTATION_CONFIG_CHECKSUM = "zonesync.io/config-checksum";
export const ANNOTATION_VALUES_CHECKSUM = "zonesync.io/values-checksum";
/** The content hash of a mirror as the link controller wrote it: steady state makes no writes. */
export const ANNOTATION_MIRROR_HASH = "zonesync.io/mirror-hash";
/** Set on mirrored EndpointSlices whose endpoints were marked not ready because the target went stale. */
export const ANNOTATION_STALE = "zonesync.io/stale";
/**
 * When the change an EndpointSlice reflects happened (the EndpointSlice controller sets it from the pod or Service
 * that triggered it; kube-proxy measures its programming latency from it). Mirrors carry the target's value.
 */
export const ANNOTATION_LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";

export const FINALIZER_MIRRORS = "zonesync.io/mirrors";
export const SECRET_TYPE_REMOTE_KUBECONFIG = "zonesync.io/remote-kubeconfig";
export const SECRET_KEY_KUBECONFIG = "kubeconfig";
/** `zonesync link` notes the target ServiceAccount the token is of (`namespace/name`): what renews it. */
export const ANNOTATION_TARGET_SERVICE_ACCOUNT = "zonesync.io/target-service-account";
/** When the token expires (RFC 3339), for `check` and people. */
export const ANNOTATION_TOKEN_EXPIRES = "zonesync.io/token-expires-at";

export type ControllerMode = "chart" | "standalone";

/** Deployment, ServiceAccount and Lease of the chart's link controller for one link (the Lease is shared). */
export const controllerName = (link: string): string => `zonesync-link-${link}`;
/**
 * The standalone controller's own names, so that old-style manifests applied next to a chart-managed link never
 * touch the chart's objects: namespaced objects, and cluster-scoped ones (which also carry the namespace).
 * Standalone installs of earlier versions used controllerName; `unlink` and `migrate` know both.
 */
export const standaloneControllerName = (link: string): string => `zonesync-standalone-${link}`;
export const standaloneClusterName = (namespace: string, link: string): string =>
  `zonesync-standalone-${namespace}-${link}`;
export const leaseName = (link: string): string => `zonesync-link-${link}`;
export const credentialsSecretName = (cluster: string): string => `cluster-credentials-${cluster}`;
/** The ServiceAccount on the target cluster that a source cluster's link controller acts as. */
export const targetServiceAccountName = (source: string): string => `zonesync-remote-${source}`;
