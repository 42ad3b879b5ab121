import { parseLink, type ZoneSyncLink } from "../api/link.ts";
import { LABEL_CONTROLLER_MODE, LABEL_LINK } from "../api/names.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import type { Condition } from "../kube/conditions.ts";
import { updateWithRetry } from "../kube/conflict.ts";
import { describeError, isNotFound } from "../kube/errors.ts";
import { Informer } from "../kube/informer.ts";
import { Resources } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { WorkQueue, type QueueObserver } from "../queue/workqueue.ts";
import { recordLinkReady, type ManagerMetrics } from "./metrics.ts";
import {
  ReleaseReconciler,
  type EntryValidator,
  type Recovery,
  type ReleaseBackend,
  type ReleaseOutcome,
} from "./release.ts";
import { credentialsSecretProblem, toSecretView, type SecretView } from "./credentials-gate.ts";
import { computeManagerStatus, statusDiffers, type DeploymentView } from "./status.ts";

export const RELEASE_KEY = "release";
const LINK_KEY_PREFIX = "link/";
const FIELD_MANAGER = "zonesync-manager";
/** The status conditions the manager owns; the link controller owns CredentialsValid, TargetReachable, Mirrored. */
const MANAGER_CONDITIONS = new Set(["Ready", "ControllerReady"]);

export interface EventSink {
  event(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface ManagerOptions {
  client: KubeClient;
  namespace: string;
  backend: ReleaseBackend;
  /** false: GitOps mode (`--apply=none`), only report. */
  apply: boolean;
  baseValues?: Record<string, unknown>;
  events: EventSink;
  logger: Logger;
  metrics?: ManagerMetrics;
  queueObserver?: QueueObserver;
  /** Bursts of link changes within this window become one helm upgrade (default 1 s). */
  coalesceMs?: number;
  /** Re-check everything this often, even without events (default 5 min). */
  resyncMs?: number;
  /** Someone else's helm operation pending longer than this is taken as dead and rolled back (default 10 min). */
  stuckAfterMs?: number;
  /** Checks new and changed entries against the API server before the shared upgrade (ServerDryRun). */
  validator?: EntryValidator;
}

type LinkObject = KubeObject & { spec?: unknown; status?: Record<string, unknown> };

/**
 * The manager's control loop. Informers on ZoneSyncLinks and link controller Deployments only enqueue keys; the
 * workers read the current state and converge: one key for the Helm release (all links render one `controllers:`
 * list) and one key per link for its status.
 */
export class Manager {
  private readonly options: ManagerOptions;
  private readonly links: Informer<LinkObject>;
  private readonly deployments: Informer<DeploymentView>;
  /** The link-labelled Secrets of the namespace (metadata and type only): which credentials Secret may be granted. */
  private readonly secrets: Informer<SecretView>;
  private readonly queue: WorkQueue;
  private readonly release: ReleaseReconciler;
  private readonly lastGood = new Map<string, ZoneSyncLink>();
  private readonly reportedInvalid = new Map<string, string>();
  private readonly reportedRejected = new Map<string, string>();
  private helmError: string | undefined;
  private lastOutcome: ReleaseOutcome | undefined;
  private running: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    const { client, namespace, logger } = options;
    this.links = new Informer<LinkObject>({
      client,
      type: Resources.zoneSyncLinks,
      namespace,
      name: "zonesynclinks",
      logger,
      resyncMs: options.resyncMs ?? 300_000,
      transform: stripManagedFields,
    });
    this.deployments = new Informer<DeploymentView>({
      client,
      type: Resources.deployments,
      namespace,
      labelSelector: LABEL_LINK,
      name: "link-controller-deployments",
      logger,
      transform: stripManagedFields,
    });
    this.secrets = new Informer<SecretView>({
      client,
      type: Resources.secrets,
      namespace,
      labelSelector: LABEL_LINK,
      name: "credentials-secrets",
      logger,
      transform: toSecretView,
    });
    this.queue = new WorkQueue({
      name: "manager",
      coalesceMs: options.coalesceMs ?? 1000,
      backoffBaseMs: 500,
      backoffMaxMs: 300_000,
      observer: options.queueObserver,
      logger,
    });
    this.release = new ReleaseReconciler({
      backend: options.backend,
      baseValues: options.baseValues,
      apply: options.apply,
      stuckAfterMs: options.stuckAfterMs,
      validate: options.validator,
    });
    this.links.addHandlers({
      add: (l) => this.onLink(l),
      update: (_old, l) => this.onLink(l),
      delete: (l) => {
        this.lastGood.delete(l.metadata.name!);
        this.queue.add(RELEASE_KEY);
        // Its status key finds it gone and drops its zonesync_manager_link_ready series.
        this.queue.add(LINK_KEY_PREFIX + l.metadata.name);
      },
    });
    const onDeployment = (d: DeploymentView) => {
      const link = d.metadata.labels?.[LABEL_LINK];
      if (link) this.queue.add(LINK_KEY_PREFIX + link);
    };
    this.deployments.addHandlers({ add: onDeployment, update: (_o, d) => onDeployment(d), delete: onDeployment });
    const onSecret = (secret: SecretView) => {
      this.queue.add(RELEASE_KEY);
      const link = secret.metadata.labels?.[LABEL_LINK];
      if (link) this.queue.add(LINK_KEY_PREFIX + link);
    };
    this.secrets.addHandlers({
      add: onSecret,
      update: (old, secret) => {
        onSecret(old);
        onSecret(secret);
      },
      delete: onSecret,
    });
  }

  get synced(): boolean {
    return this.links.hasSynced && this.deployments.hasSynced && this.secrets.hasSynced;
  }

  get healthy(): boolean {
    return this.links.healthy && this.deployments.healthy && this.secrets.healthy;
  }

  /** The outcome of the last release reconcile (for health and tests). */
  get outcome(): ReleaseOutcome | undefined {
    return this.lastOutcome;
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  /** Starts the watches and, once they listed (within `syncTimeoutMs`, default 60 s), the workers; else throws. */
  async start(options: { syncTimeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.syncTimeoutMs ?? 60_000;
    this.links.start();
    this.deployments.start();
    this.secrets.start();
    await Promise.all([
      this.links.waitForSync(timeoutMs),
      this.deployments.waitForSync(timeoutMs),
      this.secrets.waitForSync(timeoutMs),
    ]);
    this.queue.add(RELEASE_KEY);
    this.running = this.queue.run((key, signal) => this.process(key, signal), {
      workers: 2,
      onError: (key, err, retries) =>
        this.options.logger.warn("reconcile failed; retrying with backoff", {
          key,
          retries,
          error: describeError(err),
        }),
    });
  }

  /**
   * Stops taking work, waits up to `graceMs` for a running reconcile (a helm upgrade is let finish rather than
   * killed mid-write), then aborts it through its signal. Losing leadership passes 0: another leader may already be
   * upgrading, so nothing more of ours may be written.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    await this.queue.shutdown({ drain: false, timeoutMs: options.graceMs ?? 10_000 });
    await Promise.all([this.links.stop(), this.deployments.stop(), this.secrets.stop()]);
    await this.running;
  }

  private onLink(link: LinkObject): void {
    this.queue.add(RELEASE_KEY);
    this.queue.add(LINK_KEY_PREFIX + link.metadata.name);
  }

  private async process(key: string, signal: AbortSignal): Promise<void> {
    if (key === RELEASE_KEY) return this.reconcileRelease(signal);
    if (key.startsWith(LINK_KEY_PREFIX)) return this.reconcileLinkStatus(key.slice(LINK_KEY_PREFIX.length));
  }

  /** Valid links, with the last good version of a link whose new spec is invalid (nothing is lost). */
  private usableLinks(): ZoneSyncLink[] {
    const usable: ZoneSyncLink[] = [];
    for (const obj of this.links.list()) {
      const name = obj.metadata.name!;
      const parsed = parseLink(obj);
      if (parsed.ok) this.lastGood.set(name, parsed.link);
      const link = this.lastGood.get(name);
      const standalone = obj.metadata.labels?.[LABEL_CONTROLLER_MODE] === "standalone";
      // A link being deleted keeps a controller that was granted already: it must remove its mirrors.
      const granted = obj.metadata.deletionTimestamp && this.release.deployedEntries?.some((e) => e.name === name);
      const secretProblem = link && !standalone && !granted ? this.credentialsProblem(link) : undefined;
      const problem = parsed.ok ? secretProblem : parsed.errors.join("; ");
      if (problem === undefined) this.reportedInvalid.delete(name);
      else if (this.reportedInvalid.get(name) !== problem) {
        this.reportedInvalid.set(name, problem);
        const kept =
          !secretProblem && this.lastGood.has(name)
            ? "keeping its last valid spec"
            : "it gets no controller until fixed";
        this.options.events.event(obj, "Warning", "InvalidSpec", `${problem} (${kept})`);
      }
      if (link && !standalone && !secretProblem) usable.push(link);
    }
    return usable;
  }

  private credentialsProblem(link: ZoneSyncLink): string | undefined {
    const secretName = link.spec.credentialsSecret;
    const secret = this.secrets.get(`${this.options.namespace}/${secretName}`);
    return credentialsSecretProblem(link.metadata.name, secretName, secret);
  }

  private async reconcileRelease(signal: AbortSignal): Promise<void> {
    const started = performance.now();
    const links = this.usableLinks();
    const { metrics, logger } = this.options;
    try {
      const outcome = await this.release.reconcile(links, signal);
      if (outcome.action === "waiting") {
        logger.info("waiting for another helm operation on the release", { message: outcome.message });
        this.queue.addAfter(RELEASE_KEY, outcome.retryAfterMs);
        return;
      }
      this.lastOutcome = outcome;
      this.helmError = undefined;
      if (outcome.action !== "out-of-date" && outcome.recovered) this.reportRecovery(outcome.recovered);
      this.reportRejected();
      metrics?.upgrades.inc({ result: outcome.action === "upgraded" ? "done" : "skipped" });
      if (outcome.action === "upgraded") {
        logger.info("helm upgrade applied the controllers values", {
          revision: outcome.revision,
          controllers: outcome.entries.length,
          hash: outcome.hash.slice(0, 12),
        });
        // Only the links whose entry this upgrade changed hear about it: an Event per link per upgrade would be noise.
        const changed = new Set(outcome.changed);
        for (const obj of this.links.list().filter((l) => changed.has(l.metadata.name!))) {
          this.options.events.event(
            obj,
            "Normal",
            "ValuesApplied",
            `helm upgrade applied this link's controllers entry (revision ${outcome.revision ?? "?"}, values ${outcome.hash.slice(0, 12)})`,
          );
        }
      }
    } catch (err) {
      const firstFailure = this.helmError === undefined;
      this.helmError = describeError(err);
      metrics?.upgrades.inc({ result: "failed" });
      logger.warn("helm upgrade failed", { error: this.helmError });
      // Every link's status says it (Ready: HelmUpgradeFailed); an Event per link on the first failure of a streak.
      if (firstFailure) {
        for (const obj of this.links.list()) {
          this.options.events.event(obj, "Warning", "HelmUpgradeFailed", `${this.helmError} (retrying with backoff)`);
        }
      }
      throw new Error("applying the controllers values failed", { cause: err });
    } finally {
      metrics?.reconcileDuration.observe({ key: "release" }, (performance.now() - started) / 1000);
      for (const obj of this.links.list()) this.queue.add(LINK_KEY_PREFIX + obj.metadata.name);
    }
  }

  /** A Warning Event per link and distinct message whose entry the API server would refuse. */
  private reportRejected(): void {
    const rejected = this.release.rejected;
    for (const name of [...this.reportedRejected.keys()]) if (!rejected.has(name)) this.reportedRejected.delete(name);
    for (const [name, message] of rejected) {
      if (this.reportedRejected.get(name) === message) continue;
      this.reportedRejected.set(name, message);
      const obj = this.links.get(`${this.options.namespace}/${name}`);
      if (obj)
        this.options.events.event(obj, "Warning", "RejectedByAPIServer", rejectionMessage(this.release, name, message));
    }
  }

  private reportRecovery(recovered: Recovery): void {
    const whose =
      recovered.by === "manager"
        ? "an upgrade of the manager's that was interrupted"
        : "someone else's helm operation, pending past the bound";
    const message =
      `the release was left ${recovered.status} at revision ${recovered.revision} by ${whose}: rolled back to ` +
      `revision ${recovered.rolledBackTo}, then the controllers values were applied again`;
    this.options.logger.warn("recovered a stuck release", { ...recovered });
    this.options.metrics?.recoveries.inc();
    for (const obj of this.links.list()) this.options.events.event(obj, "Warning", "ReleaseRecovered", message);
  }

  /**
   * Writes the manager's part of a link's status: read-modify-write with the resourceVersion (a merge patch of the
   * whole status), replacing only the manager's own conditions, so the link controller's conditions are kept. Server
   * side apply would be the natural tool, but Kubernetes 1.20 treats a CRD's status conditions as one atomic list
   * there (an apply by one manager drops the other's entries), so this works on every version.
   */
  private async reconcileLinkStatus(name: string): Promise<void> {
    const { client, namespace } = this.options;
    /** The manager's conditions as the link now has them; undefined when it is gone or being deleted. */
    let current: Condition[] | undefined;
    const outcome = await updateWithRetry({
      cached: this.links.get(`${namespace}/${name}`),
      read: () => client.getOptional<LinkObject>(Resources.zoneSyncLinks, namespace, name),
      attempts: 3,
      write: async (obj) => {
        current = undefined;
        if (obj.metadata.deletionTimestamp) return false;
        const status = this.managerStatus(name, obj);
        if (!statusDiffers(obj.status, status)) {
          current = status.conditions;
          return false;
        }
        const others = ((obj.status?.conditions as Condition[] | undefined) ?? []).filter(
          (c) => !MANAGER_CONDITIONS.has(c.type),
        );
        const body: Record<string, unknown> = {
          ...obj.status,
          conditions: [...others, ...status.conditions],
          mode: status.mode,
        };
        if (status.valuesHash) body.valuesHash = status.valuesHash;
        if (status.observedGeneration !== undefined) body.observedGeneration = status.observedGeneration;
        try {
          await client.patch(
            Resources.zoneSyncLinks,
            namespace,
            name,
            { metadata: { resourceVersion: obj.metadata.resourceVersion }, status: body },
            { subresource: "status", fieldManager: FIELD_MANAGER },
          );
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
        current = status.conditions;
        return true;
      },
    });
    if (outcome === "conflicted")
      throw new Error(`the status of link ${name} kept changing under the manager; retrying`);
    recordLinkReady(this.options.metrics, name, current);
  }

  private managerStatus(name: string, obj: LinkObject) {
    const parsed = parseLink(obj);
    const outcome = this.lastOutcome;
    const wantsStandalone = obj.metadata.labels?.[LABEL_CONTROLLER_MODE] === "standalone";
    const inDeployed = this.release.deployedEntries?.some((e) => e.name === name) ?? false;
    return computeManagerStatus({
      generation: obj.metadata.generation,
      conditions: (obj.status?.conditions as Condition[] | undefined) ?? [],
      wantsStandalone,
      deployments: this.deployments.list().filter((d) => d.metadata.labels?.[LABEL_LINK] === name),
      validationErrors: parsed.ok
        ? wantsStandalone
          ? []
          : [this.credentialsProblem(parsed.link)].filter((p): p is string => p !== undefined)
        : parsed.errors,
      helmError: wantsStandalone ? undefined : this.helmError,
      rejected:
        !wantsStandalone && this.release.rejected.has(name)
          ? rejectionMessage(this.release, name, this.release.rejected.get(name)!)
          : undefined,
      valuesOutOfDate: !wantsStandalone && outcome?.action === "out-of-date" && !inDeployed,
      valuesHash: wantsStandalone ? undefined : outcome?.hash,
    });
  }
}

function rejectionMessage(release: ReleaseReconciler, name: string, message: string): string {
  const kept = release.deployedEntries?.some((e) => e.name === name)
    ? "keeping its last good entry"
    : "it gets no controller until fixed";
  return `the API server rejects this link's controller objects (${message}); ${kept}; other links are not held up`;
}

function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata.managedFields) delete obj.metadata.managedFields;
  return obj;
}
