/**
 * The objects local zone-sync owns, as server-side apply intents, and the checks that say whether the live object
 * already matches (so unchanged objects are never written):
 * - the headless peer Service `<workload>-<kind>-hl`, which NGINX resolves to find its peers, and to which the
 *   link controller attaches remote peers as extra EndpointSlices;
 * - the ConfigMap `<workload>-zone-sync` carrying the rendered zone-sync.conf.
 *
 * Both carry an ownerReference to the NGINX ConfigMap when it lives in the same namespace (Kubernetes forbids
 * owners in other namespaces), so deleting the ConfigMap garbage-collects them; otherwise the controller deletes
 * them itself, and the labels below find them (`kubectl get svc,cm -l app.kubernetes.io/component=zone-sync`).
 */
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_ZONE_SYNC_PEERS } from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";
import type { ConfigMapRef, WorkloadRef } from "./refs.ts";
import { formatConfigMapRef, formatWorkloadRef } from "./refs.ts";
import { ZONE_SYNC_CONF_FILE } from "./render.ts";

/** The server-side apply field manager of everything local zone-sync writes. */
export const FIELD_MANAGER = "zonesync-zone-sync";
export const COMPONENT = "zone-sync";
export const PORT_NAME = "zone-sync";
/** Where an object came from, for people and for cleanup: `ConfigMap <ns>/<name>` and `<Kind>/<ns>/<name>`. */
export const ANNOTATION_SOURCE_CONFIGMAP = "zonesync.io/zone-sync-configmap";
export const ANNOTATION_WORKLOAD = "zonesync.io/zone-sync-workload";

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface ServiceObject extends KubeObject {
  spec?: {
    clusterIP?: string;
    selector?: Record<string, string>;
    ports?: Array<{ name?: string; port?: number; targetPort?: number | string; protocol?: string }>;
    publishNotReadyAddresses?: boolean;
  };
}

export interface ConfigMapObject extends KubeObject {
  data?: Record<string, string>;
}

export interface OwnedObjectContext {
  configMap: ConfigMapRef;
  workload: WorkloadRef;
  /** The NGINX ConfigMap's uid when it exists; an ownerReference is set only in the same namespace. */
  configMapUid: string | undefined;
}

export function ownedLabels(peers: boolean): Record<string, string> {
  return {
    [LABEL_PART_OF]: "zonesync",
    [LABEL_MANAGED_BY]: "zonesync",
    [LABEL_COMPONENT]: COMPONENT,
    ...(peers ? { [LABEL_ZONE_SYNC_PEERS]: "local" } : {}),
  };
}

function ownedAnnotations(ctx: OwnedObjectContext): Record<string, string> {
  return {
    [ANNOTATION_SOURCE_CONFIGMAP]: formatConfigMapRef(ctx.configMap),
    [ANNOTATION_WORKLOAD]: formatWorkloadRef(ctx.workload),
  };
}

/**
 * zonesync's identity on what local zone-sync created: its labels and the workload the object serves. An object of
 * the same name without it belongs to someone else: never applied to, relabelled or deleted.
 */
export function ownedByZoneSync(live: KubeObject, workload: WorkloadRef): boolean {
  const { labels = {}, annotations = {} } = live.metadata;
  return (
    labels[LABEL_MANAGED_BY] === "zonesync" &&
    labels[LABEL_COMPONENT] === COMPONENT &&
    annotations[ANNOTATION_WORKLOAD] === formatWorkloadRef(workload)
  );
}

/** The ownerReference to the NGINX ConfigMap, or none when it is in another namespace (or does not exist). */
export function ownerReferences(ctx: OwnedObjectContext): OwnerReference[] {
  if (ctx.configMapUid === undefined || ctx.configMap.namespace !== ctx.workload.namespace) return [];
  return [{ apiVersion: "v1", kind: "ConfigMap", name: ctx.configMap.name, uid: ctx.configMapUid }];
}

export interface PeerServiceSpec {
  name: string;
  selector: Record<string, string>;
  port: number;
  publishNotReadyAddresses: boolean;
}

/** The apply intent of the headless peer Service. */
export function desiredPeerService(ctx: OwnedObjectContext, spec: PeerServiceSpec): ServiceObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: spec.name,
      namespace: ctx.workload.namespace,
      labels: ownedLabels(true),
      annotations: ownedAnnotations(ctx),
      ownerReferences: ownerReferences(ctx),
    },
    spec: {
      clusterIP: "None",
      selector: { ...spec.selector },
      ports: [{ name: PORT_NAME, port: spec.port, targetPort: spec.port, protocol: "TCP" }],
      publishNotReadyAddresses: spec.publishNotReadyAddresses,
    },
  };
}

/** The apply intent of the ConfigMap that carries zone-sync.conf. */
export function desiredStreamConfigMap(ctx: OwnedObjectContext, name: string, rendered: string): ConfigMapObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace: ctx.workload.namespace,
      labels: ownedLabels(false),
      annotations: ownedAnnotations(ctx),
      ownerReferences: ownerReferences(ctx),
    },
    data: { [ZONE_SYNC_CONF_FILE]: rendered },
  };
}

const sameRecord = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
};

const containsRecord = (actual: Readonly<Record<string, string>> | undefined, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([k, v]) => actual?.[k] === v);

/** Labels, annotations and ownerReferences of `desired` are all present on `live` (others may be there too). */
function metadataMatches(live: KubeObject, desired: KubeObject): boolean {
  const { labels = {}, annotations = {}, ownerReferences: wantedOwners = [] } = desired.metadata;
  if (!containsRecord(live.metadata.labels, labels) || !containsRecord(live.metadata.annotations, annotations)) {
    return false;
  }
  const liveOwners = live.metadata.ownerReferences ?? [];
  return wantedOwners.every((want) =>
    liveOwners.some((o) => o.uid === want.uid && o.kind === want.kind && o.name === want.name),
  );
}

/** What differs between the live peer Service and the intent; empty when nothing needs writing. */
export function peerServiceDrift(live: ServiceObject, desired: ServiceObject): string[] {
  const drift: string[] = [];
  const want = desired.spec ?? {};
  const have = live.spec ?? {};
  if (!metadataMatches(live, desired)) drift.push("metadata");
  if (!sameRecord(have.selector ?? {}, want.selector ?? {})) drift.push("selector");
  const [port] = want.ports ?? [];
  const ports = have.ports ?? [];
  const portMatches =
    ports.length === 1 &&
    ports[0]?.name === port?.name &&
    ports[0]?.port === port?.port &&
    ports[0]?.targetPort === port?.targetPort &&
    (ports[0]?.protocol ?? "TCP") === port?.protocol;
  if (!portMatches) drift.push("ports");
  if ((have.publishNotReadyAddresses ?? false) !== want.publishNotReadyAddresses) {
    drift.push("publishNotReadyAddresses");
  }
  return drift;
}

/** A live Service that is not headless cannot be made headless (clusterIP is immutable): it must be recreated. */
export function isHeadless(live: ServiceObject): boolean {
  return live.spec?.clusterIP === "None";
}

/** Whether the live stream ConfigMap already carries the intent. */
export function streamConfigMapMatches(live: ConfigMapObject, desired: ConfigMapObject): boolean {
  return metadataMatches(live, desired) && live.data?.[ZONE_SYNC_CONF_FILE] === desired.data?.[ZONE_SYNC_CONF_FILE];
}
