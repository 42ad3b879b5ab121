import { hostname } from "node:os";
import {
  labelSelectorToString,
  MAX_NAME_CONFLICTS_LISTED,
  parseLink,
  parseDuration,
  selectorIsEmpty,
  type ZoneSyncLink,
} from "../api/link.ts";
import {
  ANNOTATION_TARGET_SERVICE_ACCOUNT,
  ANNOTATION_TOKEN_EXPIRES,
  leaseName,
  SECRET_KEY_KUBECONFIG,
} from "../api/names.ts";
import type { RemoteCredentials } from "../api/remote-kubeconfig.ts";
import { KubeClient, type KubeClientLimits, type KubeObject } from "../kube/client.ts";
import { requestToken } from "../link/credentials.ts";
import { describeError, errorKind, isNotFound } from "../kube/errors.ts";
import { EventRecorder } from "../kube/events.ts";
import type { CheckResult } from "../kube/health.ts";
import { backoffDelay, Informer } from "../kube/informer.ts";
import { LeaderElector } from "../kube/leader.ts";
import { Resources, servedVersion } from "../kube/resources.ts";
import { silentLogger, type Logger } from "../log.ts";
import { WorkQueue } from "../queue/workqueue.ts";
import { prometheusObserver } from "../queue/metrics.ts";
import { linkConditions } from "./conditions.ts";
import { TargetConnector } from "./connector.ts";
import { CredentialsWatch } from "./credentials-watch.ts";
import {
  classifyTargetError,
  credentialsFromSecret,
  describeTargetError,
  targetErrorReason,
  type CredentialsSecret,
} from "./credentials.ts";
import { addMirrorsFinalizer, removeMirrorsFinalizer, type LinkRef } from "./finalizer.ts";
import { canonicalJson } from "../api/render.ts";
import { LocalMirrors, mirrorSelector } from "./local.ts";
import { mirrorMetrics, recordDropped, type MirrorMetrics } from "./metrics.ts";
import { fieldManager } from "./naming.ts";
import { OutcomeBook } from "./outcomes.ts";
import { targetPolicy, type CompiledPolicy } from "./policy.ts";
import { Reachability } from "./reachability.ts";
import { DEFAULT_RENEW_AFTER, renewalDue, tokenLifetime, withToken, type TokenLifetime } from "./renewal.ts";
import { MirrorRejectedError, NotLeadingError, Reconciler, type Outcome } from "./reconciler.ts";
import type { MirrorContext, PeerTarget, SliceVersion } from "./render.ts";
import { StatusWriter, type MirrorStatus } from "./status.ts";
import { parseImportKey, parseServiceKey, PEERS_KEY, type TargetWatch } from "./target.ts";
import { OwnWrites } from "../kube/own-writes.ts";
import { sleep } from "../sleep.ts";

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
  /** Bounds on what the target's API server may send (default DEFAULT_LIMITS: 64 MiB body, 4 MiB watch event). */
  targetLimits?: Partial<KubeClientLimits>;
  /** Renew the target token once this fraction of its lifetime has passed (default 0.8). */
  renewAfter?: number;
}

/**
 * Work-queue keys of the controller's own periodic and event-driven work, next to the target's keys (`svc:…` and
 * PEERS_KEY): they share the queue's delays, coalescing and shutdown, so there is no timer or tick beside it.
 */
const CONTROL = {
  /** Re-evaluate the target's reachability (a watch connected or failed; staleAfter may have passed). */
  reachability: "control:reachability",
  /** Enqueue every key: the periodic full resync. */
  resync: "control:resync",
  /** Renew the target token when it is due (see renewal.ts). */
  renew: "control:renew-credentials",
  /** Mark the mirrors written by an earlier run not ready in place (stale, and the target's state is unknown). */
  markStale: "control:mark-stale",
  /** Recompute the status and conditions (coalesced: at most once per STATUS_DELAY_MS). */
  status: "control:status",
} as const;
const CONTROL_KEYS = new Set<string>(Object.values(CONTROL));
const STATUS_DELAY_MS = 200;
/** A renewal further away than this is looked at again then (timers cannot wait longer than ~24.8 days). */
const MAX_RENEW_WAIT_MS = 24 * 3600 * 1000;
/** A renewed token: a JWT (three base64url parts) of at most 16 KiB. */
const RENEWED_TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_RENEWED_TOKEN_LENGTH = 16 * 1024;
/**
 * How often a mirror blocked by a foreign object of its name, or peers waiting for their local peer Service, are
 * retried (neither is watched: they resume by themselves once the object is gone, or there).
 */
const RECHECK_MS = 10_000;
/** Never mirrored into unless spec.namespaces lists them (the link's own namespace too). */
const SYSTEM_NAMESPACES = new Set(["kube-system", "kube-public", "kube-node-lease"]);

/** Spec parts the target watches depend on, and those that only change what is written. */
function targetSpecKey(link: ZoneSyncLink): string {
  const { credentialsSecret, apiServerAddress, insecureSkipTLSVerify, selector, namespaces, zoneSync } = link.spec;
  return canonicalJson({
    credentialsSecret,
    apiServerAddress,
    insecureSkipTLSVerify,
    selector,
    namespaces,
    peer: zoneSync?.targetPeerService,
    mcs: link.spec.serviceExports ? link.spec.targetClusterName : undefined,
  });
}

function sourceName(key: string): string {
  return key.startsWith("mcs:") ? `the MCS export ${key.slice(4)}` : key.replace(/^svc:/, "");
}

/**
 * The link controller: mirrors what one target cluster exports into the local cluster (see DESIGN.md and issue 4).
 *
 * Everything that reacts to the outside only enqueues work-queue keys (one per exported target Service, one for
 * the zone-sync peers, and the CONTROL keys); a reconcile reads the caches and converges the mirrors of its key.
 * Only the Lease holder reconciles, writes status and records Events; a standby keeps its caches warm for a fast
 * takeover. The parts: the credentials Secret (credentials-watch.ts), the target's watches (connector.ts), the
 * mirrors (reconciler.ts), reachability and staleness (reachability.ts), outcomes (outcomes.ts), the conditions
 * (conditions.ts), the finalizer (finalizer.ts).
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
  private readonly credentials: CredentialsWatch;
  private readonly linkInformer: Informer<KubeObject>;
  private readonly status: StatusWriter;
  private readonly reachability = new Reachability(Date.now());
  /** Whole seconds, as 1.20's EndpointSlice controller stamps trigger times: a change in this second still counts. */
  private readonly startedAt = Math.floor(Date.now() / 1000) * 1000;
  private readonly outcomes = new OutcomeBook(() => this.peers()?.local.namespace);
  private local: LocalMirrors | undefined;
  /** The link's UID, the identity every object this controller creates carries; known once the link was seen. */
  private linkUid: string | undefined;
  /** What of the target's data is mirrored (excluded CIDRs, FQDN opt-in, caps), from the spec. */
  private policy: CompiledPolicy = targetPolicy();
  private reconciler: Reconciler | undefined;
  private localSliceVersion: SliceVersion = "v1";

  private spec: ZoneSyncLink | undefined;
  private specKey = "";
  private ctxKey = "";
  private invalidSpec: string[] | undefined;
  private credentialsProblem: { reason: string; message: string } | undefined;
  /** The target token last connected with, its lifetime and ServiceAccount: what renewal needs. */
  private token:
    { kubeconfig: string; lifetime: TokenLifetime; serviceAccount?: string; resourceVersion?: string } | undefined;
  private renewalProblem: string | undefined;
  private connectProblem: unknown;
  private leading = false;
  private deleting = false;
  private cleanup: Promise<void> | undefined;
  private stopped = false;
  private started = false;

  /** A full resync is running (every key enqueued); complete when `resyncPending` is empty. */
  private resyncing = false;
  private readonly resyncPending = new Set<string>();
  /** Why the connector was last asked to connect: for the Event once it is connected. */
  private connectReason: "initial" | "credentials" | "spec" = "initial";
  private initialSyncDone = false;
  /** Mirrors were written (or a resync completed) since lastSyncTime was last set. */
  private syncedSinceIdle = false;
  private readonly eventTimes = new Map<string, number>();
  /** The status last sent, so the same status is never sent twice. */
  private readonly sentStatus = new OwnWrites<string>();
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
      observer: prometheusObserver(this.metrics.queue, "mirror"),
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
    this.credentials = new CredentialsWatch({
      client: this.client,
      namespace: this.namespace,
      logger: this.logger,
      onChange: (secret) => this.onSecret(secret),
    });
    this.status = new StatusWriter({
      client: this.client,
      namespace: this.namespace,
      name: this.link,
      cached: () => this.linkObject(),
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
      onHealthChange: () => this.queue.add(CONTROL.reachability),
    });
    this.leader = new LeaderElector({
      client: this.client,
      name: leaseName(this.link),
      namespace: this.namespace,
      identity: options.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
      // Expiry is judged from when a standby last saw the Lease change, up to one retry period late, and it tries
      // every retry period: a standby takes over within 9 + 2 × 2.4 s, under 15 s, of the leader's last renewal.
      leaseDurationSeconds: options.leaseDurationSeconds ?? 9,
      renewDeadlineSeconds: options.renewDeadlineSeconds ?? 6,
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
    this.queue.add(CONTROL.reachability);
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
        await sleep(delay);
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
    await this.queue.shutdown({ drain: false, timeoutMs: 5000 });
    await this.workers;
    if (this.leading) {
      this.refreshStatus();
      await this.status.stop();
    }
    await this.leader.stop({ release: options.releaseLease ?? true });
    await Promise.all([this.connector.stop(), this.linkInformer.stop(), this.credentials.stop(), this.local?.stop()]);
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

  private linkRef(): LinkRef {
    return { client: this.client, namespace: this.namespace, name: this.link, logger: this.logger };
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
    if (previous) {
      this.logger.info("the link was re-created: following the new one", { uid });
      void previous.stop();
    }
  }

  private onLink(obj: KubeObject): void {
    if (obj.metadata.uid) this.bind(obj.metadata.uid);
    this.queue.add(CONTROL.status);
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
    // staleAfter may have changed, and a reconciler may exist now: stale is re-evaluated.
    this.queue.add(CONTROL.reachability);
    this.credentials.watch(link.spec.credentialsSecret);
    const key = targetSpecKey(link);
    if (key !== this.specKey) {
      this.specKey = key;
      this.credentials.refresh(); // reconnect with the current Secret under the new spec
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
      observer: {
        write: (verb, resource) => this.metrics.writes.inc({ verb, resource }),
        changeMirrored: (triggerTime) => this.observeEndToEndLag(triggerTime),
      },
      mayWrite: () => this.leading && !this.stopped,
    });
  }

  private peers(): PeerTarget | undefined {
    const zs = this.spec?.spec.zoneSync;
    if (!zs?.targetPeerService || !zs.localPeerService) return undefined;
    return { target: zs.targetPeerService, local: zs.localPeerService, port: zs.port };
  }

  private onSecret(secret: CredentialsSecret | undefined): void {
    const link = this.spec;
    if (!link || this.stopped) return;
    const rotation = this.credentials.hasReported;
    const where = `${this.namespace}/${link.spec.credentialsSecret}`;
    let credentials: RemoteCredentials;
    try {
      credentials = credentialsFromSecret(secret, where, {
        apiServerAddress: link.spec.apiServerAddress,
        allowInsecure: link.spec.insecureSkipTLSVerify,
      });
    } catch (err) {
      this.setCredentialsProblem(targetErrorReason(err), describeTargetError(err));
      return;
    }
    const client = KubeClient.fromCredentials(credentials, this.options.targetLimits);
    this.trackToken(secret, credentials);
    if (rotation)
      this.logger.info("credentials changed; connecting with the new ones before dropping the old", { secret: where });
    const selector = selectorIsEmpty(link.spec.selector) ? undefined : labelSelectorToString(link.spec.selector);
    this.connectReason = rotation ? "credentials" : this.connector.active ? "spec" : "initial";
    this.connector.connect({
      client,
      selector,
      namespaces: link.spec.namespaces,
      peers: link.spec.zoneSync?.targetPeerService,
      ...(link.spec.serviceExports ? { mcs: { cluster: link.spec.targetClusterName } } : {}),
    });
  }

  /** Notes the token's lifetime (metric) and schedules its renewal. */
  private trackToken(secret: CredentialsSecret | undefined, credentials: RemoteCredentials): void {
    const lifetime = tokenLifetime(credentials.token);
    this.token =
      lifetime && secret?.kubeconfig
        ? {
            kubeconfig: Buffer.from(secret.kubeconfig, "base64").toString("utf8"),
            lifetime,
            serviceAccount: secret.targetServiceAccount,
            resourceVersion: secret.metadata.resourceVersion,
          }
        : undefined;
    if (!lifetime) {
      this.metrics.credentialsExpiry.reset();
      this.metrics.credentialsRenewable.reset();
      return;
    }
    this.metrics.credentialsExpiry.set(lifetime.expiresAt / 1000);
    this.metrics.credentialsRenewable.set(secret?.targetServiceAccount ? 1 : 0);
    this.scheduleRenewal();
  }

  private scheduleRenewal(): void {
    const token = this.token;
    if (!token) return;
    const due = renewalDue(token.lifetime, this.options.renewAfter ?? DEFAULT_RENEW_AFTER);
    this.queue.addAfter(CONTROL.renew, Math.min(MAX_RENEW_WAIT_MS, Math.max(0, due - Date.now())));
  }

  /**
   * Renews the target token when it is due: a TokenRequest for the same ServiceAccount and lifetime on the target,
   * with the connection in use, written into the link's own credentials Secret. The Secret watch then connects with
   * it, and drops the old connection only once the new token lists (as for any rotation).
   */
  private async renewCredentials(): Promise<void> {
    const token = this.token;
    const target = this.connector.active;
    const link = this.spec;
    if (!token || !target || !link || !this.leading) return;
    const due = renewalDue(token.lifetime, this.options.renewAfter ?? DEFAULT_RENEW_AFTER);
    if (Date.now() < due) return this.scheduleRenewal();
    if (!token.serviceAccount) {
      const problem = `the credentials Secret does not name the target ServiceAccount (${ANNOTATION_TARGET_SERVICE_ACCOUNT}): the token cannot be renewed and expires at ${new Date(token.lifetime.expiresAt).toISOString()}`;
      if (this.renewalProblem !== problem) this.event("Warning", "CredentialsNotRenewable", problem);
      this.renewalProblem = problem;
      return;
    }
    const [namespace, name] = token.serviceAccount.split("/") as [string, string];
    const ttlSeconds = Math.round((token.lifetime.expiresAt - token.lifetime.issuedAt) / 1000);
    try {
      const issued = await requestToken(target.client, namespace, name, ttlSeconds);
      const kubeconfig = withToken(token.kubeconfig, issued.token);
      // The target's answer is untrusted too: a token is a JWT of bounded size, and the policy reads it again.
      if (issued.token.length > MAX_RENEWED_TOKEN_LENGTH || !RENEWED_TOKEN.test(issued.token))
        throw new Error("the target returned a token that is not a bounded JWT");
      // Written over the Secret as it was read: a rotation made meanwhile (by a person) is never overwritten.
      await this.client.patch(Resources.secrets, this.namespace, link.spec.credentialsSecret, {
        metadata: {
          resourceVersion: token.resourceVersion,
          annotations: { [ANNOTATION_TOKEN_EXPIRES]: issued.expiresAt },
        },
        data: { [SECRET_KEY_KUBECONFIG]: Buffer.from(kubeconfig).toString("base64") },
      });
      this.renewalProblem = undefined;
      this.logger.info("renewed the target token", {
        serviceAccount: token.serviceAccount,
        expiresAt: issued.expiresAt,
      });
      this.event(
        "Normal",
        "CredentialsRenewed",
        `requested a new token for ${token.serviceAccount} on the target (valid until ${issued.expiresAt}); switching to it once it lists`,
      );
    } catch (err) {
      const problem = `renewing the target token of ${token.serviceAccount} failed: ${describeTargetError(err)}; retrying with backoff, it expires at ${new Date(token.lifetime.expiresAt).toISOString()}`;
      this.metrics.errors.inc({ kind: "renewal" });
      if (this.renewalProblem !== problem) this.event("Warning", "CredentialsRenewalFailed", problem);
      this.renewalProblem = problem;
      throw new Error(problem, { cause: err });
    }
  }

  private setCredentialsProblem(reason: string, message: string): void {
    const changed = this.credentialsProblem?.message !== message;
    this.credentialsProblem = { reason, message };
    this.metrics.errors.inc({ kind: "credentials" });
    this.queue.add(CONTROL.status);
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
    this.queue.add(CONTROL.reachability);
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
    this.queue.add(CONTROL.reachability);
    this.enqueueAll();
  }

  // ---- leadership ------------------------------------------------------------------------------------------

  private onStartedLeading(): void {
    this.leading = true;
    this.metrics.leader.set(1);
    this.sentStatus.forget();
    this.queue.add(CONTROL.status);
    if (this.deleting) {
      this.startCleanup();
      return;
    }
    void this.ensureFinalizer();
    this.queue.add(CONTROL.reachability);
    if (this.reachability.stale && !this.connector.active) this.queue.add(CONTROL.markStale);
    this.scheduleRenewal();
    this.enqueueAll();
  }

  private onStoppedLeading(): void {
    this.leading = false;
    this.metrics.leader.set(0);
    this.initialSyncDone = false;
  }

  private ensureFinalizer(): Promise<void> {
    return addMirrorsFinalizer(this.linkRef(), this.linkObject(), () => this.leading && !this.stopped);
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
    for (let i = 0; i < 100 && this.queue.processingCount > 0; i++) await sleep(100);
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
                mayWrite: () => this.leading && !this.stopped,
              }))
            : undefined;
        const deleted = linkUid ? ((await reconciler?.deleteAll(mirrorSelector(linkUid))) ?? 0) : 0;
        this.logger.info("link deleted: removed its mirrors", { deleted });
        const link = await removeMirrorsFinalizer(this.linkRef());
        if (link && deleted > 0) this.recorder.normal(link, "MirrorsRemoved", `removed ${deleted} mirrored objects`);
        this.outcomes.clear();
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        this.metrics.errors.inc({ kind: "cleanup" });
        const delay = backoffDelay(attempt, 500, 30_000);
        this.logger.warn("cleanup failed; retrying", { error: describeError(err), retryInMs: delay });
        await sleep(delay);
      }
    }
  }

  // ---- work ------------------------------------------------------------------------------------------------

  private enqueueFromTarget(key: string, receivedAt: number): void {
    if (!this.eventTimes.has(key)) this.eventTimes.set(key, receivedAt);
    this.queue.add(key);
  }

  /**
   * A full resync: every exported Service, every source some mirror refers to (orphans), and the peers. The next
   * one is due after the resync interval.
   */
  private enqueueAll(): void {
    if (!this.leading || this.stopped) return;
    this.resyncing = true;
    const target = this.connector.active;
    const keys = [
      ...(target?.serviceKeys() ?? []),
      ...(target?.importKeys() ?? []),
      ...(this.local?.sources() ?? []),
      PEERS_KEY,
    ];
    for (const key of keys) {
      this.resyncPending.add(key);
      this.queue.add(key);
    }
    this.queue.addAfter(CONTROL.resync, this.options.resyncIntervalMs ?? 300_000);
  }

  private onNamespace(namespace: string): void {
    for (const key of this.outcomes.namespaceAppeared(namespace)) this.queue.add(key);
    this.queue.add(PEERS_KEY);
  }

  private async handle(key: string): Promise<void> {
    if (CONTROL_KEYS.has(key)) return this.handleControl(key);
    try {
      await this.reconcile(key);
    } finally {
      this.resyncPending.delete(key);
      this.completeResync();
      this.queue.addAfter(CONTROL.status, STATUS_DELAY_MS);
    }
  }

  private async handleControl(key: string): Promise<void> {
    if (this.stopped) return;
    if (key === CONTROL.resync) this.enqueueAll();
    else if (key === CONTROL.reachability) this.checkReachability();
    else if (key === CONTROL.markStale) await this.markLocalStale();
    else if (key === CONTROL.renew) await this.renewCredentials();
    else this.syncStatus();
  }

  /** When every key of the running resync was processed once (failing ones keep being retried with backoff). */
  private completeResync(): void {
    if (!this.resyncing || this.resyncPending.size > 0) return;
    if (!this.leading || this.deleting || !this.connector.active) return;
    this.resyncing = false;
    if (!this.initialSyncDone) {
      this.logger.info("initial sync done", {
        services: this.outcomes.counts().services,
        failing: this.outcomes.failures.size,
      });
    }
    this.initialSyncDone = true;
    this.syncedSinceIdle = true;
  }

  private async reconcile(key: string): Promise<void> {
    const target = this.connector.active;
    const reconciler = this.reconciler;
    const receivedAt = this.eventTimes.get(key);
    this.eventTimes.delete(key);
    if (!this.leading || this.deleting || !reconciler || !this.spec || this.stopped) return;
    const stale = this.reachability.stale;
    let outcome: Outcome;
    try {
      const imported = parseImportKey(key);
      if (key === PEERS_KEY) {
        outcome = await reconciler.reconcilePeers(target, key, this.peers(), stale);
      } else if (imported) {
        outcome = this.namespaceExcluded(imported.namespace)
          ? await reconciler.deleteSource(key)
          : await reconciler.reconcileImport(target, key, imported.namespace, imported.name, stale);
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
            stale,
            createNamespaces: this.spec.spec.createNamespaces,
          });
        }
      }
    } catch (err) {
      if (receivedAt !== undefined && !this.eventTimes.has(key)) this.eventTimes.set(key, receivedAt);
      throw err;
    }
    this.record(key, outcome);
    if (outcome.writes > 0) {
      this.syncedSinceIdle = true;
      if (receivedAt !== undefined) this.metrics.syncLag.observe((performance.now() - receivedAt) / 1000);
    }
  }

  /**
   * The lag from a change in the target to its mirror, read on two clocks: the target's trigger time and ours. A
   * change from before this controller started is left out (the first sync of a new link would report its age); a
   * trigger time ahead of our clock can only be clock skew, and counts as no lag.
   */
  private observeEndToEndLag(triggerTime: string): void {
    const triggeredAt = Date.parse(triggerTime);
    if (Number.isNaN(triggeredAt) || triggeredAt < this.startedAt) return;
    const lagMs = Date.now() - triggeredAt;
    if (lagMs < 0) this.metrics.e2eLagAhead.inc();
    this.metrics.e2eLag.observe(Math.max(0, lagMs) / 1000);
  }

  private record(key: string, outcome: Outcome): void {
    const news = this.outcomes.record(key, outcome);
    const skipped = outcome.skipped;
    if (news.nameConflict) {
      this.logger.warn("name conflict: a local object of the mirror's name was not created by this link", {
        source: key,
        object: news.nameConflict.object,
      });
      this.event(
        "Warning",
        "NameConflict",
        `${news.nameConflict.message}: ${sourceName(key)} is not mirrored until it is deleted or renamed (mirroring then resumes by itself)`,
      );
    } else if (news.nameConflictResolved) {
      this.logger.info("name conflict resolved; mirroring", { source: key, object: news.nameConflictResolved });
    }
    this.metrics.nameConflicts.set(this.outcomes.nameConflicts().length);
    if (news.namespaceMissing && skipped) {
      this.event(
        "Warning",
        "NamespaceMissing",
        `${skipped.message}: not mirroring ${sourceName(key)} (set spec.createNamespaces to create it)`,
      );
    }
    if (skipped?.reason === "NameConflict" || skipped?.reason === "PeerServiceMissing") {
      this.queue.addAfter(key, RECHECK_MS);
    } else if (skipped?.reason === "InvalidSpec" && news.skipChanged) {
      this.event("Warning", "InvalidSpec", skipped.message);
    } else if (skipped?.reason === "Invalid") {
      this.event("Warning", "InvalidTargetObject", `${sourceName(key)}: ${skipped.message}`);
    }
  }

  private namespaceExcluded(namespace: string): boolean {
    if (this.spec?.spec.namespaces?.includes(namespace)) return false;
    return SYSTEM_NAMESPACES.has(namespace) || namespace === this.namespace;
  }

  private onReconcileError(key: string, err: unknown): void {
    if (CONTROL_KEYS.has(key)) {
      this.logger.warn("controller work failed; retrying with backoff", { work: key, error: describeError(err) });
      return;
    }
    if (err instanceof NotLeadingError) {
      this.logger.debug("reconcile stopped: leadership ended", { key });
      return;
    }
    const message = describeError(err);
    const before = this.outcomes.fail(key, message);
    this.metrics.errors.inc({
      kind: err instanceof MirrorRejectedError ? "local-rejected" : `local-${errorKind(err)}`,
    });
    if (err instanceof MirrorRejectedError && before !== message) {
      this.event("Warning", "MirrorRejected", `${sourceName(key)}: ${message}; retried with backoff`);
    }
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    const link = this.linkObject();
    if (this.leading && link) this.recorder.event(link, type, reason, message);
  }

  // ---- reachability, staleness, status ---------------------------------------------------------------------

  /**
   * Observes the target's reachability (on every watch connect or failure, spec change, and when staleAfter is due)
   * and acts on what changed: Events, and marking the mirrors stale or converging them again.
   */
  private checkReachability(): void {
    const target = this.connector.active;
    const reachable = target?.healthy ?? false;
    this.metrics.targetReachable.set(reachable ? 1 : 0);
    const problem = target?.lastError ?? this.connectProblem;
    const staleAfter = this.spec?.spec.staleAfter;
    const { changes, recheckInMs } = this.reachability.observe(Date.now(), {
      reachable,
      failureIsUnreachable: problem !== undefined && classifyTargetError(problem) === "unreachable",
      staleAfterMs: staleAfter === undefined ? undefined : parseDuration(staleAfter),
      canMarkStale: this.reconciler !== undefined,
    });
    if (recheckInMs !== undefined) this.queue.addAfter(CONTROL.reachability, recheckInMs);
    this.queue.add(CONTROL.status);
    for (const change of changes) {
      if (change === "recovered") {
        this.logger.info("target cluster reachable again");
        this.event("Normal", "TargetRecovered", "the target cluster is reachable again; mirrors are being converged");
      } else if (change === "fresh") {
        this.metrics.stale.set(0);
        this.enqueueAll();
      } else if (change === "unreachable") {
        const error = describeTargetError(problem ?? "connection lost");
        this.logger.warn("target cluster unreachable; mirrors are kept", { error });
        this.event(
          "Warning",
          "TargetUnreachable",
          `${error}; mirrors are kept, their endpoints are marked not ready after ${staleAfter}`,
        );
      } else {
        this.metrics.stale.set(1);
        this.logger.warn("target unreachable past staleAfter: marking mirrored endpoints not ready");
        this.event(
          "Warning",
          "EndpointsStale",
          `the target cluster has been unreachable for ${staleAfter}: mirrored endpoints are marked not ready`,
        );
        // With the target's state (the usual outage) the mirrors are re-rendered as stale; without it (started
        // while the target was already down) the mirrors written by an earlier run are marked in place.
        if (target) this.enqueueAll();
        else this.queue.add(CONTROL.markStale);
      }
    }
  }

  /** Marks the mirrors written by an earlier run not ready, in place; a failure is retried with the queue's backoff. */
  private async markLocalStale(): Promise<void> {
    const reconciler = this.reconciler;
    const stillStale = () => this.reachability.stale && !this.connector.active && this.leading && !this.stopped;
    if (!reconciler || !stillStale()) return;
    try {
      const marked = await reconciler.markStale(stillStale);
      this.logger.warn("no target state: marked the existing mirrored endpoints not ready in place", { marked });
    } catch (err) {
      this.metrics.errors.inc({ kind: `local-${errorKind(err)}` });
      throw new Error("cannot mark the mirrored endpoints not ready", { cause: err });
    }
  }

  /** The status work item: lastSyncTime once the queue has nothing else to do, then the conditions and counts. */
  private syncStatus(): void {
    // This key is the only one being processed and nothing is ready: the mirrors are as converged as they get.
    const quiet = this.queue.depth === 0 && this.queue.processingCount === 1;
    if (this.leading && !this.deleting && quiet && this.syncedSinceIdle) {
      this.syncedSinceIdle = false;
      this.status.update({ lastSyncTime: new Date() });
    }
    this.refreshStatus();
  }

  /** Computes the controller's conditions and counts; the status writer skips writes that change nothing. */
  private refreshStatus(): void {
    const counts = this.outcomes.counts();
    this.metrics.services.set(counts.services);
    this.metrics.endpoints.set(counts.endpoints);
    const target = this.connector.active;
    const dropped = target ? target.droppedCounts() : undefined;
    if (dropped) recordDropped(this.metrics, dropped);
    const overCap = target?.serviceCap().over ?? [];
    this.metrics.servicesOverCap.set(overCap.length);
    if (!this.leading || this.deleting || !this.linkObject()) return;
    const nameConflicts = this.outcomes.nameConflicts();
    const update: Partial<MirrorStatus> = {
      conditions: linkConditions({
        credentialsProblem: this.credentialsProblem,
        connected: target !== undefined,
        insecureSkipTLSVerify: this.spec?.spec.insecureSkipTLSVerify,
        reachable: target?.healthy ?? false,
        targetError: target?.lastError ?? this.connectProblem,
        unreachableSince: this.reachability.unreachableSince,
        stale: this.reachability.stale,
        staleAfter: this.spec?.spec.staleAfter,
        invalidSpec: this.invalidSpec,
        peersSkipped: this.outcomes.get(PEERS_KEY)?.skipped,
        failures: this.outcomes.failures,
        nameConflicts,
        initialSyncDone: this.initialSyncDone,
        overCap: [...overCap],
        maxServices: this.policy.maxServices,
        missingNamespaces: this.outcomes.missingNamespaces(),
      }),
      mirroredServices: counts.services,
      mirroredEndpoints: counts.endpoints,
      ...(dropped ? { droppedFromTarget: dropped } : {}),
      nameConflicts: nameConflicts.slice(0, MAX_NAME_CONFLICTS_LISTED),
    };
    const json = canonicalJson(update);
    if (this.sentStatus.isEcho("status", json)) return;
    this.sentStatus.record("status", json);
    this.status.update(update);
  }
}
