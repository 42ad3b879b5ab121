import { LABEL_SERVICE_NAME } from "../api/names.ts";
import type { KubeClient } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import { endpointSliceType, Resources } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { toTargetService, toTargetSlice, type TargetService, type TargetSlice } from "./model.ts";
import type { SliceVersion } from "./render.ts";

/** Work queue keys: one per exported target Service, one for the zone-sync peers. */
export const PEERS_KEY = "peers";
export const serviceKey = (namespace: string, name: string): string => `svc:${namespace}/${name}`;
export function parseServiceKey(key: string): { namespace: string; name: string } | undefined {
  if (!key.startsWith("svc:")) return undefined;
  const rest = key.slice(4);
  const slash = rest.indexOf("/");
  return slash > 0 ? { namespace: rest.slice(0, slash), name: rest.slice(slash + 1) } : undefined;
}

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
  /** A target object changed: the work queue key, and when the event arrived (performance.now()). */
  onChange: (key: string, receivedAt: number) => void;
  onError?: (err: unknown) => void;
  /** Reconnect backoff ceiling; low, so a target that comes back is converged within seconds. */
  backoffMaxMs?: number;
  logger?: Logger;
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
 * The informers' transforms keep only the fields a mirror needs (see model.ts).
 */
export class TargetWatch {
  readonly client: KubeClient;
  readonly sliceVersion: SliceVersion;
  private readonly options: TargetWatchOptions;
  private readonly serviceInformers = new Map<string, Informer<TargetService>>();
  private readonly sliceInformers: Informer<TargetSlice>[] = [];
  private readonly peerInformer: Informer<TargetSlice> | undefined;
  /** `namespace/service` → slice name → slice. */
  private readonly slicesByService = new Map<string, Map<string, TargetSlice>>();

  constructor(options: TargetWatchOptions) {
    this.options = options;
    this.client = options.client;
    this.sliceVersion = options.sliceVersion;
    const sliceType = endpointSliceType(options.sliceVersion);
    const common = {
      client: options.client,
      backoffInitialMs: 200,
      backoffMaxMs: options.backoffMaxMs ?? 1000,
      stallTimeoutMs: 120_000,
      logger: options.logger,
      onError: options.onError,
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
          name: `target services${namespace ? ` in ${namespace}` : ""}`,
        });
        services.addHandlers({
          add: (s) => this.changed(serviceKey(s.metadata.namespace, s.metadata.name)),
          update: (_o, s) => this.changed(serviceKey(s.metadata.namespace, s.metadata.name)),
          delete: (s) => this.changed(serviceKey(s.metadata.namespace, s.metadata.name)),
        });
        this.serviceInformers.set(namespace ?? "", services);
        const slices = new Informer<TargetSlice>({
          ...common,
          type: sliceType,
          namespace,
          labelSelector: `${options.selector},${LABEL_SERVICE_NAME}`,
          transform: (raw) => toTargetSlice(raw),
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
        name: "target zone-sync peer endpointslices",
      });
      const peersChanged = () => this.changed(PEERS_KEY);
      this.peerInformer.addHandlers({ add: peersChanged, update: peersChanged, delete: peersChanged });
    }
  }

  private get informers(): Array<Informer<TargetService> | Informer<TargetSlice>> {
    return [
      ...this.serviceInformers.values(),
      ...this.sliceInformers,
      ...(this.peerInformer ? [this.peerInformer] : []),
    ];
  }

  private changed(key: string): void {
    this.options.onChange(key, performance.now());
  }

  private indexSlice(slice: TargetSlice): void {
    const key = `${slice.metadata.namespace}/${slice.service}`;
    let byName = this.slicesByService.get(key);
    if (!byName) this.slicesByService.set(key, (byName = new Map()));
    byName.set(slice.metadata.name, slice);
    this.changed(serviceKey(slice.metadata.namespace, slice.service));
  }

  private unindexSlice(slice: TargetSlice): void {
    const key = `${slice.metadata.namespace}/${slice.service}`;
    const byName = this.slicesByService.get(key);
    byName?.delete(slice.metadata.name);
    if (byName?.size === 0) this.slicesByService.delete(key);
    this.changed(serviceKey(slice.metadata.namespace, slice.service));
  }

  start(): void {
    for (const informer of this.informers) informer.start();
  }

  async stop(): Promise<void> {
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

  /** The EndpointSlices of an exported Service. */
  slicesOf(namespace: string, name: string): TargetSlice[] {
    return [...(this.slicesByService.get(`${namespace}/${name}`)?.values() ?? [])];
  }

  /** The target's zone-sync peer slices. */
  peerSlices(): TargetSlice[] {
    return this.peerInformer?.list() ?? [];
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
