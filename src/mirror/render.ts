import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  ANNOTATION_MIRROR_HASH,
  ANNOTATION_STALE,
  ENDPOINTSLICE_MANAGER,
  ANNOTATION_REMOTE_REF,
  LABEL_ENDPOINTSLICE_MANAGED_BY,
  LABEL_LINK,
  LABEL_LINK_UID,
  LABEL_MIRRORED_FROM,
  LABEL_SERVICE_NAME,
  LABEL_ZONE_SYNC_PEERS,
} from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";
import { contentHash } from "./hash.ts";
import { ZONE_LABEL, type MirrorEndpoint, type SlicePort, type TargetService, type TargetSlice } from "./model.ts";
import { mirrorServiceName, mirrorSliceName, peerSliceName, remoteRef } from "./naming.ts";
import { ANNOTATION_MCS_EXPORT, derivedServiceName, importSliceLabels, importSliceName } from "../mcs/names.ts";

/**
 * The desired local objects for what the target exports. Pure functions: the reconciler compares the hash of the
 * desired content (kept in an annotation of what it wrote) with what its local cache holds, and writes only when
 * they differ, so a steady state makes no writes at all, and fields the API server drops (e.g. v1beta1 `serving`
 * without its feature gate) cannot cause a write loop.
 */

export type SliceVersion = "v1" | "v1beta1";

export interface MirrorContext {
  link: string;
  /** The ZoneSyncLink's UID: the identity every object this link's controller writes carries. */
  linkUid: string;
  cluster: string;
  /** The EndpointSlice version the local API server offers. */
  sliceVersion: SliceVersion;
}

export interface Desired {
  namespace: string;
  name: string;
  hash: string;
  /** The server-side apply body (apiVersion and kind are added by the client). */
  body: KubeObject;
}

export function withHash(body: KubeObject): Desired {
  const hash = contentHash(body);
  body.metadata.annotations = { ...body.metadata.annotations, [ANNOTATION_MIRROR_HASH]: hash };
  return { namespace: body.metadata.namespace!, name: body.metadata.name!, hash, body };
}

function mirrorLabels(ctx: MirrorContext): Record<string, string> {
  return { [LABEL_LINK]: ctx.link, [LABEL_LINK_UID]: ctx.linkUid, [LABEL_MIRRORED_FROM]: ctx.cluster };
}

/** The selector-less local Service `<svc>-<cluster>`; headless when the target Service is. */
export function renderService(ctx: MirrorContext, svc: TargetService): Desired {
  const { namespace, name } = svc.metadata;
  const ports = svc.ports.map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    protocol: p.protocol ?? "TCP",
    port: p.port,
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
  }));
  return withHash({
    metadata: {
      name: mirrorServiceName(name, ctx.cluster),
      namespace,
      labels: mirrorLabels(ctx),
      annotations: { [ANNOTATION_REMOTE_REF]: remoteRef(ctx.cluster, namespace, name) },
    },
    spec: { type: "ClusterIP", ...(svc.headless ? { clusterIP: "None" } : {}), ports },
  });
}

/** Endpoints in the wire format of the local EndpointSlice version; stale ones marked neither ready nor serving. */
export function renderEndpoints(endpoints: MirrorEndpoint[], version: SliceVersion, stale: boolean): unknown[] {
  const sorted = [...endpoints].sort((a, b) => compare(a.addresses[0] ?? "", b.addresses[0] ?? ""));
  return sorted.map((e) => {
    const conditions: Record<string, boolean> = {};
    const ready = stale ? false : e.ready;
    const serving = stale ? false : e.serving;
    if (ready !== undefined) conditions.ready = ready;
    if (serving !== undefined) conditions.serving = serving;
    if (e.terminating !== undefined) conditions.terminating = e.terminating;
    return {
      addresses: [...e.addresses],
      conditions,
      ...(e.hostname ? { hostname: e.hostname } : {}),
      ...(e.zone ? (version === "v1" ? { zone: e.zone } : { topology: { [ZONE_LABEL]: e.zone } }) : {}),
    };
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function renderPorts(ports: SlicePort[]): unknown[] {
  return [...ports]
    .sort((a, b) =>
      compare(`${a.name ?? ""}/${a.protocol ?? ""}/${a.port}`, `${b.name ?? ""}/${b.protocol ?? ""}/${b.port}`),
    )
    .map((p) => ({ ...p }));
}

function ownerReference(service: string, uid: string | undefined): Record<string, unknown> {
  // The mirror Service owns its slices, so the garbage collector removes any a crashed controller left behind.
  return uid ? { ownerReferences: [{ apiVersion: "v1", kind: "Service", name: service, uid }] } : {};
}

/** One local EndpointSlice per target EndpointSlice of the Service, attached to its mirror Service. */
export function renderSlices(
  ctx: MirrorContext,
  svc: TargetService,
  slices: TargetSlice[],
  options: { stale: boolean; serviceUid?: string },
): Desired[] {
  const { namespace, name } = svc.metadata;
  const mirror = mirrorServiceName(name, ctx.cluster);
  const ref = remoteRef(ctx.cluster, namespace, name);
  return slices
    .filter((s) => !s.invalid)
    .map((slice) =>
      withHash({
        metadata: {
          name: mirrorSliceName(mirror, slice.metadata.name),
          namespace,
          labels: {
            ...mirrorLabels(ctx),
            [LABEL_SERVICE_NAME]: mirror,
            [LABEL_ENDPOINTSLICE_MANAGED_BY]: ENDPOINTSLICE_MANAGER,
          },
          annotations: {
            [ANNOTATION_REMOTE_REF]: ref,
            ...(options.stale ? { [ANNOTATION_STALE]: "true" } : {}),
            ...(slice.triggerTime ? { [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: slice.triggerTime } : {}),
          },
          ...ownerReference(mirror, options.serviceUid),
        },
        addressType: slice.addressType,
        endpoints: renderEndpoints(slice.endpoints, ctx.sliceVersion, options.stale),
        ports: renderPorts(slice.ports),
      }),
    );
}

export interface PeerTarget {
  /** The target's zone-sync peer Service. */
  target: { namespace: string; name: string };
  /** The local zone-sync peer Service the remote peers are added to. */
  local: { namespace: string; name: string };
  port: number;
}

/**
 * The target's NGINX zone-sync peers as extra EndpointSlices of the LOCAL peer Service, next to the slices the
 * local EndpointSlice controller keeps, so the local headless Service resolves to local and remote peers.
 */
export function renderPeerSlices(
  ctx: MirrorContext,
  peers: PeerTarget,
  slices: TargetSlice[],
  options: { stale: boolean },
): Desired[] {
  const ref = remoteRef(ctx.cluster, peers.target.namespace, peers.target.name);
  return slices
    .filter((s) => !s.invalid)
    .map((slice) =>
      withHash({
        metadata: {
          name: peerSliceName(peers.local.name, ctx.cluster, slice.metadata.name),
          namespace: peers.local.namespace,
          labels: {
            ...mirrorLabels(ctx),
            [LABEL_SERVICE_NAME]: peers.local.name,
            [LABEL_ENDPOINTSLICE_MANAGED_BY]: ENDPOINTSLICE_MANAGER,
            [LABEL_ZONE_SYNC_PEERS]: ctx.cluster,
          },
          annotations: { [ANNOTATION_REMOTE_REF]: ref, ...(options.stale ? { [ANNOTATION_STALE]: "true" } : {}) },
        },
        addressType: slice.addressType,
        endpoints: renderEndpoints(slice.endpoints, ctx.sliceVersion, options.stale),
        ports: slice.ports.length ? renderPorts(slice.ports) : [{ protocol: "TCP", port: peers.port }],
      }),
    );
}

/** Addresses in a set of slices (what `mirroredEndpoints` counts). */
export function countAddresses(slices: TargetSlice[]): number {
  let n = 0;
  for (const s of slices) for (const e of s.endpoints) n += e.addresses.length;
  return n;
}

/**
 * The target's own MCS export of one name (ADR 0005), as slices of the local derived Service: one per target slice,
 * labelled for the import and its source cluster, with the export record carried along. Only slices whose record
 * is valid are passed in.
 */
export function renderImportSlices(
  ctx: MirrorContext,
  namespace: string,
  name: string,
  slices: Array<TargetSlice & { record: string }>,
  options: { stale: boolean },
): Desired[] {
  const derived = derivedServiceName(name);
  const ref = remoteRef(ctx.cluster, namespace, name);
  return slices
    .filter((s) => !s.invalid)
    .map((slice) =>
      withHash({
        metadata: {
          name: importSliceName(derived, ctx.cluster, slice.metadata.name),
          namespace,
          labels: { ...mirrorLabels(ctx), ...importSliceLabels(name, ctx.cluster, ENDPOINTSLICE_MANAGER) },
          annotations: {
            [ANNOTATION_REMOTE_REF]: ref,
            [ANNOTATION_MCS_EXPORT]: slice.record,
            ...(options.stale ? { [ANNOTATION_STALE]: "true" } : {}),
          },
        },
        addressType: slice.addressType,
        endpoints: renderEndpoints(slice.endpoints, ctx.sliceVersion, options.stale),
        ports: renderPorts(slice.ports),
      }),
    );
}
