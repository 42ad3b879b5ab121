import { hostname } from "node:os";
import { labelSelectorToString, parseLink, parseDuration, selectorIsEmpty, type ZoneSyncLink } from "../api/link.ts";
import { FINALIZER_MIRRORS, leaseName } from "../api/names.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { describeError, errorKind, isConflict, isNotFound } from "../kube/errors.ts";
import { EventRecorder } from "../kube/events.ts";
import type { CheckResult } from "../kube/health.ts";
import { backoffDelay, Informer } from "../kube/informer.ts";
import { LeaderElector } from "../kube/leader.ts";
import { Resources, servedVersion } from "../kube/resources.ts";
import { silentLogger, type Logger } from "../log.ts";
import { WorkQueue } from "../queue/workqueue.ts";
import { TargetConnector } from "./connector.ts";
import {
  clientFromSecret,
  classifyTargetError,
  compactSecret,
  describeTargetError,
  targetErrorReason,
  type CredentialsSecret,
} from "./credentials.ts";
import { canonicalJson } from "./hash.ts";
import { LocalMirrors, mirrorSelector } from "./local.ts";
import { mirrorMetrics, recordDropped, type MirrorMetrics } from "./metrics.ts";
import { targetPolicy, type CompiledPolicy } from "./policy.ts";
import { fieldManager } from "./naming.ts";
import { MirrorRejectedError, Reconciler, type Outcome } from "./reconciler.ts";
import type { MirrorContext, PeerTarget, SliceVersion } from "./render.ts";
import { StatusWriter, type MirrorStatus } from "./status.ts";
import { parseServiceKey, PEERS_KEY, type TargetWatch } from "./target.ts";

export interface LinkControllerOptions {
  /** The local (source) cluster, where the link lives and the mirrors are written. */
  client: KubeClient;
  /** The ZoneSyncLink's name. */
  link: string;
  /** Its namespace (default zonesync-system). */
  namespace?: string;
  /** This candidate's identity for the Lease (default: $POD_NAME, else host-pid). */
  identity?: string;
  logger?: Logger;
  metrics?: MirrorMetrics;
  /** Concurrent reconciles (default 16). */
  workers?: number;
  /** Lease timing: takeover happens at most lease duration + one retry period after a leader dies. */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** At most one status write per this many ms (default 1000). */
  statusIntervalMs?: number;
  /** Re-check every mirror this often (default 5 min); each one costs no write when nothing changed. */
  resyncIntervalMs?: number;
}

const TICK_MS = 250;
/**
 * How often a mirror blocked by a foreign object of its name, or peers waiting for their local peer Service, are
 * retried (neither is watched: they resume by themselves once the object is gone, or there).
 */
const RECHECK_MS = 10_000;
/** Never mirrored into unless spec.namespaces lists them (the link's own namespace too). */
const SYSTEM_NAMESPACES = new Set(["kube-system", "kube-public", "kube-node-lease"]);

/** Spec parts the target watches depend on, and those that only change what is written. */
function targetSpecKey(link: ZoneSyncLink): string {
  const { credentialsSecret, apiServerAddress, selector, namespaces, zoneSync } = link.spec;
  return canonicalJson({
    credentialsSecret,
    apiServerAddress,
    selector,
    namespaces,
    peer: zoneSync?.targetPeerService,
  });
}

/**
 * The link controller: mirrors what one target cluster exports into the local cluster (see DESIGN.md and issue 4).
 *
 * Everything that reacts to the outside only enqueues work-queue keys (one per exported target Service, one for
 * the zone-sync peers); a reconcile reads the caches and converges the mirrors of its key. Only the Lease holder
 * reconciles, writes status and records Events; a standby keeps its caches warm for a fast takeover.
 */
export class LinkController {
  readonly link: string;
  readonly namespace: string;
  readonly metrics: MirrorMetrics;
  private readonly options: LinkControllerOptions;
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: WorkQueue;
  private readonly leader: LeaderElector;
  private readonly connector: TargetConnector;
  private readonly linkInformer: Informer<KubeObject>;
  private readonly status: StatusWriter;
  private local: LocalMirrors | undefined;
  /** The link's UID, the identity every object this controller creates carries; known once the link was seen. */
  private linkUid: string | undefined;
  /** What of the target's data is mirrored (excluded CIDRs, FQDN opt-in, caps), from the spec. */
  private policy: CompiledPolicy = targetPolicy();
  private secretInformer: Informer<CredentialsSecret> | undefined;
  private reconciler: Reconciler | undefined;
  private localSliceVersion: SliceVersion = "v1";

  private spec: ZoneSyncLink | undefined;
  private specKey = "";
  private ctxKey = "";
  private invalidSpec: string[] | undefined;
  private credentialsKey: string | undefined;
  private credentialsProblem: { reason: string; message: string } | undefined;
  private connectProblem: unknown;
  private leading = false;
  private deleting = false;
  private cleanup: Promise<void> | undefined;
  private stopped = false;
  private started = false;

  private unreachableSince: number | undefined = Date.now();
  private stale = false;
  private wasReachable = false;
  private announcedUnreachable = false;
  private resyncing = false;
  /** Keys of the running full resync not processed yet; the resync is complete when it is empty. */
  private readonly resyncPending = new Set<string>();
  /** Why the connector was last asked to connect: for the Event once it is connected. */
  private connectReason: "initial" | "credentials" | "spec" = "initial";
  private initialSyncDone = false;
  private syncedSinceIdle = false;
  private lastResync = 0;
  private readonly eventTimes = new Map<string, number>();
  private readonly outcomes = new Map<string, Outcome>();
  private readonly failures = new Map<string, string>();
  /** Work-queue key → the foreign object that blocks its mirror (one Event each, until resolved). */
  private readonly nameConflicts = new Map<string, string>();
  /** Namespaces a NamespaceMissing Event was recorded for (one Event each, until the namespace appears). */
  private readonly announcedMissing = new Set<string>();
  private lastStatusJson = "";
  private ticker: NodeJS.Timeout | undefined;
  private workers: Promise<void> | undefined;

  constructor(options: LinkControllerOptions) {
    this.options = options;
    this.client = options.client;
    this.link = options.link;
    this.namespace = options.namespace ?? "zonesync-system";
    this.logger = (options.logger ?? silentLogger()).child({ link: this.link });
    this.metrics = options.metrics ?? mirrorMetrics(this.link);
    this.recorder = new EventRecorder({
      client: this.client,
      component: "zonesync-link-controller",
      logger: this.logger,
    });
    this.queue = new WorkQueue({
      name: `mirror-${this.link}`,
      backoffBaseMs: 200,
      // A mirror the local API server keeps rejecting is retried every few minutes, not hammered.
      backoffMaxMs: 300_000,
      logger: this.logger,
    });
    this.linkInformer = new Informer<KubeObject>({
      client: this.client,
      type: Resources.zoneSyncLinks,
      namespace: this.namespace,
      fieldSelector: `metadata.name=${this.link}`,
      backoffMaxMs: 5000,
      logger: this.logger,
      name: "link",
    });
    this.linkInformer.addHandlers({
      add: (obj) => this.onLink(obj),
      update: (_old, obj) => this.onLink(obj),
      delete: () => this.onLinkGone(),
    });
    this.status = new StatusWriter({
      client: this.client,
      namespace: this.namespace,
      name: this.link,
      cached: () => this.linkInformer.get(`${this.namespace}/${this.link}`),
      minIntervalMs: options.statusIntervalMs ?? 1000,
      logger: this.logger,
      onError: () => this.metrics.errors.inc({ kind: "status" }),
    });
    this.connector = new TargetConnector({
      logger: this.logger,
      watchBackoffMaxMs: 1000,
      onChange: (key, at) => this.enqueueFromTarget(key, at),
      onActive: (watch, previous) => this.onTargetActive(watch, previous),
      onFailure: (err, retryInMs) => this.onConnectFailure(err, retryInMs),
      onWatchError: (err) => this.metrics.errors.inc({ kind: `target-${errorKind(err)}` }),
    });
    this.leader = new LeaderElector({
      client: this.client,
      name: leaseName(this.link),
      namespace: this.namespace,
      identity: options.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
      leaseDurationSeconds: options.leaseDurationSeconds ?? 12,
      renewDeadlineSeconds: options.renewDeadlineSeconds ?? 8,
      retryPeriodSeconds: options.retryPeriodSeconds ?? 2,
      logger: this.logger,
      onStartedLeading: () => this.onStartedLeading(),
      onStoppedLeading: () => this.onStoppedLeading(),
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** True once the first full sync as leader completed (mirrors converged to the target). */
  get synced(): boolean {
    return this.initialSyncDone;
  }

  /** Starts watching, campaigning and (once leader) mirroring. Resolves when the local caches are synced. */
  async start(): Promise<void> {
    if (this.started) throw new Error("the link controller was already started");
    this.started = true;
    this.localSliceVersion = await this.probeLocalSliceVersion();
    this.linkInformer.start();
    await this.linkInformer.waitForSync(60_000);
    // Bound to the link's identity by onLink when the link exists; otherwise once it appears.
    await this.local?.waitForSync(60_000);
    this.workers = this.queue.run((key) => this.handle(key), {
      workers: this.options.workers ?? 16,
      onError: (key, err) => this.onReconcileError(key, err),
    });
    this.leader.start();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.logger.info("link controller started", {
      namespace: this.namespace,
      localEndpointSlices: this.localSliceVersion,
    });
  }

  /** The EndpointSlice version the local API server offers; retried for a while when it is not reachable yet. */
  private async probeLocalSliceVersion(): Promise<SliceVersion> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await servedVersion(this.client, "discovery.k8s.io");
      } catch (err) {
        if (attempt >= 6) throw new Error("cannot reach the local API server", { cause: err });
        const delay = backoffDelay(attempt, 500, 5000);
        this.logger.warn("cannot reach the local API server; retrying", {
          error: describeError(err),
          retryInMs: delay,
        });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Stops: pending work is dropped, the status flushed, the Lease released (a standby takes over at once).
   * `releaseLease: false` leaves the Lease to expire, as a crash would (for tests of the takeover).
   */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    await this.queue.shutdown({ drain: false, timeoutMs: 5000 });
    await this.workers;
    if (this.leading) {
      this.refreshStatus();
      await this.status.stop();
    }
    await this.leader.stop({ release: options.releaseLease ?? true });
    await Promise.all([
      this.connector.stop(),
      this.linkInformer.stop(),
      this.secretInformer?.stop(),
      this.local?.stop(),
    ]);
    await this.recorder.flush();
    this.logger.info("link controller stopped");
  }

  /** Liveness: the controller's loops run. Readiness: synced as leader, or healthy caches as standby. */
  checks(): { liveness: Record<string, () => CheckResult>; readiness: Record<string, () => CheckResult> } {
    return {
      liveness: { "link-controller": () => ({ ok: !this.stopped, detail: this.stopped ? "stopped" : undefined }) },
      readiness: {
        "link-controller": () => {
          if (this.stopped) return { ok: false, detail: "stopped" };
          if (this.leading) {
            return this.initialSyncDone ? { ok: true } : { ok: false, detail: "initial sync in progress" };
          }
          const healthy = this.local?.healthy ?? false;
          return healthy ? { ok: true, detail: "standby" } : { ok: false, detail: "local caches not connected" };
        },
      },
    };
  }

  // ---- link and credentials --------------------------------------------------------------------------------

  private linkObject(): KubeObject | undefined {
    return this.linkInformer.get(`${this.namespace}/${this.link}`);
  }

  /**
   * Binds the local caches (and so every list, write and cleanup) to the link's UID. A link deleted and created
   * again under the same name is another link: the caches are rebuilt for its UID.
   */
  private bind(uid: string): void {
    if (uid === this.linkUid) return;
    const previous = this.local;
    this.linkUid = uid;
    this.local = new LocalMirrors({
      client: this.client,
      linkUid: uid,
      sliceVersion: this.localSliceVersion,
      logger: this.logger,
      onChange: (mirror, deleted) => {
        if (!deleted && this.reconciler?.isOwnWrite(mirror)) return;
        this.queue.add(mirror.source ?? "");
      },
      onNamespace: (namespace) => this.onNamespace(namespace),
    });
    this.local.start();
    this.reconciler = undefined;
    this.ctxKey = "";
    this.outcomes.clear();
    this.nameConflicts.clear();
    if (previous) {
      this.logger.info("the link was re-created: following the new one", { uid });
      void previous.stop();
    }
  }

  private onLink(obj: KubeObject): void {
    if (obj.metadata.uid) this.bind(obj.metadata.uid);
    if (obj.metadata.deletionTimestamp) {
      this.deleting = true;
      this.ctxKey = "";
      if (this.leading) this.startCleanup();
      return;
    }
    this.deleting = false;
    const parsed = parseLink(obj);
    if (!parsed.ok) {
      const message = parsed.errors.join("; ");
      if (canonicalJson(parsed.errors) !== canonicalJson(this.invalidSpec)) {
        this.logger.warn("invalid link spec; keeping the last valid one", { errors: parsed.errors });
        this.metrics.errors.inc({ kind: "invalid-spec" });
        if (this.leading) this.recorder.warning(obj, "InvalidSpec", `${message}; still using the last valid spec`);
      }
      this.invalidSpec = parsed.errors;
      return;
    }
    this.invalidSpec = undefined;
    const link = parsed.link;
    if (this.leading) void this.ensureFinalizer();
    const previous = this.spec;
    this.spec = link;
    const ctx = this.mirrorContext();
    const ctxKey = canonicalJson({ ctx, spec: link.spec, peers: this.peers() });
    if (ctxKey !== this.ctxKey) {
      this.ctxKey = ctxKey;
      if (!this.reconciler || previous?.spec.targetClusterName !== link.spec.targetClusterName) {
        this.newReconciler(ctx);
      }
      this.enqueueAll();
    }
    this.policy = targetPolicy(link.spec);
    this.connector.active?.setPolicy(this.policy);
    if (previous?.spec.credentialsSecret !== link.spec.credentialsSecret) this.watchSecret(link.spec.credentialsSecret);
    const key = targetSpecKey(link);
    if (key !== this.specKey) {
      this.specKey = key;
      this.credentialsKey = undefined; // reconnect with the current Secret under the new spec
      const secret = this.secretInformer?.get(`${this.namespace}/${link.spec.credentialsSecret}`);
      if (secret || this.secretInformer?.hasSynced) this.onSecret(secret);
    }
  }

  private onLinkGone(): void {
    // The finalizer is removed only after cleanup; an object gone without it (finalizer removed by hand) still must
    // not leave mirrors behind.
    this.deleting = true;
    this.ctxKey = "";
    if (this.leading) this.startCleanup();
  }

  private mirrorContext(): MirrorContext {
    return {
      link: this.link,
      linkUid: this.linkUid!,
      cluster: this.spec!.spec.targetClusterName,
      sliceVersion: this.localSliceVersion,
    };
  }

  private newReconciler(ctx: MirrorContext): void {
    this.reconciler = new Reconciler({
      client: this.client,
      ctx,
      fieldManager: fieldManager(this.link),
      local: this.local!,
      observer: { write: (verb, resource) => this.metrics.writes.inc({ verb, resource }) },
    });
  }

  private peers(): PeerTarget | undefined {
    const zs = this.spec?.spec.zoneSync;
    if (!zs?.targetPeerService || !zs.localPeerService) return undefined;
    return { target: zs.targetPeerService, local: zs.localPeerService, port: zs.port };
  }

  private watchSecret(name: string): void {
    const old = this.secretInformer;
    void old?.stop();
    const informer = new Informer<CredentialsSecret>({
      client: this.client,
      type: Resources.secrets,
      namespace: this.namespace,
      fieldSelector: `metadata.name=${name}`,
      transform: (raw) => compactSecret(raw),
      backoffMaxMs: 5000,
      logger: this.logger,
      name: "credentials secret",
    });
    informer.addHandlers({
      add: (s) => this.onSecret(s),
      update: (_o, s) => this.onSecret(s),
      delete: () => this.onSecret(undefined),
    });
    this.secretInformer = informer;
    this.credentialsKey = undefined;
    informer.start();
    void informer.waitForSync(3_600_000).then(
      () => {
        if (this.secretInformer === informer && informer.size === 0) this.onSecret(undefined);
      },
      () => {},
    );
  }

  private onSecret(secret: CredentialsSecret | undefined): void {
    const link = this.spec;
    if (!link || this.stopped) return;
    const key = secret?.kubeconfig ?? "";
    if (key === this.credentialsKey) return;
    const rotation = this.credentialsKey !== undefined;
    this.credentialsKey = key;
    const where = `${this.namespace}/${link.spec.credentialsSecret}`;
    let client: KubeClient;
    try {
      client = clientFromSecret(secret, where, link.spec.apiServerAddress);
    } catch (err) {
      this.setCredentialsProblem(targetErrorReason(err), describeTargetError(err));
      return;
    }
    if (rotation)
      this.logger.info("credentials changed; connecting with the new ones before dropping the old", { secret: where });
    const selector = selectorIsEmpty(link.spec.selector) ? undefined : labelSelectorToString(link.spec.selector);
    this.connectReason = rotation ? "credentials" : this.connector.active ? "spec" : "initial";
    this.connector.connect({
      client,
      selector,
      namespaces: link.spec.namespaces,
      peers: link.spec.zoneSync?.targetPeerService,
    });
  }

  private setCredentialsProblem(reason: string, message: string): void {
    const changed = this.credentialsProblem?.message !== message;
    this.credentialsProblem = { reason, message };
    this.metrics.errors.inc({ kind: "credentials" });
    if (changed) {
      this.logger.warn("credentials not usable; keeping the current mirrors", { reason, error: message });
      this.event("Warning", "CredentialsInvalid", `${message}; the mirrors are kept`);
    }
  }

  private onConnectFailure(err: unknown, retryInMs: number): void {
    if (classifyTargetError(err) === "credentials") {
      this.setCredentialsProblem(
        targetErrorReason(err),
        `the target cluster refused the credentials: ${describeTargetError(err)}`,
      );
    } else {
      this.metrics.errors.inc({ kind: `target-${errorKind(err)}` });
      this.logger.warn("cannot connect to the target cluster; retrying", {
        error: describeTargetError(err),
        retryInMs,
      });
    }
    this.connectProblem = err;
  }

  private onTargetActive(watch: TargetWatch, previous: TargetWatch | undefined): void {
    this.connectProblem = undefined;
    if (previous && this.connectReason === "credentials") {
      this.event(
        "Normal",
        "CredentialsRotated",
        "connected to the target cluster with the new credentials; the previous connection was dropped",
      );
    } else if (this.credentialsProblem) {
      this.event("Normal", "CredentialsValid", "connected to the target cluster");
    }
    this.credentialsProblem = undefined;
    watch.setPolicy(this.policy);
    this.logger.info("target watches synced", { services: watch.serviceCount, endpointSlices: watch.sliceVersion });
    this.enqueueAll();
  }

  // ---- leadership ------------------------------------------------------------------------------------------

  private onStartedLeading(): void {
    this.leading = true;
    this.metrics.leader.set(1);
    this.lastStatusJson = "";
    if (this.deleting) {
      this.startCleanup();
      return;
    }
    void this.ensureFinalizer();
    this.enqueueAll();
  }

  private onStoppedLeading(): void {
    this.leading = false;
    this.metrics.leader.set(0);
    this.initialSyncDone = false;
  }

  private async ensureFinalizer(): Promise<void> {
    for (let attempt = 0; attempt < 5 && this.leading && !this.stopped; attempt++) {
      const link =
        attempt === 0
          ? this.linkObject()
          : await this.client.getOptional(Resources.zoneSyncLinks, this.namespace, this.link);
      if (!link || link.metadata.deletionTimestamp) return;
      const finalizers = link.metadata.finalizers ?? [];
      if (finalizers.includes(FINALIZER_MIRRORS)) return;
      try {
        await this.client.patch(Resources.zoneSyncLinks, this.namespace, this.link, {
          metadata: { resourceVersion: link.metadata.resourceVersion, finalizers: [...finalizers, FINALIZER_MIRRORS] },
        });
        return;
      } catch (err) {
        if (!isConflict(err)) {
          this.logger.warn("cannot add the finalizer", { error: describeError(err) });
          return;
        }
      }
    }
  }

  // ---- cleanup ---------------------------------------------------------------------------------------------

  private startCleanup(): void {
    if (this.cleanup || this.stopped) return;
    this.cleanup = this.runCleanup().finally(() => (this.cleanup = undefined));
  }

  /** Deletes every mirror of the link, then removes the finalizer; retried with backoff until it succeeds. */
  private async runCleanup(): Promise<void> {
    const local = this.local;
    const linkUid = this.linkUid;
    // Reconciles already running finish first, so none of them writes a mirror after the listing below.
    for (let i = 0; i < 100 && this.queue.processingCount > 0; i++) await new Promise((r) => setTimeout(r, 100));
    for (let attempt = 0; this.leading && this.deleting && !this.stopped; attempt++) {
      try {
        // Only what this link created (its UID label) is deleted; without a UID it never created anything.
        const reconciler =
          local && linkUid
            ? (this.reconciler ??
              new Reconciler({
                client: this.client,
                ctx: { link: this.link, linkUid, cluster: "", sliceVersion: this.localSliceVersion },
                fieldManager: fieldManager(this.link),
                local,
              }))
            : undefined;
        const deleted = linkUid ? ((await reconciler?.deleteAll(mirrorSelector(linkUid))) ?? 0) : 0;
        this.logger.info("link deleted: removed its mirrors", { deleted });
        const link = await this.client.getOptional(Resources.zoneSyncLinks, this.namespace, this.link);
        if (link) {
          if (deleted > 0) this.recorder.normal(link, "MirrorsRemoved", `removed ${deleted} mirrored objects`);
          const finalizers = (link.metadata.finalizers ?? []).filter((f) => f !== FINALIZER_MIRRORS);
          if (finalizers.length !== (link.metadata.finalizers ?? []).length) {
            await this.client.patch(Resources.zoneSyncLinks, this.namespace, this.link, {
              metadata: { resourceVersion: link.metadata.resourceVersion, finalizers },
            });
          }
        }
        this.outcomes.clear();
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        this.metrics.errors.inc({ kind: "cleanup" });
        const delay = backoffDelay(attempt, 500, 30_000);
        this.logger.warn("cleanup failed; retrying", { error: describeError(err), retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  // ---- work ------------------------------------------------------------------------------------------------

  private enqueueFromTarget(key: string, receivedAt: number): void {
    if (!this.eventTimes.has(key)) this.eventTimes.set(key, receivedAt);
    this.queue.add(key);
  }

  /** A full resync: every exported Service, every source some mirror refers to (orphans), and the peers. */
  private enqueueAll(): void {
    if (!this.leading || this.stopped) return;
    this.resyncing = true;
    this.lastResync = Date.now();
    const keys = [...(this.connector.active?.serviceKeys() ?? []), ...(this.local?.sources() ?? []), PEERS_KEY];
    for (const key of keys) {
      this.resyncPending.add(key);
      this.queue.add(key);
    }
  }

  private onNamespace(namespace: string): void {
    this.announcedMissing.delete(namespace);
    for (const [key, outcome] of this.outcomes) {
      if (outcome.skipped?.reason === "NamespaceMissing" && parseServiceKey(key)?.namespace === namespace)
        this.queue.add(key);
    }
    this.queue.add(PEERS_KEY);
  }

  private async handle(key: string): Promise<void> {
    try {
      await this.reconcile(key);
    } finally {
      this.resyncPending.delete(key);
    }
  }

  private async reconcile(key: string): Promise<void> {
    const target = this.connector.active;
    const reconciler = this.reconciler;
    const receivedAt = this.eventTimes.get(key);
    this.eventTimes.delete(key);
    if (!this.leading || this.deleting || !reconciler || !this.spec || this.stopped) return;
    let outcome: Outcome;
    try {
      if (key === PEERS_KEY) {
        outcome = await reconciler.reconcilePeers(target, key, this.peers(), this.stale);
      } else {
        const ref = parseServiceKey(key);
        if (ref && this.namespaceExcluded(ref.namespace)) {
          outcome = {
            ...(await reconciler.deleteSource(key)),
            skipped: {
              reason: "NamespaceExcluded",
              message: `namespace ${ref.namespace} is not mirrored into unless spec.namespaces lists it`,
            },
          };
        } else if (!target || !ref) {
          // No target state yet: nothing can be told apart from an orphan, so nothing is touched.
          if (ref || !target) return;
          outcome = await reconciler.deleteSource(key);
        } else {
          outcome = await reconciler.reconcileService(target, key, ref.namespace, ref.name, {
            stale: this.stale,
            createNamespaces: this.spec.spec.createNamespaces,
          });
        }
      }
    } catch (err) {
      if (receivedAt !== undefined && !this.eventTimes.has(key)) this.eventTimes.set(key, receivedAt);
      throw err;
    }
    this.failures.delete(key);
    this.record(key, outcome);
    if (outcome.writes > 0) {
      this.syncedSinceIdle = true;
      if (receivedAt !== undefined) this.metrics.syncLag.observe((performance.now() - receivedAt) / 1000);
    }
  }

  private record(key: string, outcome: Outcome): void {
    const previous = this.outcomes.get(key);
    if (!outcome.mirrored && !outcome.skipped) this.outcomes.delete(key);
    else this.outcomes.set(key, outcome);
    const skipped = outcome.skipped;
    this.recordNameConflict(key, skipped?.reason === "NameConflict" ? skipped : undefined);
    if (skipped?.reason === "NamespaceMissing") {
      const namespace = key === PEERS_KEY ? this.peers()?.local.namespace : parseServiceKey(key)?.namespace;
      if (namespace && !this.announcedMissing.has(namespace)) {
        this.announcedMissing.add(namespace);
        this.event(
          "Warning",
          "NamespaceMissing",
          `${skipped.message}: not mirroring ${key.replace(/^svc:/, "")} (set spec.createNamespaces to create it)`,
        );
      }
    } else if (skipped?.reason === "NameConflict" || skipped?.reason === "PeerServiceMissing") {
      this.queue.addAfter(key, RECHECK_MS);
    } else if (skipped?.reason === "InvalidSpec") {
      if (previous?.skipped?.message !== skipped.message) this.event("Warning", "InvalidSpec", skipped.message);
    } else if (skipped?.reason === "Invalid") {
      this.event("Warning", "InvalidTargetObject", `${key.replace(/^svc:/, "")}: ${skipped.message}`);
    }
  }

  /** One Warning Event per conflict (not per resync); the condition and the metric follow the current set. */
  private recordNameConflict(key: string, conflict: { message: string; object?: string } | undefined): void {
    const before = this.nameConflicts.get(key);
    if (!conflict) {
      if (before === undefined) return;
      this.nameConflicts.delete(key);
      this.logger.info("name conflict resolved; mirroring", { source: key, object: before });
    } else {
      const object = conflict.object ?? conflict.message;
      if (before === object) return;
      this.nameConflicts.set(key, object);
      this.logger.warn("name conflict: a local object of the mirror's name was not created by this link", {
        source: key,
        object,
      });
      this.event(
        "Warning",
        "NameConflict",
        `${conflict.message}: ${key.replace(/^svc:/, "")} is not mirrored until it is deleted or renamed (mirroring then resumes by itself)`,
      );
    }
    this.metrics.nameConflicts.set(this.nameConflicts.size);
  }

  private namespaceExcluded(namespace: string): boolean {
    if (this.spec?.spec.namespaces?.includes(namespace)) return false;
    return SYSTEM_NAMESPACES.has(namespace) || namespace === this.namespace;
  }

  private onReconcileError(key: string, err: unknown): void {
    const message = describeError(err);
    const before = this.failures.get(key);
    this.failures.set(key, message);
    this.metrics.errors.inc({
      kind: err instanceof MirrorRejectedError ? "local-rejected" : `local-${errorKind(err)}`,
    });
    if (err instanceof MirrorRejectedError && before !== message) {
      this.event("Warning", "MirrorRejected", `${key.replace(/^svc:/, "")}: ${message}; retried with backoff`);
    }
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    const link = this.linkObject();
    if (this.leading && link) this.recorder.event(link, type, reason, message);
  }

  // ---- reachability, staleness, status ---------------------------------------------------------------------

  private tick(): void {
    if (this.stopped) return;
    const target = this.connector.active;
    const reachable = target?.healthy ?? false;
    this.metrics.targetReachable.set(reachable ? 1 : 0);
    const now = Date.now();
    if (reachable) {
      if (this.announcedUnreachable) {
        this.announcedUnreachable = false;
        this.logger.info("target cluster reachable again");
        this.event("Normal", "TargetRecovered", "the target cluster is reachable again; mirrors are being converged");
      }
      this.unreachableSince = undefined;
      if (this.stale) {
        this.stale = false;
        this.metrics.stale.set(0);
        this.enqueueAll();
      }
    } else {
      this.unreachableSince ??= now;
      const problem = target?.lastError ?? this.connectProblem;
      const unreachable =
        this.wasReachable || (problem !== undefined && classifyTargetError(problem) === "unreachable");
      if (!this.announcedUnreachable && unreachable && this.spec) {
        this.announcedUnreachable = true;
        const error = describeTargetError(problem ?? "connection lost");
        this.logger.warn("target cluster unreachable; mirrors are kept", { error });
        this.event(
          "Warning",
          "TargetUnreachable",
          `${error}; mirrors are kept, their endpoints are marked not ready after ${this.spec.spec.staleAfter}`,
        );
      }
      const staleAfter = this.spec ? parseDuration(this.spec.spec.staleAfter) : Infinity;
      if (!this.stale && this.reconciler && now - this.unreachableSince >= staleAfter) {
        this.stale = true;
        this.metrics.stale.set(1);
        this.logger.warn("target unreachable past staleAfter: marking mirrored endpoints not ready");
        this.event(
          "Warning",
          "EndpointsStale",
          `the target cluster has been unreachable for ${this.spec!.spec.staleAfter}: mirrored endpoints are marked not ready`,
        );
        // With the target's state (the usual outage) the mirrors are re-rendered as stale; without it (started
        // while the target was already down) the mirrors written by an earlier run are marked in place.
        if (target) this.enqueueAll();
        else void this.markLocalStale();
      }
    }
    this.wasReachable = reachable;
    if (this.leading && !this.deleting && this.resyncing && target && this.resyncPending.size === 0) {
      // Every key of the resync was processed once (failing ones keep being retried with backoff).
      this.resyncing = false;
      if (!this.initialSyncDone) {
        this.logger.info("initial sync done", { services: this.countMirrored().services, failing: this.failures.size });
      }
      this.initialSyncDone = true;
      this.syncedSinceIdle = true;
    }
    if (this.leading && !this.deleting && this.queue.idle) {
      if (this.syncedSinceIdle) {
        this.syncedSinceIdle = false;
        this.status.update({ lastSyncTime: new Date() });
      }
    }
    if (this.leading && now - this.lastResync > (this.options.resyncIntervalMs ?? 300_000)) this.enqueueAll();
    this.refreshStatus();
  }

  private missingNamespaces(): string[] {
    const namespaces = new Set<string>();
    for (const [key, o] of this.outcomes) {
      if (o.skipped?.reason !== "NamespaceMissing") continue;
      const namespace = key === PEERS_KEY ? this.peers()?.local.namespace : parseServiceKey(key)?.namespace;
      if (namespace) namespaces.add(namespace);
    }
    return [...namespaces].sort();
  }

  private async markLocalStale(): Promise<void> {
    const reconciler = this.reconciler;
    if (!this.leading || !reconciler) return;
    try {
      const marked = await reconciler.markStale(() => this.stale && !this.connector.active && this.leading);
      this.logger.warn("no target state: marked the existing mirrored endpoints not ready in place", { marked });
    } catch (err) {
      this.metrics.errors.inc({ kind: `local-${errorKind(err)}` });
      this.logger.warn("cannot mark the mirrored endpoints not ready", { error: describeError(err) });
      this.stale = false; // retried at the next tick
      this.metrics.stale.set(0);
    }
  }

  private countMirrored(): { services: number; endpoints: number } {
    let services = 0;
    let endpoints = 0;
    for (const [key, o] of this.outcomes) {
      if (!o.mirrored) continue;
      if (key !== PEERS_KEY) services++;
      endpoints += o.endpoints;
    }
    return { services, endpoints };
  }

  /** Computes the controller's conditions and counts; the status writer skips writes that change nothing. */
  private refreshStatus(): void {
    const counts = this.countMirrored();
    this.metrics.services.set(counts.services);
    this.metrics.endpoints.set(counts.endpoints);
    const target = this.connector.active;
    const dropped = target ? target.droppedCounts() : undefined;
    if (dropped) recordDropped(this.metrics, dropped);
    const overCap = target?.serviceCap().over.length ?? 0;
    this.metrics.servicesOverCap.set(overCap);
    if (!this.leading || this.deleting || !this.linkObject()) return;
    const desired: MirrorStatus["conditions"] = {
      CredentialsValid: this.credentialsProblem
        ? { status: false, reason: this.credentialsProblem.reason, message: this.credentialsProblem.message }
        : this.connector.active
          ? { status: true, reason: "Valid", message: "the target cluster accepts the credentials" }
          : { status: "Unknown", reason: "Connecting", message: "not connected to the target cluster yet" },
      TargetReachable: this.targetReachableCondition(),
      Mirrored: this.mirroredCondition(),
    };
    const update: Partial<MirrorStatus> = {
      conditions: desired,
      mirroredServices: counts.services,
      mirroredEndpoints: counts.endpoints,
      ...(dropped ? { droppedFromTarget: dropped } : {}),
    };
    const json = canonicalJson(update);
    if (json === this.lastStatusJson) return;
    this.lastStatusJson = json;
    this.status.update(update);
  }

  private targetReachableCondition(): MirrorStatus["conditions"]["TargetReachable"] {
    const target = this.connector.active;
    if (target?.healthy)
      return { status: true, reason: "Reachable", message: "every watch on the target cluster is connected" };
    const err = target?.lastError ?? this.connectProblem;
    const since = this.unreachableSince ? new Date(this.unreachableSince).toISOString() : "startup";
    if (!err) return { status: "Unknown", reason: "Connecting", message: "connecting to the target cluster" };
    return {
      status: false,
      reason: targetErrorReason(err),
      message: `unreachable since ${since}: ${describeTargetError(err)}${this.stale ? "; mirrored endpoints are marked not ready" : "; mirrors are kept"}`,
    };
  }

  private mirroredCondition(): MirrorStatus["conditions"]["Mirrored"] {
    if (this.invalidSpec) {
      return {
        status: false,
        reason: "InvalidSpec",
        message: `${this.invalidSpec.join("; ")}; still using the last valid spec`,
      };
    }
    const invalidPeers = this.outcomes.get(PEERS_KEY)?.skipped;
    if (invalidPeers?.reason === "InvalidSpec") {
      return { status: false, reason: "InvalidSpec", message: invalidPeers.message };
    }
    if (!this.connector.active)
      return { status: false, reason: "NotConnected", message: "not connected to the target cluster yet" };
    if (this.stale) {
      return {
        status: false,
        reason: "Stale",
        message: `the target cluster is unreachable past staleAfter (${this.spec?.spec.staleAfter}): endpoints marked not ready`,
      };
    }
    if (this.failures.size > 0) {
      const [key, error] = this.failures.entries().next().value as [string, string];
      return {
        status: false,
        reason: "SyncFailed",
        message:
          `${this.failures.size} failing (retried with backoff), e.g. ${key.replace(/^svc:/, "")}: ${error}`.slice(
            0,
            1000,
          ),
      };
    }
    if (this.nameConflicts.size > 0) {
      const objects = [...new Set(this.nameConflicts.values())].sort();
      const list = objects.slice(0, 5).join(", ");
      return {
        status: false,
        reason: "NameConflict",
        message:
          `${objects.length} local object(s) have a mirror's name but were not created by this link and are left alone: ` +
          `${list}${objects.length > 5 ? ", …" : ""}; delete or rename them and mirroring resumes by itself`,
      };
    }
    if (!this.initialSyncDone) return { status: false, reason: "InitialSync", message: "initial sync in progress" };
    const overCap = this.connector.active?.serviceCap().over ?? [];
    if (overCap.length > 0) {
      return {
        status: false,
        reason: "ServicesOverCap",
        message:
          `${overCap.length} exported Services are over spec.maxServices (${this.policy.maxServices}) and not mirrored, ` +
          `e.g. ${[...overCap].slice(0, 3).join(", ")}; raise spec.maxServices or narrow spec.selector`,
      };
    }
    const missing = this.missingNamespaces();
    if (missing.length > 0) {
      const list = missing.slice(0, 5).join(", ");
      return {
        status: false,
        reason: "NamespaceMissing",
        message: `not mirrored, namespaces missing here: ${list}${missing.length > 5 ? ", …" : ""} (spec.createNamespaces is false)`,
      };
    }
    return { status: true, reason: "Synced", message: "every exported Service is mirrored" };
  }
}
