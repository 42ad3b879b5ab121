import { LABEL_ENDPOINTSLICE_MANAGED_BY, LABEL_SERVICE_NAME } from "../api/names.ts";
import { LABEL_MCS_SERVICE_NAME, LABEL_MCS_SOURCE_CLUSTER } from "../mcs/api.ts";
import { toImportSlice, type ImportSlice } from "../mcs/model.ts";
import { MCS_SLICE_MANAGER } from "../mcs/names.ts";
import type { KubeClient } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import { endpointSliceType, Resources } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { capServices, type ServiceCap } from "./caps.ts";
import { addCounts, DropLedger, DropLog, type DropCounts } from "./drops.ts";
import { toTargetService, toTargetSlice, type TargetService, type TargetSlice } from "./model.ts";
import { targetPolicy, type CompiledPolicy } from "./policy.ts";
import type { SliceVersion } from "./render.ts";
import { SliceIndex } from "./slice-index.ts";

/** Work queue keys: one per exported target Service, one for the zone-sync peers. */
export const PEERS_KEY = "peers";
export const serviceKey = (namespace: string, name: string): string => `svc:${namespace}/${name}`;
export function parseServiceKey(key: string): { namespace: string; name: string } | undefined {
  return parsePrefixedKey("svc:", key);
}
/** One per name the target's own MCS controller exports (its own-export slices, ADR 0005). */
export const importKey = (namespace: string, name: string): string => `mcs:${namespace}/${name}`;
export function parseImportKey(key: string): { namespace: string; name: string } | undefined {
  return parsePrefixedKey("mcs:", key);
}
function parsePrefixedKey(prefix: string, key: string): { namespace: string; name: string } | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf("/");
  return slash > 0 ? { namespace: rest.slice(0, slash), name: rest.slice(slash + 1) } : undefined;
}

/**
 * The most objects one target informer holds (an informer fails, keeping its last state, while the target has more):
 * with the per-object bounds of model.ts, what a target can make this process hold is bounded. Generous: Services
 * past spec.maxServices are held (and counted as over the cap), only not mirrored.
 */
export const MAX_TARGET_OBJECTS = {
  services: 50_000,
  slices: 100_000,
  peerSlices: 1_000,
  importSlices: 100_000,
} as const;

/** A Service that can be mirrored: the ones ranked for spec.maxServices. */
const mirrorable = (s: TargetService): boolean => !s.invalid && s.serviceType !== "ExternalName";

export interface TargetWatchOptions {
  client: KubeClient;
  /** The EndpointSlice version the target serves. */
  sliceVersion: SliceVersion;
  /** The link's selector as a labelSelector query; undefined when it selects nothing. */
  selector: string | undefined;
  /** Only these namespaces (one informer pair each); every namespace when undefined. */
  namespaces?: string[];
  /** The target's zone-sync peer Service, when peers are mirrored. */
  peers?: { namespace: string; name: string };
  /** Carry the target's own MCS exports (ADR 0005): the target's cluster id, which their slices must name. */
  mcs?: { cluster: string };
  /** A target object changed: the work queue key, and when the event arrived (performance.now()). */
  onChange: (key: string, receivedAt: number) => void;
  onError?: (err: unknown) => void;
  /** One of the watches connected or failed (see `healthy`). */
  onHealthChange?: () => void;
  /** Reconnect backoff ceiling; low, so a target that comes back is converged within seconds. */
  backoffMaxMs?: number;
  logger?: Logger;
  /** The link's rules for what is mirrored (excludeCIDRs, mirrorFQDN, caps); the defaults when unset. */
  policy?: CompiledPolicy;
  /** Logs each kind of drop once per object; one of its own (on `logger`) when unset. */
  dropLog?: DropLog;
  /** Overrides MAX_TARGET_OBJECTS (tests). */
  maxObjects?: Partial<Record<keyof typeof MAX_TARGET_OBJECTS, number>>;
}

/**
 * The watches on the target cluster, for one client and one link spec. Only what is exported is watched, with
 * server-side label selectors:
 * - Services matching the link's selector (per namespace when the link lists namespaces);
 * - EndpointSlices matching the SAME selector plus `kubernetes.io/service-name`: the EndpointSlice controller copies
 *   a Service's labels onto its slices (and keeps them in step when they change), so the API server filters slices
 *   of exported Services for us. One watch, whatever the number of exported Services — no per-Service watch, no
 *   `service-name in (…)` list that grows with the export and forces a re-watch on every change — and nothing of
 *   the target's other slices ever reaches this process. Slices whose Service is not (yet) known are kept in the
 *   index until it is: they are only ever slices of exported Services.
 * - the zone-sync peer Service's slices (`kubernetes.io/service-name=<peer service>` in its namespace).
 * The informers' transforms keep only the fields a mirror needs, validated and bounded (see model.ts): the target
 * is untrusted. What a mirror gets (`slicesOf`, `peerSlices`) is further filtered by the link's policy and capped per
 * Service (policy.ts, caps.ts); what was dropped is counted (`droppedCounts`) and logged once per object and reason.
 * `serviceCap` says which exported Services are within spec.maxServices.
 */
export class TargetWatch {
  readonly client: KubeClient;
  readonly sliceVersion: SliceVersion;
  private readonly options: TargetWatchOptions;
  private readonly serviceInformers = new Map<string, Informer<TargetService>>();
  private readonly sliceInformers: Informer<TargetSlice>[] = [];
  private readonly peerInformer: Informer<TargetSlice> | undefined;
  private readonly importInformers: Informer<ImportSlice>[] = [];
  private readonly slices: SliceIndex;
  private readonly peers: SliceIndex;
  /** The target's own-export slices, keyed by `namespace/<import name>`. */
  private readonly imports: SliceIndex;
  /** What was dropped of each exported Service itself (ports, invalid names). */
  private readonly serviceDrops = new DropLedger();
  private readonly dropLog: DropLog;
  private policy: CompiledPolicy;
  /** The cap over the current Services; undefined when a Service came or went since. */
  private cap: ServiceCap | undefined;
  /** The cap as of the last check that told the queue about Services that crossed it. */
  private checkedCap: ServiceCap | undefined;
  private capCheck: NodeJS.Immediate | undefined;

  constructor(options: TargetWatchOptions) {
    this.options = options;
    this.client = options.client;
    this.sliceVersion = options.sliceVersion;
    this.policy = options.policy ?? targetPolicy();
    this.dropLog = options.dropLog ?? new DropLog(options.logger);
    const onDropped = (object: string, counts: Partial<DropCounts>) => this.dropLog.report(object, counts);
    this.slices = new SliceIndex({ policy: this.policy, onDropped });
    this.peers = new SliceIndex({ policy: this.policy, onDropped });
    this.imports = new SliceIndex({ policy: this.policy, onDropped });
    const sliceType = endpointSliceType(options.sliceVersion);
    const max = { ...MAX_TARGET_OBJECTS, ...options.maxObjects };
    const common = {
      client: options.client,
      backoffInitialMs: 200,
      backoffMaxMs: options.backoffMaxMs ?? 1000,
      stallTimeoutMs: 120_000,
      logger: options.logger,
      onError: options.onError,
      onHealthChange: options.onHealthChange,
    };
    if (options.selector !== undefined) {
      const namespaces = options.namespaces ?? [undefined];
      for (const namespace of namespaces) {
        const services = new Informer<TargetService>({
          ...common,
          type: Resources.services,
          namespace,
          labelSelector: options.selector,
          transform: (raw) => toTargetService(raw),
          maxObjects: max.services,
          name: `target services${namespace ? ` in ${namespace}` : ""}`,
        });
        services.addHandlers({
          add: (s) => this.serviceChanged(s, false),
          update: (old, s) => this.serviceChanged(s, false, old),
          delete: (s) => this.serviceChanged(s, true),
        });
        this.serviceInformers.set(namespace ?? "", services);
        const slices = new Informer<TargetSlice>({
          ...common,
          type: sliceType,
          namespace,
          labelSelector: `${options.selector},${LABEL_SERVICE_NAME}`,
          transform: (raw) => toTargetSlice(raw),
          maxObjects: max.slices,
          name: `target endpointslices${namespace ? ` in ${namespace}` : ""}`,
        });
        slices.addHandlers({
          add: (s) => this.indexSlice(s),
          update: (old, s) => {
            if (old.service !== s.service) this.unindexSlice(old);
            this.indexSlice(s);
          },
          delete: (s) => this.unindexSlice(s),
        });
        this.sliceInformers.push(slices);
      }
    }
    if (options.peers) {
      const { namespace, name } = options.peers;
      this.peerInformer = new Informer<TargetSlice>({
        ...common,
        type: sliceType,
        namespace,
        labelSelector: `${LABEL_SERVICE_NAME}=${name}`,
        transform: (raw) => toTargetSlice(raw),
        maxObjects: max.peerSlices,
        name: "target zone-sync peer endpointslices",
      });
      this.peerInformer.addHandlers({
        add: (s) => this.peerChanged(undefined, s),
        update: (old, s) => this.peerChanged(old, s),
        delete: (s) => this.peerChanged(s, undefined),
      });
    }
    if (options.mcs) this.watchImports(options, common, sliceType);
  }

  /**
   * The target's own-export slices: written by its MCS controller for its own cluster id, filtered on the server by
   * both labels, so slices that speak for another cluster never arrive. Indexed by the import name.
   */
  private watchImports(options: TargetWatchOptions, common: object, sliceType: ReturnType<typeof endpointSliceType>) {
    const cluster = options.mcs!.cluster;
    const max = { ...MAX_TARGET_OBJECTS, ...options.maxObjects };
    for (const namespace of options.namespaces ?? [undefined]) {
      const informer = new Informer<ImportSlice>({
        ...(common as Pick<TargetWatchOptions, "client">),
        type: sliceType,
        namespace,
        labelSelector:
          `${LABEL_ENDPOINTSLICE_MANAGED_BY}=${MCS_SLICE_MANAGER},${LABEL_MCS_SOURCE_CLUSTER}=${cluster},` +
          LABEL_MCS_SERVICE_NAME,
        // Indexed by the import's name rather than the derived Service's.
        transform: (raw) => {
          const slice = toImportSlice(raw);
          return slice.importName && !slice.invalid
            ? { ...slice, service: slice.importName }
            : { ...slice, invalid: slice.invalid ?? "no import name" };
        },
        maxObjects: max.importSlices,
        name: `target MCS export endpointslices${namespace ? ` in ${namespace}` : ""}`,
      });
      const changed = (s: ImportSlice) => this.changed(importKey(s.metadata.namespace, s.service));
      informer.addHandlers({
        add: (s) => {
          this.imports.set(s);
          changed(s);
        },
        update: (old, s) => {
          if (old.service !== s.service) {
            this.imports.delete(old);
            changed(old);
          }
          this.imports.set(s);
          changed(s);
        },
        delete: (s) => {
          this.imports.delete(s);
          changed(s);
        },
      });
      this.importInformers.push(informer);
    }
  }

  private get informers(): Array<Informer<TargetService> | Informer<TargetSlice>> {
    return [
      ...this.serviceInformers.values(),
      ...this.sliceInformers,
      ...(this.peerInformer ? [this.peerInformer] : []),
      ...this.importInformers,
    ];
  }

  private changed(key: string): void {
    this.options.onChange(key, performance.now());
  }

  private indexSlice(slice: TargetSlice): void {
    this.slices.set(slice);
    this.changed(serviceKey(slice.metadata.namespace, slice.service));
  }

  private unindexSlice(slice: TargetSlice): void {
    this.slices.delete(slice);
    this.changed(serviceKey(slice.metadata.namespace, slice.service));
  }

  private peerChanged(old: TargetSlice | undefined, slice: TargetSlice | undefined): void {
    if (old && (!slice || old.service !== slice.service)) this.peers.delete(old);
    if (slice) this.peers.set(slice);
    this.changed(PEERS_KEY);
  }

  private serviceChanged(svc: TargetService, deleted: boolean, old?: TargetService): void {
    const { namespace, name } = svc.metadata;
    const object = `Service ${namespace}/${name}`;
    if (deleted) this.serviceDrops.delete(object);
    else {
      this.serviceDrops.set(object, svc.dropped);
      this.dropLog.report(object, svc.dropped);
    }
    if (!old || deleted || mirrorable(old) !== mirrorable(svc)) {
      this.cap = undefined;
      this.scheduleCapCheck();
    }
    this.changed(serviceKey(namespace, name));
  }

  /**
   * Once per burst of Service events: tells the queue about every Service that crossed the cap either way, so the
   * controller mirrors (or stops mirroring) it without waiting for an event of its own.
   */
  private scheduleCapCheck(): void {
    if (this.capCheck) return;
    this.capCheck = setImmediate(() => {
      this.capCheck = undefined;
      const before = this.checkedCap;
      const now = this.serviceCap();
      this.checkedCap = now;
      const crossed = before
        ? [...before.within]
            .filter((k) => !now.within.has(k))
            .concat([...now.within].filter((k) => !before.within.has(k)))
        : now.over;
      for (const key of crossed) {
        const slash = key.indexOf("/");
        this.changed(serviceKey(key.slice(0, slash), key.slice(slash + 1)));
      }
    });
  }

  /**
   * Applies new link rules (excludeCIDRs, mirrorFQDN, caps) to what is held, without new watches, and tells the
   * queue about every Service (and the peers) whose mirrored slices may change.
   */
  setPolicy(policy: CompiledPolicy): void {
    if (policy.key === this.policy.key) return;
    const capChanged = policy.maxServices !== this.policy.maxServices;
    this.policy = policy;
    for (const key of this.slices.setPolicy(policy)) {
      const slash = key.indexOf("/");
      this.changed(serviceKey(key.slice(0, slash), key.slice(slash + 1)));
    }
    if (this.peers.setPolicy(policy).length) this.changed(PEERS_KEY);
    for (const key of this.imports.setPolicy(policy)) {
      const slash = key.indexOf("/");
      this.changed(importKey(key.slice(0, slash), key.slice(slash + 1)));
    }
    if (capChanged) {
      this.cap = undefined;
      this.scheduleCapCheck();
    }
  }

  get currentPolicy(): CompiledPolicy {
    return this.policy;
  }

  start(): void {
    for (const informer of this.informers) informer.start();
  }

  async stop(): Promise<void> {
    if (this.capCheck) clearImmediate(this.capCheck);
    this.capCheck = undefined;
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Resolves when every watch has listed once. */
  async waitForSync(timeoutMs: number): Promise<void> {
    await Promise.all(this.informers.map((i) => i.waitForSync(timeoutMs)));
  }

  get synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  /** True while every watch is connected. */
  get healthy(): boolean {
    return this.informers.every((i) => i.healthy);
  }

  /** The last error of an unhealthy watch. */
  get lastError(): unknown {
    return this.informers.find((i) => !i.healthy && i.lastError)?.lastError;
  }

  /** The exported Service, if the target has it. */
  service(namespace: string, name: string): TargetService | undefined {
    const informer = this.serviceInformers.get(namespace) ?? this.serviceInformers.get("");
    return informer?.get(`${namespace}/${name}`);
  }

  /** The EndpointSlices of an exported Service, as they are mirrored (filtered by the link's policy, capped). */
  slicesOf(namespace: string, name: string): TargetSlice[] {
    return this.slices.slicesOf(`${namespace}/${name}`);
  }

  /** The target's zone-sync peer slices, as they are mirrored (filtered by the link's policy, capped). */
  peerSlices(): TargetSlice[] {
    const peers = this.options.peers;
    return peers ? this.peers.slicesOf(`${peers.namespace}/${peers.name}`) : [];
  }

  /**
   * What the target holds now that is not mirrored, by reason (drops.ts), over the exported Services, their slices
   * and the zone-sync peer slices: totals of the current state, which fall again when the target fixes an object.
   * Services over the cap are not in it (see `serviceCap`).
   */
  droppedCounts(): DropCounts {
    return addCounts(
      addCounts(addCounts(this.slices.totals(), this.peers.totals()), this.imports.totals()),
      this.serviceDrops.totals(),
    );
  }

  /**
   * Which exported Services are within spec.maxServices: the first `maxServices` by namespace/name of those that
   * can be mirrored (invalid and ExternalName Services are not ranked: they mirror nothing and must not push valid
   * ones out). Keys are `namespace/name`.
   */
  serviceCap(): ServiceCap {
    if (!this.cap) {
      const ranked: Array<{ namespace: string; name: string }> = [];
      for (const informer of this.serviceInformers.values()) {
        for (const s of informer.list()) if (mirrorable(s)) ranked.push(s.metadata);
      }
      this.cap = capServices(ranked, this.policy.maxServices);
    }
    return this.cap;
  }

  /** False when the Service is past spec.maxServices (or is not one that can be mirrored). */
  withinCap(namespace: string, name: string): boolean {
    return this.serviceCap().within.has(`${namespace}/${name}`);
  }

  /** The target's own-export slices of one import (filtered by the link's policy), each with its export record. */
  importSlicesOf(namespace: string, name: string): ImportSlice[] {
    return this.imports.slicesOf(`${namespace}/${name}`) as ImportSlice[];
  }

  /** Work queue keys of every name the target exports through the MCS API. */
  importKeys(): string[] {
    const keys = new Set<string>();
    for (const informer of this.importInformers) {
      for (const s of informer.list()) keys.add(importKey(s.metadata.namespace, s.service));
    }
    return [...keys];
  }

  /** Work queue keys of every exported Service. */
  serviceKeys(): string[] {
    const keys: string[] = [];
    for (const informer of this.serviceInformers.values()) {
      for (const s of informer.list()) keys.push(serviceKey(s.metadata.namespace, s.metadata.name));
    }
    return keys;
  }

  get serviceCount(): number {
    let n = 0;
    for (const informer of this.serviceInformers.values()) n += informer.size;
    return n;
  }
}
