import { ANNOTATION_REMOTE_REF, LABEL_LINK_UID, LABEL_MIRRORED_FROM, LABEL_ZONE_SYNC_PEERS } from "../api/names.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { Informer, type InformerIndex } from "../kube/informer.ts";
import { endpointSliceType, Resources } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { parseRemoteRef } from "./naming.ts";
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, ANNOTATION_MIRROR_HASH } from "../api/names.ts";
import type { SliceVersion } from "./render.ts";
import { importKey, PEERS_KEY, serviceKey } from "./target.ts";
import { LABEL_MCS_SERVICE_NAME } from "../mcs/api.ts";

/**
 * The label selector of one link's mirrors: its identity, the link's UID (a link of the same name in another
 * install, or a re-created link, has another). `mirrored-from` is required too, so nothing but a mirror is selected.
 */
export function mirrorSelector(linkUid: string): string {
  return `${LABEL_LINK_UID}=${linkUid},${LABEL_MIRRORED_FROM}`;
}

/** What the controller keeps of a mirror it wrote: enough to skip unchanged writes and to find orphans. */
export interface LocalMirror extends KubeObject {
  metadata: { name: string; namespace: string; resourceVersion?: string; uid?: string; [key: string]: unknown };
  hash?: string;
  /** The work queue key of the mirror's source (see target.ts), or undefined for a foreign reference. */
  source?: string;
  headless?: boolean;
  /** The last-change trigger time it was written with (mirrored EndpointSlices). */
  triggerTime?: string;
}

export function toLocalMirror(raw: KubeObject): LocalMirror {
  const { name = "", namespace = "", resourceVersion, uid, labels = {}, annotations = {} } = raw.metadata;
  const ref = parseRemoteRef(annotations[ANNOTATION_REMOTE_REF] ?? "");
  const importName = labels[LABEL_MCS_SERVICE_NAME];
  const source = labels[LABEL_ZONE_SYNC_PEERS]
    ? PEERS_KEY
    : importName
      ? importKey(namespace, importName)
      : ref
        ? serviceKey(ref.namespace, ref.name)
        : undefined;
  const spec = raw.spec as { clusterIP?: string } | undefined;
  return {
    metadata: { name, namespace, resourceVersion, uid },
    hash: annotations[ANNOTATION_MIRROR_HASH],
    source,
    ...(raw.kind === "Service" ? { headless: spec?.clusterIP === "None" } : {}),
    ...(annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME]
      ? { triggerTime: annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] }
      : {}),
  };
}

/** One local namespace: whether it exists and whether it is being deleted. */
export interface LocalNamespace extends KubeObject {
  metadata: { name: string; resourceVersion?: string; [key: string]: unknown };
  terminating: boolean;
}

export interface LocalMirrorsOptions {
  client: KubeClient;
  /** The ZoneSyncLink's UID: only objects that carry it are this link's. */
  linkUid: string;
  sliceVersion: SliceVersion;
  /** A mirror changed (`deleted` false) or disappeared; its `source` is the work queue key to converge. */
  onChange: (mirror: LocalMirror, deleted: boolean) => void;
  /** A namespace appeared. */
  onNamespace: (namespace: string) => void;
  logger?: Logger;
}

/**
 * The local cluster as the controller needs it: the Services and EndpointSlices this link created (label
 * `zonesync.io/link-uid=<uid>`, so the cache grows with what this link mirrors, not with the cluster) and the names
 * of the namespaces. Mirrors deleted or edited by someone else are re-enqueued and converged.
 */
export class LocalMirrors {
  private readonly services: Informer<LocalMirror>;
  private readonly slices: Informer<LocalMirror>;
  private readonly namespaces: Informer<LocalNamespace>;
  /** The mirrors by the source key they refer to ("" for an unreadable reference). */
  private readonly slicesBySource: InformerIndex<LocalMirror>;
  private readonly servicesBySource: InformerIndex<LocalMirror>;

  constructor(options: LocalMirrorsOptions) {
    const selector = mirrorSelector(options.linkUid);
    const common = { client: options.client, logger: options.logger, backoffMaxMs: 5000 };
    this.services = new Informer<LocalMirror>({
      ...common,
      type: Resources.services,
      labelSelector: selector,
      transform: (raw) => toLocalMirror(raw),
      name: "local mirror services",
    });
    this.slices = new Informer<LocalMirror>({
      ...common,
      type: endpointSliceType(options.sliceVersion),
      labelSelector: selector,
      transform: (raw) => toLocalMirror(raw),
      name: "local mirror endpointslices",
    });
    this.namespaces = new Informer<LocalNamespace>({
      ...common,
      type: Resources.namespaces,
      transform: (raw: KubeObject) => ({
        metadata: { name: raw.metadata.name ?? "", resourceVersion: raw.metadata.resourceVersion },
        terminating: Boolean(raw.metadata.deletionTimestamp),
      }),
      name: "local namespaces",
    });
    const bySource = (m: LocalMirror) => m.source ?? "";
    this.servicesBySource = this.services.addIndex(bySource);
    this.slicesBySource = this.slices.addIndex(bySource);
    const track = {
      update: (old: LocalMirror, m: LocalMirror) => {
        if (old.hash !== m.hash) options.onChange(m, false);
      },
      delete: (m: LocalMirror) => options.onChange(m, true),
    };
    this.services.addHandlers(track);
    this.slices.addHandlers(track);
    this.namespaces.addHandlers({
      add: (ns) => options.onNamespace(ns.metadata.name),
    });
  }

  start(): void {
    this.services.start();
    this.slices.start();
    this.namespaces.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.slices.stop(), this.namespaces.stop()]);
  }

  async waitForSync(timeoutMs: number): Promise<void> {
    await Promise.all([
      this.services.waitForSync(timeoutMs),
      this.slices.waitForSync(timeoutMs),
      this.namespaces.waitForSync(timeoutMs),
    ]);
  }

  get healthy(): boolean {
    return this.services.healthy && this.slices.healthy && this.namespaces.healthy;
  }

  service(namespace: string, name: string): LocalMirror | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  slice(namespace: string, name: string): LocalMirror | undefined {
    return this.slices.get(`${namespace}/${name}`);
  }

  servicesOf(source: string): LocalMirror[] {
    return this.servicesBySource.get(source);
  }

  slicesOf(source: string): LocalMirror[] {
    return this.slicesBySource.get(source);
  }

  /** Every source key some mirror refers to ("" for mirrors with an unreadable reference). */
  sources(): string[] {
    return [...new Set([...this.servicesBySource.keys(), ...this.slicesBySource.keys()])];
  }

  /** Whether the namespace exists and is not being deleted. */
  namespaceUsable(name: string): boolean {
    const ns = this.namespaces.get(name);
    return ns !== undefined && !ns.terminating;
  }

  namespaceExists(name: string): boolean {
    return this.namespaces.get(name) !== undefined;
  }

  get mirrorCount(): { services: number; slices: number } {
    return { services: this.services.size, slices: this.slices.size };
  }

  /** Every mirror object of this link, for cleanup. */
  all(): { services: LocalMirror[]; slices: LocalMirror[] } {
    return { services: this.services.list(), slices: this.slices.list() };
  }
}
