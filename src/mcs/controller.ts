import { hostname } from "node:os";
import { ENDPOINTSLICE_MANAGER, LABEL_ENDPOINTSLICE_MANAGED_BY } from "../api/names.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { updateWithRetry } from "../kube/conflict.ts";
import { describeError } from "../kube/errors.ts";
import { isFalse, isTrue } from "../kube/conditions.ts";
import { EventRecorder } from "../kube/events.ts";
import { Informer, splitKey, type InformerIndex } from "../kube/informer.ts";
import { LeaderElector } from "../kube/leader.ts";
import { createOnly } from "../kube/ownership.ts";
import { endpointSliceType, Resources, servedVersion, type ResourceType } from "../kube/resources.ts";
import { silentLogger, type Logger } from "../log.ts";
import { withHash, type Desired, type SliceVersion } from "../mirror/render.ts";
import { prometheusObserver } from "../queue/metrics.ts";
import { WorkQueue } from "../queue/workqueue.ts";
import { MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL } from "./api.ts";
import { mergeExportConditions } from "./conditions.ts";
import { mcsMetrics } from "./metrics.ts";
import {
  toExportedService,
  toImportSlice,
  toOwnedView,
  toServiceExportView,
  type ExportedService,
  type ImportSlice,
  type OwnedView,
  type ServiceExportView,
} from "./model.ts";
import { derivedServiceName, LABEL_MCS_MANAGED, MCS_SLICE_MANAGER } from "./names.ts";
import { importFieldsOf, planImport, serviceFieldsOf, type ImportPlan, type ServiceFields } from "./plan.ts";

export const MCS_FIELD_MANAGER = "zonesync-mcs-controller";
const REASON_NAME_CONFLICT = "NameConflict";

export interface McsControllerOptions {
  client: KubeClient;
  /** This cluster's id in the clusterset. */
  clusterId: string;
  /** Where its Lease and Events live. */
  namespace: string;
  identity?: string;
  logger?: Logger;
  workers?: number;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  metrics?: McsControllerMetrics;
}

export type McsControllerMetrics = ReturnType<typeof mcsMetrics>;

/**
 * The Multi-Cluster Services API in one cluster (ADR 0005): keeps the conditions of local ServiceExports, writes the
 * derived Service's slices that carry the local exports (with their records, for other clusters' link controllers),
 * and the ServiceImport and derived Service of every name exported by this cluster or carried in by a link.
 * One writer per cluster (its Lease); it never adopts a ServiceImport or Service it did not make.
 */
export class McsController {
  private readonly options: McsControllerOptions;
  private readonly logger: Logger;
  private readonly queue: WorkQueue;
  private readonly leader: LeaderElector;
  private readonly events: EventRecorder;
  readonly metrics: McsControllerMetrics;
  private exports!: Informer<ServiceExportView>;
  private services!: Informer<ExportedService>;
  private slices!: Informer<ImportSlice>;
  /** The derived Services' slices by namespace/import name, and the Services' own slices by namespace/service. */
  private slicesOfImport!: InformerIndex<ImportSlice>;
  private slicesOfService!: InformerIndex<ImportSlice>;
  private imports!: Informer<OwnedView>;
  private derived!: Informer<OwnedView>;
  private sliceType!: ResourceType;
  private sliceVersion!: SliceVersion;
  private serviceFields!: ServiceFields;
  private importFields!: ServiceFields;
  private leading = false;
  private running: Promise<void> | undefined;
  /** Import keys whose carried slices were ignored, with the problem last reported (reported once per change). */
  private readonly reported = new Map<string, string>();

  constructor(options: McsControllerOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger();
    this.metrics = options.metrics ?? mcsMetrics();
    this.queue = new WorkQueue({
      name: "mcs",
      coalesceMs: 20,
      logger: this.logger,
      observer: prometheusObserver(this.metrics.queue, "mcs"),
    });
    this.events = new EventRecorder({
      client: options.client,
      component: "zonesync-mcs-controller",
      logger: this.logger,
    });
    this.leader = new LeaderElector({
      client: options.client,
      name: "zonesync-mcs",
      namespace: options.namespace,
      identity: options.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
      leaseDurationSeconds: options.leaseDurationSeconds ?? 15,
      renewDeadlineSeconds: options.renewDeadlineSeconds ?? 10,
      retryPeriodSeconds: options.retryPeriodSeconds ?? 2,
      logger: this.logger,
      onStartedLeading: () => {
        this.leading = true;
        this.metrics.leader.set(1);
        this.enqueueAll();
      },
      onStoppedLeading: () => {
        this.leading = false;
        this.metrics.leader.set(0);
      },
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get synced(): boolean {
    return [this.exports, this.services, this.slices, this.imports, this.derived].every((i) => i?.hasSynced);
  }

  async start(): Promise<void> {
    const { client } = this.options;
    this.sliceVersion = await servedVersion(client, "discovery.k8s.io");
    this.sliceType = endpointSliceType(this.sliceVersion);
    this.serviceFields = serviceFieldsOf(await client.serverVersion());
    // Unreadable (no CRD yet, or no permission): the newer fields are left out rather than refused by the server.
    this.importFields = importFieldsOf(
      await client
        .getOptional(Resources.crds, undefined, `${SERVICE_IMPORT_PLURAL}.${MCS_GROUP}`)
        .catch(() => undefined),
    );
    const onError = (err: unknown) => this.logger.warn("watch failed", { error: describeError(err) });
    this.exports = new Informer({
      client,
      type: Resources.serviceExports,
      transform: (o) => toServiceExportView(o),
      name: "serviceexports",
      logger: this.logger,
      onError,
    });
    this.services = new Informer({
      client,
      type: Resources.services,
      transform: (o) => toExportedService(o) as never,
      name: "services",
      logger: this.logger,
      onError,
    });
    this.slices = new Informer({
      client,
      type: this.sliceType,
      transform: (o) => toImportSlice(o) as never,
      name: "endpointslices",
      logger: this.logger,
      onError,
    });
    this.imports = new Informer({
      client,
      type: Resources.serviceImports,
      transform: (o) => toOwnedView(LABEL_MCS_MANAGED)(o) as never,
      name: "serviceimports",
      logger: this.logger,
      onError,
    });
    this.derived = new Informer({
      client,
      type: Resources.services,
      labelSelector: `${LABEL_MCS_MANAGED}=true`,
      transform: (o) => toOwnedView(LABEL_MCS_MANAGED)(o) as never,
      name: "derived-services",
      logger: this.logger,
      onError,
    });
    this.metrics.countFrom({
      imports: () => this.imports.list().filter((i) => i.ours).length,
      exports: () => {
        const counts = { valid: 0, invalid: 0, conflicted: 0 };
        for (const { conditions } of this.exports.list()) {
          if (isFalse(conditions, "Valid")) counts.invalid++;
          else if (isTrue(conditions, "Valid")) counts.valid++;
          if (isTrue(conditions, "Conflict")) counts.conflicted++;
        }
        return counts;
      },
    });
    this.slicesOfImport = this.slices.addIndex((s) =>
      s.importName ? `${s.metadata.namespace}/${s.importName}` : undefined,
    );
    this.slicesOfService = this.slices.addIndex((s) =>
      s.service && s.managedBy !== MCS_SLICE_MANAGER ? `${s.metadata.namespace}/${s.service}` : undefined,
    );
    const key = (o: KubeObject, name = o.metadata.name) => this.queue.add(`${o.metadata.namespace}/${name}`);
    const on = <T extends KubeObject>(informer: Informer<T>, keys: (o: T) => void) =>
      informer.addHandlers({ add: keys, update: (_a, b) => keys(b), delete: keys });
    on(this.exports, (o) => key(o));
    on(this.services, (o) => key(o));
    on(this.imports, (o) => key(o));
    on(this.derived, (o) => o.importName && key(o, o.importName));
    on(this.slices, (s) => {
      if (s.importName && (s.managedBy === MCS_SLICE_MANAGER || s.managedBy === ENDPOINTSLICE_MANAGER)) {
        key(s, s.importName);
      } else if (this.exports.get(`${s.metadata.namespace}/${s.service}`)) key(s, s.service);
    });
    for (const informer of [this.exports, this.services, this.slices, this.imports, this.derived]) informer.start();
    await Promise.all(
      [this.exports, this.services, this.slices, this.imports, this.derived].map((i) => i.waitForSync(60_000)),
    );
    this.running = this.queue.run((k, signal) => this.reconcile(k, signal), {
      workers: this.options.workers ?? 16,
      onError: (k, err) => this.logger.warn("reconcile failed; retrying", { key: k, error: describeError(err) }),
    });
    this.leader.start();
    this.logger.info("MCS controller started", {
      clusterId: this.options.clusterId,
      group: `${MCS_GROUP}/${MCS_VERSION}`,
    });
  }

  async stop(): Promise<void> {
    await this.leader.stop();
    await this.queue.shutdown({ drain: false, timeoutMs: 5000 });
    await this.running;
    await Promise.all([this.exports, this.services, this.slices, this.imports, this.derived].map((i) => i?.stop()));
    await this.events.flush();
  }

  private enqueueAll(): void {
    const keys = new Set<string>();
    for (const o of this.exports.list()) keys.add(`${o.metadata.namespace}/${o.metadata.name}`);
    for (const o of this.imports.list()) if (o.ours) keys.add(`${o.metadata.namespace}/${o.metadata.name}`);
    for (const s of this.slices.list()) if (s.importName) keys.add(`${s.metadata.namespace}/${s.importName}`);
    for (const k of keys) this.queue.add(k);
  }

  private async reconcile(key: string, signal: AbortSignal): Promise<void> {
    if (!this.leading || signal.aborted) return;
    const { namespace = "", name } = splitKey(key);
    const derivedName = derivedServiceName(name);
    const importSlices = this.slicesOfImport.get(key);
    const derived = this.derived.get(`${namespace}/${derivedName}`);
    const plan = planImport({
      namespace,
      name,
      clusterId: this.options.clusterId,
      sliceVersion: this.sliceVersion,
      serviceExport: this.exports.get(key),
      service: this.services.get(key),
      serviceSlices: this.slicesOfService.get(key),
      carriedSlices: importSlices.filter((s) => s.managedBy === ENDPOINTSLICE_MANAGER),
      derivedIps: derived?.ours ? derived.clusterIPs : [],
      serviceFields: this.serviceFields,
      importFields: this.importFields,
    });
    this.reportIgnored(key, plan);
    this.logger.debug("reconcile import", {
      import: key,
      clusters: plan.serviceImport?.clusters.join(",") ?? "none",
      carried: importSlices.length,
    });
    // The own slices first: they carry the export to every other cluster, whose imports wait for them.
    await this.writeOwnSlices(namespace, plan, importSlices);
    await this.writeExportStatus(key, plan);
    await this.writeImport(namespace, name, plan, derived);
  }

  private reportIgnored(key: string, plan: ImportPlan): void {
    const text = plan.ignored.map((i) => `${i.slice}: ${i.problem}`).join("; ");
    if ((this.reported.get(key) ?? "") === text) return;
    if (text) {
      this.reported.set(key, text);
      this.logger.warn("carried export records ignored", { import: key, problems: text });
    } else this.reported.delete(key);
  }

  private async writeExportStatus(key: string, plan: ImportPlan): Promise<void> {
    const cached = this.exports.get(key);
    if (!cached || !plan.conditions) return;
    const { client } = this.options;
    const { namespace, name } = cached.metadata;
    await updateWithRetry<ServiceExportView>({
      cached,
      read: async () => {
        const fresh = await client.getOptional<KubeObject>(Resources.serviceExports, namespace, name);
        return fresh ? toServiceExportView(fresh) : undefined;
      },
      write: async (current) => {
        const merged = mergeExportConditions(
          current.conditions,
          plan.conditions!,
          new Date(),
          current.metadata.generation,
        );
        if (!merged.changed) return false;
        await client.replace(
          Resources.serviceExports,
          {
            metadata: { name, namespace, resourceVersion: current.metadata.resourceVersion },
            status: { conditions: merged.conditions },
          } as KubeObject,
          "status",
        );
        return true;
      },
      attempts: 5,
      active: () => this.leading,
    });
  }

  private async writeOwnSlices(namespace: string, plan: ImportPlan, existing: ImportSlice[]): Promise<void> {
    const { client, clusterId } = this.options;
    const mine = existing.filter((s) => s.managedBy === MCS_SLICE_MANAGER && s.sourceCluster === clusterId);
    const wanted = new Set(plan.ownSlices.map((d) => d.name));
    for (const desired of plan.ownSlices) {
      const current = mine.find((s) => s.metadata.name === desired.name);
      if (current?.hash === desired.hash) continue;
      await this.apply(this.sliceType, desired, current !== undefined);
    }
    for (const stale of mine) {
      if (wanted.has(stale.metadata.name)) continue;
      this.ensureLeading();
      await client.delete(this.sliceType, namespace, stale.metadata.name);
    }
  }

  private async writeImport(
    namespace: string,
    name: string,
    plan: ImportPlan,
    derived: OwnedView | undefined,
  ): Promise<void> {
    const { client } = this.options;
    const existingImport = this.imports.get(`${namespace}/${name}`);
    if (!plan.serviceImport || !plan.derivedService) {
      this.ensureLeading();
      if (existingImport?.ours) await client.delete(Resources.serviceImports, namespace, name);
      if (derived?.ours) await client.delete(Resources.services, namespace, derived.metadata.name);
      return;
    }
    if (derived && !derived.ours) return this.nameConflict("Service", namespace, derived.metadata.name);
    let spec = plan.serviceImport.spec;
    if (derived?.hash !== plan.derivedService.hash) {
      const written = await this.apply(Resources.services, plan.derivedService, derived !== undefined);
      if (!written) return;
      // The IP the API server just gave the derived Service goes into this very write of the import, rather than
      // one queue round later when the cache has it.
      const ips = toOwnedView(LABEL_MCS_MANAGED)(written).clusterIPs;
      if (spec.type === "ClusterSetIP" && ips.length) spec = { ...spec, ips };
    }
    if (existingImport && !existingImport.ours) return this.nameConflict("ServiceImport", namespace, name);
    const { labels, annotations } = plan.serviceImport;
    const body: KubeObject = {
      // The exported labels and annotations never hold a reserved key (exported-metadata.ts): ours cannot be posed.
      metadata: {
        name,
        namespace,
        labels: { ...labels, [LABEL_MCS_MANAGED]: "true" },
        ...(Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
      },
      spec,
    } as KubeObject;
    const desired = withHash(body);
    if (existingImport?.hash !== desired.hash) {
      const written = await this.apply(Resources.serviceImports, desired, existingImport !== undefined);
      if (!written) return;
    }
    // The exporters are compared with the status as it is, not folded into the hash: a status write lost after the
    // spec's (a killed process, a failed request) is made again, and a change of exporters alone writes no spec.
    const { clusters } = plan.serviceImport;
    const current = existingImport?.exporters ?? [];
    if (current.length === clusters.length && current.every((c, i) => c === clusters[i])) return;
    this.ensureLeading();
    // A merge patch replaces the list as a whole: exporters that went are gone from it.
    await client.patch(
      Resources.serviceImports,
      namespace,
      name,
      { status: { clusters: clusters.map((cluster) => ({ cluster })) } },
      { strategy: "merge", subresource: "status", fieldManager: MCS_FIELD_MANAGER },
    );
  }

  /**
   * Server-side apply of an object of ours; a first write is create-only (a foreign object is never adopted).
   * Resolves with the object as written, or undefined when the name is someone else's.
   */
  private async apply(type: ResourceType, desired: Desired, known: boolean): Promise<KubeObject | undefined> {
    const { client } = this.options;
    this.ensureLeading();
    if (!known) {
      // Every Service, EndpointSlice and ServiceImport of the cluster is in the caches (unfiltered informers).
      const complete =
        type === Resources.services ? this.services : type === this.sliceType ? this.slices : this.imports;
      const absentFromCompleteCache = complete.get(`${desired.namespace}/${desired.name}`) === undefined;
      const result = await createOnly(client, type, desired.body, MCS_FIELD_MANAGER, { absentFromCompleteCache });
      if ("created" in result) return result.created;
      const labels = result.existing.metadata.labels ?? {};
      const ours =
        type === this.sliceType
          ? labels[LABEL_ENDPOINTSLICE_MANAGED_BY] === MCS_SLICE_MANAGER
          : labels[LABEL_MCS_MANAGED] === "true";
      if (!ours) {
        this.nameConflict(type.kind, desired.namespace, desired.name);
        return undefined;
      }
    }
    return client.apply(type, desired.body, { fieldManager: MCS_FIELD_MANAGER, force: true });
  }

  private nameConflict(kind: string, namespace: string, name: string): void {
    const message = `${kind} ${namespace}/${name} exists and was not made by zonesync: it is left alone, and the import is not written`;
    this.logger.warn("name conflict", { kind, namespace, name });
    this.events.event(
      { apiVersion: kind === "ServiceImport" ? `${MCS_GROUP}/${MCS_VERSION}` : "v1", kind, namespace, name },
      "Warning",
      REASON_NAME_CONFLICT,
      message,
    );
  }

  private ensureLeading(): void {
    if (!this.leading) throw new Error("not leading: no further writes");
  }
}
