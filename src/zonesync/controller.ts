/**
 * Local zone-sync: the zone-sync keys of an NGINX ConfigMap become a headless peer Service and a rendered
 * zone-sync.conf for one NGINX workload, and the workload rolls only when what NGINX reads really changed.
 *
 * Informers (each on one object, by name) watch the ConfigMap, the workload, the two objects this controller owns
 * and, while TLS is configured, the TLS Secret. Their events only enqueue the one key of this controller; the
 * worker reads the current state from the caches and converges:
 *
 * 1. parse every key; report each bad key once (Warning InvalidValue) and what happens as a whole (summary);
 *    a configuration with errors never replaces the last good one, and at startup without a last good one
 *    nothing is touched;
 * 2. enabled: apply the peer Service and the stream ConfigMap when they differ from the intent (server-side
 *    apply, field manager `zonesync-zone-sync`); disabled: delete both (NotFound is fine);
 * 3. sha256 over zone-sync.conf and the TLS material into the pod template annotation
 *    `zonesync.io/config-checksum`, patched only when the workload carries another value (with the workload's
 *    resourceVersion as a precondition), with a Normal Event `Rollout`. Disabling removes the annotation: NGINX's
 *    configuration changed (zone-sync.conf is gone), so the pods roll once; while zone-sync was never enabled the
 *    annotation is never added, so starting zonesync rolls nothing.
 *
 * EndpointSlices of the peer Service are never touched: the link controller adds remote peers as its own slices.
 *
 * The pod spec is not edited beyond that annotation: the workload mounts the ConfigMap `<workload>-zone-sync`
 * (`optional: true`, so pods start while zone-sync is off) and includes `zone-sync.conf` in its `stream {}` block;
 * with TLS it mounts the Secret at TLS_MOUNT_PATH with the items of tlsSecretItems() (see tls.ts).
 *
 * API access it needs: get/list/watch on the ConfigMap, the workload kind and (with TLS) Secrets in the Secret's
 * namespace; get/list/watch/create/patch/delete on Services and ConfigMaps in the workload's namespace; patch on
 * the workload; create/patch on Events.
 */
import type { Registry } from "prom-client";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { describeError, isConflict, isNotFound } from "../kube/errors.ts";
import { EventRecorder } from "../kube/events.ts";
import { Informer, type InformerHandlers } from "../kube/informer.ts";
import { createOnly } from "../kube/ownership.ts";
import { Resources, type ResourceType } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { WorkQueue } from "../queue/workqueue.ts";
import { configChecksum, type TlsMaterial } from "./checksum.ts";
import { parseZoneSyncConfig, type ZoneSyncConfig, type ZoneSyncKeyError } from "./config.ts";
import { KEY_CLUSTER_DOMAIN } from "./keys.ts";
import { zoneSyncMetrics, type ZoneSyncMetrics } from "./metrics.ts";
import { peerSelector, peerServiceName, streamConfigMapName } from "./naming.ts";
import {
  FIELD_MANAGER,
  desiredPeerService,
  desiredStreamConfigMap,
  isHeadless,
  ownedByZoneSync,
  peerServiceDrift,
  streamConfigMapMatches,
  type ConfigMapObject,
  type OwnedObjectContext,
  type ServiceObject,
} from "./objects.ts";
import {
  formatConfigMapRef,
  formatWorkloadRef,
  workloadResource,
  type ConfigMapRef,
  type WorkloadKind,
  type WorkloadRef,
} from "./refs.ts";
import { renderStreamConfig } from "./render.ts";
import { ConfigReporter, ProblemReporter, type EventSink } from "./report.ts";
import {
  formatSecretRef,
  readTlsMaterial,
  resolveSecretRef,
  tlsChecksum,
  type ResolvedSecretRef,
  type SecretObject,
} from "./secret.ts";
import { clusterDomainValue } from "./values.ts";
import {
  checksumPatch,
  describeRolloutCause,
  rolloutCause,
  toWorkloadView,
  type AppliedState,
  type WorkloadView,
} from "./workload.ts";
import { OwnWrites } from "../kube/own-writes.ts";

export interface ZoneSyncControllerOptions {
  client: KubeClient;
  /** The NGINX ConfigMap with the zone-sync keys (`--nginx-configmap <ns>/<name>`). */
  configMap: ConfigMapRef;
  /** The NGINX workload (`--nginx-workload <kind>/<ns>/<name>`). */
  workload: { kind: WorkloadKind; namespace: string; name: string };
  logger: Logger;
  /** Where Events go (default: an EventRecorder of component `zonesync-zone-sync`). */
  events?: EventSink;
  /** Metrics are registered here when given. */
  registry?: Registry;
  /** publishNotReadyAddresses of the peer Service (default true: NGINX peers find each other before they are ready). */
  publishNotReadyAddresses?: boolean;
  /** The cluster domain when the ConfigMap does not set `zone-sync-cluster-domain` (default cluster.local). */
  clusterDomainOverride?: string;
  /** Leave the `[::]` listeners out of zone-sync.conf, like the NGINX Ingress Controller's -disable-ipv6. */
  disableIPv6?: boolean;
  /** A burst of events within this window is one reconcile (default 100 ms). */
  coalesceMs?: number;
  /** Reconcile this often even without events, to repair what a missed event hid (default 5 min). */
  resyncMs?: number;
  /** How long start() waits for the informers' first lists (default 60 s). */
  syncTimeoutMs?: number;
}

export type ReconcileResult = "changed" | "unchanged" | "rejected" | "waiting";

/** What the controller last did, for health details, the `npm start` summary and tests. */
export interface ZoneSyncState {
  /** Whether the applied configuration has zone-sync on; undefined before a good configuration was seen. */
  enabled: boolean | undefined;
  serviceName: string;
  streamConfigMapName: string;
  /** The checksum the workload should carry; undefined when zone-sync is off or nothing was applied yet. */
  checksum: string | undefined;
  /** The rendered zone-sync.conf in effect. */
  rendered: string | undefined;
  invalidKeys: readonly ZoneSyncKeyError[];
  /** Problems other than invalid keys, by Event reason. */
  problems: Readonly<Record<string, string>>;
  lastResult: ReconcileResult | undefined;
  /** The resourceVersion of the NGINX ConfigMap the last reconcile read (undefined: it did not exist). */
  observedConfigMapVersion: string | undefined;
}

const KEY = "zone-sync";
const ABSENT = "<absent>";
const REASON_ROLLOUT = "Rollout";
const REASON_WORKLOAD_NOT_FOUND = "WorkloadNotFound";
const REASON_INVALID_WORKLOAD = "InvalidWorkload";
const REASON_INVALID_TLS_SECRET = "InvalidTLSSecret";
const REASON_NAME_CONFLICT = "NameConflict";

/** Informer transform: managedFields are large and never needed here. */
function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

const byName = (name: string): string => `metadata.name=${name}`;

/** A write the informer cache may not show yet: skip repeating it while the cache still holds `from`. */
interface PendingWrite {
  from: string;
  fingerprint: string;
}

export class ZoneSyncController {
  private readonly options: ZoneSyncControllerOptions;
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly configMapRef: ConfigMapRef;
  private readonly workloadRef: WorkloadRef;
  private readonly serviceName: string;
  private readonly streamName: string;
  private readonly events: EventSink;
  private readonly metrics: ZoneSyncMetrics | undefined;
  private readonly metricLabels: { workload: string };
  private readonly configReporter: ConfigReporter;
  private readonly problems: ProblemReporter;
  private readonly queue: WorkQueue;
  private readonly sources: Informer<ConfigMapObject>;
  private readonly workloads: Informer<WorkloadView>;
  private readonly services: Informer<ServiceObject>;
  private readonly streams: Informer<ConfigMapObject>;
  private secret: { ref: ResolvedSecretRef; informer: Informer<SecretObject> } | undefined;

  private lastGood: ZoneSyncConfig | undefined;
  private lastErrors: readonly ZoneSyncKeyError[] = [];
  /** What the workload's checksum stands for after the last reconcile that reached it. */
  private applied: AppliedState | undefined;
  private desiredChecksum: string | undefined;
  private readonly pending = new Map<string, PendingWrite>();
  /** Per workload UID, the checksum patched onto which resourceVersion: the workload cache may lag our own patch. */
  private readonly patchedChecksums = new OwnWrites<{ from: string | undefined; to: string | undefined }>();
  private lastResult: ReconcileResult | undefined;
  private observedVersion: string | undefined;
  private error: string | undefined;
  private reconciled = false;
  private firstReconcile: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(options: ZoneSyncControllerOptions) {
    if (
      options.clusterDomainOverride !== undefined &&
      !clusterDomainValue.safeParse(options.clusterDomainOverride).success
    ) {
      throw new Error(
        `cluster domain ${JSON.stringify(options.clusterDomainOverride)} is not a DNS domain name (such as cluster.local)`,
      );
    }
    this.options = options;
    this.client = options.client;
    this.configMapRef = { ...options.configMap };
    this.workloadRef = { ...options.workload };
    const { client, configMap, workload } = options;
    this.logger = options.logger.child({
      workload: formatWorkloadRef(workload),
      configMap: formatConfigMapRef(configMap),
    });
    this.serviceName = peerServiceName(workload.name, workload.kind);
    this.streamName = streamConfigMapName(workload.name);
    this.events = options.events ?? new EventRecorder({ client, component: FIELD_MANAGER, logger: this.logger });
    this.metrics = options.registry ? zoneSyncMetrics(options.registry) : undefined;
    this.metricLabels = { workload: formatWorkloadRef(workload) };
    this.configReporter = new ConfigReporter(this.events);
    this.problems = new ProblemReporter(this.events);
    this.queue = new WorkQueue({
      name: "zone-sync",
      coalesceMs: options.coalesceMs ?? 100,
      backoffBaseMs: 200,
      backoffMaxMs: 60_000,
      logger: this.logger,
    });

    const common = { client, logger: this.logger, transform: stripManagedFields };
    this.sources = new Informer<ConfigMapObject>({
      ...common,
      type: Resources.configMaps,
      namespace: configMap.namespace,
      fieldSelector: byName(configMap.name),
      resyncMs: options.resyncMs ?? 300_000,
      name: `zone-sync configmap ${formatConfigMapRef(configMap)}`,
    });
    this.workloads = new Informer<WorkloadView>({
      client,
      logger: this.logger,
      type: workloadResource(workload.kind),
      namespace: workload.namespace,
      fieldSelector: byName(workload.name),
      transform: toWorkloadView,
      name: `zone-sync workload ${formatWorkloadRef(workload)}`,
    });
    this.services = new Informer<ServiceObject>({
      ...common,
      type: Resources.services,
      namespace: workload.namespace,
      fieldSelector: byName(this.serviceName),
      name: `zone-sync service ${workload.namespace}/${this.serviceName}`,
    });
    this.streams = new Informer<ConfigMapObject>({
      ...common,
      type: Resources.configMaps,
      namespace: workload.namespace,
      fieldSelector: byName(this.streamName),
      name: `zone-sync stream config ${workload.namespace}/${this.streamName}`,
    });
    for (const informer of this.informers()) informer.addHandlers(this.enqueueHandlers());
  }

  /** True once every informer has listed and the first reconcile has run. */
  get synced(): boolean {
    return this.reconciled && this.informers().every((i) => i.hasSynced);
  }

  /** True while every informer is connected and the last reconcile did not fail. */
  get healthy(): boolean {
    const secret = this.secret?.informer;
    return this.error === undefined && this.informers().every((i) => i.healthy) && (secret?.healthy ?? true);
  }

  /** The last reconcile failure, cleared by the next reconcile that succeeds. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** True when no reconcile is queued, delayed or running (for tests and benchmarks). */
  get idle(): boolean {
    return this.queue.idle;
  }

  get state(): ZoneSyncState {
    return {
      enabled: this.lastGood?.enabled,
      serviceName: this.serviceName,
      streamConfigMapName: this.streamName,
      checksum: this.desiredChecksum,
      rendered: this.applied?.rendered,
      invalidKeys: this.lastErrors,
      problems: Object.fromEntries(this.problems.problems),
      lastResult: this.lastResult,
      observedConfigMapVersion: this.observedVersion,
    };
  }

  /**
   * Starts the informers and the worker; resolves once the informers have listed and the first reconcile has run
   * (a failed first reconcile does not reject: it is retried with backoff and shows in `healthy`/`lastError`).
   * Rejects when the informers cannot list within `syncTimeoutMs`.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error("the zone-sync controller is already started");
    for (const informer of this.informers()) informer.start();
    try {
      const timeout = this.options.syncTimeoutMs ?? 60_000;
      await Promise.all(this.informers().map((i) => i.waitForSync(timeout)));
    } catch (err) {
      await Promise.all(this.informers().map((i) => i.stop()));
      throw new Error(`zone-sync for ${formatWorkloadRef(this.workloadRef)} could not read its objects`, {
        cause: err,
      });
    }
    const first = new Promise<void>((resolve) => (this.firstReconcile = resolve));
    this.running = this.queue.run(() => this.process());
    this.queue.addAfter(KEY, 0);
    await first;
  }

  async stop(): Promise<void> {
    await this.queue.shutdown({ drain: false, timeoutMs: 10_000 });
    await Promise.all([...this.informers().map((i) => i.stop()), this.secret?.informer.stop()]);
    await this.running;
    this.firstReconcile?.();
  }

  private informers(): Informer<KubeObject>[] {
    return [this.sources, this.workloads, this.services, this.streams] as Informer<KubeObject>[];
  }

  private enqueueHandlers(): InformerHandlers<KubeObject> {
    const enqueue = (): void => this.queue.add(KEY);
    return { add: enqueue, update: enqueue, delete: enqueue };
  }

  private async process(): Promise<void> {
    try {
      const result = await this.reconcile();
      this.lastResult = result;
      this.error = undefined;
      this.metrics?.reconciles.inc({ ...this.metricLabels, result });
    } catch (err) {
      this.error = describeError(err);
      this.metrics?.reconciles.inc({ ...this.metricLabels, result: "error" });
      throw err;
    } finally {
      this.reconciled = true;
      this.firstReconcile?.();
      this.firstReconcile = undefined;
    }
  }

  /** The configuration to converge to: the ConfigMap's when valid, else the last good one (or none). */
  private effectiveConfig(source: ConfigMapObject | undefined): ZoneSyncConfig | undefined {
    let parsed;
    try {
      parsed = parseZoneSyncConfig(source?.data);
    } catch (err) {
      // Only data that is not a map of strings throws, which the API server never returns.
      throw new Error(`cannot read ConfigMap ${formatConfigMapRef(this.configMapRef)}`, { cause: err });
    }
    const { config, errors } = parsed;
    this.lastErrors = errors;
    this.metrics?.invalidKeys.set(this.metricLabels, errors.length);
    this.configReporter.report(source, errors, this.lastGood !== undefined);
    if (errors.length > 0) {
      this.logger.warn("zone-sync keys are invalid; not applying them", {
        keys: errors.map((e) => e.key),
        keeping: this.lastGood ? "last good configuration" : "nothing (existing objects left alone)",
      });
      return this.lastGood;
    }
    const domainSet = source?.data?.[KEY_CLUSTER_DOMAIN] !== undefined;
    if (!domainSet && this.options.clusterDomainOverride !== undefined) {
      config.clusterDomain = this.options.clusterDomainOverride;
    }
    if (source === undefined && this.lastGood?.enabled !== false) {
      this.logger.info("the ConfigMap does not exist; zone-sync is off (as with no zone-sync keys)");
    }
    this.lastGood = config;
    return config;
  }

  private async reconcile(): Promise<ReconcileResult> {
    const source = this.sources.get(`${this.configMapRef.namespace}/${this.configMapRef.name}`);
    this.observedVersion = source?.metadata.resourceVersion;
    const config = this.effectiveConfig(source);
    if (config === undefined) return "rejected";
    const workload = this.workloads.get(`${this.workloadRef.namespace}/${this.workloadRef.name}`);
    const ctx: OwnedObjectContext = {
      configMap: this.configMapRef,
      workload: this.workloadRef,
      configMapUid: source?.metadata.uid,
    };
    const outcome = config.enabled
      ? await this.reconcileEnabled(config, source, workload, ctx)
      : await this.reconcileDisabled(workload);
    return outcome;
  }

  private async reconcileDisabled(workload: WorkloadView | undefined): Promise<ReconcileResult> {
    this.problems.clear(REASON_WORKLOAD_NOT_FOUND);
    this.problems.clear(REASON_INVALID_WORKLOAD);
    this.problems.clear(REASON_INVALID_TLS_SECRET);
    this.problems.clear(REASON_NAME_CONFLICT);
    await this.stopSecretInformer();
    const services = this.services as Informer<KubeObject>;
    const streams = this.streams as Informer<KubeObject>;
    let changed = await this.deleteOwned(services, Resources.services, this.serviceName, "Service");
    changed = (await this.deleteOwned(streams, Resources.configMaps, this.streamName, "ConfigMap")) || changed;
    this.desiredChecksum = undefined;
    if (workload !== undefined) changed = (await this.syncChecksum(workload, undefined, undefined)) || changed;
    return changed ? "changed" : "unchanged";
  }

  private async reconcileEnabled(
    config: ZoneSyncConfig,
    source: ConfigMapObject | undefined,
    workload: WorkloadView | undefined,
    ctx: OwnedObjectContext,
  ): Promise<ReconcileResult> {
    const workloadName = formatWorkloadRef(this.workloadRef);
    if (workload === undefined) {
      this.problems.set(source, REASON_WORKLOAD_NOT_FOUND, `${workloadName} does not exist; zone-sync waits for it`);
      return "waiting";
    }
    this.problems.clear(REASON_WORKLOAD_NOT_FOUND);
    let selector: Record<string, string>;
    try {
      if (workload.problem !== undefined || workload.matchLabels === undefined) throw new Error(workload.problem);
      selector = peerSelector(workload.matchLabels);
      this.problems.clear(REASON_INVALID_WORKLOAD);
    } catch (err) {
      const message = `zone-sync cannot select the peers of ${workloadName}: ${describeError(err)}`;
      this.problems.set(workload, REASON_INVALID_WORKLOAD, message);
      return "waiting";
    }

    let material: TlsMaterial | undefined;
    let secretName: string | undefined;
    if (config.tls !== undefined) {
      const ref = resolveSecretRef(config.tls, this.configMapRef.namespace);
      secretName = formatSecretRef(ref);
      const informer = await this.ensureSecretInformer(ref);
      const read = readTlsMaterial(informer.get(secretName), config.tls, ref);
      if (!read.ok) {
        const message = `${read.problem}; zone-sync with TLS is not applied, and nothing rolls, until it is fixed`;
        this.problems.set(source ?? workload, REASON_INVALID_TLS_SECRET, message);
        return "waiting";
      }
      this.problems.clear(REASON_INVALID_TLS_SECRET);
      material = read.material;
    } else {
      this.problems.clear(REASON_INVALID_TLS_SECRET);
      await this.stopSecretInformer();
    }

    const service = desiredPeerService(ctx, {
      name: this.serviceName,
      selector,
      port: config.port,
      publishNotReadyAddresses: this.options.publishNotReadyAddresses ?? true,
    });
    const serviceChanged = await this.ensureService(service);
    if (serviceChanged === undefined) return "waiting";
    let changed = serviceChanged;

    const rendered = renderStreamConfig(
      config,
      { serviceName: this.serviceName, namespace: this.workloadRef.namespace },
      { disableIPv6: this.options.disableIPv6 },
    );
    if (rendered === undefined) throw new Error("zone-sync is enabled but rendered no configuration");
    const streamChanged = await this.ensureStreamConfigMap(desiredStreamConfigMap(ctx, this.streamName, rendered));
    if (streamChanged === undefined) return "waiting";
    this.problems.clear(REASON_NAME_CONFLICT);
    changed = streamChanged || changed;

    const checksum = configChecksum(rendered, material);
    this.desiredChecksum = checksum;
    const state: AppliedState = { rendered, tlsChecksum: tlsChecksum(material) };
    changed = (await this.syncChecksum(workload, checksum, state, secretName)) || changed;
    return changed ? "changed" : "unchanged";
  }

  /** The NGINX ConfigMap, where problems are reported. */
  private source(): ConfigMapObject | undefined {
    return this.sources.get(`${this.configMapRef.namespace}/${this.configMapRef.name}`);
  }

  /** True when the cache still holds the version a write of exactly this intent started from. */
  private cacheBehind(key: string, live: KubeObject | undefined, fingerprint: string): boolean {
    const pending = this.pending.get(key);
    return (
      pending !== undefined &&
      pending.from === (live?.metadata.resourceVersion ?? ABSENT) &&
      pending.fingerprint === fingerprint
    );
  }

  private remember(key: string, live: KubeObject | undefined, fingerprint: string): void {
    this.pending.set(key, { from: live?.metadata.resourceVersion ?? ABSENT, fingerprint });
  }

  private countWrite(resource: string, verb: string): void {
    this.metrics?.writes.inc({ ...this.metricLabels, resource, verb });
  }

  /**
   * The first write of a name is create-only (createOnly); an existing object is written only when it carries
   * zonesync's identity. Returns undefined, having reported it, when a foreign object holds the name.
   */
  private async claim<T extends KubeObject>(
    type: ResourceType,
    desired: T,
    live: T | undefined,
  ): Promise<{ live: T | undefined; created: boolean } | undefined> {
    let existing: KubeObject | undefined = live;
    if (existing === undefined) {
      const result = await createOnly(this.client, type, desired, FIELD_MANAGER);
      if ("created" in result) {
        this.countWrite(type.kind.toLowerCase(), "create");
        return { live: undefined, created: true };
      }
      existing = result.existing;
    }
    if (!ownedByZoneSync(existing, this.workloadRef)) {
      const name = `${type.kind} ${desired.metadata.namespace}/${desired.metadata.name}`;
      this.problems.set(
        this.source(),
        REASON_NAME_CONFLICT,
        `${name} exists and was not created by zonesync for ${formatWorkloadRef(this.workloadRef)}; it is left alone and zone-sync is not applied until it is deleted or renamed`,
      );
      return undefined;
    }
    return { live: existing as T, created: false };
  }

  private async ensureService(desired: ServiceObject): Promise<boolean | undefined> {
    const { namespace } = this.workloadRef;
    const cached = this.services.get(`${namespace}/${this.serviceName}`);
    const fingerprint = JSON.stringify(desired);
    if (this.cacheBehind("service", cached, fingerprint)) return false;
    const claim = await this.claim(Resources.services, desired, cached);
    if (claim === undefined) return undefined;
    let live = claim.live;
    if (claim.created) {
      this.remember("service", cached, fingerprint);
      this.logger.info("created the peer Service", { service: `${namespace}/${this.serviceName}` });
      return true;
    }
    if (live !== undefined && !isHeadless(live)) {
      // clusterIP is immutable: a Service that is not headless (someone replaced ours) must be recreated.
      this.logger.warn("the peer Service is not headless; recreating it", { service: this.serviceName });
      await this.client.delete(Resources.services, namespace, this.serviceName, { uid: live.metadata.uid });
      this.countWrite("service", "delete");
      live = undefined;
    }
    const drift = live === undefined ? ["missing"] : peerServiceDrift(live, desired);
    if (drift.length === 0) return false;
    let result = await this.client.apply<ServiceObject>(Resources.services, desired, { fieldManager: FIELD_MANAGER });
    this.countWrite("service", "apply");
    const wanted = desired.spec?.selector ?? {};
    if (JSON.stringify(result.spec?.selector ?? {}) !== JSON.stringify(wanted)) {
      // Server-side apply keeps selector keys that another manager added (the selector is a granular map on
      // older API servers): replace the selector as a whole.
      result = await this.client.patch<ServiceObject>(
        Resources.services,
        namespace,
        this.serviceName,
        [{ op: "replace", path: "/spec/selector", value: wanted }],
        { strategy: "json", fieldManager: FIELD_MANAGER },
      );
      this.countWrite("service", "patch");
    }
    this.remember("service", cached, fingerprint);
    this.logger.info(live === undefined ? "created the peer Service" : "repaired the peer Service", {
      service: `${namespace}/${this.serviceName}`,
      drift,
      port: desired.spec?.ports?.[0]?.port,
      uid: result.metadata.uid,
    });
    return true;
  }

  private async ensureStreamConfigMap(desired: ConfigMapObject): Promise<boolean | undefined> {
    const { namespace } = this.workloadRef;
    const cached = this.streams.get(`${namespace}/${this.streamName}`);
    const fingerprint = JSON.stringify(desired);
    if (this.cacheBehind("stream", cached, fingerprint)) return false;
    const claim = await this.claim(Resources.configMaps, desired, cached);
    if (claim === undefined) return undefined;
    const live = claim.live;
    if (!claim.created) {
      if (live !== undefined && streamConfigMapMatches(live, desired)) return false;
      await this.client.apply(Resources.configMaps, desired, { fieldManager: FIELD_MANAGER });
      this.countWrite("configmap", "apply");
    }
    this.remember("stream", cached, fingerprint);
    this.logger.info(claim.created ? "created the zone-sync.conf ConfigMap" : "updated the zone-sync.conf ConfigMap", {
      configMap: `${namespace}/${this.streamName}`,
    });
    return true;
  }

  private async deleteOwned(
    informer: Informer<KubeObject>,
    type: ResourceType,
    name: string,
    kind: string,
  ): Promise<boolean> {
    const { namespace } = this.workloadRef;
    const live = informer.get(`${namespace}/${name}`);
    const key = `delete ${kind}`;
    if (live === undefined || this.cacheBehind(key, live, "deleted")) return false;
    if (!ownedByZoneSync(live, this.workloadRef)) return false;
    const deleted = await this.client.delete(type, namespace, name, { uid: live.metadata.uid });
    this.countWrite(kind.toLowerCase(), "delete");
    this.remember(key, live, "deleted");
    if (deleted) this.logger.info(`deleted the zone-sync ${kind}`, { name: `${namespace}/${name}` });
    return deleted;
  }

  /**
   * Brings the workload's checksum annotation to `checksum` (undefined: removed). Returns true when it patched.
   * The cached workload may lag behind our own last patch; then the patched value counts as current.
   */
  private async syncChecksum(
    workload: WorkloadView,
    checksum: string | undefined,
    state: AppliedState | undefined,
    tlsSecret?: string,
  ): Promise<boolean> {
    const { uid, resourceVersion } = workload.metadata;
    const patched = uid === undefined ? undefined : this.patchedChecksums.get(uid);
    const current = patched !== undefined && patched.from === resourceVersion ? patched.to : workload.checksum;
    if (current === checksum) {
      this.applied = state;
      return false;
    }
    const cause = rolloutCause(current, { checksum, state }, this.applied);
    try {
      await this.client.patch(
        workloadResource(this.workloadRef.kind),
        this.workloadRef.namespace,
        this.workloadRef.name,
        checksumPatch(checksum, resourceVersion),
        { strategy: "merge", fieldManager: FIELD_MANAGER },
      );
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) {
        // The workload changed (or went away) since the cache saw it: look again once the cache caught up.
        this.logger.debug("the workload changed while patching its checksum; retrying", { error: describeError(err) });
        this.queue.addAfter(KEY, 250);
        return false;
      }
      throw new Error(`cannot patch the config checksum of ${formatWorkloadRef(this.workloadRef)}`, { cause: err });
    }
    this.countWrite(this.workloadRef.kind.toLowerCase(), "patch");
    this.patchedChecksums.forget();
    if (uid !== undefined) this.patchedChecksums.record(uid, { from: resourceVersion, to: checksum });
    this.applied = state;
    this.metrics?.rollouts.inc({ ...this.metricLabels, cause });
    const reason = describeRolloutCause(cause, tlsSecret);
    const message = `${reason}: ${formatWorkloadRef(this.workloadRef)} rolls (config checksum ${current ?? "none"} → ${checksum ?? "none"})`;
    this.events.event(workload, "Normal", REASON_ROLLOUT, message);
    this.logger.info("rolling the workload", { cause, from: current ?? "none", to: checksum ?? "none" });
    return true;
  }

  private async ensureSecretInformer(ref: ResolvedSecretRef): Promise<Informer<SecretObject>> {
    const current = this.secret;
    if (current === undefined || formatSecretRef(current.ref) !== formatSecretRef(ref)) {
      await this.stopSecretInformer();
      const informer = new Informer<SecretObject>({
        client: this.client,
        logger: this.logger,
        type: Resources.secrets,
        namespace: ref.namespace,
        fieldSelector: byName(ref.name),
        transform: stripManagedFields,
        name: `zone-sync tls secret ${formatSecretRef(ref)}`,
      });
      informer.addHandlers(this.enqueueHandlers() as InformerHandlers<SecretObject>);
      informer.start();
      this.secret = { ref, informer };
    }
    const informer = this.secret!.informer;
    await informer.waitForSync(this.options.syncTimeoutMs ?? 60_000);
    return informer;
  }

  private async stopSecretInformer(): Promise<void> {
    const current = this.secret;
    this.secret = undefined;
    await current?.informer.stop();
  }
}
