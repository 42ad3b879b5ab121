import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  ANNOTATION_MIRROR_HASH,
  ANNOTATION_STALE,
  LABEL_LINK_UID,
  LABEL_MANAGED_BY,
} from "../api/names.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { isAlreadyExists, isConflict, isInvalid, isNotFound } from "../kube/errors.ts";
import { createOnly } from "../kube/ownership.ts";
import { ownedLabels } from "../zonesync/objects.ts";
import { endpointSliceType, Resources, type ResourceType } from "../kube/resources.ts";
import type { LocalMirror, LocalMirrors } from "./local.ts";
import {
  countAddresses,
  renderImportSlices,
  renderPeerSlices,
  renderService,
  renderSlices,
  type Desired,
  type MirrorContext,
  type PeerTarget,
} from "./render.ts";
import type { TargetWatch } from "./target.ts";
import { decodeRecord } from "../mcs/record.ts";
import { OwnWrites } from "../kube/own-writes.ts";

export type SkipReason =
  | "NamespaceMissing"
  | "NamespaceTerminating"
  | "NamespaceExcluded"
  | "Unsupported"
  | "NameConflict"
  | "Invalid"
  | "InvalidSpec"
  | "PeerServiceMissing"
  | "OverCap";

/** A Service that local zone-sync created as a headless peer Service (the only kind that gets peer slices). */
function isZoneSyncPeerService(svc: KubeObject): boolean {
  const labels = svc.metadata.labels ?? {};
  return Object.entries(ownedLabels(true)).every(([k, v]) => labels[k] === v);
}

const formatLabels = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

export interface Outcome {
  /** Objects created, updated or deleted. */
  writes: number;
  /** The source is mirrored (its Service exists locally as desired). */
  mirrored: boolean;
  /** Addresses in its mirrored slices. */
  endpoints: number;
  skipped?: { reason: SkipReason; message: string; /** The foreign object of a NameConflict. */ object?: string };
}

export interface WriteObserver {
  write(verb: "apply" | "delete" | "create", resource: "service" | "endpointslice" | "namespace"): void;
  /** A mirrored EndpointSlice now shows a target change that happened at `triggerTime` (RFC 3339). */
  changeMirrored?(triggerTime: string): void;
}

export interface ReconcilerOptions {
  client: KubeClient;
  ctx: MirrorContext;
  fieldManager: string;
  local: LocalMirrors;
  observer?: WriteObserver;
  /**
   * Asked before every write: false once this controller lost its Lease (or stopped), so a reconcile in flight
   * writes nothing more; another leader may already be writing.
   */
  mayWrite?: () => boolean;
}

/** A write refused because this controller no longer leads: the reconcile ends there, without a retry storm. */
export class NotLeadingError extends Error {
  override readonly name = "NotLeadingError";
  constructor(what: string) {
    super(`not writing ${what}: this controller no longer holds the link's Lease`);
  }
}

const NONE: Outcome = { writes: 0, mirrored: false, endpoints: 0 };

/** A local object of a mirror's name that this link did not create: never applied to, relabelled or deleted. */
export class NameConflictError extends Error {
  /** `<Kind> <namespace>/<name>` of the foreign object. */
  readonly object: string;

  constructor(kind: string, namespace: string, name: string) {
    super(`${kind} ${namespace}/${name} exists and was not created by this link; it is left alone`);
    this.name = "NameConflictError";
    this.object = `${kind} ${namespace}/${name}`;
  }
}

/** The local API server refused a mirror as invalid (422): reported on the link, retried with a long backoff. */
export class MirrorRejectedError extends Error {
  constructor(object: string, cause: unknown) {
    super(`the local API server rejected ${object}`, { cause });
    this.name = "MirrorRejectedError";
  }
}

/**
 * Converges the local mirrors of one source (an exported target Service, or the zone-sync peers) to what the target
 * holds. Reads only caches; writes only what differs (content hash), with server-side apply under the link's field
 * manager.
 *
 * Ownership is the link's UID label, never server-side apply's field ownership: the caches hold only objects that
 * carry it, and a name that is not in them is written create-only (see `apply`). An object of that name without the
 * label is a NameConflictError: reported, and never applied to, relabelled or deleted.
 */
export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly sliceType: ResourceType;
  /** The hash each object was last written with, to tell our own writes' echoes from changes by others. */
  private readonly written = new OwnWrites<string>();

  constructor(options: ReconcilerOptions) {
    this.options = options;
    this.sliceType = endpointSliceType(options.ctx.sliceVersion);
  }

  /** True when a local change is the echo of this controller's own last write of the object. */
  isOwnWrite(mirror: LocalMirror): boolean {
    return this.written.isEcho(`${mirror.metadata.namespace}/${mirror.metadata.name}`, mirror.hash);
  }

  async reconcileService(
    target: TargetWatch,
    key: string,
    namespace: string,
    name: string,
    options: { stale: boolean; createNamespaces: boolean },
  ): Promise<Outcome> {
    const { local } = this.options;
    const svc = target.service(namespace, name);
    if (!svc) return this.deleteSource(key);
    if (svc.invalid) return { ...(await this.deleteSource(key)), skipped: { reason: "Invalid", message: svc.invalid } };
    if (!target.withinCap(namespace, name)) {
      return {
        ...(await this.deleteSource(key)),
        skipped: {
          reason: "OverCap",
          message: `over spec.maxServices (${target.currentPolicy.maxServices}): the first ones by namespace/name are mirrored`,
        },
      };
    }
    if (svc.serviceType === "ExternalName") {
      const out = await this.deleteSource(key);
      return {
        ...out,
        skipped: { reason: "Unsupported", message: "ExternalName Services have no endpoints to mirror" },
      };
    }
    let writes = 0;
    if (!local.namespaceExists(namespace)) {
      if (!options.createNamespaces) {
        return {
          ...NONE,
          skipped: { reason: "NamespaceMissing", message: `namespace ${namespace} does not exist here` },
        };
      }
      writes += await this.createNamespace(namespace);
    } else if (!local.namespaceUsable(namespace)) {
      return {
        ...NONE,
        skipped: { reason: "NamespaceTerminating", message: `namespace ${namespace} is being deleted` },
      };
    }

    const desired = renderService(this.options.ctx, svc);
    const existing = local.service(desired.namespace, desired.name);
    for (const other of local.servicesOf(key)) {
      if (other.metadata.name !== desired.name || other.metadata.namespace !== desired.namespace) {
        writes += await this.delete(Resources.services, other);
      }
    }
    let uid = existing?.metadata.uid;
    if (existing && existing.headless !== svc.headless) {
      // clusterIP is immutable: a Service that turned headless (or back) is replaced.
      writes += await this.delete(Resources.services, existing);
      uid = undefined;
    }
    if (!uid || existing?.hash !== desired.hash || existing.headless !== svc.headless) {
      try {
        uid = await this.apply(Resources.services, desired, existing !== undefined && uid !== undefined);
      } catch (err) {
        if (!(err instanceof NameConflictError)) throw err;
        // The foreign Service keeps its name; this source's slices (ours, by label) must not point at it.
        writes += await this.deleteSlicesOf(key);
        return { ...NONE, writes, skipped: { reason: "NameConflict", message: err.message, object: err.object } };
      }
      writes++;
    }

    const slices = target.slicesOf(namespace, name);
    try {
      writes += await this.convergeSlices(
        key,
        renderSlices(this.options.ctx, svc, slices, { stale: options.stale, serviceUid: uid }),
      );
    } catch (err) {
      if (!(err instanceof NameConflictError)) throw err;
      return { ...NONE, writes, skipped: { reason: "NameConflict", message: err.message, object: err.object } };
    }
    return { writes, mirrored: true, endpoints: countAddresses(slices.filter((s) => !s.invalid)) };
  }

  /** The zone-sync peers: the target's peer slices as slices of the local peer Service (none when unset). */
  async reconcilePeers(
    target: TargetWatch | undefined,
    key: string,
    peers: PeerTarget | undefined,
    stale: boolean,
  ): Promise<Outcome> {
    if (!peers || !target) return this.deleteSource(key);
    if (!this.options.local.namespaceUsable(peers.local.namespace)) {
      return {
        ...(await this.deleteSource(key)),
        skipped: {
          reason: "NamespaceMissing",
          message: `namespace ${peers.local.namespace} of the local peer Service does not exist`,
        },
      };
    }
    const { namespace, name } = peers.local;
    const peerService = await this.options.client.getOptional<KubeObject>(Resources.services, namespace, name);
    if (!peerService) {
      return {
        ...(await this.deleteSource(key)),
        skipped: {
          reason: "PeerServiceMissing",
          message: `the local peer Service ${namespace}/${name} does not exist`,
        },
      };
    }
    if (!isZoneSyncPeerService(peerService)) {
      return {
        ...(await this.deleteSource(key)),
        skipped: {
          reason: "InvalidSpec",
          message:
            `spec.zoneSync.localPeerService ${namespace}/${name} is not a zone-sync peer Service that zonesync created ` +
            `(labels ${formatLabels(ownedLabels(true))}); peer EndpointSlices go only onto such a Service, so none are written`,
        },
      };
    }
    const slices = target.peerSlices();
    try {
      const writes = await this.convergeSlices(key, renderPeerSlices(this.options.ctx, peers, slices, { stale }));
      return { writes, mirrored: true, endpoints: countAddresses(slices) };
    } catch (err) {
      if (!(err instanceof NameConflictError)) throw err;
      return { ...NONE, skipped: { reason: "NameConflict", message: err.message, object: err.object } };
    }
  }

  /**
   * The target's own MCS export of one name: its slices, with their export records, as slices of the local derived
   * Service (ADR 0005). Only into namespaces that exist here (MCS namespace sameness); a slice with an invalid
   * record is left out and reported.
   */
  async reconcileImport(
    target: TargetWatch | undefined,
    key: string,
    namespace: string,
    name: string,
    stale: boolean,
  ): Promise<Outcome> {
    if (!target) return NONE;
    // Namespace sameness: a name exported from a namespace this cluster does not have is not imported here. That is
    // how the MCS API works, not a problem of the link, so it is not reported as a missing namespace.
    if (!this.options.local.namespaceUsable(namespace)) return this.deleteSource(key);
    const carried: Array<ReturnType<TargetWatch["importSlicesOf"]>[number] & { record: string }> = [];
    const problems: string[] = [];
    for (const slice of target.importSlicesOf(namespace, name)) {
      const decoded = decodeRecord(slice.record);
      if ("problem" in decoded) problems.push(`EndpointSlice ${namespace}/${slice.metadata.name}: ${decoded.problem}`);
      else carried.push({ ...slice, record: slice.record! });
    }
    try {
      const writes = await this.convergeSlices(
        key,
        renderImportSlices(this.options.ctx, namespace, name, carried, { stale }),
      );
      const outcome: Outcome = { writes, mirrored: false, endpoints: 0 };
      return problems.length
        ? { ...outcome, skipped: { reason: "Invalid", message: problems.slice(0, 3).join("; ") } }
        : outcome;
    } catch (err) {
      if (!(err instanceof NameConflictError)) throw err;
      return { ...NONE, skipped: { reason: "NameConflict", message: err.message, object: err.object } };
    }
  }

  /** Deletes every mirror of a source whose target object is gone (or no longer exported). */
  async deleteSource(key: string): Promise<Outcome> {
    let writes = await this.deleteSlicesOf(key);
    for (const svc of this.options.local.servicesOf(key)) writes += await this.delete(Resources.services, svc);
    return { ...NONE, writes };
  }

  private async deleteSlicesOf(key: string): Promise<number> {
    let writes = 0;
    for (const slice of this.options.local.slicesOf(key)) writes += await this.delete(this.sliceType, slice);
    return writes;
  }

  /**
   * Deletes every mirror of the link, listing from the API server (not the cache) so nothing is left behind, and
   * repeating until a list comes back empty. Resolves with the number of objects deleted.
   */
  async deleteAll(labelSelector: string, concurrency = 16): Promise<number> {
    const { client } = this.options;
    let deleted = 0;
    for (let round = 0; round < 5; round++) {
      const [slices, services] = await Promise.all([
        client.listAll(this.sliceType, undefined, { labelSelector }),
        client.listAll(Resources.services, undefined, { labelSelector }),
      ]);
      const work: Array<[ResourceType, KubeObject]> = [
        ...slices.items.map((s): [ResourceType, KubeObject] => [this.sliceType, s]),
        ...services.items.map((s): [ResourceType, KubeObject] => [Resources.services, s]),
      ];
      if (work.length === 0) return deleted;
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, work.length) }, async () => {
          while (next < work.length) {
            const [type, obj] = work[next++]!;
            if (await client.delete(type, obj.metadata.namespace, obj.metadata.name!)) deleted++;
            this.written.forget(`${obj.metadata.namespace}/${obj.metadata.name}`);
          }
        }),
      );
    }
    return deleted;
  }

  /**
   * Marks every mirrored EndpointSlice of the link not ready in place, from its current content: for a controller
   * that starts while the target is down, so the mirrors an earlier run wrote are not served as ready forever. The
   * hash annotation is replaced, so the first reconcile with the target's state rewrites them. `proceed` is asked
   * before each write (the target may come back meanwhile). Resolves with the number of slices marked.
   */
  async markStale(proceed: () => boolean): Promise<number> {
    const { client, fieldManager, local } = this.options;
    let marked = 0;
    for (const mirror of local.all().slices) {
      if (!proceed()) break;
      const slice = await client.getOptional<KubeObject & { endpoints?: Array<Record<string, unknown>> }>(
        this.sliceType,
        mirror.metadata.namespace,
        mirror.metadata.name,
      );
      if (!slice || slice.metadata.annotations?.[ANNOTATION_STALE] === "true") continue;
      const { name, namespace, labels, annotations, ownerReferences } = slice.metadata;
      await client.apply(
        this.sliceType,
        {
          metadata: {
            name,
            namespace,
            labels,
            annotations: { ...annotations, [ANNOTATION_STALE]: "true", [ANNOTATION_MIRROR_HASH]: "stale" },
            ...(ownerReferences ? { ownerReferences } : {}),
          },
          addressType: slice.addressType,
          endpoints: (slice.endpoints ?? []).map((e) => ({
            ...e,
            conditions: { ...(e.conditions as object), ready: false, serving: false },
          })),
          ports: slice.ports ?? [],
        },
        { fieldManager, force: true },
      );
      this.options.observer?.write("apply", "endpointslice");
      marked++;
    }
    return marked;
  }

  private async convergeSlices(key: string, desired: Desired[]): Promise<number> {
    const { local } = this.options;
    let writes = 0;
    const wanted = new Set(desired.map((d) => `${d.namespace}/${d.name}`));
    for (const d of desired) {
      const existing = local.slice(d.namespace, d.name);
      if (existing?.hash === d.hash) continue;
      await this.apply(this.sliceType, d, existing !== undefined);
      writes++;
      // Only a new trigger time is a new change: rewrites for staleness or recovery show an old one again.
      const triggerTime = d.body.metadata.annotations?.[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
      if (triggerTime && triggerTime !== existing?.triggerTime) this.options.observer?.changeMirrored?.(triggerTime);
    }
    for (const slice of local.slicesOf(key)) {
      if (!wanted.has(`${slice.metadata.namespace}/${slice.metadata.name}`))
        writes += await this.delete(this.sliceType, slice);
    }
    return writes;
  }

  /**
   * Writes a mirror; resolves with its uid. `cached` says the object is in this link's caches (it carries the
   * link's UID label), so it is ours and applied with force. Any other name is written create-only (see
   * createOnly): an existing object is ours only if it carries the label (a cache that has not caught up with our
   * own create); without it, it is a NameConflictError.
   */
  private ensureLeading(what: string): void {
    if (this.options.mayWrite && !this.options.mayWrite()) throw new NotLeadingError(what);
  }

  private async apply(type: ResourceType, d: Desired, cached: boolean): Promise<string | undefined> {
    const { client, fieldManager, observer } = this.options;
    this.ensureLeading(`${type.kind} ${d.namespace}/${d.name}`);
    const resource = type === Resources.services ? "service" : "endpointslice";
    try {
      if (!cached) {
        const result = await createOnly(client, type, d.body, fieldManager);
        if ("created" in result) {
          observer?.write("create", resource);
          this.written.record(`${d.namespace}/${d.name}`, d.hash);
          return result.created.metadata.uid;
        }
        if (!this.isOurs(result.existing)) throw new NameConflictError(type.kind, d.namespace, d.name);
      }
      const written = await client.apply<KubeObject>(type, d.body, { fieldManager, force: true });
      observer?.write("apply", resource);
      this.written.record(`${d.namespace}/${d.name}`, d.hash);
      return written.metadata.uid;
    } catch (err) {
      if (isInvalid(err)) throw new MirrorRejectedError(`${type.kind} ${d.namespace}/${d.name}`, err);
      throw err;
    }
  }

  private isOurs(obj: KubeObject): boolean {
    return obj.metadata.labels?.[LABEL_LINK_UID] === this.options.ctx.linkUid;
  }

  private async delete(type: ResourceType, obj: LocalMirror): Promise<number> {
    const { client, observer } = this.options;
    const { namespace, name, uid } = obj.metadata;
    this.ensureLeading(`the deletion of ${type.kind} ${namespace}/${name}`);
    this.written.forget(`${namespace}/${name}`);
    try {
      const deleted = await client.delete(type, namespace, name, uid ? { uid } : {});
      if (deleted) observer?.write("delete", type === Resources.services ? "service" : "endpointslice");
      return deleted ? 1 : 0;
    } catch (err) {
      // A uid precondition that fails means the object was replaced meanwhile: the next event brings it back.
      if (isConflict(err) || isNotFound(err)) return 0;
      throw err;
    }
  }

  private async createNamespace(namespace: string): Promise<number> {
    this.ensureLeading(`namespace ${namespace}`);
    try {
      await this.options.client.create(Resources.namespaces, {
        metadata: {
          name: namespace,
          labels: { [LABEL_MANAGED_BY]: "zonesync", [LABEL_LINK_UID]: this.options.ctx.linkUid },
        },
      });
      this.options.observer?.write("create", "namespace");
      return 1;
    } catch (err) {
      if (isAlreadyExists(err)) return 0;
      throw new Error(`cannot create namespace ${namespace} for mirrors`, { cause: err });
    }
  }
}
